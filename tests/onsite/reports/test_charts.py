"""The reports' charts (`onsite.reports.charts`): SVG drawn on the server, with nothing of the web
in it, that the PDF keeps as vector graphics with its Chinese labels as text."""

import base64
import io
import re

import pytest
from pypdf import PdfReader

from onsite.reports.charts import chart_image, chart_svg
from onsite.reports.pdf import installed_cjk_family, render_pdf
from tests.onsite.reports.templates import with_template

STAGES = ["宣传", "信息收集", "精准挖转", "已结束"]


def funnel():
    return chart_svg("funnel", title="各阶段客户", labels=STAGES, series={"客户": [40, 25, 12, 5]})


def test_a_chart_is_plain_svg_with_no_script_comment_or_address_to_fetch():
    svg = funnel()

    assert svg.startswith("<svg") and "<script" not in svg and "<!--" not in svg
    addresses = set(re.findall(r"https?://[^\s\"'<>]+", svg))
    assert addresses <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert all(stage in svg for stage in STAGES)
    assert "<desc" not in svg  # no tooltips


def test_in_a_report_a_chart_is_an_image_of_its_svg_with_its_title_as_alternative_text():
    image = chart_image("funnel", title="各阶段客户", labels=STAGES, series={"客户": [40, 25, 12, 5]})

    src = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', image).group(1)
    assert image.startswith('<img class="chart" alt="各阶段客户"')
    svg = base64.b64decode(src).decode()
    assert svg.startswith("<svg") and all(stage in svg for stage in STAGES)


def test_each_kind_draws_every_series_and_label():
    for kind in ("bar", "line"):
        svg = chart_svg(
            kind, title="每周拜访", labels=["第1周", "第2周"], series={"计划": [5, 6], "完成": [4, 6]}
        )
        assert all(text in svg for text in ("每周拜访", "第1周", "第2周", "计划", "完成"))
    with pytest.raises(KeyError):
        chart_svg("pie", title="", labels=[], series={})


@pytest.mark.skipif(installed_cjk_family() is None, reason="no CJK font installed")
def test_in_a_pdf_the_chart_stays_vector_with_its_labels_as_text():
    page = '{% extends "reports/base.html" %}{% block content %}<figure>{{ chart }}</figure>{% endblock %}'
    with with_template("reports/test_chart.html", page):
        pdf = render_pdf(
            "reports/test_chart.html",
            {
                "chart": chart_image(
                    "funnel", title="各阶段客户", labels=STAGES, series={"客户": [40, 25, 12, 5]}
                )
            },
            title="月度报告",
            period="2026年11月",
        )

    reader = PdfReader(io.BytesIO(pdf))
    text = reader.pages[0].extract_text()
    assert all(stage in text for stage in STAGES)
    assert not reader.pages[0].images  # drawn, not a bitmap
