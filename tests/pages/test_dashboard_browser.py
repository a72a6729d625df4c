"""Leadership's dashboard in Chromium: the director opens it, the charts are drawn over their
tables, filters by region, drills down to the leads and opens one; on a desktop and on a 375 px
phone without horizontal scrolling."""

import pytest

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
    page.locator(".drill-list tbody tr td a", has_text="GC-").first.click()
    page.wait_for_url("**/leads/*/")
    assert "滨湖政务中心" in page.locator(".lead-facts").inner_text()
    desktop.screenshot("lead")


def test_the_dashboard_fits_a_phone(phone, org, made):  # noqa: F811
    phone.sign_in("zhou")
    phone.goto("/dashboard/")
    phone.page.wait_for_selector(".dashboard-chart.chart-drawn canvas")

    phone.screenshot("dashboard")
    assert phone.no_horizontal_scroll()
    phone.goto("/dashboard/leads/")
    assert phone.no_horizontal_scroll()
    phone.screenshot("dashboard-leads")
    phone.page.locator(".drill-list tbody tr td a").first.click()
    phone.page.wait_for_url("**/leads/*/")
    assert phone.no_horizontal_scroll()
    phone.screenshot("lead")
