"""The appraisal's indicators (绩效考核指标, seed 004: an appraisal that reflects the real work), one
function per indicator code, and the score they make against targets and weights.

Each indicator measures a group of people over a period from the records, in a constant number of
queries however many people there are: it reads its sources from `Records`, which reads each source
once for everyone (the short board's counts, the visits made, the leads won, ...), and gives each
person a `Tally` - a count or an amount, or a rate's part and whole - so a team's figure is the sum
of its members' tallies (a team rate is the pooled rate, not an average of rates). An indicator
returns None for a person it does not measure: shown as "not yet measured" and left out of the
weighting.

The score: each measured indicator's attainment (value against target, capped at
`APPRAISAL_ATTAINMENT_CAP_PERCENT`) times its weight, scaled so the weights of the measured
indicators make 100: full attainment everywhere scores 100.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any

from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from onsite.amounts import to_cents
from onsite.models import Customer, Lead, LeadStageMove, SupportRequest, Visit
from onsite.selectors.funnel import win_probabilities
from onsite.selectors.short_board import indicator_counts
from onsite.services.summaries import visited_as_planned
from onsite.services.support import due_moment
from onsite.thresholds import threshold

COUNT, AMOUNT, RATE = "count", "amount", "rate"
FOUR_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Tally:
    """A person's (or a team's) measure: `part` alone for a count or an amount; `part` of `whole`
    for a rate."""

    part: Decimal
    whole: Decimal | None = None

    def __add__(self, other: Tally) -> Tally:
        whole = None if self.whole is None else self.whole + (other.whole or 0)
        return Tally(self.part + other.part, whole)


class Records:
    """The records of a group of people over [start, end): each source read once, when an
    indicator first asks for it, for all of them."""

    def __init__(self, *, person_ids: Iterable[int], start: date, end: date) -> None:
        self.person_ids = list(person_ids)
        self.start, self.end = start, end
        self.since, self.until = _day_start(start), _day_start(end)

    @cached_property
    def board_counts(self) -> dict[int, dict[str, int]]:
        """The short board's counts: summaries (on time, reworked), leads created and won, win-backs."""
        return indicator_counts(manager_ids=self.person_ids, start=self.start, end=self.end)

    @cached_property
    def visits_made(self) -> list[Visit]:
        return list(
            Visit.objects.filter(
                account_manager_id__in=self.person_ids, visited_at__gte=self.since, visited_at__lt=self.until
            ).only("account_manager_id", "visited_at", "scheduled_date", "planned_date")
        )

    @cached_property
    def visit_tolerance_days(self) -> int:
        """The as-planned tolerance, read once for every visit judged: the one in force on the
        period's first day, as the appraisal's other thresholds (a month is judged by the rules it
        began with)."""
        return threshold("VISIT_ON_PLAN_TOLERANCE_DAYS", on=self.start)

    @cached_property
    def won_values(self) -> dict[int, Decimal]:
        rows = (
            Lead.objects.filter(
                owner_id__in=self.person_ids,
                status=Lead.Status.WON,
                closed_at__gte=self.since,
                closed_at__lt=self.until,
            )
            .values("owner_id")
            .annotate(value=Sum("won_value"))
            .order_by()
        )
        # SQLite sums decimals as floats: back to cents.
        return {row["owner_id"]: to_cents(row["value"] or 0) for row in rows}

    @cached_property
    def stage_moves(self) -> list[dict[str, Any]]:
        """The forward moves made in the period on each person's leads, summed per (owner, from
        stage, to stage): at most a few dozen rows a person however many leads moved."""
        return list(
            LeadStageMove.objects.filter(
                lead__owner_id__in=self.person_ids, at__gte=self.since, at__lt=self.until
            )
            .exclude(from_stage="")
            .values("lead__owner_id", "from_stage", "to_stage")
            .annotate(value=Sum("expected_value"))
            .order_by()
        )

    @cached_property
    def win_probabilities(self) -> dict[str, int]:
        return win_probabilities()

    @cached_property
    def customers_owned(self) -> dict[int, int]:
        rows = (
            Customer.objects.filter(account_manager_id__in=self.person_ids)
            .values("account_manager_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        return {row["account_manager_id"]: row["n"] for row in rows}

    @cached_property
    def customers_visited(self) -> dict[int, int]:
        rows = (
            Visit.objects.filter(
                account_manager_id__in=self.person_ids,
                visited_at__gte=self.since,
                visited_at__lt=self.until,
                customer__account_manager_id=F("account_manager_id"),
            )
            .values("account_manager_id")
            .annotate(n=Count("customer_id", distinct=True))
            .order_by()
        )
        return {row["account_manager_id"]: row["n"] for row in rows}

    @cached_property
    def support_completed(self) -> list[dict[str, Any]]:
        return list(
            SupportRequest.objects.filter(
                completed_by_id__in=self.person_ids, completed_at__gte=self.since, completed_at__lt=self.until
            ).values("completed_by_id", "completed_at", "due_date")
        )

    @cached_property
    def visits_supported(self) -> dict[int, int]:
        rows = (
            Visit.objects.filter(
                support_staff_id__in=self.person_ids, visited_at__gte=self.since, visited_at__lt=self.until
            )
            .values("support_staff_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        return {row["support_staff_id"]: row["n"] for row in rows}


Measure = Callable[[Records], dict[int, Tally | None]]


@dataclass(frozen=True)
class Indicator:
    code: str
    label: Any
    kind: str  # COUNT, AMOUNT or RATE
    measure: Measure
    lower_is_better: bool = False


INDICATORS: dict[str, Indicator] = {}


def indicator(code: str, label: Any, kind: str, *, lower_is_better: bool = False) -> Callable:
    def register(measure: Measure) -> Measure:
        INDICATORS[code] = Indicator(code, label, kind, measure, lower_is_better)
        return measure

    return register


def _counted(records: Records, part: str, whole: str | None = None) -> dict[int, Tally | None]:
    tallies = {}
    for pk in records.person_ids:
        counts = records.board_counts.get(pk, {})
        tallies[pk] = Tally(
            Decimal(counts.get(part, 0)), None if whole is None else Decimal(counts.get(whole, 0))
        )
    return tallies


@indicator("visits_as_planned", _("visits made as planned"), COUNT)
def visits_as_planned(records: Records) -> dict[int, Tally | None]:
    """Visits made in the period by the date the cadence set (with the tolerance), as the incentive
    for a visit made as planned judges them."""
    made = {pk: 0 for pk in records.person_ids}
    tolerance = records.visit_tolerance_days
    for visit in records.visits_made:
        if visited_as_planned(visit, tolerance_days=tolerance):
            made[visit.account_manager_id] += 1
    return {pk: Tally(Decimal(n)) for pk, n in made.items()}


@indicator("summary_on_time_rate", _("summaries on time"), RATE)
def summary_on_time_rate(records: Records) -> dict[int, Tally | None]:
    """Share of the summaries first submitted in the period that were on time (the short board's)."""
    return _counted(records, "summaries_on_time", "summaries")


@indicator("rework_rate", _("summary rework rate"), RATE, lower_is_better=True)
def rework_rate(records: Records) -> dict[int, Tally | None]:
    """Share of the summaries first submitted in the period that were sent back at least once."""
    return _counted(records, "summaries_reworked", "summaries")


@indicator("leads_created", _("leads created"), COUNT)
def leads_created(records: Records) -> dict[int, Tally | None]:
    """Leads the person owns that were created in the period."""
    return _counted(records, "leads_created")


@indicator("pipeline_value_moved", _("pipeline value moved"), AMOUNT)
def pipeline_value_moved(records: Records) -> dict[int, Tally | None]:
    """The weighted pipeline the person added by moving their leads forward in the period: over the
    stage moves made in the period on the leads they own, the sum of (the to-stage's win probability
    − the from-stage's) × the value the lead was expected to bring at that move. A lead entering the
    funnel is not a move forward (that is `leads_created`), nor is a lead lost (it keeps its stage);
    winning (from the solution stage, 70% by default, to 100%) adds the rest of the value won."""
    probabilities = records.win_probabilities
    moved = dict.fromkeys(records.person_ids, Decimal(0))
    for row in records.stage_moves:
        gained = probabilities[row["to_stage"]] - probabilities[row["from_stage"]]
        moved[row["lead__owner_id"]] += to_cents(row["value"] or 0) * gained / 100
    return {pk: Tally(value) for pk, value in moved.items()}


@indicator("won_value", _("value won (CNY)"), AMOUNT)
def won_value(records: Records) -> dict[int, Tally | None]:
    """The value of the leads the person won in the period."""
    return {pk: Tally(records.won_values.get(pk, Decimal(0))) for pk in records.person_ids}


@indicator("win_backs", _("customers won back"), COUNT)
def win_backs(records: Records) -> dict[int, Tally | None]:
    """Win-back leads (a competitor's product) won in the period."""
    return _counted(records, "win_backs")


@indicator("customer_coverage", _("customer coverage"), RATE)
def customer_coverage(records: Records) -> dict[int, Tally | None]:
    """Share of the customers the person looks after that they visited in the period."""
    return {
        pk: Tally(Decimal(records.customers_visited.get(pk, 0)), Decimal(records.customers_owned.get(pk, 0)))
        for pk in records.person_ids
    }


@indicator("support_on_time_rate", _("support requests on time"), RATE)
def support_on_time_rate(records: Records) -> dict[int, Tally | None]:
    """Share of the support requests the engineer completed in the period by their due time."""
    done = {pk: [0, 0] for pk in records.person_ids}
    for row in records.support_completed:
        counts = done[row["completed_by_id"]]
        counts[1] += 1
        counts[0] += row["completed_at"] <= due_moment(row["due_date"])
    return {pk: Tally(Decimal(on_time), Decimal(total)) for pk, (on_time, total) in done.items()}


@indicator("support_completed", _("support requests completed"), COUNT)
def support_completed(records: Records) -> dict[int, Tally | None]:
    """Support requests the engineer completed in the period."""
    done = dict.fromkeys(records.person_ids, 0)
    for row in records.support_completed:
        done[row["completed_by_id"]] += 1
    return {pk: Tally(Decimal(n)) for pk, n in done.items()}


@indicator("visits_supported", _("visits joined"), COUNT)
def visits_supported(records: Records) -> dict[int, Tally | None]:
    """Visits made in the period that the engineer went on."""
    return {pk: Tally(Decimal(records.visits_supported.get(pk, 0))) for pk in records.person_ids}


# --- measuring and scoring ----------------------------------------------------------------------


def measure(
    *, person_ids: Iterable[int], start: date, end: date, codes: Iterable[str]
) -> dict[int, dict[str, Tally | None]]:
    """Each person's tally per indicator code, each source read once for all of them."""
    records = Records(person_ids=person_ids, start=start, end=end)
    by_code = {code: INDICATORS[code].measure(records) for code in dict.fromkeys(codes)}
    return {pk: {code: tallies.get(pk) for code, tallies in by_code.items()} for pk in records.person_ids}


def combine(tallies: Iterable[Tally | None]) -> Tally | None:
    """A group's tally: the sum of its members' (None when none of them is measured)."""
    total = None
    for tally in tallies:
        if tally is not None:
            total = tally if total is None else total + tally
    return total


def value_of(code: str, tally: Tally | None) -> Decimal | None:
    """The figure shown: a count, an amount in CNY, or a rate from 0 to 1 (to four places); None
    when not measured or, for a rate, when there is nothing to divide by."""
    if tally is None:
        return None
    kind = INDICATORS[code].kind
    if kind == RATE:
        if not tally.whole:
            return None
        return (tally.part / tally.whole).quantize(FOUR_PLACES, ROUND_HALF_UP)
    return to_cents(tally.part) if kind == AMOUNT else tally.part


@dataclass(frozen=True)
class Line:
    indicator: str
    value: Decimal | None
    target: Decimal
    weight: Decimal
    attainment: Decimal | None
    points: Decimal


@dataclass(frozen=True)
class Breakdown:
    lines: tuple[Line, ...]
    score: Decimal


def attainment(code: str, value: Decimal, target: Decimal, *, cap_percent: int) -> Decimal:
    """How far `value` reaches `target`, 1 meaning met, capped (at `cap_percent` of it) so one
    indicator cannot make up for all the others. A lower-is-better indicator at or under a target of
    zero has met it."""
    cap = Decimal(cap_percent) / 100
    if not INDICATORS[code].lower_is_better:
        reached = value / target if target > 0 else cap
    elif value == 0:
        reached = cap if target > 0 else Decimal(1)
    else:
        reached = target / value
    return min(reached, cap).quantize(FOUR_PLACES, ROUND_HALF_UP)


def score(values: dict[str, Decimal | None], targets: Iterable[Any], *, cap_percent: int) -> Breakdown:
    """Score `values` (by indicator code) against `targets` (each with `indicator`, `target` and
    `weight`): each measured indicator's points are its attainment (capped at `cap_percent`) times
    its share of the measured weight, times 100; the score is the sum of the points."""
    targets = list(targets)
    measured = sum((t.weight for t in targets if values.get(t.indicator) is not None), Decimal(0))
    lines = []
    for t in targets:
        value = values.get(t.indicator)
        if value is None or not measured:
            lines.append(Line(t.indicator, value, t.target, t.weight, None, Decimal("0.00")))
            continue
        reached = attainment(t.indicator, value, t.target, cap_percent=cap_percent)
        points = to_cents(reached * t.weight * 100 / measured)
        lines.append(Line(t.indicator, value, t.target, t.weight, reached, points))
    return Breakdown(tuple(lines), to_cents(sum((line.points for line in lines), Decimal(0))))


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
