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
  of their lengths in days (each to the hundredth); None when no lead has left the stage yet.
- `stalled`: open leads in the stage since before `now` − `FUNNEL_STALLED_DAYS`; the funnel also
  lists the longest stalled of them (`Funnel.stalled`, at most `stalled_listed`) and counts them
  all (`Funnel.stalled_total`).

Amounts are Decimals; rates Decimal shares from 0 to 1. Stages are codes (`FunnelStage`); the labels
word them when shown. A constant number of queries whatever the number of leads: the access checks,
the stage settings, one grouped count, one histogram of stay lengths for the medians and one for the
stalled leads listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext

from onsite.access import READ, check_person_read, check_team_read, customer_scope, scoped
from onsite.exceptions import InvalidInput
from onsite.models import Customer, FunnelStage, FunnelStageSetting, Lead, LeadStageMove, Region
from onsite.models.funnel import CLOSED_STAGES, DEFAULT_PROBABILITIES, OPEN_STAGES
from onsite.thresholds import threshold

STAGES = tuple(FunnelStage.values)
Status = Lead.Status
HUNDRED = Decimal(100)
# The stalled leads listed with the figures, the longest stalled first; the counts are exact.
STALLED_LISTED = 20


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
    stalled_total: int
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
    stalled_listed: int = STALLED_LISTED,
) -> Funnel:
    """The funnel of the leads `user` may read, narrowed as asked, listing the `stalled_listed`
    longest stalled leads. Asking for a manager or a team the reader may not read is refused
    (`NotPermitted`); a period that is not one `InvalidInput`."""
    _check_period(start, end)
    if manager is not None:
        check_person_read(user, manager)
    if team is not None:
        check_team_read(user, team)
    now = now or timezone.now()
    stalled_days = threshold("FUNNEL_STALLED_DAYS", on=timezone.localdate(now))
    stalled_before = now - timedelta(days=stalled_days)
    narrowed = dict(manager=manager, team=team, region=region, start=start, end=end)
    leads = _leads(user, **narrowed)

    figures = stage_figures(
        leads, now=now, stalled_before=stalled_before, medians=_median_days(_stays(user, **narrowed))
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
        .values("pk", "customer_id", "owner_id", "stage", "stage_entered_at")[:stalled_listed]
    ]
    return Funnel(
        start=start,
        end=end,
        now=now,
        stalled_after_days=stalled_days,
        stages=figures,
        weighted_pipeline=sum((f.weighted for f in figures if f.stage in OPEN_STAGES), Decimal(0)),
        stalled_total=sum(f.stalled for f in figures),
        stalled=stalled,
    )


def stage_figures(
    leads: QuerySet, *, now: datetime, stalled_before: datetime | None = None, medians: dict | None = None
) -> list[StageFigures]:
    """The figures per stage of `leads` (any filtered set), from one grouped query and the stage
    settings; stalled as of `stalled_before` (the threshold in force on `now` unless given), without
    medians unless the stays' are given."""
    if stalled_before is None:
        stalled_before = now - timedelta(days=threshold("FUNNEL_STALLED_DAYS", on=timezone.localdate(now)))
    medians = medians or {}
    probabilities = win_probabilities()
    totals = _totals(leads, stalled_before)
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
    return figures


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


def _leads(user: Any, *, manager: Any, team: Any, region: Any, **period: Any) -> QuerySet:
    leads = _owned_by(Lead.objects.all(), manager=manager, team=team)
    if region is not None:
        leads = leads.filter(customer__region__in=Region.objects.within(region).values("pk"))
    return _in_scope(leads, user, created="created_at", **period)


def _stays(user: Any, *, manager: Any, team: Any, region: Any, **period: Any) -> QuerySet:
    """The finished stays of the same leads, filtered on the stage moves' own copies of the lead's
    customer and creation time. A manager's or a team's are found from their leads, a region's
    from its customers (subqueries the databases answer through the stays' indexes), not by
    scanning every stay and joining it."""
    stays = LeadStageMove.objects.filter(stay_days__isnull=False)
    if manager is not None or team is not None:
        stays = stays.filter(lead__in=_owned_by(Lead.objects.all(), manager=manager, team=team).values("pk"))
    if region is not None:
        customers = Customer.objects.filter(region__in=Region.objects.within(region).values("pk"))
        stays = stays.filter(customer__in=customers.values("pk"))
    return _in_scope(stays, user, created="lead_created_at", **period)


def _owned_by(leads: QuerySet, *, manager: Any, team: Any) -> QuerySet:
    if manager is not None:
        leads = leads.filter(owner=manager)
    if team is not None:
        leads = leads.filter(owner__staff_profile__team=team)
    return leads


def _in_scope(rows: QuerySet, user: Any, *, created: str, start: date | None, end: date | None) -> QuerySet:
    """`rows` (leads or stays) of the customers `user` may read, of leads created in [start, end)."""
    rows = scoped(rows, customer_scope(user, to=READ, through="customer"))
    if start is not None:
        rows = rows.filter(**{f"{created}__gte": _day_start(start)})
    if end is not None:
        rows = rows.filter(**{f"{created}__lt": _day_start(end)})
    return rows.order_by()


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _stalled(before: datetime) -> Q:
    return Q(status__in=Lead.OPEN_STATUSES, stage_entered_at__lt=before)


def stalled_leads(now: datetime, *, stalled_days: int | None = None) -> Q:
    """The filter on leads of those stalled as of `now`: open and in their stage since before
    `now` − `FUNNEL_STALLED_DAYS` in force that day, unless the caller read it already
    (`stalled_days`; the early warnings read the funnel's rule from here)."""
    if stalled_days is None:
        stalled_days = threshold("FUNNEL_STALLED_DAYS", on=timezone.localdate(now))
    return _stalled(now - timedelta(days=stalled_days))


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


def _median_days(stays: QuerySet) -> dict[str, Decimal]:
    """Per stage, the median length in days of the stays that ended with a move on.

    Read as a histogram — how many stays of each length, to the hundredth of a day — in order of
    length from the stays' covering index, so neither database sorts or ranks the stays themselves
    (SQLite has no `percentile_cont`) and the rows read grow with the distinct lengths, not with the
    leads. The median is then the middle length, or the mean of the middle two."""
    histogram: dict[str, list[tuple[Decimal, int]]] = {}
    rows = (
        stays.values_list("to_stage", "stay_days").annotate(n=Count("pk")).order_by("to_stage", "stay_days")
    )
    for stage, days, n in rows:
        histogram.setdefault(stage, []).append((days, n))
    return {stage: _median(lengths) for stage, lengths in histogram.items()}


def _median(lengths: list[tuple[Decimal, int]]) -> Decimal:
    """The median of a histogram, (length, how many) in ascending order of length."""
    total = sum(n for _, n in lengths)
    middle = {(total - 1) // 2, total // 2}  # the positions of the middle one or two, from 0
    picked: list[Decimal] = []
    seen = 0
    for days, n in lengths:
        picked += [days for position in middle if seen <= position < seen + n]
        seen += n
    return (sum(picked) / len(picked)).quantize(Decimal("0.01"))


def stage_label(stage: str) -> str:
    """The stage's name in the reader's language."""
    return str(FunnelStage(stage).label)
