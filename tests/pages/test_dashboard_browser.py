"""Leadership's dashboard in Chromium: the director opens it, the charts are drawn over their
tables, filters by region, drills down to the leads and opens one, then asks for the programme
report of the filtered view and downloads it once the job made it; on a desktop and on a 375 px
phone without horizontal scrolling."""

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from onsite import tasks
from onsite.models import Report, ReportKind
from tests.pages.test_dashboard import made  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_director_filters_by_region_drills_down_to_the_leads_and_opens_one(desktop, org, made):  # noqa: F811
    desktop.sign_in("zhou")
    desktop.goto("/dashboard/")

    page = desktop.page
    assert page.locator("h1").inner_text() == "驻点服务看板"
    page.wait_for_selector(".dashboard-chart.chart-drawn canvas")
    # Every chart with something to show; the appraisal's has nothing (no appraisal yet), so its
    # table stands in for it.
    assert page.locator(".dashboard-chart.chart-drawn").count() == 6
    assert page.locator("[data-chart=appraisal]").is_hidden()
    # The figures stay in the page as tables, for screen readers, shown on request.
    assert page.locator(".chart-table.visually-hidden").count() == 5
    page.locator(".chart-table-toggle").first.click()
    assert page.locator(".chart-table").first.is_visible()
    desktop.screenshot("dashboard")

    page.select_option("#f-region", str(org.branch.pk))
    page.click(".dashboard-filters button[type=submit]")
    page.wait_for_url(f"**/dashboard/?*region={org.branch.pk}*")
    page.wait_for_selector(".dashboard-chart.chart-drawn canvas")
    assert page.locator("#f-region").input_value() == str(org.branch.pk)

    page.click(".dashboard-tiles a:has(.tile-leads)")
    page.wait_for_url(f"**/dashboard/leads/?*region={org.branch.pk}*")
    assert page.locator(".drill-list tbody tr").count() == 2
    desktop.screenshot("dashboard-leads")
    page.locator(".drill-list tbody tr td a", has_text="云视讯").click()
    page.wait_for_url("**/leads/*/")
    assert "滨湖政务中心" in page.locator(".lead-facts").inner_text()
    desktop.screenshot("lead")

    # Back on the filtered dashboard: the programme report of this view.
    page.go_back()
    page.go_back()
    page.wait_for_url(f"**/dashboard/?*region={org.branch.pk}*")
    page.click(".programme-report-form button[type=submit]")
    page.wait_for_url("**/reports/*/")
    assert page.locator(".report-status").inner_text() == "排队中"
    report = Report.objects.get(kind=ReportKind.MONTHLY, requested_by=org.director)
    assert report.params["region"] == str(org.branch.pk)
    tasks.generate_report(report.pk)  # the worker's job
    page.locator(".report-download").wait_for(timeout=10_000)  # the page's next poll
    desktop.screenshot("programme-report-ready")
    with page.expect_download() as download:
        page.click(".report-download")
    content = Path(download.value.path()).read_bytes()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "驻点服务月度报告" in text and "合肥分公司" in text


def test_the_visits_made_open_from_their_tile_counted_and_each_opens_its_page(desktop, org, made):  # noqa: F811
    desktop.sign_in("zhou")
    desktop.goto("/dashboard/")

    page = desktop.page
    page.click(".dashboard-tiles a:has(.tile-visits)")
    page.wait_for_url("**/dashboard/visits/?*kind=done*")
    assert page.locator(".list-count").inner_text() == "共 1 行"
    assert page.locator(".drill-list tbody tr").count() == 1
    desktop.screenshot("dashboard-visits")
    page.locator(".drill-list tbody tr td a").first.click()
    page.wait_for_url("**/visits/*/")
    assert "滨湖政务中心" in page.content()


def test_the_dashboard_fits_a_phone(phone, org, made):  # noqa: F811
    phone.sign_in("zhou")
    phone.goto("/dashboard/")
    phone.page.wait_for_selector(".dashboard-chart.chart-drawn canvas")

    phone.screenshot("dashboard")
    assert phone.no_horizontal_scroll()
    phone.goto("/dashboard/visits/?kind=done")
    assert phone.no_horizontal_scroll()
    phone.screenshot("dashboard-visits")
    phone.goto("/dashboard/leads/")
    assert phone.no_horizontal_scroll()
    phone.screenshot("dashboard-leads")
    phone.page.locator(".drill-list tbody tr td a").first.click()
    phone.page.wait_for_url("**/leads/*/")
    assert phone.no_horizontal_scroll()
    phone.screenshot("lead")
