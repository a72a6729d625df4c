"""The visit report, rendered end to end from a visit run through the services to an approved
summary: asked for by the system on the approval, once, and made by the job; read back with pypdf,
Chinese text in an embedded CJK font."""

import io

import pytest
from django.utils import translation
from pypdf import PdfReader

from onsite import tasks
from onsite.models import Report, ReportKind, Visit
from onsite.reports.pdf import installed_cjk_family
from onsite.services.reports import request_report
from tests.onsite.flow import SUMMARY, close_visit, customer_of, enrol, new_programme
from tests.onsite.reports.test_pdf import fonts_of
from workflows.events import handle_pending_events
from workflows.models import EngineEvent

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(installed_cjk_family() is None, reason="no CJK font installed"),
]


@pytest.fixture
def visit(org):
    customer = customer_of(org, name="滨湖新区政务服务中心", code="GC-BH-001")
    instance = close_visit(enrol(org, new_programme(org), customer), org, summary_data=SUMMARY)
    return Visit.objects.get(instance=instance)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_approval_asks_for_one_report_the_job_makes_in_chinese(visit):
    EngineEvent.objects.update(handled_at=None)  # the approval's events handled again
    handle_pending_events()

    report = Report.objects.get(kind=ReportKind.VISIT)
    assert (report.requested_by, report.language, report.customer) == (None, "zh-hans", visit.customer)
    assert report.title == f"走访报告：滨湖新区政务服务中心 第{visit.number}次走访"
    assert tasks.generate_report(report.pk) is True

    report.refresh_from_db()
    text = text_of(bytes(report.content))
    for expected in (
        "滨湖新区政务服务中心",
        "GC-BH-001",
        "信息化应用现状",
        "办公网由我方提供",
        "产品到期时间",
        "视频会议",
        "关键决策链",
        "王主任",
        "关键人信息",
        "0551-12345678",
        "近期营销线索",
        "视频会议替换",
        "紧急程度",
        "所需资源支撑",
        "视频会议替换方案",
        "两周内提交云视讯替换方案",
        "机房托管",
        "总结完整",
        "行业成功案例",
        "宽带提速",
    ):
        assert expected in text, expected
    assert any(
        "CJK" in name or "SourceHan" in name
        for name in fonts_of(PdfReader(io.BytesIO(bytes(report.content))))
    )


def test_on_demand_it_is_in_the_language_of_the_person_asking(visit, org):
    with translation.override("en"):
        report = request_report(kind=ReportKind.VISIT, params={"visit": visit.pk}, user=org.leader)
    tasks.generate_report(report.pk)

    report.refresh_from_db()
    assert report.language == "en" and report.requested_by == org.leader
    text = text_of(bytes(report.content))
    assert "Closed-loop summary" in text and "滨湖新区政务服务中心" in text
