"""The import page's two steps as services: a file passing its dry run is kept (by its SHA-256) for the
person who checked it; the import reads exactly those bytes, all rows or none, and drops the file."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from onsite.exceptions import NotPermitted
from onsite.models import CheckedImportFile, Customer
from onsite.services.checked_imports import CheckedFileGone, check_customer_file, import_checked_file
from tests.factories import UserFactory
from tests.onsite.factories import RegionFactory
from tests.onsite.test_imports import BAD_ROWS, GOOD_ROWS, csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator():
    RegionFactory(code="HF", name="合肥")
    return UserFactory(roles=["coordinator"])


def check(user, rows, name="customers.csv"):
    return check_customer_file(name=name, content=csv_bytes(rows), user=user)


def test_a_good_file_is_kept_by_its_checksum_and_imported_once(coordinator):
    checked = check(coordinator, GOOD_ROWS)
    assert checked.report.ok and checked.report.created == 2 and not Customer.objects.exists()
    assert checked.file.sha256 == hashlib.sha256(csv_bytes(GOOD_ROWS)).hexdigest()

    kept, report = import_checked_file(file_id=checked.file.pk, sha256=checked.file.sha256, user=coordinator)

    assert report.applied and kept.name == "customers.csv"
    assert sorted(Customer.objects.values_list("code", flat=True)) == ["GC-080", "GC-081"]
    assert not CheckedImportFile.objects.exists()
    with pytest.raises(CheckedFileGone):
        import_checked_file(file_id=checked.file.pk, sha256=checked.file.sha256, user=coordinator)


def test_a_file_with_a_bad_row_is_not_kept(coordinator):
    checked = check(coordinator, BAD_ROWS)
    assert not checked.report.ok and checked.file is None
    assert not CheckedImportFile.objects.exists()


def test_the_import_refuses_another_checksum_another_persons_file_or_an_old_one(coordinator):
    checked = check(coordinator, GOOD_ROWS)
    with pytest.raises(CheckedFileGone):
        import_checked_file(file_id=checked.file.pk, sha256="0" * 64, user=coordinator)
    with pytest.raises(CheckedFileGone):
        import_checked_file(
            file_id=checked.file.pk, sha256=checked.file.sha256, user=UserFactory(roles=["coordinator"])
        )
    CheckedImportFile.objects.update(uploaded_at=timezone.now() - timedelta(days=2))
    with pytest.raises(CheckedFileGone):
        import_checked_file(file_id=checked.file.pk, sha256=checked.file.sha256, user=coordinator)
    assert not Customer.objects.exists()


def test_a_row_refused_at_import_time_keeps_every_row_out(coordinator):
    manager = UserFactory(username="zhangsan", roles=["account_manager"])
    rows = [["code", "name", "industry", "region", "account manager"], *[[*r, ""] for r in GOOD_ROWS[1:]]]
    rows[2][4] = "zhangsan"
    checked = check(coordinator, rows)
    assert checked.report.ok
    manager.is_active = False  # left the company between the check and the import
    manager.save()

    _kept, report = import_checked_file(file_id=checked.file.pk, sha256=checked.file.sha256, user=coordinator)

    assert not report.applied and report.failed == 1
    assert not Customer.objects.exists()
    assert CheckedImportFile.objects.exists()


def test_only_coordinators_check_or_import(coordinator):
    with pytest.raises(NotPermitted):
        check(UserFactory(roles=["leadership"]), GOOD_ROWS)
    checked = check(coordinator, GOOD_ROWS)
    with pytest.raises(NotPermitted):
        import_checked_file(
            file_id=checked.file.pk, sha256=checked.file.sha256, user=UserFactory(roles=["leadership"])
        )
