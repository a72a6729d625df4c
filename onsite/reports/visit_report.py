"""The visit report (走访报告): one visit — the customer, stage, objectives and resources, what was
done on site, the closed-loop summary's seven parts, the leads and support requests it created and
the review. Made automatically when the summary is approved, and on demand
(`onsite.reports.registry` says what a kind's module provides)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from onsite.exceptions import NotPermitted, OnsiteError
from onsite.models import Visit
from onsite.reports.pdf import render_pdf
from onsite.reports.registry import Subject, params_id
from onsite.selectors.visit_report import visit_for, visit_report
from workflows.actors import SYSTEM

TEMPLATE = "reports/visit.html"
MATERIALS_FORM = "visit_resources.schema.json"


def subject(params: dict, user: Any) -> Subject:
    visit_id = params_id(params, "visit")
    try:
        visit = visit_for(visit_id=visit_id, user=user)
    except Visit.DoesNotExist:
        raise NotPermitted(_("There is no visit #%(id)s that you may read.") % {"id": visit_id}) from None
    if visit.visited_at is None:
        raise OnsiteError(
            _("Visit %(visit)s has not been made yet: there is nothing to report.") % {"visit": visit}
        )
    return Subject(
        params={"visit": visit.pk}, title=title_of(visit), period=period_of(visit), customer=visit.customer
    )


def render(params: dict) -> bytes:
    report = visit_report(visit_id=params["visit"], user=SYSTEM)
    visit = report.visit
    context = {
        "report": report,
        "visit": visit,
        "customer": visit.customer,
        "summary": report.summary,
        "materials": [material_label(code) for code in visit.materials],
        "none_reasons": (report.summary.none_reasons if report.summary else {}) or {},
    }
    return render_pdf(TEMPLATE, context, title=title_of(visit), period=period_of(visit))


def title_of(visit: Visit) -> str:
    return _("Visit report: %(customer)s, visit %(number)s") % {
        "customer": visit.customer.name,
        "number": visit.number,
    }


def period_of(visit: Visit) -> str:
    when = timezone.localtime(visit.visited_at).date() if visit.visited_at else visit.planned_date
    return when.isoformat()


def material_label(code: str) -> str:
    """A material prepared, as the resources form names it in the active language."""
    titles = _material_titles()
    entry = titles.get(code)
    if entry is None:
        return code
    return entry.get("title_en", entry["title"]) if get_language() == "en" else entry["title"]


@cache
def _material_titles() -> dict[str, dict]:
    path = Path(settings.WORKFLOWS["FORMS_DIR"]) / MATERIALS_FORM
    schema = json.loads(path.read_text(encoding="utf-8"))
    return {choice["const"]: choice for choice in schema["properties"]["materials"]["items"]["oneOf"]}
