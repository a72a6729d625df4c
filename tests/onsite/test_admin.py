"""The admin shows every on-site record and lets administrators keep only reference data."""

import pytest
from django.contrib import admin
from django.urls import reverse

from onsite.models import FunnelStageSetting, Region, SupportRequest
from tests.factories import UserFactory
from tests.onsite.flow import (
    SUMMARY,
    build_org,
    close_visit,
    customer_of,
    deploy_processes,
    enrol,
    new_programme,
)

pytestmark = pytest.mark.django_db

REFERENCE_DATA = {"region", "team", "staffprofile", "playbookentry", "appraisalband", "funnelstagesetting"}
# Added in the admin only through their own service (a new version; never changed or deleted).
VERSIONED = {"servicestandard"}


def onsite_models():
    return [model for model in admin.site._registry if model._meta.app_label == "onsite"]


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def loop():
    """A programme with one visit closed, so leads, support requests and incentives exist."""
    deploy_processes()
    org = build_org()
    enrolment = enrol(org, new_programme(org), customer_of(org))
    close_visit(enrolment, org, summary_data=SUMMARY)
    return org


def test_every_onsite_record_lists_and_opens_in_the_admin(staff_client, loop):
    opened = 0
    for model in onsite_models():
        name = model._meta.model_name
        changelist = staff_client.get(reverse(f"admin:onsite_{name}_changelist"))
        assert changelist.status_code == 200, name
        obj = model.objects.first()
        if obj is not None:
            change = staff_client.get(reverse(f"admin:onsite_{name}_change", args=[obj.pk]))
            assert change.status_code == 200, name
            opened += 1
    assert opened >= 15


def test_business_records_cannot_be_added_changed_or_deleted_in_the_admin(staff_client, loop):
    request = SupportRequest.objects.first()
    for model in onsite_models():
        name = model._meta.model_name
        if name in REFERENCE_DATA:
            continue
        if name not in VERSIONED:
            assert staff_client.get(reverse(f"admin:onsite_{name}_add")).status_code == 403, name
        obj = model.objects.first()
        if obj is not None and name in VERSIONED:
            change = staff_client.post(reverse(f"admin:onsite_{name}_change", args=[obj.pk]), {})
            assert change.status_code == 403, name
    response = staff_client.post(
        reverse("admin:onsite_supportrequest_delete", args=[request.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert SupportRequest.objects.filter(pk=request.pk).exists()


def test_administrators_keep_regions_in_the_admin(staff_client):
    response = staff_client.post(
        reverse("admin:onsite_region_add"), {"code": "AQ", "name": "安庆分公司", "kind": Region.Kind.BRANCH}
    )
    assert response.status_code == 302
    assert Region.objects.get(code="AQ").name == "安庆分公司"


def test_administrators_tune_a_funnel_stages_win_probability_but_add_or_remove_no_stage(staff_client):
    setting = FunnelStageSetting.objects.get(stage="solution")
    url = reverse("admin:onsite_funnelstagesetting_change", args=[setting.pk])

    response = staff_client.post(url, {"win_probability": 80})

    assert response.status_code == 302
    assert FunnelStageSetting.objects.get(stage="solution").win_probability == 80
    assert staff_client.post(url, {"win_probability": 101}).status_code == 200  # refused, shown again
    assert FunnelStageSetting.objects.get(stage="solution").win_probability == 80
    assert staff_client.get(reverse("admin:onsite_funnelstagesetting_add")).status_code == 403
    delete = reverse("admin:onsite_funnelstagesetting_delete", args=[setting.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert FunnelStageSetting.objects.count() == 8


def standard_form(**values):
    form = {
        "tier": "B",
        "visit_cadence": "weekly",
        "summary_deadline_hours": "48",
        "support_response_hours": "4",
        "support_completion_hours": "72",
        "support_join_percent": "25",
        "dispatch_priority": "2",
        "effective_from_0": "",
        "effective_from_1": "",
        "reason": "B类客户改为每周走访",
    }
    return form | values


def test_a_coordinator_changes_a_service_standard_in_the_admin_as_a_new_version(client):
    from onsite.models import ServiceStandard
    from onsite.selectors.standards import standard_in_effect

    coordinator = UserFactory(username="zhao", roles=["coordinator"], is_staff=True)
    client.force_login(coordinator)
    assert client.get(reverse("admin:onsite_servicestandard_add") + "?tier=B").status_code == 200

    response = client.post(reverse("admin:onsite_servicestandard_add"), standard_form())

    assert response.status_code == 302
    new = standard_in_effect("B")
    assert (new.visit_cadence, new.changed_by, new.reason, new.changes) == (
        "weekly",
        coordinator,
        "B类客户改为每周走访",
        {"visit_cadence": ["biweekly", "weekly"]},
    )
    assert ServiceStandard.objects.count() == 4


def test_a_standard_change_without_a_reason_is_refused_in_the_admin_and_nothing_is_stored(staff_client):
    from onsite.models import ServiceStandard

    response = staff_client.post(reverse("admin:onsite_servicestandard_add"), standard_form(reason=""))

    assert response.status_code == 200
    assert "reason" in response.context["adminform"].form.errors
    assert ServiceStandard.objects.count() == 3
