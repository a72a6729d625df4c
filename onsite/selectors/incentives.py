"""Incentive statements: each person's approved records for a period, by event.

Beside the records, the statement shows the month's final appraisal score and what it makes of the
amount: the multiplier of the `AppraisalBand` the score reaches, and the amount times it. Without a
final score (not appraised yet, or still under review or dispute) both are None.

Read by the person themselves, the leader of their team, coordinators and leadership
(`onsite.access.people_scope`). A line names its event by code; `IncentiveEvent(code).label` words it
when the statement is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from onsite.access import check_person_read, check_role, check_team_read, people_scope, scoped
from onsite.amounts import to_cents
from onsite.exceptions import InvalidInput
from onsite.models import Appraisal, AppraisalBand, IncentiveRecord, IncentiveReview, StaffProfile, Team
from onsite.roles import COORDINATOR, LEADERSHIP
from onsite.selectors.appraisals import incentive_multiplier


@dataclass(frozen=True)
class StatementLine:
    event: str  # an IncentiveEvent code
    count: int
    points: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Statement:
    person: Any
    period: date
    lines: tuple[StatementLine, ...]
    points: Decimal
    amount: Decimal
    pending: int  # records still waiting for the team leader
    rejected: int
    appraisal_score: Decimal | None = None  # the month's final appraisal score
    appraisal_multiplier: Decimal | None = None  # what that score makes of the amount
    appraised_amount: Decimal | None = None  # the amount times the multiplier


def incentive_statement(*, person: Any, period: date, user: Any) -> Statement:
    """`person`'s statement for the month of `period`, for someone who may read their records."""
    _check_period(period)
    check_person_read(user, person)
    return _statements_for([person], period)[0]


def team_statements(*, team: Team, period: date, user: Any) -> list[Statement]:
    """The statements of the team's members `user` may read (their leader reads all of them, a
    member their own) for the month of `period`; refused to someone who may not read the team."""
    _check_period(period)
    check_team_read(user, team)
    members = scoped(
        StaffProfile.objects.filter(team=team).select_related("user").order_by("user__username"),
        people_scope(user, through="user"),
    )
    return _statements_for([p.user for p in members], period)


def _check_period(period: Any) -> None:
    if not isinstance(period, date):
        raise InvalidInput({"period": [_("Enter a date in the month of the statement.")]})


def _statements_for(people: list, period: date) -> list[Statement]:
    period = period.replace(day=1)
    rows = (
        IncentiveRecord.objects.filter(person__in=people, period=period)
        .values("person_id", "status", "event")
        .annotate(count=Count("id"), points=Sum("points"), amount=Sum("amount"))
        .order_by("person_id", "event")
    )
    by_person: dict[int, list] = {p.pk: [] for p in people}
    for row in rows:
        by_person[row["person_id"]].append(row)
    scores = dict(
        Appraisal.objects.filter(person__in=people, period=period, status__in=Appraisal.FINAL).values_list(
            "person_id", "final_score"
        )
    )
    bands = list(AppraisalBand.objects.values_list("min_score", "multiplier")) if scores else []
    statements = []
    for person in people:
        approved = [r for r in by_person[person.pk] if r["status"] == IncentiveRecord.Status.APPROVED]
        lines = tuple(
            StatementLine(
                event=r["event"],
                count=r["count"],
                # SQLite sums decimals as floats: bring them back to cents.
                points=to_cents(r["points"]),
                amount=to_cents(r["amount"]),
            )
            for r in approved
        )
        amount = to_cents(sum((line.amount for line in lines), Decimal(0)))
        score = scores.get(person.pk)
        multiplier = incentive_multiplier(score, bands)
        statements.append(
            Statement(
                person=person,
                period=period,
                lines=lines,
                points=to_cents(sum((line.points for line in lines), Decimal(0))),
                amount=amount,
                pending=sum(
                    r["count"] for r in by_person[person.pk] if r["status"] == IncentiveRecord.Status.PENDING
                ),
                rejected=sum(
                    r["count"] for r in by_person[person.pk] if r["status"] == IncentiveRecord.Status.REJECTED
                ),
                appraisal_score=score,
                appraisal_multiplier=multiplier,
                appraised_amount=None if multiplier is None else to_cents(amount * multiplier),
            )
        )
    return statements


