"""Short-board comparison (短板对比, seed 004): each account manager of a team against the team
median over a period, with the indicators where a manager falls clearly behind flagged.

Counts are ints; rates are Decimal shares from 0 to 1, or None when there is nothing to divide by
(no visit planned, no summary submitted). Decimals keep "exactly 20% worse" exactly 20% worse.
Indicators are codes; `INDICATOR_LABELS` words them when the board is shown.

Read by whoever may read the team (`onsite.access.team_scope`): the rows are the managers the reader
may read (a manager sees their own row, their leader the whole team), against the whole team's
medians.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from onsite.access import EVERYTHING, check_team_read, people_scope, scoped
from onsite.exceptions import InvalidInput
from onsite.models import Lead, Team, Visit, VisitSummary
from onsite.roles import ACCOUNT_MANAGER
from onsite.thresholds import threshold

INDICATORS = (
    "visits_planned",
    "visits_done",
    "visit_completion_rate",
    "summary_on_time_rate",
    "rework_rate",
    "leads_created",
    "leads_won",
    "win_backs",
)

INDICATOR_LABELS = {
    "visits_planned": _("visits planned"),
    "visits_done": _("visits made"),
    "visit_completion_rate": _("visit completion rate"),
    "summary_on_time_rate": _("summary on-time rate"),
    "rework_rate": _("rework rate"),
    "leads_created": _("leads created"),
    "leads_won": _("leads won"),
    "win_backs": _("customers won back"),
}

# Every other indicator is better the higher it is.
LOWER_IS_BETTER = frozenset({"rework_rate"})

Value = int | Decimal | None


@dataclass
class ManagerRow:
    manager: Any
    values: dict[str, Value]
    flags: set[str] = field(default_factory=set)
    weakest: str | None = None


@dataclass
class ShortBoard:
    team: Team
    start: date
    end: date
    indicators: list[str]
    rows: list[ManagerRow]
    medians: dict[str, Decimal | None]


def short_board(*, team: Team, start: date, end: date, user: Any) -> ShortBoard:
    """Compare the team's account managers over [start, end), in four queries whatever the team
    size (and those that tell what `user` may read). A period that is not one, or a team `user` may
    not read, is refused (`InvalidInput`, `NotPermitted`)."""
    _check_period(team, start, end)
    check_team_read(user, team)
    team_managers = (
        get_user_model()
        .objects.filter(staff_profile__team=team, groups__name=ACCOUNT_MANAGER, is_active=True)
        .order_by("last_name", "first_name", "username")
    )
    managers = list(team_managers)
    scope = people_scope(user)
    readable = None if scope is EVERYTHING else set(scoped(team_managers, scope).values_list("pk", flat=True))
    counts = indicator_counts(manager_ids=[m.pk for m in managers], start=start, end=end)
    everyone = [ManagerRow(manager=m, values=_values(counts.get(m.pk, {}))) for m in managers]
    # The medians are the whole team's, whoever reads: the reader's row is compared with the team.
    medians = {key: _median([row.values[key] for row in everyone]) for key in INDICATORS}
    rows = everyone if readable is None else [row for row in everyone if row.manager.pk in readable]
    # The margin in force on the period's first day: a period is compared by the rules it began with.
    margin = Decimal(threshold("SHORT_BOARD_MARGIN_PERCENT", on=start))
    for row in rows:
        gaps = {}
        for key in INDICATORS:
            gap = _relative_gap(key, row.values[key], medians[key], margin)
            if gap is not None:
                gaps[key] = gap
        row.flags = set(gaps)
        # max() keeps the first of equal gaps, so ties go to the earlier indicator in INDICATORS.
        row.weakest = max(gaps, key=gaps.__getitem__) if gaps else None
    return ShortBoard(
        team=team, start=start, end=end, indicators=list(INDICATORS), rows=rows, medians=medians
    )


def _check_period(team: Any, start: Any, end: Any) -> None:
    errors: dict[str, list[str]] = {}
    if not isinstance(team, Team) or team.pk is None:
        errors["team"] = [gettext("Choose a team.")]
    for name, day in (("start", start), ("end", end)):
        # A datetime is a date too, but cannot be compared with one: whole days only.
        if not isinstance(day, date) or isinstance(day, datetime):
            errors[name] = [gettext("Enter a date.")]
    if not errors and end <= start:
        message = gettext("The period must end after it starts (%(start)s to %(end)s).") % {
            "start": start.isoformat(),
            "end": end.isoformat(),
        }
        errors = {"start": [message], "end": [message]}
    if errors:
        raise InvalidInput(errors)


def indicator_counts(*, manager_ids: list[int], start: date, end: date) -> dict[int, dict[str, int]]:
    """Per manager id, the raw counts the indicators are made of: one grouped query per table
    (visits, summaries, leads). The appraisal's indicators are measured from the same counts."""
    since, until = _day_start(start), _day_start(end)
    counts: dict[int, dict[str, int]] = {pk: {} for pk in manager_ids}
    if not manager_ids:
        return counts

    planned = Q(planned_date__gte=start, planned_date__lt=end) & ~Q(status=Visit.Status.CANCELLED)
    done = Q(visited_at__gte=since, visited_at__lt=until)
    visits = (
        Visit.objects.filter(planned | done, account_manager_id__in=manager_ids)
        .values("account_manager_id")
        .annotate(visits_planned=Count("pk", filter=planned), visits_done=Count("pk", filter=done))
        .order_by()
    )
    summaries = (
        VisitSummary.objects.filter(
            visit__account_manager_id__in=manager_ids,
            first_submitted_at__gte=since,
            first_submitted_at__lt=until,
        )
        .values("visit__account_manager_id")
        .annotate(
            summaries=Count("pk"),
            summaries_on_time=Count("pk", filter=Q(on_time=True)),
            summaries_reworked=Count("pk", filter=Q(rework_count__gt=0)),
        )
        .order_by()
    )
    created = Q(created_at__gte=since, created_at__lt=until)
    won = Q(status=Lead.Status.WON, closed_at__gte=since, closed_at__lt=until)
    leads = (
        Lead.objects.filter(created | won, owner_id__in=manager_ids)
        .values("owner_id")
        .annotate(
            leads_created=Count("pk", filter=created),
            leads_won=Count("pk", filter=won),
            win_backs=Count("pk", filter=won & Q(win_back=True)),
        )
        .order_by()
    )
    for rows, key in (
        (visits, "account_manager_id"),
        (summaries, "visit__account_manager_id"),
        (leads, "owner_id"),
    ):
        for row in rows:
            counts[row.pop(key)].update(row)
    return counts


