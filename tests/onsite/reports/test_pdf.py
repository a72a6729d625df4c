"""The PDF pipeline every report goes through (`onsite.reports.pdf`): Chinese set in an embedded,
subset CJK font, A4 pages with the title and period in the header and page numbers, and long
tables that keep their rows whole. Read back with pypdf."""

import io

import pytest
from pypdf import PdfReader

from onsite.checks import check_cjk_font
from onsite.reports.pdf import installed_cjk_family, render_pdf
from tests.onsite.reports.templates import with_template

pytestmark = pytest.mark.skipif(
    installed_cjk_family() is None, reason="no CJK font installed (scripts/install-system-packages)"
)

A4_POINTS = (595.28, 841.89)
TABLE = """{% extends "reports/base.html" %}{% block content %}
<table><thead><tr><th>客户</th><th class="number">拜访次数</th></tr></thead><tbody>
{% for n in rows %}<tr><td>滨湖新区政务服务中心 {{ n }}</td><td class="number">{{ n }}</td></tr>{% endfor %}
</tbody></table>{% endblock %}"""


def fonts_of(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_chinese_is_set_in_an_embedded_subset_of_a_cjk_font():
    pdf = render_pdf("reports/base.html", {}, title="驻点服务月度报告", period="2026年11月")

    reader = PdfReader(io.BytesIO(pdf))
    text = reader.pages[0].extract_text()
    assert "驻点服务月度报告" in text and "2026年11月" in text
    cjk = [name for name in fonts_of(reader) if "CJK" in name or "SourceHan" in name]
    # A subset's name carries a six-letter tag ("ABCDEF+NotoSansCJKsc-Regular").
    assert cjk and all(name.lstrip("/")[6] == "+" for name in cjk)
    assert len(pdf) < 200_000  # the used characters only, not the 16 MB collection


def test_pages_are_a4_numbered_with_the_title_and_period_on_each_and_rows_kept_whole():
    with with_template("reports/test_table.html", TABLE):
        pdf = render_pdf(
            "reports/test_table.html", {"rows": range(1, 121)}, title="拜访清单", period="第四季度"
        )

    reader = PdfReader(io.BytesIO(pdf))
    pages = len(reader.pages)
    assert pages >= 3
    for number, page in enumerate(reader.pages, start=1):
        assert tuple(round(float(v), 2) for v in page.mediabox[2:]) == A4_POINTS
        text = page.extract_text()
        assert "拜访清单" in text and "第四季度" in text
        assert f"{number} / {pages}" in text
        assert "拜访次数" in text  # the table's header repeated on every page
    every = "".join(page.extract_text() for page in reader.pages)
    assert all(f"滨湖新区政务服务中心 {n}" in every for n in range(1, 121))


def test_the_system_check_is_quiet_when_a_cjk_font_is_installed():
    assert check_cjk_font(None) == []
