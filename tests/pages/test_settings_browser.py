"""The settings and import pages in Chromium: a coordinator schedules a change of a tier's standard
for next month and finds it in the history, uploads a CSV with one bad row and reads the error table;
every page fits a phone."""

import calendar
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.onsite.flow import build_org
from tests.onsite.test_imports import csv_bytes
from tests.pages.test_desk_browser import too_small_tap_targets

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PAGES = {
    "settings": "/settings/",
    "settings-standards": "/settings/standards/",
    "settings-incentives": "/settings/incentives/",
    "settings-warnings": "/settings/warnings/",
    "settings-appraisal": "/settings/appraisal/",
    "customer-import": "/imports/customers/",
}
ONE_BAD_ROW = [
    ["客户编码", "客户名称", "行业", "区域"],
    ["GC-101", "合肥市政务服务中心", "党政军", "HF"],
    ["GC-102", "合肥矿业", "矿业", "HF"],
    ["GC-103", "合肥银行", "金融", "HF"],
]


@pytest.fixture
def people():
    return build_org()


def first_of_next_month():
    today = timezone.localdate()
    return today.replace(day=1) + timedelta(days=calendar.monthrange(today.year, today.month)[1])


def test_a_coordinator_schedules_a_standards_change_for_next_month_and_sees_it_in_the_history(
    desktop, people
):
    desktop.sign_in("zhao")
    desktop.goto("/settings/")
    desktop.page.click("a[href='/settings/standards/']")
    effective = first_of_next_month()

    desktop.page.select_option("#tier", "B")
    desktop.page.fill("#support_response_hours", "3")
    desktop.page.fill("#effective_from", effective.isoformat())
    desktop.page.fill("#reason", "B 级客户支撑响应提速")
    desktop.page.click("form.settings-form button[type=submit]")
    desktop.page.wait_for_load_state()

    scheduled = desktop.page.locator(".settings-history").first.locator(".history-row")
    assert scheduled.count() == 1
    row = scheduled.first.inner_text()
    assert effective.isoformat() in row and "B 级客户支撑响应提速" in row and "4 → 3" in row
    # Today's terms are still in force: B answers within 4 hours until then.
    in_force = desktop.page.locator(".standards-in-force tbody tr").nth(1).locator("td").all_inner_texts()
    assert in_force[2] == "4"
    desktop.screenshot("settings-standards-scheduled")


def test_a_coordinator_uploads_a_csv_with_one_bad_row_and_reads_the_error_table(
    desktop, phone, people, tmp_path
):
    upload = tmp_path / "customers.csv"
    upload.write_bytes(csv_bytes(ONE_BAD_ROW))
    for browser in (desktop, phone):
        browser.sign_in("zhao")
        browser.goto("/imports/customers/")
        browser.page.set_input_files("#import-file", str(upload))
        browser.page.click("form.import-upload button[type=submit]")
        browser.page.wait_for_load_state()

        errors = browser.page.locator(".import-errors .import-error")
        assert errors.count() == 1
        assert errors.first.locator("td").all_inner_texts()[:3] == ["3", "GC-102", "行业"]
        assert browser.page.locator(".import-run").count() == 0
        browser.screenshot("customer-import-errors")
        assert browser.no_horizontal_scroll()


@pytest.mark.parametrize("name", list(PAGES))
def test_each_page_fits_a_phone_and_a_desktop(desktop, phone, people, name):
    for browser in (desktop, phone):
        browser.sign_in("zhao")
        browser.goto(PAGES[name])
        browser.screenshot(name)
        assert browser.no_horizontal_scroll(), name
    assert too_small_tap_targets(phone) == []


def test_leadership_reads_the_settings_without_a_form_on_a_phone(phone, people):
    phone.sign_in("zhou")
    phone.goto("/settings/warnings/")
    phone.screenshot("settings-warnings-leadership")
    assert phone.page.locator(".read-only-note").is_visible()
    assert phone.page.locator("form.settings-form").count() == 0
