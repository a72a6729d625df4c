"""The settings pages: the A/B/C service standards, the incentive rules, and the early-warning and
appraisal thresholds, each with the values in force, the changes scheduled, the history and (for
coordinators) a form to change them from a date. Leadership reads them; anyone else gets a 404.

A blank field in a form keeps the value in force on the effective date; a change effective today
takes effect at once, a later date at the start of that day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from onsite.access import check_role, has_role
from onsite.exceptions import InvalidInput
from onsite.models import VISIT_CADENCES, IncentiveEvent, IncentiveRule, ServiceStandard, Tier
from onsite.roles import COORDINATOR
from onsite.selectors.incentive_rules import incentive_rules_page
from onsite.selectors.standards import standards_page
from onsite.selectors.thresholds import VersionRow, check_settings_read, threshold_page
from onsite.services.incentives import set_incentive_rule
from onsite.services.standards import change_service_standard
from onsite.services.thresholds import change_thresholds
from onsite.views.refusals import form_errors
from workflows import clock

THRESHOLD_LABELS = {
    "VISIT_GRACE_DAYS": gettext_lazy("Days past the visit cadence before a customer counts as not visited"),
    "VISIT_ON_PLAN_TOLERANCE_DAYS": gettext_lazy(
        "Days after the planned date a visit still counts as planned"
    ),
    "LEAD_UNTOUCHED_DAYS": gettext_lazy("Days without follow-up before an urgent lead is a warning"),
    "FUNNEL_STALLED_DAYS": gettext_lazy("Days in one funnel stage before a lead counts as stalled"),
    "REVIEW_DUE_DAYS": gettext_lazy("Days the team leader has to review a submitted summary"),
    "RENEWAL_WINDOW_DAYS": gettext_lazy("Days before our contract ends that its renewal starts"),
    "WIN_BACK_WINDOW_DAYS": gettext_lazy("Days before a competitor's contract ends that its win-back starts"),
    "TARGET_BEHIND_PERCENT": gettext_lazy("How far behind the month's target (%) is a warning"),
    "APPRAISAL_ATTAINMENT_CAP_PERCENT": gettext_lazy("Most an indicator counts towards its target (%)"),
    "SHORT_BOARD_MARGIN_PERCENT": gettext_lazy("How much worse than the team median (%) is a short board"),
}
GROUP_TITLES = {
    "standards": gettext_lazy("Service standards"),
    "incentives": gettext_lazy("Incentive rules"),
    "warnings": gettext_lazy("Early-warning thresholds"),
    "appraisal": gettext_lazy("Appraisal thresholds"),
}
CADENCE_LABELS = dict(VISIT_CADENCES)


def _label(name: str) -> Any:
    if name in THRESHOLD_LABELS:
        return THRESHOLD_LABELS[name]
    for model in (ServiceStandard, IncentiveRule):
        if name in model.TERMS:
            return model._meta.get_field(name).verbose_name
    return name


def _shown(name: str, value: Any) -> Any:
    if name == "visit_cadence":
        return CADENCE_LABELS.get(value, value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value


def _rows(rows: list[VersionRow], label_of: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The history rows with each change worded for the reader."""
    return [
        {
            "row": row,
            "label": (label_of or {}).get(row.label, row.label),
            "changes": [
                {
                    "label": _label(c.name),
                    "before": _shown(c.name, c.before),
                    "after": _shown(c.name, c.after),
                }
                for c in row.changes
            ],
        }
        for row in rows
    ]


def _effective_date(request: HttpRequest) -> date | None:
    text = request.POST.get("effective_from", "").strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _effective_moment(day: date | None) -> datetime | None:
    """Today's change takes effect now; a later day's at the start of that day (the services refuse
    an earlier one)."""
    if day is None:
        raise InvalidInput({"effective_from": [_("Enter the date the change takes effect.")]})
    if day == timezone.localdate(clock.now()):
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


def _typed(request: HttpRequest, names: tuple[str, ...] | list[str]) -> dict[str, str]:
    """The fields the person filled in: a blank one keeps the value in force."""
    return {name: request.POST[name].strip() for name in names if request.POST.get(name, "").strip()}


