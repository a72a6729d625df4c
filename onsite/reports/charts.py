"""The reports' charts, drawn on the server as SVG by pygal and placed in the report's HTML as an
image of that SVG, so the PDF keeps them as vector graphics. Nothing of pygal's web side: no script,
no tooltip, no stylesheet or font fetched from elsewhere (its tooltips load from a CDN by default),
the text in the report's CJK font by name. (pygal's own stylesheets it writes into the SVG.)

An image rather than the SVG inline: WeasyPrint would otherwise parse each chart's nodes as the
page's HTML and cascade the page's styles over them, three times the work of drawing them."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pygal
from django.utils.html import format_html
from django.utils.safestring import SafeString
from lxml import etree
from pygal.style import Style

from onsite.reports.pdf import CJK_FAMILIES

_FONT = ", ".join(f"'{family}'" for family in CJK_FAMILIES) + ", sans-serif"
STYLE = Style(
    font_family=_FONT,
    background="white",
    plot_background="white",
    foreground="#222",
    foreground_strong="#222",
    foreground_subtle="#888",
    colors=("#2f6fdf", "#f0883e", "#3fa66b", "#d64550", "#8a63d2", "#c9a227"),
    title_font_size=18,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    value_font_size=12,
)
_SVG = "http://www.w3.org/2000/svg"
KINDS = {"bar": pygal.Bar, "line": pygal.Line, "funnel": pygal.HorizontalBar}


# Beyond this many labels the values are not written on the bars nor dotted on the lines: they
# would overlap, and the report's tables give them.
MOST_VALUES_WRITTEN = 16


def chart_svg(
    kind: str,
    *,
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    width: int = 800,
    height: int = 360,
) -> str:
    """An SVG chart of `series` (name: one value per label), drawn by pygal. `kind`: "bar",
    "line", or "funnel" (stages as horizontal bars, the first on top)."""
    funnel = kind == "funnel"
    few = len(labels) <= MOST_VALUES_WRITTEN
    chart = KINDS[kind](
        js=[],
        disable_xml_declaration=True,
        style=STYLE,
        width=width,
        height=height,
        title=title,
        print_values=few,
        show_dots=few,
        # Many labels (a year's weeks): every fourth written, each a text to set.
        x_labels_major_every=None if few else 4,
        show_minor_x_labels=few,
        show_legend=len(series) > 1,
        legend_at_bottom=True,
        truncate_label=-1,
    )
    chart.x_labels = list(reversed(labels)) if funnel else list(labels)
    counts = [value for values in series.values() for value in values if value is not None]
    if counts and all(float(value).is_integer() for value in counts):
        # Counts: whole-number ticks (pygal would draw 0.1, 0.2, ... for small ones), at most ten.
        top = int(max(max(counts), 1))
        chart.y_labels = list(range(0, top + 1, math.ceil(top / 10)))
    for name, values in series.items():
        chart.add(name, list(reversed(values)) if funnel else list(values))
    return _static(chart.render(is_unicode=True))


def chart_image(kind: str, **chart: Any) -> SafeString:
    """The chart of `chart_svg` as an `<img>` of its SVG for a report template, its title as the
    alternative text."""
    svg = base64.b64encode(chart_svg(kind, **chart).encode()).decode("ascii")
    return format_html('<img class="chart" alt="{}" src="data:image/svg+xml;base64,{}">', chart["title"], svg)


def _static(svg: str) -> str:
    """The SVG without pygal's inline script (its config for the tooltips), the tooltips' texts
    (`desc`: one per value) and comments."""
    root = etree.fromstring(svg.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    for node in root.xpath("//svg:script | //svg:desc | //comment()", namespaces={"svg": _SVG}):
        node.getparent().remove(node)
    return etree.tostring(root, encoding="unicode")
