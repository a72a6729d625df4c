"""The reports pages: the list of what the reader may read, a report's status (polled by htmx until
it is done) with its download or its failure and a retry, the visit page that asks for a visit
report and the incentive statement's button; anything the reader may not read answers 404."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from onsite import tasks
from onsite.models import Report, ReportKind, Visit
from onsite.services.reports import request_report
from tests.onsite.factories import TeamFactory, manager_in
from tests.onsite.flow import close_visit, customer_of, enrol, new_programme
from tests.pages.clients import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(org) -> Visit:
    instance = close_visit(enrol(org, new_programme(org), customer_of(org, name="合肥供电公司")), org)
    return Visit.objects.get(instance=instance)


@pytest.fixture
def report(visit) -> Report:
    """The visit report the approval asked for, made."""
    report = Report.objects.get(kind=ReportKind.VISIT)
    tasks.generate_report(report.pk)
    report.refresh_from_db()
    return report


@pytest.fixture
def outsider(org):
    """An account manager of another team."""
    return manager_in(TeamFactory(name="政企客户二组", region=org.branch), "feng")


def test_the_list_shows_the_reports_the_reader_may_read_newest_first(org, report, outsider):
    newer = request_report(
        kind=ReportKind.INCENTIVE_STATEMENT,
        params={"person": org.manager.pk, "period": "2026-12"},
        user=org.manager,
    )

    page = signed_in(org.manager).get("/reports/").content.decode()

    assert page.index(newer.title) < page.index(report.title)
    assert "已完成" in page and "排队中" in page and f"/reports/{report.pk}/download/" in page
    assert report.title not in signed_in(outsider).get("/reports/").content.decode()


def test_the_navigation_links_the_reports_page(org):
    assert 'href="/reports/"' in signed_in(org.manager).get("/tasks/").content.decode()


def test_a_done_report_offers_its_download_and_checksum(org, report):
    page = signed_in(org.director).get(f"/reports/{report.pk}/").content.decode()  # leadership reads it

    assert "下载 PDF" in page and report.sha256 in page and 'hx-trigger="every 2s"' not in page


def test_the_download_is_the_pdf_as_an_attachment_named_in_chinese_with_its_checksum(org, report):
    response = signed_in(org.director).get(f"/reports/{report.pk}/download/")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content == bytes(report.content)
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert quote(f"{report.title} {report.period}.pdf") in disposition
    assert response["ETag"] == f'"{report.sha256}"' and response["X-Content-SHA256"] == report.sha256


def test_a_report_on_its_way_polls_until_done(org, visit):
    queued = request_report(kind=ReportKind.VISIT, params={"visit": visit.pk}, user=org.manager)
    client = signed_in(org.manager)

    page = client.get(f"/reports/{queued.pk}/").content.decode()
    assert f'hx-get="/reports/{queued.pk}/"' in page and 'hx-trigger="every 2s"' in page and "排队中" in page
    tasks.generate_report(queued.pk)
    part = client.get(f"/reports/{queued.pk}/", headers={"HX-Request": "true"}).content.decode()

    assert (
        part.lstrip().startswith('<div id="report-status"')
        and "下载 PDF" in part
        and "hx-trigger" not in part
    )


def test_a_failed_report_shows_why_and_is_retried_by_a_post(org, visit):
    failed = request_report(kind=ReportKind.VISIT, params={"visit": visit.pk}, user=org.manager)
    Report.objects.filter(pk=failed.pk).update(status="failed", error="报告的对象已不存在")
    client = signed_in(org.manager)

    page = client.get(f"/reports/{failed.pk}/").content.decode()
    assert "报告的对象已不存在" in page and f'action="/reports/{failed.pk}/retry/"' in page
    assert client.get(f"/reports/{failed.pk}/retry/").status_code == 405
    response = client.post(f"/reports/{failed.pk}/retry/")

    assert response.status_code == 302 and response["Location"] == f"/reports/{failed.pk}/"
    failed.refresh_from_db()
    assert (failed.status, failed.retried_by) == ("queued", org.manager)


def test_another_teams_manager_gets_404_on_the_page_the_download_and_the_retry(report, outsider):
    client = signed_in(outsider)

    assert client.get(f"/reports/{report.pk}/").status_code == 404
    assert client.get(f"/reports/{report.pk}/download/").status_code == 404
    assert client.post(f"/reports/{report.pk}/retry/").status_code == 404
    assert client.get("/reports/999999/").status_code == 404


def test_a_report_not_done_has_no_download(org, visit):
    queued = request_report(kind=ReportKind.VISIT, params={"visit": visit.pk}, user=org.manager)

    assert signed_in(org.manager).get(f"/reports/{queued.pk}/download/").status_code == 404


def test_the_visit_page_shows_the_visit_and_its_reports_and_asks_for_one(org, visit, report):
    client = signed_in(org.manager)

    page = client.get(f"/visits/{visit.pk}/").content.decode()
    assert "合肥供电公司" in page and "已通过" in page and f"/reports/{report.pk}/" in page
    assert "生成走访报告" in page
    response = client.post(f"/visits/{visit.pk}/report/")

    asked = Report.objects.get(requested_by=org.manager)
    assert response.status_code == 302 and response["Location"] == f"/reports/{asked.pk}/"
    assert asked.language == "zh-hans" and asked.title.startswith("走访报告：合肥供电公司")


def test_the_visit_list_links_each_visit_to_its_page(org, visit):
    assert f'href="/visits/{visit.pk}/"' in signed_in(org.manager).get("/visits/").content.decode()


def test_another_teams_manager_gets_404_on_the_visit_page_and_its_report_request(visit, outsider):
    client = signed_in(outsider)

    assert client.get(f"/visits/{visit.pk}/").status_code == 404
    assert client.post(f"/visits/{visit.pk}/report/").status_code == 404
    assert not Report.objects.filter(requested_by=outsider).exists()


def test_the_incentive_page_asks_for_the_months_statement(org):
    client = signed_in(org.manager)
    assert "生成对账单（PDF）" in client.get("/incentives/", {"period": "2026-12"}).content.decode()

    response = client.post("/incentives/statement/", {"period": "2026-12"})

    asked = Report.objects.get(kind=ReportKind.INCENTIVE_STATEMENT)
    assert response["Location"] == f"/reports/{asked.pk}/"
    assert (asked.person, asked.params) == (org.manager, {"person": org.manager.pk, "period": "2026-12"})


def test_a_team_leader_asks_for_a_members_statement_but_not_another_teams(org, outsider):
    leader = signed_in(org.leader)
    assert (
        leader.post("/incentives/statement/", {"period": "2026-12", "person": org.manager.pk}).status_code
        == 302
    )

    refused = leader.post("/incentives/statement/", {"period": "2026-12", "person": outsider.pk})

    assert refused.status_code == 403
    assert not Report.objects.filter(person=outsider).exists()
