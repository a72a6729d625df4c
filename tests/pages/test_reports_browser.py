"""A visit report in Chromium, on a desktop and a 375 px phone: the manager opens the visit's page,
asks for its report, watches it go from queued to ready as the job runs (the page polls by itself)
and downloads the PDF."""

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from onsite import tasks
from onsite.models import Report, Visit
from tests.onsite.flow import close_visit, customer_of, enrol, new_programme

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def visit(org) -> Visit:
    instance = close_visit(enrol(org, new_programme(org), customer_of(org, name="滨湖新区政务服务中心")), org)
    for report in Report.objects.all():  # the one the approval asked for, made
        tasks.generate_report(report.pk)
    return Visit.objects.get(instance=instance)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_manager_asks_for_a_visit_report_sees_it_queued_then_ready_and_downloads_it(
    request, viewport, visit
):
    watched = request.getfixturevalue(viewport)
    page = watched.page
    watched.sign_in("qian")

    watched.goto("/visits/")
    page.click(f"a[href='/visits/{visit.pk}/']")
    page.wait_for_url(f"**/visits/{visit.pk}/")
    assert page.locator(".visit-reports li").count() == 1  # the approval's
    assert watched.no_horizontal_scroll()
    watched.screenshot("visit-page")

    page.click("button.visit-report-request")
    page.wait_for_url("**/reports/*/")
    assert page.locator(".report-status").inner_text() == "排队中"
    watched.screenshot("report-queued")
    report = Report.objects.get(requested_by__username="qian")
    tasks.generate_report(report.pk)  # the worker's job
    page.locator(".report-download").wait_for(timeout=10_000)  # the page's next poll
    assert page.locator(".report-status").inner_text() == "已完成"
    assert watched.no_horizontal_scroll()
    watched.screenshot("report-ready")

    with page.expect_download() as download:
        page.click(".report-download")
    saved = download.value
    assert saved.suggested_filename == f"{report.title} {report.period}.pdf"
    content = Path(saved.path()).read_bytes()
    assert "滨湖新区政务服务中心" in PdfReader(io.BytesIO(content)).pages[0].extract_text()