def _values(counts: dict[str, int]) -> dict[str, Value]:
    planned, summaries = counts.get("visits_planned", 0), counts.get("summaries", 0)
    return {
        "visits_planned": planned,
        "visits_done": counts.get("visits_done", 0),
        "visit_completion_rate": _rate(counts.get("visits_done", 0), planned),
        "summary_on_time_rate": _rate(counts.get("summaries_on_time", 0), summaries),
        "rework_rate": _rate(counts.get("summaries_reworked", 0), summaries),
        "leads_created": counts.get("leads_created", 0),
        "leads_won": counts.get("leads_won", 0),
        "win_backs": counts.get("win_backs", 0),
    }


def _rate(part: int, whole: int) -> Decimal | None:
    return Decimal(part) / Decimal(whole) if whole else None


def _median(values: list[Value]) -> Decimal | None:
    # As Decimals, so the median of 1 and 2 visits is 1.5 exactly, not a float.
    present = [Decimal(v) for v in values if v is not None]
    return statistics.median(present) if present else None


def _relative_gap(key: str, value: Value, median: Decimal | None, margin: Decimal) -> Decimal | None:
    """How far `value` is worse than the median, relative to it, when that is at least `margin`
    percent; None when it is not (or either is missing)."""
    if value is None or median is None:
        return None
    gap = value - median if key in LOWER_IS_BETTER else median - value
    if gap <= 0:
        return None
    if median == 0:
        # Only a lower-is-better rate gets here: any rework against a team median of none stands out.
        return Decimal("Infinity")
    if gap * 100 < median * margin:
        return None
    return gap / median


def _day_start(day: date) -> datetime:
    # Periods are whole local days: a visit at 23:30 on the last day belongs to that day.
    return timezone.make_aware(datetime.combine(day, time.min))
