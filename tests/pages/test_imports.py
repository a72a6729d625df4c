"""The customer import page (coordinators only): the dry run's table of each row's errors with nothing
imported, a good file's "import all" importing exactly the file checked, and a row refused at import
time keeping every row out."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from onsite.models import CheckedImportFile, Customer
from tests.onsite.flow import build_org
from tests.onsite.test_imports import BAD_ROWS, GOOD_ROWS, csv_bytes
from tests.pages.clients import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return build_org()


def english(user):
    return signed_in(user, headers={"accept-language": "en"})


def upload(client, rows=None, *, name="customers.csv", content=None):
    data = content if content is not None else csv_bytes(rows)
    return client.post("/imports/customers/", {"file": SimpleUploadedFile(name, data)})


def test_only_coordinators_reach_the_import_page(org):
    assert english(org.coordinator).get("/imports/customers/").status_code == 200
    for user in (org.director, org.leader, org.manager):
        assert english(user).get("/imports/customers/").status_code == 404
    assert upload(english(org.director), GOOD_ROWS).status_code == 403
    assert not Customer.objects.exists()


def test_a_bad_file_shows_a_table_of_each_rows_errors_and_imports_nothing(org):
    response = upload(english(org.coordinator), BAD_ROWS)

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="import-error"') >= 8
    assert "GC-002" in page and "Nothing is imported while any row has an error" in page
    assert "Import all" not in page
    assert not Customer.objects.exists() and not CheckedImportFile.objects.exists()


def test_a_good_file_is_checked_then_imported_all_at_once(org):
    client = english(org.coordinator)
    response = upload(client, GOOD_ROWS)
    assert response.status_code == 200
    page = response.content.decode()
    kept = CheckedImportFile.objects.get()
    assert kept.sha256 in page and "Import all" in page
    assert not Customer.objects.exists()

    response = client.post("/imports/customers/run/", {"file": kept.pk, "sha256": kept.sha256})

    assert response.status_code == 200
    assert "is imported: 2 created" in response.content.decode()
    assert sorted(Customer.objects.values_list("code", flat=True)) == ["GC-080", "GC-081"]


def test_a_row_refused_at_import_time_keeps_every_row_out(org):
    client = english(org.coordinator)
    rows = [["code", "name", "industry", "region", "account manager"], ["GC-1", "甲", "金融", "HF", "qian"]]
    rows.append(["GC-2", "乙", "金融", "HF", "wu"])
    upload(client, rows)
    kept = CheckedImportFile.objects.get()
    org.other_manager.is_active = False
    org.other_manager.save()

    response = client.post("/imports/customers/run/", {"file": kept.pk, "sha256": kept.sha256})

    assert response.status_code == 200
    assert "nothing was imported" in response.content.decode()
    assert not Customer.objects.exists()


def test_hostile_files_are_refused_clearly(org, settings):
    client = english(org.coordinator)
    page = upload(client, content=b"MZ\x90\x00", name="tool.exe").content.decode()
    assert "save it as a CSV (.csv) or Excel workbook (.xlsx) file" in page
    page = upload(client, content=b"PK\x03\x04" + b"\x00" * 100, name="customers.xlsx").content.decode()
    assert 'class="alert alert-danger file-refused"' in page
    settings.ONSITE = {**settings.ONSITE, "IMPORT_MAX_BYTES": 50}
    page = upload(client, GOOD_ROWS).content.decode()
    assert "the largest file accepted is 50 bytes" in page
    assert not Customer.objects.exists() and not CheckedImportFile.objects.exists()


def test_a_tampered_checksum_is_refused(org):
    client = english(org.coordinator)
    upload(client, GOOD_ROWS)
    kept = CheckedImportFile.objects.get()
    response = client.post("/imports/customers/run/", {"file": kept.pk, "sha256": "0" * 64})
    assert response.status_code == 302
    assert not Customer.objects.exists()
