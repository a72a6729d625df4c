"""The monthly programme report rendered end to end from records written as the services leave
them: read back with pypdf, in Chinese, in an embedded CJK font, its charts as vector graphics."""

import io

import pytest
from django.utils import translation
from pypdf import PdfReader

from onsite.reports import monthly_report
from onsite.reports.pdf import installed_cjk_family
from tests.onsite.dashboard_data import PERIOD
from tests.onsite.flow import at
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
