"""Project teams (项目小组): forming one for a customer or a lead, members joining and leaving with
dates, their contributions, and each member's share of a won lead.

Who may change a team is `onsite.access.project_team_scope`; the team's members read the customer
through `onsite.access.customer_scope`. Every refusal is raised before anything is written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onsite.access import (
    check_customer_access,
    check_project_team_change,
    check_role,
    has_role,
    manages_customer,
)
from onsite.exceptions import InvalidInput
from onsite.models import (
    Contribution,
    ContributionKind,
    Customer,
    IncentiveEvent,
    Lead,
    Membership,
    ProjectTeam,
    Speciality,
    StaffProfile,
    SupportRequest,
    TeamRole,
    TeamShareRule,
    Visit,
)
from onsite.roles import ACCOUNT_MANAGER, COORDINATOR
from onsite.selectors.project_teams import active_on, membership_of, serving_membership, teams_serving
from onsite.services.incentives import award
from workflows.actors import person, person_id

# Roles whose members are engineers called in for a speciality (which they must have).
_SPECIALIST_ROLES = (TeamRole.ENGINEER, TeamRole.SOLUTION_EXPERT)


@dataclass(frozen=True)
class NewMember:
    """A member to add when forming a team (see `add_team_member`)."""

    person: Any
    role: str
    speciality: str = ""


def form_project_team(
    *,
    user: Any,
    customer: Customer | None = None,
    lead: Lead | None = None,
    leader: Any = None,
    name: str = "",
    specialities: list[str] | tuple[str, ...] = (),
    members: list[NewMember] | tuple[NewMember, ...] = (),
    on: date | None = None,
) -> ProjectTeam:
    """A team for the customer or for the lead (exactly one), led by the customer's account manager
    or the lead's owner unless `leader` names another account manager; the leader is its first
    member, then `members` join, all on `on` (today by default)."""
    if (customer is None) == (lead is None):
        raise InvalidInput(
            {"customer": [_("Form the team for a customer or for a lead, not both or neither.")]}
        )
    served = customer if customer is not None else lead.customer
    if not (manages_customer(user, served) or (lead is not None and lead.owner_id == person_id(user))):
        check_customer_access(user, served)  # raises with the reason
    on = on or timezone.localdate()
    leader = leader or (customer.account_manager if customer is not None else lead.owner)
    errors: dict[str, list[str]] = {}
    if leader is None:
        errors["leader"] = [_("The customer has no account manager to lead the team.")]
    elif not leader.is_active or not has_role(leader, ACCOUNT_MANAGER):
        errors["leader"] = [_("The team is led by an active account manager.")]
    unknown = [code for code in specialities if code not in Speciality.values]
    if unknown:
        errors["specialities"] = [
            _("Unknown speciality: %(codes)s.") % {"codes": ", ".join(map(str, unknown))}
        ]
    field, existing = (
        ("customer", ProjectTeam.objects.filter(customer=customer))
        if customer is not None
        else ("lead", ProjectTeam.objects.filter(lead=lead))
    )
    if existing.exists():
        errors[field] = [_("It already has a project team; add members to that one.")]
    if errors:
        raise InvalidInput(errors)
    team = ProjectTeam(
        name=(name or "").strip() or (served.name if customer is not None else str(lead))[:100],
        customer=customer,
        lead=lead,
        leader=leader,
        specialities=sorted(set(specialities)),
        formed_on=on,
        formed_by=person(user),
    )
    rows = [Membership(team=team, person=leader, role=TeamRole.MANAGER, joined_on=on, added_by=person(user))]
    seen = {leader.pk}
    for index, member in enumerate(members):
        if member.person is not None and member.person.pk in seen:
            raise InvalidInput({f"members.{index}": [_("This person is already a member of the team.")]})
        rows.append(
            _new_membership(team, member.person, member.role, member.speciality, on, user, f"members.{index}")
        )
        seen.add(member.person.pk)
    with transaction.atomic():
        try:
            with transaction.atomic():
                team.save()
        except IntegrityError:
            # Formed for the same customer or lead since the check above.
            raise InvalidInput(
                {field: [_("It already has a project team; add members to that one.")]}
            ) from None
        for row in rows:
            row.team = team
        Membership.objects.bulk_create(rows)
    return team


def add_team_member(
    *,
    team: ProjectTeam,
    person_to_add: Any,
    role: str,
    user: Any,
    speciality: str = "",
    on: date | None = None,
) -> Membership:
    """`person_to_add` joins the team on `on` (today by default), in a role; an engineer with their
    speciality (their profile's unless given). Someone who left may rejoin from the day they left."""
    check_project_team_change(user, team)
    on = on or timezone.localdate()
    with transaction.atomic():
        # The team's row serialises its membership changes: the checks below see every spell.
        team = ProjectTeam.objects.select_for_update().get(pk=team.pk)
        membership = _new_membership(team, person_to_add, role, speciality, on, user, "person")
        try:
            with transaction.atomic():
                membership.save()
        except IntegrityError:
            raise InvalidInput({"person": [_("This person is already a member of the team.")]}) from None
    return membership


def remove_team_member(
    *, team: ProjectTeam, person_to_remove: Any, user: Any, on: date | None = None
) -> Membership:
    """`person_to_remove` leaves the team on `on` (today by default): from that day they are no
    longer a member and no longer read the customer through the team. Their spell is kept."""
    check_project_team_change(user, team)
    on = on or timezone.localdate()
    with transaction.atomic():
        team = ProjectTeam.objects.select_for_update().get(pk=team.pk)
        membership = Membership.objects.filter(
            team=team, person=person_to_remove, left_on__isnull=True
        ).first()
        if membership is None:
            raise InvalidInput({"person": [_("This person is not a member of the team.")]})
        if person_to_remove.pk == team.leader_id:
            raise InvalidInput({"person": [_("The leading account manager stays in the team they lead.")]})
        if on < membership.joined_on:
            raise InvalidInput(
                {
                    "left_on": [
                        _("They joined on %(day)s; they cannot leave before.") % {"day": membership.joined_on}
                    ]
                }
            )
        membership.left_on, membership.removed_by = on, person(user)
        membership.save(update_fields=["left_on", "removed_by"])
    return membership


def _new_membership(
    team: ProjectTeam, who: Any, role: str, speciality: str, on: date, user: Any, field: str
) -> Membership:
    """The membership, validated and not yet stored."""
    if who is None or getattr(who, "pk", None) is None or not who.is_active:
        raise InvalidInput({field: [_("Choose an active person.")]})
    if role not in TeamRole.values:
        raise InvalidInput({"role": [_("Choose a role in the team.")]})
    if role == TeamRole.MANAGER and who.pk != team.leader_id:
        raise InvalidInput({"role": [_("Only the leading account manager has this role.")]})
    speciality = speciality or ""
    if role in _SPECIALIST_ROLES and not speciality:
        own = StaffProfile.objects.filter(user=who).values_list("speciality", flat=True).first()
        speciality = own or (Speciality.SOLUTION if role == TeamRole.SOLUTION_EXPERT else "")
    if speciality and speciality not in Speciality.values:
        raise InvalidInput({"speciality": [_("Unknown speciality: %(codes)s.") % {"codes": speciality}]})
    if role == TeamRole.ENGINEER and not speciality:
        raise InvalidInput({"speciality": [_("Say which speciality the engineer brings.")]})
    if role == TeamRole.ENGINEER and team.specialities and speciality not in team.specialities:
        raise InvalidInput({"speciality": [_("The team does not need this speciality.")]})
    if on < team.formed_on:
        raise InvalidInput(
            {
                "joined_on": [
                    _("The team was formed on %(day)s; nobody joins it before.") % {"day": team.formed_on}
                ]
            }
        )
    if team.pk is not None:
        spells = Membership.objects.filter(team=team, person=who)
        if spells.filter(left_on__isnull=True).exists():
            raise InvalidInput({field: [_("This person is already a member of the team.")]})
        last_left = spells.order_by("-left_on").values_list("left_on", flat=True).first()
        if last_left is not None and on < last_left:
            raise InvalidInput(
                {
                    "joined_on": [
                        _("They left on %(day)s; they can rejoin from that day.") % {"day": last_left}
                    ]
                }
            )
    return Membership(
        team=team, person=who, role=role, speciality=speciality, joined_on=on, added_by=person(user)
    )


# --- contributions -------------------------------------------------------------------------------


def record_contribution(
    *,
    who: Any,
    kind: str,
    key: str,
    at: datetime,
    customer: Customer | None = None,
    lead: Lead | None = None,
    visit: Visit | None = None,
    support_request: SupportRequest | None = None,
    hours: Decimal | None = None,
    note: str = "",
    recorded_by: Any = None,
) -> Contribution | None:
    """A contribution of `who` to the team serving the lead (then the customer) they are a member
    of on that day, once per (person, kind, key); None when they are in no such team."""
    membership = serving_membership(who, customer=customer, lead=lead, on=timezone.localdate(at))
    if membership is None:
        return None
    contribution, _created = Contribution.objects.get_or_create(
        person=who,
        kind=kind,
        key=key,
        defaults={
            "team": membership.team,
            "at": at,
            "hours": hours,
            "note": note,
            "visit": visit,
            "support_request": support_request,
            "lead": lead,
            "recorded_by": recorded_by,
        },
    )
    return contribution


def record_support_contribution(request: SupportRequest) -> Contribution | None:
    """The engineer who completed a support request contributed to the team serving it: solution
    design counts as solution work, anything else as a support request."""
    if request.completed_by is None or request.completed_at is None:
        return None
    kind = (
        ContributionKind.SOLUTION_WORK
        if request.kind == SupportRequest.Kind.SOLUTION
        else ContributionKind.SUPPORT_REQUEST
    )
    return record_contribution(
        who=request.completed_by,
        kind=kind,
        key=f"support:{request.pk}",
        at=request.completed_at,
        customer=request.customer,
        lead=request.lead,
        support_request=request,
        hours=request.hours_spent,
    )


def record_visit_support(*, visit: Visit, prepared_by: Any, prepared_at: datetime, attended: bool) -> None:
    """The engineer who prepared a visit (and went along, unless they said they would not) is
    credited with it when they are a member of the customer's team."""
    if prepared_by is None:
        return
    record_contribution(
        who=prepared_by,
        kind=ContributionKind.VISIT_PREPARED,
        key=f"visit:{visit.pk}",
        at=prepared_at,
        customer=visit.customer,
        visit=visit,
    )
    if attended and visit.visited_at is not None:
        record_contribution(
            who=prepared_by,
            kind=ContributionKind.VISIT_ATTENDED,
            key=f"visit:{visit.pk}",
            at=visit.visited_at,
            customer=visit.customer,
            visit=visit,
        )


def record_visit_attendance(*, visit: Visit, attendees: list, user: Any) -> list[Contribution]:
    """The team members who went along on a visit that was made (the manager records it): each a
    contribution, and the reward for attending a visit (`visit_support_attended`)."""
    check_customer_access(user, visit.customer)
    if visit.visited_at is None:
        raise InvalidInput({"attendees": [_("Record who attended once the visit has been made.")]})
    day = timezone.localdate(visit.visited_at)
    outsiders = [
        str(who) for who in attendees if serving_membership(who, customer=visit.customer, on=day) is None
    ]
    if not attendees:
        raise InvalidInput({"attendees": [_("Name who attended.")]})
    if outsiders:
        raise InvalidInput(
            {
                "attendees": [
                    _("Not members of the customer's project team on the day of the visit: %(names)s.")
                    % {"names": ", ".join(outsiders)}
                ]
            }
        )
    from onsite.services.incentives import reward_visit_attendance

    made = []
    with transaction.atomic():
        for who in attendees:
            made.append(
                record_contribution(
                    who=who,
                    kind=ContributionKind.VISIT_ATTENDED,
                    key=f"visit:{visit.pk}",
                    at=visit.visited_at,
                    customer=visit.customer,
                    visit=visit,
                    recorded_by=person(user),
                )
            )
            if who.pk != visit.account_manager_id:
                reward_visit_attendance(visit=visit, attendee=who)
    return made


def record_solution_work(
    *, team: ProjectTeam, who: Any, note: str, hours: Any, at: datetime, user: Any, lead: Lead | None = None
) -> Contribution:
    """Solution work a member did for the team (a proposal, a design): recorded by the member
    themselves or by whoever may change the team."""
    if person_id(user) != getattr(who, "pk", None):
        check_project_team_change(user, team)
    errors: dict[str, list[str]] = {}
    if membership_of(who, team, on=timezone.localdate(at)) is None:
        errors["person"] = [_("This person is not a member of the team on that day.")]
    if not (note or "").strip():
        errors["note"] = [_("Say what was done.")]
    try:
        hours = Decimal(str(hours)) if hours not in (None, "") else None
        if hours is not None and not (Decimal(0) <= hours < Decimal(100000)):
            errors["hours"] = [_("Enter the hours spent, 0 or more.")]
    except (InvalidOperation, ValueError):
        errors["hours"] = [_("Enter the hours spent, 0 or more.")]
    if lead is not None and team.lead_id not in (None, lead.pk):
        errors["lead"] = [_("This lead is not the team's.")]
    if lead is not None and team.customer_id is not None and lead.customer_id != team.customer_id:
        errors["lead"] = [_("This lead is not the team's.")]
    if errors:
        raise InvalidInput(errors)
    return Contribution.objects.create(
        team=team,
        person=who,
        kind=ContributionKind.SOLUTION_WORK,
        key=f"work:{uuid.uuid4().hex}",
        at=at,
        hours=hours,
        note=note.strip(),
        lead=lead or team.lead,
        recorded_by=person(user),
    )


# --- shares of a won lead ------------------------------------------------------------------------


def set_team_share(*, role: str, share: Any, user: Any) -> TeamShareRule:
    """Replace a team role's share of a won lead; records already made keep the share they got."""
    check_role(user, COORDINATOR)
    if role not in TeamRole.values:
        raise InvalidInput({"role": [_("Choose a role in the team.")]})
    try:
        value = Decimal(str(share))
    except (InvalidOperation, ValueError):
        raise InvalidInput({"share": [_("Enter a share between 0 and 1.")]}) from None
    if not (Decimal(0) <= value <= Decimal(1)) or value != value.quantize(Decimal("0.0001")):
        raise InvalidInput({"share": [_("Enter a share between 0 and 1.")]})
    with transaction.atomic():
        TeamShareRule.objects.select_for_update().filter(role=role, active=True).update(active=False)
        return TeamShareRule.objects.create(role=role, share=value, created_by=person(user))


@dataclass(frozen=True)
class Share:
    person: Any
    role: str
    share: Decimal


def won_lead_shares(lead: Lead, *, at: datetime) -> list[Share]:
    """Who shares the award of a won lead, and how much of it, when a team serves it (the lead's
    own team, else the customer's); empty without a team. The sharers: the lead's owner (as the
    leading manager), and every member in force on the day won who contributed to the team while
    the lead was open. Each role's rule share is scaled so the roles present add up to the whole,
    then split equally among that role's sharers."""
    teams = teams_serving(lead=lead)
    if not teams:
        return []
    team = teams[0]
    day = timezone.localdate(at)
    contributed = set(
        Contribution.objects.filter(team=team, at__gte=lead.created_at, at__lte=at).values_list(
            "person_id", flat=True
        )
    )
    roles: dict[int, tuple[Any, str]] = {lead.owner_id: (lead.owner, TeamRole.MANAGER)}
    for membership in Membership.objects.filter(active_on(day), team=team).select_related("person"):
        if membership.person_id not in roles and membership.person_id in contributed:
            roles[membership.person_id] = (membership.person, membership.role)
    rules = {r.role: r.share for r in TeamShareRule.objects.filter(active=True)}
    counts: dict[str, int] = {}
    for _who, role in roles.values():
        counts[role] = counts.get(role, 0) + 1
    total = sum((rules.get(role, Decimal(0)) for role in counts), Decimal(0))
    if total == 0:
        return [Share(lead.owner, TeamRole.MANAGER, Decimal(1))]
    return [
        Share(who, role, rules.get(role, Decimal(0)) / total / counts[role])
        for _pk, (who, role) in sorted(roles.items())
    ]


def reward_team_win(lead: Lead, *, at: datetime) -> bool:
    """Award each sharer their part of the won lead (`lead_won`, with the share on the record);
    False when no team serves the lead, for the caller to award the owner the whole as before."""
    shares = won_lead_shares(lead, at=at)
    if not shares:
        return False
    for part in shares:
        award(
            IncentiveEvent.LEAD_WON,
            person=part.person,
            key=f"lead:{lead.pk}",
            description=_("Share of a won lead (%(role)s, %(percent)s%%): %(lead)s")
            % {"role": TeamRole(part.role).label, "percent": f"{part.share * 100:.2f}", "lead": lead},
            at=at,
            urgency=lead.urgency,
            value=lead.won_value,
            share=part.share,
            customer=lead.customer,
            lead=lead,
        )
    return True