@dataclass(frozen=True)
class TeamPayment:
    """A team's incentives of one month, as the coordinator pays them out."""

    team: Team
    pending: int  # still with the team leader
    approved: int
    approved_amount: Decimal
    paid: int
    paid_amount: Decimal
    references: tuple[str, ...]  # the payroll batches its paid records went in

    @property
    def unpaid(self) -> int:
        return self.approved - self.paid

    @property
    def unpaid_amount(self) -> Decimal:
        return self.approved_amount - self.paid_amount


def team_payments(*, period: date, user: Any) -> list[TeamPayment]:
    """Every team's incentives of the month of `period` (coordinators and leadership): what is
    pending, approved and paid, from one grouped query."""
    _check_period(period)
    check_role(user, COORDINATOR, LEADERSHIP)
    period = period.replace(day=1)
    rows = (
        IncentiveRecord.objects.filter(period=period, person__staff_profile__team__isnull=False)
        .values("person__staff_profile__team", "status", "payment_reference")
        .annotate(n=Count("pk"), amount=Sum("amount"), paid=Count("pk", filter=Q(paid_at__isnull=False)))
        .order_by()
    )
    teams = {team.pk: team for team in Team.objects.order_by("name")}
    figures: dict[int, dict[str, Any]] = {
        pk: {
            "pending": 0,
            "approved": 0,
            "approved_amount": Decimal(0),
            "paid": 0,
            "paid_amount": Decimal(0),
            "refs": set(),
        }
        for pk in teams
    }
    for row in rows:
        found = figures[row["person__staff_profile__team"]]
        if row["status"] == IncentiveRecord.Status.PENDING:
            found["pending"] += row["n"]
        elif row["status"] == IncentiveRecord.Status.APPROVED:
            found["approved"] += row["n"]
            found["approved_amount"] += to_cents(row["amount"])
            if row["payment_reference"]:
                found["paid"] += row["paid"]
                found["paid_amount"] += to_cents(row["amount"])
                found["refs"].add(row["payment_reference"])
    return [
        TeamPayment(
            team=team,
            pending=found["pending"],
            approved=found["approved"],
            approved_amount=found["approved_amount"],
            paid=found["paid"],
            paid_amount=found["paid_amount"],
            references=tuple(sorted(found["refs"])),
        )
        for pk, team in teams.items()
        if (found := figures[pk])["pending"] or found["approved"]
    ]


@dataclass(frozen=True)
class ReviewDecision:
    """A team leader's review of the records of a statement's month."""

    team: Team
    period: date
    status: str  # an IncentiveReview.Status code
    created_at: Any
    decided_at: Any
    decided_by: Any  # who decided (the person who approved or rejected its records), or None


@dataclass(frozen=True)
class StatementDetails:
    statement: Statement
    team: Team | None
    records: list  # every record of the month, any status, oldest first, with its rule and links
    reviews: list[ReviewDecision]


def statement_details(*, person: Any, period: date, user: Any) -> StatementDetails:
    """`person`'s statement for the month of `period` with every record behind it (its event, rule,
    amount, points and status, what it was for) and the team leader's reviews of the month: what
    the incentive statement's PDF shows. A fixed number of queries."""
    statement = incentive_statement(person=person, period=period, user=user)
    period = statement.period
    records = list(
        IncentiveRecord.objects.filter(person=person, period=period)
        .select_related("rule", "customer", "visit", "lead", "support_request", "decided_by")
        .order_by("created_at", "pk")
    )
    team = Team.objects.filter(members__user=person).first()
    review_ids = {r.review_id for r in records if r.review_id}
    reviews = IncentiveReview.objects.filter(Q(pk__in=review_ids) | Q(team=team, period=period))
    reviews = list(reviews.select_related("team").order_by("created_at", "pk")) if team or review_ids else []
    deciders: dict[int, Any] = {}
    decided = IncentiveRecord.objects.filter(review__in=[r.pk for r in reviews], decided_by__isnull=False)
    for record in decided.select_related("decided_by").order_by("decided_at", "pk"):
        deciders.setdefault(record.review_id, record.decided_by)
    return StatementDetails(
        statement=statement,
        team=team,
        records=records,
        reviews=[
            ReviewDecision(
                team=review.team,
                period=review.period,
                status=review.status,
                created_at=review.created_at,
                decided_at=review.decided_at,
                decided_by=deciders.get(review.pk),
            )
            for review in reviews
        ],
    )