def _common(request: HttpRequest, group: str) -> dict[str, Any]:
    return {
        "group": group,
        "title": GROUP_TITLES[group],
        "groups": GROUP_TITLES,
        "can_change": has_role(request.user, COORDINATOR),
        "today": timezone.localdate(clock.now()),
        "errors": {},
        "typed": {},
    }


@login_required
@require_safe
def settings_index(request: HttpRequest) -> HttpResponse:
    check_settings_read(request.user)
    return render(
        request,
        "onsite/settings/index.html",
        {"groups": GROUP_TITLES, "perms_import": has_role(request.user, COORDINATOR)},
    )


def _recorded(
    request: HttpRequest, context: dict, change: Callable[[], Any], *, done: str, then: HttpResponse
) -> HttpResponse | None:
    """Make the change the form asks for: the page to go to with `done` said, or None with the
    refusal's errors and what was typed in `context`, for the page to show its form again."""
    try:
        change()
    except InvalidInput as refused:
        context.update(errors=form_errors(refused), typed=request.POST)
        return None
    messages.success(request, done)
    return then


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def standards_settings(request: HttpRequest) -> HttpResponse:
    context = _common(request, "standards")
    if request.method == "POST":
        check_role(request.user, COORDINATOR)  # before reading the form: leadership reads only
        values = _typed(request, ServiceStandard.TERMS)
        recorded = _recorded(
            request,
            context,
            lambda: change_service_standard(
                tier=request.POST.get("tier", ""),
                values=values,
                reason=request.POST.get("reason", ""),
                user=request.user,
                effective_from=_effective_moment(_effective_date(request)),
            ),
            done=_("The change of the service standard is recorded."),
            then=redirect("settings_standards"),
        )
        if recorded:
            return recorded
    page = standards_page(user=request.user)
    context.update(
        page=page,
        terms=[(name, _label(name)) for name in ServiceStandard.TERMS],
        tiers=Tier.choices,
        cadences=VISIT_CADENCES,
        scheduled=_rows(page.scheduled, dict(Tier.choices)),
        history=_rows(page.history, dict(Tier.choices)),
    )
    return render(request, "onsite/settings/standards.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def incentive_settings(request: HttpRequest) -> HttpResponse:
    context = _common(request, "incentives")
    names = [name for name in IncentiveRule.TERMS if name != "active"]
    if request.method == "POST":
        check_role(request.user, COORDINATOR)  # before reading the form: leadership reads only
        values: dict[str, Any] = _typed(request, names)
        if request.POST.get("active") in ("yes", "no"):
            values["active"] = request.POST["active"] == "yes"
        recorded = _recorded(
            request,
            context,
            lambda: set_incentive_rule(
                event=request.POST.get("event", ""),
                values=values,
                reason=request.POST.get("reason", ""),
                user=request.user,
                effective_from=_effective_moment(_effective_date(request)),
            ),
            done=_("The change of the incentive rule is recorded."),
            then=redirect("settings_incentives"),
        )
        if recorded:
            return recorded
    page = incentive_rules_page(user=request.user)
    events = dict(IncentiveEvent.choices)
    context.update(
        page=page,
        rules=[(code, events[code], rule) for code, rule in page.rules],
        terms=[(name, _label(name)) for name in names],
        events=IncentiveEvent.choices,
        scheduled=_rows(page.scheduled, events),
        history=_rows(page.history, events),
    )
    return render(request, "onsite/settings/incentives.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def threshold_settings(request: HttpRequest, group: str) -> HttpResponse:
    context = _common(request, group) if group in ("warnings", "appraisal") else {}
    page = threshold_page(group=group, user=request.user)  # an unknown group: 404
    if request.method == "POST":
        check_role(request.user, COORDINATOR)  # before reading the form: leadership reads only
        recorded = _recorded(
            request,
            context,
            lambda: change_thresholds(
                group=group,
                values=_typed(request, list(page.ranges)),
                effective_from=_effective_date(request),
                reason=request.POST.get("reason", ""),
                user=request.user,
            ),
            done=_("The change of the thresholds is recorded."),
            then=redirect("settings_thresholds", group=group),
        )
        if recorded:
            return recorded
    context.update(
        page=page,
        values=[
            (name, THRESHOLD_LABELS[name], value, page.ranges[name]) for name, value in page.values.items()
        ],
        scheduled=_rows(page.scheduled),
        history=_rows(page.history),
    )
    return render(request, "onsite/settings/thresholds.html", context)
