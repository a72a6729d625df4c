"""The monthly programme report's figures: the dashboard's (`onsite.selectors.dashboard`) for the
report's period and filters, the same broken down per region (branches, their counties counted in
them) and per team, and the early warnings open on the filtered customers and teams.

Each breakdown is one grouped query per figure whatever the number of regions and teams; the
warnings are `onsite.selectors.warnings.early_warnings`, narrowed here to the report's customers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from onsite.models import Customer, Enrolment, IncentiveRecord, Region, StaffProfile, Team
from onsite.selectors import dashboard as figures
from onsite.selectors.dashboard import Dashboard, Filters
from onsite.selectors.warnings import EarlyWarning, early_warnings

# The warnings listed in the report, and on each team's page, the longest overdue first; the
# counts are of all of them.
WARNINGS_LISTED = 40
TEAM_WARNINGS_LISTED = 15


@dataclass
class Row:
    """One region's or team's figures over the period."""

    key: int
    name: str
    customers: int = 0
    planned: int = 0
    done: int = 0
    summaries: int = 0
    on_time: int = 0
    leads: int = 0
    won: int = 0
    won_value: Decimal = Decimal(0)
    win_backs: int = 0
    incentives: Decimal = Decimal(0)
    warnings: int = 0

    @property
    def on_time_rate(self) -> Decimal | None:
        return Decimal(self.on_time) / self.summaries if self.summaries else None


@dataclass(frozen=True)
class ProgrammeReport:
    board: Dashboard
    regions: list[Row]
    teams: list[Row]
    warnings: list[EarlyWarning]
    warnings_total: int
    warnings_by_kind: dict[str, int] = field(default_factory=dict)
    # Each team's own warnings (by team id), the longest overdue first, at most TEAM_WARNINGS_LISTED.
    team_warnings: dict[int, list[EarlyWarning]] = field(default_factory=dict)


def programme_report(*, filters: Filters, user: Any, now: datetime | None = None) -> ProgrammeReport:
    now = now or timezone.now()
    board = figures.dashboard(filters=filters, user=user, now=now)
    every_region = list(Region.objects.values_list("pk", "parent_id", "name"))
    branch_of = {pk: parent or pk for pk, parent, _ in every_region}
    branch_names = {pk: name for pk, parent, name in every_region if parent is None}
    team_names = dict(Team.objects.values_list("pk", "name"))
    # The report's customers, each with its region and its manager's team: every figure is grouped
    # by customer once and added up per branch and per team here.
    where = {
        pk: (branch_of.get(region), team)
        for pk, region, team in Customer.objects.filter(figures.customer_filter(filters, user)).values_list(
            "pk", "region", "account_manager__staff_profile__team"
        )
    }
    regions, teams = _breakdowns(filters, user, where, branch_names, team_names)
    _add_incentives(filters, user, regions, teams, branch_of)

    team_of_customer = {pk: team for pk, (_, team) in where.items()}
    team_ids = set(team_names) if filters.team is None else {filters.team.pk}
    warnings = [
        warning
        for warning in early_warnings(user=user, now=now)
        if (warning.customer is not None and warning.customer.pk in team_of_customer)
        or (warning.customer is None and _team_of(warning, team_of_customer) in team_ids)
    ]
    team_warnings: dict[int, list[EarlyWarning]] = {}
    for warning in warnings:
        team = _team_of(warning, team_of_customer)
        for rows, key in ((teams, team), (regions, _region_of(warning, branch_of))):
            if key in rows:
                rows[key].warnings += 1
        if team in teams and len(team_warnings.setdefault(team, [])) < TEAM_WARNINGS_LISTED:
            team_warnings[team].append(warning)
    return ProgrammeReport(
        board=board,
        regions=_shown(regions),
        teams=_shown(teams),
        warnings=warnings[:WARNINGS_LISTED],
        warnings_total=len(warnings),
        warnings_by_kind=dict(Counter(warning.kind for warning in warnings)),
        team_warnings=team_warnings,
    )


def _breakdowns(
    filters: Filters,
    user: Any,
    where: dict[int, tuple[int | None, int | None]],
    branch_names: dict[int, str],
    team_names: dict[int, str],
) -> tuple[dict[int, Row], dict[int, Row]]:
    """Per branch and per team, the customers' figures: each source grouped by customer in one
    query and added up by the customer's branch and team (`where`). (Grouped by branch and by team
    in the database, each row joined to its customer, the manager and their team, a year took
    three times as long.)"""
    regions: dict[int, Row] = {}
    teams: dict[int, Row] = {}

    def add(rows: QuerySet, customer: str, fields: dict[str, str], **aggregates: Any) -> None:
        for row in rows.values(key=F(customer)).annotate(**aggregates).order_by():
            branch, team = where.get(row["key"], (None, None))
            for found, key, names in ((regions, branch, branch_names), (teams, team, team_names)):
                if key is None:
                    continue
                target = found.setdefault(key, Row(key=key, name=names.get(key, "—")))
                for name, column in fields.items():
                    setattr(target, name, getattr(target, name) + (row[column] or 0))

    active = figures.enrolments(filters, user).filter(status=Enrolment.Status.ACTIVE)
    # 1 per customer, however many programmes it is active in.
    add(active, "customer_id", {"customers": "n"}, n=Count("customer", distinct=True))
    add(figures.planned_visits(filters, user), "customer_id", {"planned": "n"}, n=Count("pk"))
    add(figures.done_visits(filters, user), "customer_id", {"done": "n"}, n=Count("pk"))
    add(
        figures.summaries(filters, user),
        "visit__customer_id",
        {"summaries": "n", "on_time": "on_time"},
        n=Count("pk"),
        on_time=Count("pk", filter=Q(on_time=True)),
    )
    add(figures.leads(filters, user), "customer_id", {"leads": "n"}, n=Count("pk"))
    add(
        figures.won_leads(filters, user),
        "customer_id",
        {"won": "n", "won_value": "value", "win_backs": "win_backs"},
        n=Count("pk"),
        value=Sum("won_value"),
        win_backs=Count("pk", filter=Q(win_back=True)),
    )
    return regions, teams


def _add_incentives(
    filters: Filters, user: Any, regions: dict[int, Row], teams: dict[int, Row], branch_of: dict
) -> None:
    """The incentives approved in the period, by the person's team and that team's region: grouped
    by person, each added to their team's row and its branch's."""
    approved = figures.incentive_records(filters, user).filter(status=IncentiveRecord.Status.APPROVED)
    per_person = approved.values_list("person").annotate(amount=Sum("amount")).order_by()
    where = {
        person: (team, branch_of.get(region))
        for person, team, region in StaffProfile.objects.filter(team__isnull=False).values_list(
            "user", "team", "team__region"
        )
    }
    for person, amount in per_person:
        team, branch = where.get(person, (None, None))
        if team in teams:
            teams[team].incentives += amount or 0
        if branch in regions:
            regions[branch].incentives += amount or 0


def _team_of(warning: EarlyWarning, team_of_customer: dict[int, int | None]) -> int | None:
    """The team a warning is on: its customer's manager's, the team itself or the manager's own
    (behind target)."""
    if warning.customer is not None:
        return team_of_customer.get(warning.customer.pk)
    if isinstance(warning.related, Team):
        return warning.related.pk
    profile = getattr(warning.related, "staff_profile", None)  # a manager behind target
    return getattr(profile, "team_id", None)


def _region_of(warning: EarlyWarning, branch_of: dict) -> int | None:
    if warning.customer is not None:
        return branch_of.get(warning.customer.region_id)
    if isinstance(warning.related, Team):
        return branch_of.get(warning.related.region_id)
    return None


def _shown(rows: dict[int, Row]) -> list[Row]:
    return sorted(rows.values(), key=lambda row: row.name)
