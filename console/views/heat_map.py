"""The heat-map of a version (where its instances wait and how long they spent at each element) and
its drill-down to the instances waiting at one element."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from console.access import check_may_view
from console.selectors.diagrams import main_diagram
from console.selectors.heat_map import (
    ElementHeat,
    Period,
    diagram_elements,
    heat_map,
    version_by_number,
    waiting_at,
)
from workflows.facets import facets
from workflows.models import ProcessInstance, ProcessVersion

DEFAULT_DAYS = 30
LONGEST_PERIOD_DAYS = 731
SORTS = ("waiting", "median", "p90", "element")


class HeatMapFilter(forms.Form):
    """The period (local dates, both included), the domain's facets and what the colour shows."""

    def __init__(self, data: Any, *, today: date) -> None:
        super().__init__(data)
        self.today = today
        self.fields["from"] = forms.DateField(
            label=gettext_lazy("From"),
            required=False,
            initial=today - timedelta(days=DEFAULT_DAYS - 1),
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        )
        self.fields["to"] = forms.DateField(
            label=gettext_lazy("To"),
            required=False,
            initial=today,
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        )
        for facet in facets():
            self.fields[facet.name] = forms.ChoiceField(
                label=facet.label, required=False, choices=[("", _("All")), *facet.choices()]
            )
        self.fields["by"] = forms.ChoiceField(
            label=gettext_lazy("Colour by"),
            required=False,
            choices=[("waiting", _("Waiting now")), ("p90", _("P90 time spent"))],
        )
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-select form-select-sm")
        for name in ("from", "to"):
            self.fields[name].widget.attrs["class"] = "form-control form-control-sm"

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = self.dates(cleaned)
        if start > end:
            raise forms.ValidationError(_("The period must start before it ends."))
        if (end - start).days > LONGEST_PERIOD_DAYS:
            raise forms.ValidationError(_("Choose a period of at most two years."))
        return cleaned

    def dates(self, cleaned: dict | None = None) -> tuple[date, date]:
        """The period's first and last day: by default the last 30 days, today included."""
        cleaned = cleaned if cleaned is not None else (self.cleaned_data if self.is_valid() else {})
        end = cleaned.get("to") or self.today
        start = cleaned.get("from") or end - timedelta(days=DEFAULT_DAYS - 1)
        return start, end

    def period(self) -> Period:
        start, end = self.dates()
        return Period(_midnight(start), _midnight(end + timedelta(days=1)))

    def chosen(self) -> dict[str, str]:
        if not self.is_valid():
            return {}
        return {f.name: self.cleaned_data.get(f.name) or "" for f in facets()}

    def measure(self) -> str:
        return (self.cleaned_data.get("by") if self.is_valid() else "") or "waiting"


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _version(process_id: str, number: int) -> ProcessVersion:
    version = version_by_number(process_id, number)
    if version is None:
        raise Http404(_("No such process version."))
    return version


def duration_words(seconds: float | None) -> str:
    """A time spent, in words of the reader's language: minutes, hours or days."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return _("%(n)d min") % {"n": max(1, round(seconds / 60))}
    if seconds < 48 * 3600:
        return _("%(n)s h") % {"n": _rounded(seconds / 3600)}
    return _("%(n)s d") % {"n": _rounded(seconds / 86400)}


def _rounded(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value < 10 else str(round(value))


def _legend(measure: str) -> list[tuple[int, str]]:
    none = _("no one waiting") if measure == "waiting" else _("not measured")
    steps = [(level, _("up to %(share)d %%") % {"share": 20 * level}) for level in range(1, 5)]
    return [(0, none), *steps, (5, _("over 80 %"))]


def _overlay(element: ElementHeat) -> dict:
    parts = []
    if element.waiting:
        parts.append(_("Waiting %(n)d") % {"n": element.waiting})
    if element.median is not None:
        parts.append(_("Median %(d)s") % {"d": duration_words(element.median)})
        parts.append(_("P90 %(d)s") % {"d": duration_words(element.p90)})
    title = _("%(failed)d in error; %(measured)d waits ended in the period") % {
        "failed": element.failed,
        "measured": element.measured,
    }
    return {
        "text": " · ".join(parts),
        "class": "is-waiting" if element.waiting else "is-time",
        "title": title,
    }


@require_safe
@login_required
def heat_map_page(request: HttpRequest, process_id: str, number: int) -> HttpResponse:
    check_may_view(request.user)
    version = _version(process_id, number)
    form = HeatMapFilter(request.GET or None, today=timezone.localdate())
    if form.is_bound:
        form.is_valid()
    result = heat_map(version, period=form.period(), chosen=form.chosen(), measure=form.measure())
    xml = main_diagram(version)
    names = diagram_elements(xml)
    rows = [
        {"figures": element, "name": names.get(key, ("", ""))[0], "type": names.get(key, ("", ""))[1]}
        for key, element in result.elements.items()
    ]
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "waiting"
    if sort == "element":
        rows.sort(key=lambda r: r["name"] or r["figures"].bpmn_id)
    else:
        rows.sort(key=lambda r: (-(getattr(r["figures"], sort) or 0), r["figures"].bpmn_id))
    for row in rows:
        row["median"] = duration_words(row["figures"].median)
        row["p90"] = duration_words(row["figures"].p90)
    start, end = form.dates()
    query = request.GET.copy()
    query.pop("sort", None)
    return render(
        request,
        "console/heat_map/page.html",
        {
            "version": version,
            "xml": xml,
            "form": form,
            "rows": rows,
            "sort": sort,
            "filters": query.urlencode(),
            "start": start,
            "end": end,
            "measure": result.measure,
            "markers": {key: [f"heat-{e.heat}"] for key, e in result.elements.items()},
            "overlays": {key: [_overlay(e)] for key, e in result.elements.items() if e.waiting or e.measured},
            "legend": _legend(result.measure),
            "columns": [
                # (sort key, heading, numeric, shown on wide screens only)
                ("element", _("Element"), False, False),
                ("waiting", _("Waiting now"), True, False),
                ("", _("In error"), True, True),
                ("median", _("Median"), True, False),
                ("p90", _("P90"), True, False),
                ("", _("Waits ended"), True, True),
            ],
            "console_tab": "models",
        },
    )


@require_safe
@login_required
def heat_map_element(request: HttpRequest, process_id: str, number: int, element_id: str) -> HttpResponse:
    check_may_view(request.user)
    version = _version(process_id, number)
    form = HeatMapFilter(request.GET or None, today=timezone.localdate())
    if form.is_bound:
        form.is_valid()
    names = diagram_elements(main_diagram(version))
    name = names.get(element_id, ("", ""))[0]
    statuses = dict(ProcessInstance.Status.choices)
    kinds = {
        "task": _("an open task"),
        "timer": _("a timer"),
        "message": _("a message"),
        "error": _("a retry (in error)"),
    }
    waiting = [
        {**vars(row), "status_label": statuses.get(row.status, row.status), "kind_label": kinds[row.kind]}
        for row in waiting_at(version, element_id, chosen=form.chosen())
    ]
    return render(
        request,
        "console/heat_map/element.html",
        {
            "version": version,
            "element_id": element_id,
            "element_name": name,
            "known": element_id in names,
            "waiting": waiting,
            "filters": request.GET.urlencode(),
            "console_tab": "models",
        },
    )
