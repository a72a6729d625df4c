"""Reads about project teams: who is a member on a day, the team that serves a customer or a lead,
the member of a speciality to give work to."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from onsite.models import Contribution, Membership, ProjectTeam


def active_on(day: date, *, through: str = "") -> Q:
    """The memberships (reached by `through`) in force on `day`: joined by then and not yet left.
    The one definition of "an active member", used by access and every read below."""
    path = f"{through}__" if through else ""
    return Q(**{f"{path}joined_on__lte": day}) & (
        Q(**{f"{path}left_on__isnull": True}) | Q(**{f"{path}left_on__gt": day})
    )


def today() -> date:
    return timezone.localdate()


def team_customer_ids(person: Any, *, on: date) -> tuple[QuerySet, QuerySet]:
    """The customers `person` serves as an active member on `on`: those of their customer teams and
    those of their lead teams, as two subqueries of customer ids."""
    teams = Membership.objects.filter(active_on(on), person=person)
    return (
        teams.filter(team__customer__isnull=False).values("team__customer_id"),
        teams.filter(team__lead__isnull=False).values("team__lead__customer_id"),
    )


def teams_serving(*, customer: Any = None, lead: Any = None) -> list[ProjectTeam]:
    """The teams working for this lead and its customer, the lead's own first: a lead's work goes to
    the lead's team, then to the customer's."""
    found = []
    if lead is not None:
        found += list(ProjectTeam.objects.filter(lead=lead))
        customer = customer or lead.customer
    if customer is not None:
        found += list(ProjectTeam.objects.filter(customer=customer))
    return found


def active_members(team: ProjectTeam, *, on: date | None = None) -> QuerySet:
    """The team's memberships in force on `on` (today by default), with their people."""
    return (
        Membership.objects.filter(active_on(on or today()), team=team)
        .select_related("person")
        .order_by("joined_on", "pk")
    )


def membership_of(person: Any, team: ProjectTeam, *, on: date) -> Membership | None:
    if person is None or getattr(person, "pk", None) is None:
        return None
    return Membership.objects.filter(active_on(on), team=team, person=person).first()


def serving_membership(person: Any, *, customer: Any = None, lead: Any = None, on: date) -> Membership | None:
    """`person`'s membership, in force on `on`, of a team serving this lead or customer (the lead's
    own team first)."""
    for team in teams_serving(customer=customer, lead=lead):
        found = membership_of(person, team, on=on)
        if found is not None:
            return found
    return None


def team_member_for(
    *, speciality: str, customer: Any = None, lead: Any = None, on: date | None = None
) -> Any:
    """The active member of that speciality of the team serving the lead (then the customer) with
    the fewest open support assignments; None when the teams have nobody of it."""
    if not speciality:
        return None
    from django.db.models import Count

    from onsite.models import SupportRequest

    on = on or today()
    for team in teams_serving(customer=customer, lead=lead):
        members = (
            Membership.objects.filter(active_on(on), team=team, speciality=speciality, person__is_active=True)
            .select_related("person")
            .annotate(
                load=Count(
                    "person__support_assignments",
                    filter=Q(person__support_assignments__status=SupportRequest.Status.DISPATCHED),
                )
            )
            .order_by("load", "joined_on", "pk")
        )
        chosen = members.first()
        if chosen is not None:
            return chosen.person
    return None


def contributions_of(team: ProjectTeam) -> QuerySet:
    return Contribution.objects.filter(team=team).select_related("person").order_by("at", "pk")


def project_team_roster(*, team: ProjectTeam, user: Any, on: date | None = None) -> dict:
    """The team as whoever reads its customer sees it: every membership spell (past ones too) and
    each person's contributions counted per kind, with their hours. Codes, dates and numbers only
    (`describe` words the codes)."""
    from django.db.models import Count, Sum

    from onsite.access import check_customer_read

    check_customer_read(user, team.customer_served)
    on = on or today()
    active = set(Membership.objects.filter(active_on(on), team=team).values_list("pk", flat=True))
    spells = [
        {
            "person_id": m.person_id,
            "username": m.person.get_username(),
            "role": m.role,
            "speciality": m.speciality,
            "joined_on": m.joined_on,
            "left_on": m.left_on,
            "active": m.pk in active,
        }
        for m in Membership.objects.filter(team=team).select_related("person").order_by("joined_on", "pk")
    ]
    totals = (
        Contribution.objects.filter(team=team)
        .values("person_id", "kind")
        .annotate(count=Count("pk"), hours=Sum("hours"))
        .order_by("person_id", "kind")
    )
    return {
        "team_id": team.pk,
        "customer_id": team.customer_served.pk,
        "lead_id": team.lead_id,
        "leader_id": team.leader_id,
        "specialities": list(team.specialities),
        "members": spells,
        "contributions": [dict(row) for row in totals],
    }


def describe(code: str) -> str:
    """The words for a team role, a contribution kind or a speciality code, in the active language."""
    from onsite.models import ContributionKind, Speciality, TeamRole

    for choices in (TeamRole, ContributionKind, Speciality):
        if code in choices.values:
            return str(choices(code).label)
    return code


def teams_of(person: Any, *, on: date | None = None) -> list[dict]:
    """The project teams `person` leads or is an active member of on `on` (today by default), each
    with its customer or lead, the person's role in it and its active members. Two queries."""
    on = on or today()
    joined = Membership.objects.filter(active_on(on), person=person).values("team_id")
    teams = list(
        ProjectTeam.objects.filter(Q(leader=person) | Q(pk__in=joined))
        .select_related("customer", "lead__customer", "leader")
        .order_by("pk")
    )
    members: dict[int, list[Membership]] = {}
    active = Membership.objects.filter(active_on(on), team__in=teams).select_related("person")
    for membership in active.order_by("joined_on", "pk"):
        members.setdefault(membership.team_id, []).append(membership)
    return [
        {
            "team": team,
            "customer": team.customer_served,
            "lead": team.lead,
            "role": next((m.role for m in members.get(team.pk, []) if m.person_id == person.pk), None),
            "members": members.get(team.pk, []),
        }
        for team in teams
    ]
