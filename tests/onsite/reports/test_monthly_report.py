"""The monthly programme report rendered end to end from records written as the services leave
them: read back with pypdf, in Chinese, in an embedded CJK font, its charts as vector graphics."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from pypdf import PdfReader

from onsite import tasks
from onsite.models import ReportKind
from onsite.reports import monthly_report
from onsite.reports.pdf import installed_cjk_family
from onsite.services.reports import request_report
from tests.onsite.dashboard_data import PERIOD
from tests.onsite.flow import at, close_visit, customer_of, enrol, new_programme
from tests.onsite.reports.test_pdf import fonts_of

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(installed_cjk_family() is None, reason="no CJK font installed"),
]


def test_the_report_reads_back_in_chinese_with_its_figures_and_an_embedded_cjk_font(sales):
    director = sales["org"].director
    asked = monthly_report.subject({**PERIOD, "region": str(sales["org"].branch.pk)}, director)
    with translation.override("zh-hans"):
        pdf = monthly_report.render(asked.params, now=at(2026, 12, 1, 9))

    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "驻点服务" in text and "2026-11-02 – 2026-11-29" in text
    assert "合肥分公司" in text and "政企客户一组" in text and "芜湖分公司" not in text
    assert "¥300,000" in text  # the value won in the branch
    assert any("CJK" in name for name in fonts_of(reader))
    # The charts are drawn as paths, not placed as pictures.
    assert not any(
        "/XObject" in page["/Resources"]
        and any(x.get_object().get("/Subtype") == "/Image" for x in page["/Resources"]["/XObject"].values())
        for page in reader.pages
    )


def test_a_visit_run_through_the_services_shows_in_the_months_report(org):
    customer = customer_of(org, name="滨湖新区政务服务中心")
    close_visit(enrol(org, new_programme(org), customer), org, visited_at=timezone.now() - timedelta(hours=1))
    today = timezone.localdate()
    with translation.override("zh-hans"):
        report = request_report(
            kind=ReportKind.MONTHLY,
            params={"start": today.replace(day=1).isoformat(), "end": today.isoformat()},
            user=org.director,
        )
    assert tasks.generate_report(report.pk) is True
    report.refresh_from_db()

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(bytes(report.content))).pages)
    assert "全部区域、行业、等级和班组" in text
    # At a glance: one customer in the programme, one visit made of one planned, its summary on time.
    assert "驻点服务中的客户 1" in text and "已走访 / 计划走访 1 / 1" in text and "小结按时率 100%" in text
    assert "政企客户一组" in text and "合肥分公司" in text


def test_each_team_starts_a_page_of_its_own(sales):
    asked = monthly_report.subject(PERIOD, sales["org"].director)
    with translation.override("zh-hans"):
        reader = PdfReader(io.BytesIO(monthly_report.render(asked.params, now=at(2026, 12, 1, 9))))

    one, two = (page.extract_text() for page in reader.pages[-2:])  # the teams' pages, in name order
    assert "政企客户一组" in one and "政企客户二组" not in one
    assert "政企客户二组" in two and "政企客户一组" not in two
