"""Regions: a branch covers its counties, the one meaning of "in a region" every service uses."""

import pytest

from onsite.models import Region
from tests.onsite.factories import RegionFactory

pytestmark = pytest.mark.django_db


def test_a_branch_covers_itself_and_its_counties_and_a_county_only_itself():
    hefei = RegionFactory(code="HF", name="合肥")
    feidong = RegionFactory(code="HF-FD", name="肥东县", kind=Region.Kind.COUNTY, parent=hefei)
    feixi = RegionFactory(code="HF-FX", name="肥西县", kind=Region.Kind.COUNTY, parent=hefei)
    wuhu = RegionFactory(code="WH", name="芜湖")
    RegionFactory(code="WH-NL", name="南陵县", kind=Region.Kind.COUNTY, parent=wuhu)

    assert set(Region.objects.within(hefei)) == {hefei, feidong, feixi}
    assert set(Region.objects.within(hefei.pk)) == {hefei, feidong, feixi}
    assert set(Region.objects.within(feidong)) == {feidong}
