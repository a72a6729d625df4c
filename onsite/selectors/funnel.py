"""The sales funnel (销售漏斗, seed 003) read as figures: for the leads of a manager, a team, a region
and a period, per stage — how many are there and what they are worth, the weighted pipeline (value ×
the stage's win probability), how many went on to the next stage, the median days a lead spends in
the stage before moving on, and the leads stalled in it.

Which leads: those the reader may read (`onsite.access.customer_scope`), created in [start, end)
when a period is given, narrowed to a manager (the owner), a team (its members' leads) and a region
(its customers, a branch with its counties). Figures are as of `now`.

- `count` and `value` per stage: the leads at the stage and not lost; their value is the expected
  value (`estimated_value`) at the open stages and the value won at 成交 and 销售后. `lost`: the
  leads lost at that stage (a lost lead keeps the stage it reached).
- `weighted`: value × the stage's win probability (`FunnelStageSetting`, percent); the weighted
  pipeline is that sum over the open stages (the leads still being pursued).
- `reached`: the leads that got at least this far (at the stage or a later one, lost ones
  included); a lead moves forward only, so this is how many passed through (or skipped) the stage.
  `conversion` is reached(next) / reached(this): None for the last stage or when none reached it.
- `median_days`: over the stays that ended with a move on (`LeadStageMove.left_at`), the median
  of their lengths in days; None when no lead has left the stage yet.
- `stalled`: open leads in the stage since before `now` − `FUNNEL_STALLED_DAYS`.

Amounts are Decimals; rates Decimal shares from 0 to 1. Stages are codes (`FunnelStage`); the labels
word them when shown. A constant number of queries whatever the number of leads: the access checks,
the stage settings, one grouped count, one for the medians and one for the stalled leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, FloatField, Func, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext

from onsite.access import READ, check_person_read, check_team_read, customer_scope, scoped
from onsite.exceptions import InvalidInput
from onsite.models import FunnelStage, FunnelStageSetting, Lead, LeadStageMove, Region
from onsite.models.funnel import CLOSED_STAGES, DEFAULT_PROBABILITIES, OPEN_STAGES
from onsite.thresholds import threshold

STAGES = tuple(FunnelStage.values)
Status = Lead.Status
HUNDRED = Decimal(100)
SECONDS_A_DAY = Decimal(24 * 60 * 60)


@dataclass(frozen=True)
class StageFigures:
    stage: str
    count: int
    value: Decimal
    win_probability: int
    weighted: Decimal
    lost: int
    reached: int
    conversion: Decimal | None
    median_days: Decimal | None
    stalled: int


@dataclass(frozen=True)
class StalledLead:
    lead_id: int
    customer_id: int
    owner_id: int
    stage: str
    since: datetime
    days: int


@dataclass(frozen=True)
class Funnel:
    start: date | None
    end: date | None
    now: datetime
    stalled_after_days: int
    stages: list[StageFigures]
    weighted_pipeline: Decimal
    stalled: list[StalledLead]

    def stage(self, code: str) -> StageFigures:
        return next(figures for figures in self.stages if figures.stage == code)


def sales_funnel(
    *,
    user: Any,
    manager: Any = None,
    team: Any = None,
    region: Region | None = None,
    start: date | None = None,
    end: date | None = None,
    now: datetime | None = None,
) -> Funnel:
    """The funnel of the leads `user` may read, narrowed as asked. Asking for a manager or a team
    the reader may not read is refused (`NotPermitted`); a period that is not one `InvalidInput`."""
    _check_period(start, end)
    if manager is not None:
        check_person_read(user, manager)
    if team is not None:
        check_team_read(user, team)
    now = now or timezone.now()
    stalled_days = threshold("FUNNEL_STALLED_DAYS")
    stalled_before = now - timedelta(days=stalled_days)
    leads = _leads(user, manager=manager, team=team, region=region, start=start, end=end)

    probabilities = win_probabilities()
    totals = _totals(leads, stalled_before)
    medians = _median_days(leads)

    figures = []
    for rank, stage in enumerate(STAGES):
        value = totals[f"{stage}__value"] or Decimal(0)
        reached = totals[f"{stage}__reached"]
        following = totals[f"{STAGES[rank + 1]}__reached"] if rank + 1 < len(STAGES) else None
        figures.append(
            StageFigures(
                stage=stage,
                count=totals[f"{stage}__count"],
                value=value,
                win_probability=probabilities[stage],
                weighted=value * probabilities[stage] / HUNDRED,
                lost=totals[f"{stage}__lost"],
                reached=reached,
                conversion=None if following is None or not reached else Decimal(following) / reached,
                median_days=medians.get(stage),
                stalled=totals[f"{stage}__stalled"],
            )
        )
    stalled = [
        StalledLead(
            lead_id=row["pk"],
            customer_id=row["customer_id"],
            owner_id=row["owner_id"],
            stage=row["stage"],
            since=row["stage_entered_at"],
            days=(now - row["stage_entered_at"]).days,
        )
        for row in leads.filter(_stalled(stalled_before))
        .order_by("stage_entered_at", "pk")
        .values("pk", "customer_id", "owner_id", "stage", "stage_entered_at")
    ]
    return Funnel(
        start=start,
        end=end,
        now=now,
        stalled_after_days=stalled_days,
        stages=figures,
        weighted_pipeline=sum((f.weighted for f in figures if f.stage in OPEN_STAGES), Decimal(0)),
        stalled=stalled,
    )


def _check_period(start: Any, end: Any) -> None:
    errors: dict[str, list[str]] = {}
    for name, day in (("start", start), ("end", end)):
        if day is not None and (not isinstance(day, date) or isinstance(day, datetime)):
            errors[name] = [gettext("Enter a date.")]
    if not errors and start is not None and end is not None and end <= start:
        message = gettext("The period must end after it starts (%(start)s to %(end)s).") % {
            "start": start.isoformat(),
            "end": end.isoformat(),
        }
        errors = {"start": [message], "end": [message]}
    if errors:
        raise InvalidInput(errors)


def _leads(
    user: Any, *, manager: Any, team: Any, region: Any, start: date | None, end: date | None
) -> QuerySet:
    leads = scoped(Lead.objects.all(), customer_scope(user, to=READ, through="customer"))
    if manager is not None:
        leads = leads.filter(owner=manager)
    if team is not None:
        leads = leads.filter(owner__staff_profile__team=team)
    if region is not None:
        leads = leads.filter(customer__region__in=Region.objects.within(region).values("pk"))
    if start is not None:
        leads = leads.filter(created_at__gte=_day_start(start))
    if end is not None:
        leads = leads.filter(created_at__lt=_day_start(end))
    return leads.order_by()


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _stalled(before: datetime) -> Q:
    return Q(status__in=Lead.OPEN_STATUSES, stage_entered_at__lt=before)


def stalled_leads(now: datetime) -> Q:
    """The filter on leads of those stalled as of `now`: open and in their stage since before
    `now` − `FUNNEL_STALLED_DAYS` (the early warnings read the funnel's rule from here)."""
    return _stalled(now - timedelta(days=threshold("FUNNEL_STALLED_DAYS")))


def win_probabilities() -> dict[str, int]:
    """Each stage's win probability (percent): the coordinator's setting, else the default. One query."""
    probabilities = dict(DEFAULT_PROBABILITIES)
    probabilities.update(FunnelStageSetting.objects.values_list("stage", "win_probability"))
    return probabilities


def _totals(leads: QuerySet, stalled_before: datetime) -> dict:
    """Five figures per stage from one grouped query: the leads counted, summed and the stalled
    ones counted per stage and status (at most 8 × 4 rows), added up here. Cheaper to build and to
    run than forty filtered aggregates over every lead."""
    rows = (
        leads.values("stage", "status")
        .annotate(
            n=Count("pk"),
            expected=Sum("estimated_value"),
            won=Sum("won_value"),
            stalled=Count("pk", filter=_stalled(stalled_before)),
        )
        .order_by()
    )
    totals: dict[str, Any] = {}
    for stage in STAGES:
        for figure in ("count", "lost", "reached", "stalled"):
            totals[f"{stage}__{figure}"] = 0
        totals[f"{stage}__value"] = None
    for row in rows:
        stage, n = row["stage"], row["n"]
        if row["status"] == Status.LOST:
            totals[f"{stage}__lost"] += n
        else:
            totals[f"{stage}__count"] += n
            value = row["won"] if stage in CLOSED_STAGES else row["expected"]
            if value is not None:
                totals[f"{stage}__value"] = (totals[f"{stage}__value"] or Decimal(0)) + value
        totals[f"{stage}__stalled"] += row["stalled"]
        for earlier in STAGES[: STAGES.index(stage) + 1]:
            totals[f"{earlier}__reached"] += n
    return totals


def _median_days(leads: QuerySet) -> dict[str, Decimal]:
    """Per stage, the median length of the stays that ended with a move on, in days.

    Computed in the database the same way on SQLite and PostgreSQL (neither `percentile_cont`, which
    SQLite lacks, nor every stay loaded into Python): the stays of each stage are numbered in order
    of length, and only the one or two in the middle are read — at most two rows per stage."""
    length = StaySeconds("left_at", "at")
    stays = (
        # No ordering: the model's (by lead) would join the leads and sort every stay once more.
        LeadStageMove.objects.filter(lead__in=leads.values("pk"), left_at__isnull=False)
        .order_by()
        .annotate(
            length=length,
            position=Window(RowNumber(), partition_by=F("to_stage"), order_by=[length.asc(), F("pk").asc()]),
            stays=Window(Count("pk"), partition_by=F("to_stage")),
        )
        .annotate(low=(F("stays") + 1) / 2, high=(F("stays") + 2) / 2)
        .filter(position__gte=F("low"), position__lte=F("high"))
        .values_list("to_stage", "length")
    )
    middle: dict[str, list[Decimal]] = {}
    for stage, stay in stays:
        middle.setdefault(stage, []).append(Decimal(stay))
    medians = {}
    for stage, lengths in middle.items():
        mean = sum(lengths) / len(lengths)
        medians[stage] = (mean / SECONDS_A_DAY).quantize(Decimal("0.01"))
    return medians


class StaySeconds(Func):
    """`left_at` − `at` in seconds, computed by the database itself: Django's own datetime
    subtraction on SQLite calls back into Python for every row (two calls a stay here)."""

    arg_joiner = " - "
    template = "EXTRACT(EPOCH FROM (%(expressions)s))::double precision"
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra_context):
        # julianday() is exact to about 0.05 ms here; rounded to the millisecond.
        return super().as_sql(
            compiler,
            connection,
            template="ROUND((julianday(%(expressions)s)) * 86400.0, 3)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def stage_label(stage: str) -> str:
    """The stage's name in the reader's language."""
    return str(FunnelStage(stage).label)
