"""Leadership's dashboard as figures: where the group customers are in the programme and whether it
is working, over a period and for a part of the business.

Who reads it (`check_dashboard_read`): leadership (read only, like every page of theirs) and
coordinators, every team; a team leader, the teams they lead (asked for another: refused as
`NotPermitted`, which the pages answer with 404); nobody else.

What the filters narrow (`Filters`, read from a page's address by `filters_from`):
- figures about customers (their stage, stage changes, visits, summaries, leads, win-backs, support
  requests) follow the customer: in the region (a branch with its counties), of the industry and
  tier, looked after by the account manager, whose team is the team;
- figures about people (appraisal scores, incentive records) follow the person: the manager is the
  person, the team theirs, the region their team's; industry and tier do not narrow them.

The period is whole days, `start` to `end` inclusive, in local time; counts over the period are by
the day each event happened (a stage change made, a visit planned for or made, a summary first
submitted, a lead created or won, a support request raised); appraisal and incentive figures by the
months they belong to. Where customers stand in the programme is as of now.

Answered in a constant number of queries whatever the data: each figure is one grouped aggregate in
the database (`dashboard`); the lists behind them are `onsite.selectors.dashboard_lists`. Amounts
are Decimals, rates Decimal shares from 0 to 1 (None when there is nothing to divide by), stages,
statuses and specialities codes; the page words them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    Expression,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext

from onsite.access import customer_scope, desk_teams, has_role, people_scope, scoped
from onsite.amounts import to_cents
from onsite.exceptions import InvalidInput, NotPermitted
from onsite.models import (
    Appraisal,
    Customer,
    Enrolment,
    IncentiveRecord,
    Industry,
    Lead,
    Region,
    Speciality,
    Stage,
    StageChange,
    SupportRequest,
    Team,
    Tier,
    Urgency,
    Visit,
    VisitSummary,
    WinBackTarget,
)
from onsite.models.funnel import OPEN_STAGES
from onsite.roles import COORDINATOR, LEADERSHIP, TEAM_LEADER
from onsite.selectors.funnel import StageFigures, stage_figures

ENDED = "ended"
# Where a customer stands, in the programme's order: its three stages, then out of it.
PROGRAMME_STAGES = (*Stage.values, ENDED)
# The longest period asked for in one view: a weekly chart of two years is already 105 bars.
LONGEST_PERIOD_DAYS = 731
DEFAULT_PERIOD_WEEKS = 12
# The incentive records' statuses, with the approved ones paid out counted apart.
PAID = "paid"
INCENTIVE_STATUSES = (*IncentiveRecord.Status.values, PAID)
# The filters a page's address (and a stored report) may name.
FILTER_NAMES = ("start", "end", "region", "industry", "tier", "team", "manager")
DONE_VISITS = (Visit.Status.VISITED, Visit.Status.SUMMARISED, Visit.Status.CLOSED)


def may_read_dashboard(user: Any) -> bool:
    return has_role(user, LEADERSHIP, COORDINATOR, TEAM_LEADER)


def check_dashboard_read(user: Any) -> None:
    if not may_read_dashboard(user):
        raise NotPermitted()


def sees_every_team(user: Any) -> bool:
    return has_role(user, LEADERSHIP, COORDINATOR)


# --- the filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # the last day, included
    region: Region | None = None
    industry: str = ""
    tier: str = ""
    team: Team | None = None
    manager: Any = None

    @property
    def since(self) -> datetime:
        return day_start(self.start)

    @property
    def until(self) -> datetime:
        return day_start(self.end + timedelta(days=1))

    def as_query(self) -> dict[str, str]:
        """The filters as a page's address carries them and a stored report keeps them (what
        `filters_from` reads back)."""
        query = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        for name, value in (
            ("region", self.region and self.region.pk),
            ("industry", self.industry),
            ("tier", self.tier),
            ("team", self.team and self.team.pk),
            ("manager", self.manager and self.manager.pk),
        ):
            if value:
                query[name] = str(value)
        return query


@dataclass(frozen=True)
class Choices:
    """What each filter may be set to, for this reader."""

    regions: list[Region]
    industries: list[tuple[str, str]]
    tiers: list[tuple[str, str]]
    teams: list[Team]
    managers: list[Any]
    team_required: bool


def default_period(today: date) -> tuple[date, date]:
    """The twelve whole weeks up to today, from a Monday."""
    start = today - timedelta(days=today.weekday()) - timedelta(weeks=DEFAULT_PERIOD_WEEKS - 1)
    return start, today


def filter_choices(user: Any) -> Choices:
    check_dashboard_read(user)
    teams = list(_teams_for(user).select_related("region").order_by("name"))
    User = get_user_model()
    managers = scoped(User.objects.filter(is_active=True), people_scope(user)).filter(
        staff_profile__team__in=[team.pk for team in teams]
    )
    return Choices(
        regions=list(Region.objects.order_by("code")),
        industries=list(Industry.choices),
        tiers=list(Tier.choices),
        teams=teams,
        managers=list(managers.order_by("username")),
        team_required=not sees_every_team(user),
    )


def filters_from(params: Mapping[str, str], *, user: Any, today: date | None = None) -> Filters:
    """The filters a page's address asks for, checked: an unknown region, team or manager, or a
    period that is not one, is `InvalidInput` naming the field; a team or manager the reader may not
    read is `NotPermitted`. A team leader who names no team gets the (first) team they lead."""
    check_dashboard_read(user)
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    start, end = default_period(today)
    start = _date(params, "start", errors) or start
    end = _date(params, "end", errors) or end
    if not errors and end < start:
        errors["end"] = [gettext("The period must not end before it starts.")]
    elif not errors and (end - start).days >= LONGEST_PERIOD_DAYS:
        errors["end"] = [gettext("A period of at most two years, please.")]
    industry = _code(params, "industry", Industry.values, errors)
    tier = _code(params, "tier", Tier.values, errors)
    region = _row(params, "region", Region.objects.all(), errors)
    team = _row(params, "team", Team.objects.all(), errors)
    manager = _row(params, "manager", get_user_model().objects.all(), errors)
    if errors:
        raise InvalidInput(errors)
    teams = _teams_for(user)
    if team is not None and not teams.filter(pk=team.pk).exists():
        raise NotPermitted(gettext("You may not read the figures of team %(team)s.") % {"team": team})
    if team is None and not sees_every_team(user):
        team = teams.order_by("name").first()
        if team is None:
            raise NotPermitted()
    if (
        manager is not None
        and not scoped(get_user_model().objects.filter(pk=manager.pk), people_scope(user)).exists()
    ):
        raise NotPermitted(gettext("You may not read the figures of %(person)s.") % {"person": manager})
    return Filters(
        start=start, end=end, region=region, industry=industry, tier=tier, team=team, manager=manager
    )


def _teams_for(user: Any) -> QuerySet:
    return Team.objects.all() if sees_every_team(user) else desk_teams(user)


def _date(params: Mapping[str, str], name: str, errors: dict) -> date | None:
    text = (params.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = [gettext("Enter a date.")]
        return None


def _code(params: Mapping[str, str], name: str, known: list[str], errors: dict) -> str:
    value = (params.get(name) or "").strip()
    if value and value not in known:
        errors[name] = [gettext("Select a valid choice.")]
        return ""
    return value


def _row(params: Mapping[str, str], name: str, rows: QuerySet, errors: dict) -> Any:
    text = (params.get(name) or "").strip()
    if not text:
        return None
    found = rows.filter(pk=text).first() if text.isdigit() else None
    if found is None:
        errors[name] = [gettext("Select a valid choice.")]
    return found


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- what the filters select ---------------------------------------------------------------------


def customer_filter(filters: Filters, user: Any, *, through: str = "") -> Q:
    """The filter selecting the rows about the customers `filters` and `user`'s access select, the
    customer reached by the lookup path `through` ("" on customers)."""
    path = f"{through}__" if through else ""
    q = Q()
    if filters.region is not None:
        q &= Q(**{f"{path}region__in": Region.objects.within(filters.region).values("pk")})
    if filters.industry:
        q &= Q(**{f"{path}industry": filters.industry})
    if filters.tier:
        q &= Q(**{f"{path}tier": filters.tier})
    if filters.manager is not None:
        q &= Q(**{f"{path}account_manager": filters.manager})
    if filters.team is not None:
        q &= Q(**{f"{path}account_manager__staff_profile__team": filters.team})
    scope = customer_scope(user, through=through)
    return q if scope is None else q & scope


def people_filter(filters: Filters, user: Any, *, person: str, team: str) -> Q:
    """The filter selecting the rows about the people `filters` and `user`'s access select: the
    person reached by the lookup path `person`, in the team reached by `team`."""
    q = Q()
    if filters.manager is not None:
        q &= Q(**{person: filters.manager})
    if filters.team is not None:
        q &= Q(**{team: filters.team})
    if filters.region is not None:
        q &= Q(**{f"{team}__region__in": Region.objects.within(filters.region).values("pk")})
    scope = people_scope(user, through=person)
    return q if scope is None else q & scope


def enrolments(filters: Filters, user: Any) -> QuerySet:
    return Enrolment.objects.filter(customer_filter(filters, user, through="customer"))


def stage_changes(filters: Filters, user: Any) -> QuerySet:
    return StageChange.objects.filter(
        customer_filter(filters, user, through="enrolment__customer"),
        at__gte=filters.since,
        at__lt=filters.until,
    )


def visits(filters: Filters, user: Any) -> QuerySet:
    return Visit.objects.filter(customer_filter(filters, user, through="customer"))


def planned_visits(filters: Filters, user: Any) -> QuerySet:
    return (
        visits(filters, user)
        .filter(planned_date__gte=filters.start, planned_date__lte=filters.end)
        .exclude(status=Visit.Status.CANCELLED)
    )


def done_visits(filters: Filters, user: Any) -> QuerySet:
    return visits(filters, user).filter(
        status__in=DONE_VISITS, visited_at__gte=filters.since, visited_at__lt=filters.until
    )


def summaries(filters: Filters, user: Any) -> QuerySet:
    rows = VisitSummary.objects.filter(
        first_submitted_at__gte=filters.since, first_submitted_at__lt=filters.until
    )
    about = customer_filter(filters, user)
    # The customers as a subquery, their visits read from the visits' customer index, rather than
    # each summary joined to its visit's customer (100 ms for a branch's twelve weeks on SQLite,
    # against 15).
    return rows.filter(visit__customer__in=Customer.objects.filter(about).values("pk")) if about else rows


def leads(filters: Filters, user: Any) -> QuerySet:
    """The leads created in the period (the funnel's and the urgency's)."""
    return Lead.objects.filter(
        customer_filter(filters, user, through="customer"),
        created_at__gte=filters.since,
        created_at__lt=filters.until,
    )


def won_leads(filters: Filters, user: Any) -> QuerySet:
    """The leads won in the period, whenever created."""
    return Lead.objects.filter(
        customer_filter(filters, user, through="customer"),
        status=Lead.Status.WON,
        closed_at__gte=filters.since,
        closed_at__lt=filters.until,
    )


def win_back_targets(filters: Filters, user: Any) -> QuerySet:
    return WinBackTarget.objects.filter(
        customer_filter(filters, user, through="customer"),
        created_at__gte=filters.since,
        created_at__lt=filters.until,
    )


def support_requests(filters: Filters, user: Any) -> QuerySet:
    return SupportRequest.objects.filter(
        customer_filter(filters, user, through="customer"),
        requested_at__gte=filters.since,
        requested_at__lt=filters.until,
    ).exclude(status=SupportRequest.Status.CANCELLED)


def appraisals(filters: Filters, user: Any) -> QuerySet:
    return Appraisal.objects.filter(
        people_filter(filters, user, person="person", team="team"),
        period__gte=filters.start.replace(day=1),
        period__lte=filters.end,
    )


def incentive_records(filters: Filters, user: Any) -> QuerySet:
    return IncentiveRecord.objects.filter(
        people_filter(filters, user, person="person", team="person__staff_profile__team"),
        period__gte=filters.start.replace(day=1),
        period__lte=filters.end,
    )


def support_on_time() -> Q:
    """Completed by the end of the day it was needed by (local time), as the appraisal counts it."""
    return Q(completed_on__lte=F("due_date"))


# --- the figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekCount:
    week: date  # its Monday
    counts: dict[str, int]


@dataclass(frozen=True)
class Summaries:
    total: int
    on_time: int
    late: int
    reworked: int
    rework_rate: Decimal | None
    on_time_rate: Decimal | None


@dataclass(frozen=True)
class UrgencyFigures:
    urgency: str
    count: int
    open: int
    value: Decimal


@dataclass(frozen=True)
class Won:
    count: int
    value: Decimal
    win_backs: int
    win_back_value: Decimal
    targets: dict[str, int]  # win-back targets raised in the period, by status


@dataclass(frozen=True)
class TeamScore:
    team_id: int
    team: str
    appraisals: int
    final: int
    average: Decimal | None


@dataclass(frozen=True)
class SupportFigures:
    speciality: str
    requested: int
    completed: int
    on_time: int
    average_days: Decimal | None


@dataclass(frozen=True)
class IncentiveFigures:
    status: str
    count: int
    points: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Dashboard:
    filters: Filters
    now: datetime
    stages: dict[str, int]  # customers per programme stage (`PROGRAMME_STAGES`), as of now
    weeks: list[date]
    transitions: list[WeekCount]  # stage changes per week, by the stage entered
    visits: list[WeekCount]  # "planned" and "done" per week
    summaries: Summaries
    funnel: list[StageFigures]
    weighted_pipeline: Decimal
    urgency: list[UrgencyFigures]
    won: Won
    appraisal: list[TeamScore]
    support: list[SupportFigures]
    incentives: list[IncentiveFigures]
    totals: dict[str, Any] = field(default_factory=dict)


def dashboard(*, filters: Filters, user: Any, now: datetime | None = None) -> Dashboard:
    """Every figure of the dashboard for `filters`, one grouped query each."""
    check_dashboard_read(user)
    now = now or timezone.now()
    weeks = weeks_of(filters.start, filters.end)
    funnel_stages = stage_figures(leads(filters, user), now=now)
    won = _won(filters, user)
    visit_weeks = _visit_weeks(filters, user, weeks)
    stages = _stages(filters, user)
    return Dashboard(
        filters=filters,
        now=now,
        stages=stages,
        weeks=weeks,
        transitions=_transitions(filters, user, weeks),
        visits=visit_weeks,
        summaries=_summaries(filters, user),
        funnel=funnel_stages,
        weighted_pipeline=sum((f.weighted for f in funnel_stages if f.stage in OPEN_STAGES), Decimal(0)),
        urgency=_urgency(filters, user),
        won=won,
        appraisal=_appraisal(filters, user),
        support=_support(filters, user, now),
        incentives=_incentives(filters, user),
        totals={
            "customers": sum(n for stage, n in stages.items() if stage != ENDED),
            "planned": sum(week.counts["planned"] for week in visit_weeks),
            "done": sum(week.counts["done"] for week in visit_weeks),
            "leads": sum(f.reached for f in funnel_stages[:1]),
            "won_value": won.value,
        },
    )


def weeks_of(start: date, end: date) -> list[date]:
    """The Mondays of the weeks the period touches."""
    monday = start - timedelta(days=start.weekday())
    return [monday + timedelta(weeks=n) for n in range((end - monday).days // 7 + 1)]


def _stages(filters: Filters, user: Any) -> dict[str, int]:
    """Customers per stage: those with an active enrolment, by its stage, and those whose every
    enrolment has ended; a customer in two programmes at different stages is counted at each."""
    rows = (
        enrolments(filters, user)
        .values("status", "stage")
        .annotate(n=Count("customer", distinct=True))
        .order_by()
    )
    counts = dict.fromkeys(PROGRAMME_STAGES, 0)
    for row in rows:
        if row["status"] == Enrolment.Status.ACTIVE:
            counts[row["stage"]] += row["n"]
        else:
            counts[ENDED] += row["n"]
    return counts


class LocalDate(TruncDate):
    """The local date of a datetime, as `TruncDate`; on SQLite, for the values `between` two moments
    over which the local time zone keeps one UTC offset, SQLite's own `date()` shifted by that offset
    (Django's truncation calls back into Python for each row: 120 ms for a year's support requests,
    against 11). Values outside, or any when the offset changes in between, are truncated by Django's
    function as before."""

    def __init__(self, expression: str, *, between: tuple[datetime, datetime]) -> None:
        super().__init__(expression)
        self.between = between

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, tuple]:
        sql, params = self.as_sql(compiler, connection, **extra_context)
        offset = fixed_utc_offset(*self.between)
        if offset is None:
            return sql, params
        value, value_params = compiler.compile(self.lhs)
        first, last = (connection.ops.adapt_datetimefield_value(moment) for moment in self.between)
        return (
            # Whole seconds: SQLite's date functions round to the millisecond, 23:59:59.9999 to midnight.
            f"CASE WHEN {value} >= %s AND {value} < %s THEN date(substr({value}, 1, 19), %s) ELSE {sql} END",
            (*value_params, first, *value_params, last, *value_params, f"{offset:+d} seconds", *params),
        )


def fixed_utc_offset(first: datetime, last: datetime) -> int | None:
    """The local time zone's UTC offset in seconds if it is the same at every day's start from
    `first` to `last` and at `last` (no zone changes its offset twice within a day), else None."""
    zone = timezone.get_current_timezone()
    offsets = {
        moment.astimezone(zone).utcoffset()
        for moment in [*(first + timedelta(days=n) for n in range((last - first).days + 1)), last]
    }
    return int(offsets.pop().total_seconds()) if len(offsets) == 1 else None


class Elapsed(Func):
    """The time from one datetime field to another, as `later - earlier` on a `DurationField`; on
    SQLite in whole microseconds from its own `strftime` (the same integers Django's subtraction
    makes by calling back into Python for each row: 90 ms for a year's support requests, against
    24). Django stores datetimes there as UTC text, `YYYY-MM-DD HH:MM:SS[.ffffff]`."""

    output_field = DurationField()

    def __init__(self, earlier: str, later: str) -> None:
        super().__init__(F(later), F(earlier))

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, tuple]:
        later, earlier = (compiler.compile(expression) for expression in self.get_source_expressions())
        sql, params = connection.ops.subtract_temporals("DateTimeField", later, earlier)
        return sql, tuple(params)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, tuple]:
        (later, later_params), (earlier, earlier_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        # Whole seconds from `strftime` (it rounds to the millisecond, so .9999 to the next second),
        # the microseconds from the text.
        return (
            f"((strftime('%%s', substr({later}, 1, 19))"
            f" - strftime('%%s', substr({earlier}, 1, 19))) * 1000000"
            f" + (CAST(substr({later}, 21) AS INTEGER) - CAST(substr({earlier}, 21) AS INTEGER)))",
            (*later_params, *earlier_params, *later_params, *earlier_params),
        )


def week_number(field: str, weeks: list[date]) -> Expression:
    """The position in `weeks` (Mondays) of the week a row's datetime `field` falls in, in local
    time, for rows within those weeks: comparisons with the weeks' starts nested as a binary search
    (seven for two years' weeks). Not `TruncWeek`, which SQLite computes by calling back into Python
    for every row (1.4 s for a year's visits)."""
    starts = [day_start(week) for week in weeks]

    def within(first: int, last: int) -> Expression:
        if first == last:
            return Value(first)
        middle = (first + last + 1) // 2
        return Case(
            When(**{f"{field}__lt": starts[middle]}, then=within(first, middle - 1)),
            default=within(middle, last),
            output_field=IntegerField(),
        )

    return within(0, len(weeks) - 1)


def _weekly(rows: Any, weeks: list[date], keys: tuple[str, ...]) -> list[WeekCount]:
    """Counts per week from rows of (the week: its position in `weeks` or a day in it, key, count)."""
    counted: dict[date, dict[str, int]] = {week: dict.fromkeys(keys, 0) for week in weeks}
    for week, key, n in rows:
        monday = weeks[week] if isinstance(week, int) else week - timedelta(days=week.weekday())
        if key in counted[monday]:
            counted[monday][key] += n
    return [WeekCount(week=week, counts=counts) for week, counts in counted.items()]


def _transitions(filters: Filters, user: Any, weeks: list[date]) -> list[WeekCount]:
    rows = (
        stage_changes(filters, user)
        .annotate(week=week_number("at", weeks))
        .values_list("week", "to_stage")
        .annotate(n=Count("*"))
        .order_by()
    )
    return _weekly(rows, weeks, tuple(Stage.values))


def _visit_weeks(filters: Filters, user: Any, weeks: list[date]) -> list[WeekCount]:
    # Planned visits by day (at most 731 rows, grouped in the order of their index), added up per
    # week here; made ones by week.
    planned = planned_visits(filters, user).values_list("planned_date").annotate(n=Count("*")).order_by()
    done = (
        done_visits(filters, user)
        .annotate(week=week_number("visited_at", weeks))
        .values_list("week")
        .annotate(n=Count("*"))
        .order_by()
    )
    rows = [(week, "planned", n) for week, n in planned] + [(week, "done", n) for week, n in done]
    return _weekly(rows, weeks, ("planned", "done"))


def _share(part: int, whole: int) -> Decimal | None:
    return Decimal(part) / whole if whole else None


def _summaries(filters: Filters, user: Any) -> Summaries:
    totals = summaries(filters, user).aggregate(
        total=Count("pk"),
        on_time=Count("pk", filter=Q(on_time=True)),
        reworked=Count("pk", filter=Q(rework_count__gt=0)),
    )
    total, on_time = totals["total"], totals["on_time"]
    return Summaries(
        total=total,
        on_time=on_time,
        late=total - on_time,
        reworked=totals["reworked"],
        rework_rate=_share(totals["reworked"], total),
        on_time_rate=_share(on_time, total),
    )


def _urgency(filters: Filters, user: Any) -> list[UrgencyFigures]:
    """Counted per stage and status — the order `lead_funnel` holds the leads in, their urgency in
    it too — so the index alone is read in its order, as for the funnel; added up per urgency here
    (grouped by urgency, SQLite read every lead of the period from the table)."""
    per_urgency = {}
    for urgency in Urgency.values:
        hers = Q(urgency=urgency)
        per_urgency[f"{urgency}__n"] = Count("pk", filter=hers)
        per_urgency[f"{urgency}__value"] = Sum("estimated_value", filter=hers)
    rows = list(leads(filters, user).values("stage", "status").annotate(**per_urgency).order_by())
    figures = []
    for urgency in Urgency.values:
        values = [row[f"{urgency}__value"] for row in rows if row[f"{urgency}__value"] is not None]
        figures.append(
            UrgencyFigures(
                urgency=urgency,
                count=sum(row[f"{urgency}__n"] for row in rows),
                open=sum(row[f"{urgency}__n"] for row in rows if row["status"] in Lead.OPEN_STATUSES),
                value=sum(values, Decimal(0)),
            )
        )
    return figures


def _won(filters: Filters, user: Any) -> Won:
    totals = won_leads(filters, user).aggregate(
        n=Count("pk"),
        value=Sum("won_value"),
        win_backs=Count("pk", filter=Q(win_back=True)),
        win_back_value=Sum("won_value", filter=Q(win_back=True)),
    )
    targets = dict.fromkeys(WinBackTarget.Status.values, 0)
    targets.update(win_back_targets(filters, user).values_list("status").annotate(n=Count("pk")).order_by())
    return Won(
        count=totals["n"],
        value=totals["value"] or Decimal(0),
        win_backs=totals["win_backs"],
        win_back_value=totals["win_back_value"] or Decimal(0),
        targets=targets,
    )


def _appraisal(filters: Filters, user: Any) -> list[TeamScore]:
    rows = (
        appraisals(filters, user)
        .values("team_id", "team__name")
        .annotate(
            n=Count("pk"),
            final=Count("pk", filter=Q(status__in=Appraisal.FINAL)),
            average=Avg(Coalesce("final_score", "score")),
        )
        .order_by("team__name", "team_id")
    )
    return [
        TeamScore(
            team_id=row["team_id"],
            team=row["team__name"],
            appraisals=row["n"],
            final=row["final"],
            average=None if row["average"] is None else Decimal(row["average"]).quantize(Decimal("0.01")),
        )
        for row in rows
    ]


def _support(filters: Filters, user: Any, now: datetime) -> list[SupportFigures]:
    turnaround = Elapsed("requested_at", "completed_at")
    rows = {
        row["speciality"]: row
        for row in support_requests(filters, user)
        .annotate(completed_on=LocalDate("completed_at", between=(filters.since, max(filters.until, now))))
        .values("speciality")
        .annotate(
            n=Count("pk"),
            completed=Count("pk", filter=Q(completed_at__isnull=False)),
            on_time=Count("pk", filter=support_on_time()),
            turnaround=Avg(turnaround, filter=Q(completed_at__isnull=False)),
        )
        .order_by()
    }
    figures = []
    for speciality in Speciality.values:
        row = rows.get(speciality, {})
        average = row.get("turnaround")
        figures.append(
            SupportFigures(
                speciality=speciality,
                requested=row.get("n", 0),
                completed=row.get("completed", 0),
                on_time=row.get("on_time", 0),
                average_days=None
                if average is None
                else (Decimal(average.total_seconds()) / 86400).quantize(Decimal("0.1")),
            )
        )
    return figures


def _incentives(filters: Filters, user: Any) -> list[IncentiveFigures]:
    """Per status, and the approved ones paid out (`PAID`) apart."""
    paid = Q(status=IncentiveRecord.Status.APPROVED, paid_at__isnull=False)
    rows = {
        row["status"]: row
        for row in incentive_records(filters, user)
        .values("status")
        .annotate(
            n=Count("pk"),
            total_points=Sum("points"),
            total_amount=Sum("amount"),
            paid_n=Count("pk", filter=paid),
            paid_points=Sum("points", filter=paid),
            paid_amount=Sum("amount", filter=paid),
        )
        .order_by()
    }
    approved = rows.get(IncentiveRecord.Status.APPROVED, {})
    rows[PAID] = {
        "n": approved.get("paid_n", 0),
        "total_points": approved.get("paid_points"),
        "total_amount": approved.get("paid_amount"),
    }
    return [
        IncentiveFigures(
            status=status,
            count=rows.get(status, {}).get("n", 0),
            points=to_cents(rows.get(status, {}).get("total_points") or 0),
            amount=to_cents(rows.get(status, {}).get("total_amount") or 0),
        )
        for status in INCENTIVE_STATUSES
    ]
