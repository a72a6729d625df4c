"""HTML to PDF for every report: A4 with the report's title and period in the header and page
numbers in the footer (`static/reports/print.css`), Chinese set in an OFL-licensed CJK font that
WeasyPrint embeds as a subset of the characters used (HarfBuzz's subsetter, `libharfbuzz-subset0`,
makes that fast: without it one page took 11.6 s and 303 MB).

Fonts come from fontconfig (Debian's `fonts-noto-cjk`, installed by `scripts/install-system-packages`);
`onsite.checks` warns when no CJK font is installed, since the PDFs would show empty boxes."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from functools import cache
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

# The families the stylesheet asks for, first found first: Noto Sans CJK (Debian's fonts-noto-cjk),
# then Source Han Sans, the same design under Adobe's name.
CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC")
STYLESHEET = "reports/print.css"


def render_pdf(template_name: str, context: Mapping[str, Any], *, title: str, period: str = "") -> bytes:
    """The PDF of `template_name` (which extends `reports/base.html`), with `title` and `period` in
    every page's header."""
    from weasyprint import CSS, HTML  # imported when a report is made: it loads Pango at import

    html = render_to_string(template_name, {**context, "report_title": title, "report_period": period})
    stylesheet = CSS(filename=finders.find(STYLESHEET))
    return HTML(string=html).write_pdf(stylesheets=[stylesheet])


@cache
def installed_cjk_family() -> str | None:
    """The first of CJK_FAMILIES that fontconfig knows, or None."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None  # no fontconfig: WeasyPrint could find no font either
    for family in CJK_FAMILIES:
        try:
            # Arguments from this module's constants only.
            found = subprocess.run(  # noqa: S603
                [fc_list, f":family={family}", "family"], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if found.stdout.strip():
            return family
    return None
