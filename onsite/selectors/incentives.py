"""Incentive statements: each person's approved records for a period, by event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum

from onsite.amounts import to_cents
from onsite.models import IncentiveEvent, IncentiveRecord, StaffProfile, Team


@dataclass(frozen=True)
class StatementLine:
    event: str
    label: str
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


def incentive_statement(*, person: Any, period: date) -> Statement:
    return team_statements_for([person], period)[0]


def team_statements(*, team: Team, period: date) -> list[Statement]:
    members = [
        p.user
        for p in StaffProfile.objects.filter(team=team).select_related("user").order_by("user__username")
    ]
    return team_statements_for(members, period)


def team_statements_for(people: list, period: date) -> list[Statement]:
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
    statements = []
    for person in people:
        approved = [r for r in by_person[person.pk] if r["status"] == IncentiveRecord.Status.APPROVED]
        lines = tuple(
            StatementLine(
                event=r["event"],
                label=str(IncentiveEvent(r["event"]).label),
                count=r["count"],
                # SQLite sums decimals as floats: bring them back to cents.
                points=to_cents(r["points"]),
                amount=to_cents(r["amount"]),
            )
            for r in approved
        )
        statements.append(
            Statement(
                person=person,
                period=period,
                lines=lines,
                points=to_cents(sum((line.points for line in lines), Decimal(0))),
                amount=to_cents(sum((line.amount for line in lines), Decimal(0))),
                pending=sum(
                    r["count"] for r in by_person[person.pk] if r["status"] == IncentiveRecord.Status.PENDING
                ),
                rejected=sum(
                    r["count"] for r in by_person[person.pk] if r["status"] == IncentiveRecord.Status.REJECTED
                ),
            )
        )
    return statements
