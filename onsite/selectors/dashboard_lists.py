"""The lists behind the dashboard's figures: for each figure, the rows it counts, with what a row
links to, under the same filters and access (`onsite.selectors.dashboard`).

`drill_rows(name, narrow=...)` names the list and the part of the figure (a stage, a week, an
urgency, ...); each list is a queryset of plain values, newest or most urgent first, so a page
slices it (`drill_count` counts it for the page's links) and a download streams it. A part that is
not one of the figure's is `InvalidInput`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils.translation import gettext

from onsite.exceptions import InvalidInput
from onsite.models import (
    Enrolment,
    FunnelStage,
    IncentiveRecord,
    Lead,
    Speciality,
    Stage,
    Urgency,
)
from onsite.selectors import dashboard as figures
from onsite.selectors.dashboard import ENDED, PROGRAMME_STAGES, Filters

CUSTOMERS, STAGE_CHANGES, VISITS, SUMMARIES, LEADS, SUPPORT, INCENTIVES, APPRAISALS = (
    "customers",
    "stage_changes",
    "visits",
    "summaries",
    "leads",
    "support",
    "incentives",
    "appraisals",
)
CUSTOMER_FIELDS = (
    "customer_id",
    "customer__code",
    "customer__name",
    "customer__tier",
    "customer__region__name",
)


def names(person: str) -> tuple[str, ...]:
    """The fields that name the person at the lookup path `person`."""
    return (f"{person}__username", f"{person}__first_name", f"{person}__last_name")


def _choice(narrow: Mapping[str, str], name: str, known: Any, errors: dict) -> str:
    value = (narrow.get(name) or "").strip()
    if value and value not in known:
        errors[name] = [gettext("Select a valid choice.")]
    return value


def _week(narrow: Mapping[str, str], errors: dict) -> date | None:
    text = (narrow.get("week") or "").strip()
    if not text:
        return None
    try:
        week = date.fromisoformat(text)
    except ValueError:
        errors["week"] = [gettext("Enter a date.")]
        return None
    return week - timedelta(days=week.weekday())


def _week_end(monday: date) -> Any:
    return figures.day_start(monday + timedelta(weeks=1))


def _customers(filters: Filters, user: Any, narrow: Mapping[str, str], errors: dict) -> QuerySet:
    stage = _choice(narrow, "stage", PROGRAMME_STAGES, errors)
    rows = figures.enrolments(filters, user)
    if stage == ENDED:
        rows = rows.exclude(status=Enrolment.Status.ACTIVE)
    elif stage:
        rows = rows.filter(status=Enrolment.Status.ACTIVE, stage=stage)
    return rows.order_by("customer__code", "pk")


def _stage_changes(filters: Filters, user: Any, narrow: Mapping[str, str], errors: dict) -> QuerySet:
    stage = _choice(narrow, "stage", Stage.values, errors)
    week = _week(narrow, errors)
    rows = figures.stage_changes(filters, user)
    if stage:
        rows = rows.filter(to_stage=stage)
    if week is not None:
        rows = rows.filter(
            at__gte=figures.day_start(week), at__lt=figures.day_start(week + timedelta(weeks=1))
        )
    return rows.order_by("-at", "-pk")


def _visits(filters: Filters, user: Any, narrow: Mapping[str, str], errors: dict) -> QuerySet:
    kind = _choice(narrow, "kind", ("planned", "done"), errors)
    week = _week(narrow, errors)
    if kind == "done":
        rows = figures.done_visits(filters, user)
        if week is not None:
            rows = rows.filter(
                visited_at__gte=figures.day_start(week),
                visited_at__lt=figures.day_start(week + timedelta(weeks=1)),
            )
    else:
        rows = figures.planned_visits(filters, user)
        if week is not None:
            rows = rows.filter(planned_date__gte=week, planned_date__lt=week + timedelta(weeks=1))
    # Made visits by when they were made (the order of their index), the others by the day planned.
    order = ("-visited_at", "-pk") if kind == "done" else ("-planned_date", "-pk")
    return rows.order_by(*order)


def _summaries(filters: Filters, user: Any, narrow: Mapping[str, str], errors: dict) -> QuerySet:
    outcome = _choice(narrow, "outcome", ("on_time", "late", "reworked"), errors)
    rows = figures.summaries(filters, user)
    rows = rows.filter(
        {"on_time": Q(on_time=True), "late": Q(on_time=False), "reworked": Q(rework_count__gt=0)}.get(
            outcome, Q()
        )
    )
    return rows.order_by("-first_submitted_at", "-pk")


LEAD_OUTCOMES = ("open", "won", "lost", "win_back")


def _leads(filters: Filters, user: Any, narrow: Mapping[str, str], errors: dict) -> QuerySet:
    stage = _choice(narrow, "stage", FunnelStage.values, errors)
    urgency = _choice(narrow, "urgency", Urgency.values, errors)
    outcome = _choice(narrow, "outcome", LEAD_OUTCOMES, errors)
    if outcome in ("won", "win_back"):
        # Won in the period, whenever created: the dashboard's "won" figures.
        rows = figures.won_leads(filters, user)
        if outcome == "win_back":
            rows = rows.filter(win_back=True)
    else:
        rows = figures.leads(filters, user)
        if outcome == "open":
            rows = rows.filter(status__in=Lead.OPEN_STATUSES)
        elif outcome == "lost":
            rows = rows.filter(status=Lead.Status.LOST)
        elif stage:
            # The funnel counts a stage's leads that are not lost.
            rows = rows.exclude(status=Lead.Status.LOST)
    if stage:
        rows = rows.filter(stage=stage)
    if urgency:
        rows = rows.filter(urgency=urgency)
    return rows.order_by("-created_at", "-pk")


def _support(filters: Filters, user: Any, narrow: Mapping[str, str], errors: dict) -> QuerySet:
    speciality = _choice(narrow, "speciality", Speciality.values, errors)
    outcome = _choice(narrow, "outcome", ("completed", "on_time", "open"), errors)
    rows = figures.support_requests(filters, user).annotate(completed_on=TruncDate("completed_at"))
    if speciality:
        rows = rows.filter(speciality=speciality)
    if outcome == "completed":
        rows = rows.filter(completed_at__isnull=False)
    elif outcome == "on_time":
        rows = rows.filter(figures.support_on_time())
    elif outcome == "open":
        rows = rows.filter(completed_at__isnull=True)
    return rows.order_by("-requested_at", "-pk")


def _incentives(filters: Filters, user: Any, narrow: Mapping[str, str], errors: dict) -> QuerySet:
    status = _choice(narrow, "status", figures.INCENTIVE_STATUSES, errors)
    rows = figures.incentive_records(filters, user)
    if status == figures.PAID:
        rows = rows.filter(status=IncentiveRecord.Status.APPROVED, paid_at__isnull=False)
    elif status:
        rows = rows.filter(status=status)
    return rows.order_by("-period", "person__username", "pk")


def _appraisals(filters: Filters, user: Any, narrow: Mapping[str, str], errors: dict) -> QuerySet:
    team = (narrow.get("team_id") or "").strip()
    if team and not team.isdigit():
        errors["team_id"] = [gettext("Select a valid choice.")]
        team = ""
    rows = figures.appraisals(filters, user)
    if team:
        rows = rows.filter(team_id=int(team))
    return rows.order_by("-period", "team__name", "person__username", "pk")


LISTS: dict[str, Callable[[Filters, Any, Mapping[str, str], dict], QuerySet]] = {
    CUSTOMERS: _customers,
    STAGE_CHANGES: _stage_changes,
    VISITS: _visits,
    SUMMARIES: _summaries,
    LEADS: _leads,
    SUPPORT: _support,
    INCENTIVES: _incentives,
    APPRAISALS: _appraisals,
}
# What each list shows of its rows: the names these need are joined here, apart from the rows
# counted (`drill_count`), whose count needs none of them.
SHAPES: dict[str, Callable[[QuerySet], QuerySet]] = {
    CUSTOMERS: lambda rows: rows.values(
        "pk",
        *CUSTOMER_FIELDS,
        "customer__industry",
        *names("customer__account_manager"),
        "programme__name",
        "stage",
        "status",
        "enrolled_at",
        "ended_at",
    ),
    STAGE_CHANGES: lambda rows: rows.values(
        "pk",
        *(f"enrolment__{name}" for name in CUSTOMER_FIELDS),
        "from_stage",
        "to_stage",
        "at",
        *names("actor"),
        "reason",
    ),
    VISITS: lambda rows: rows.values(
        "pk",
        *CUSTOMER_FIELDS,
        "number",
        "stage",
        "status",
        "planned_date",
        "visited_at",
        *names("account_manager"),
    ),
    SUMMARIES: lambda rows: rows.values(
        "pk",
        "visit_id",
        *(f"visit__{name}" for name in CUSTOMER_FIELDS),
        "visit__number",
        "status",
        "first_submitted_at",
        "on_time",
        "rework_count",
        *names("submitted_by"),
        *names("reviewed_by"),
    ),
    LEADS: lambda rows: rows.values(
        "pk",
        *CUSTOMER_FIELDS,
        "description",
        "product",
        "urgency",
        "stage",
        "status",
        "estimated_value",
        "won_value",
        "win_back",
        *names("owner"),
        "created_at",
        "closed_at",
    ),
    SUPPORT: lambda rows: rows.values(
        "pk",
        *CUSTOMER_FIELDS,
        "kind",
        "speciality",
        "status",
        "requested_at",
        "due_date",
        "completed_at",
        *names("assignee"),
        turnaround=F("completed_at") - F("requested_at"),
    ),
    INCENTIVES: lambda rows: rows.values(
        "pk",
        "person_id",
        *names("person"),
        "period",
        "event",
        "description",
        "points",
        "amount",
        "status",
        "paid_at",
        "payment_reference",
        "customer_id",
        "customer__name",
    ),
    APPRAISALS: lambda rows: rows.values(
        "pk",
        "person_id",
        *names("person"),
        "team__name",
        "role",
        "period",
        "status",
        "score",
        "final_score",
    ),
}
# The parts of a figure each list takes from the address, kept on its links and downloads.
NARROWING = ("stage", "week", "kind", "outcome", "urgency", "speciality", "status", "team_id")


def drill_rows(name: str, *, filters: Filters, user: Any, narrow: Mapping[str, str]) -> QuerySet:
    """The rows behind the figure `name`, narrowed to the part `narrow` names."""
    return SHAPES[name](_matching(name, filters=filters, user=user, narrow=narrow))


def drill_count(name: str, *, filters: Filters, user: Any, narrow: Mapping[str, str]) -> int:
    """How many rows `drill_rows` holds, counted without joining what names them (half the time of
    a quarter's made visits on SQLite)."""
    return _matching(name, filters=filters, user=user, narrow=narrow).count()


def _matching(name: str, *, filters: Filters, user: Any, narrow: Mapping[str, str]) -> QuerySet:
    figures.check_dashboard_read(user)
    errors: dict[str, list[str]] = {}
    rows = LISTS[name](filters, user, narrow, errors)
    if errors:
        raise InvalidInput(errors)
    return rows
