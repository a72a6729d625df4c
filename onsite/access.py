"""Who may read or change what. Every domain service that changes a customer's records checks here
first, and every selector filters by the same rules.

Each rule is written once, as a filter; the yes/no answer for one record is "the record is in what
the filter selects", so a list can never show what a check would refuse, nor hide what it allows.

Customers:
- change: the customer's account manager, the leader of that manager's team, coordinators.
- read: those, plus leadership (every customer), support staff (the customers of the visits and
  support requests they are named on) and the active members of a project team serving the customer
  (its own team or one of its leads' teams; only while the membership is in force).
Project teams:
- change (members join and leave): the team's leading account manager, the leader of that manager's
  team, coordinators.
People (their statements, their row on a short board): themselves, the leader of their team,
coordinators and leadership.
A team's desk (its review queue, comparison, funnel and warnings): its leader, coordinators and
leadership (read only: what the desk changes goes through the task pages' own checks).
Reports (their pages and downloads): as what each is about — a visit report as its customer, an
incentive statement as its person, a monthly report as its team's desk (coordinators and
leadership every one, a team leader those of a team they lead).
Programmes (their pages; setting them up and enrolling is the coordinators', `onsite.services.programmes`):
coordinators and leadership read every programme and enrolment; a team leader the enrolments of the
customers they may read, and the programmes holding one; nobody else any.

Superusers and the system itself (a BPMN service task run by a timer, a background job:
`workflows.actors.SYSTEM`) read and change everything. `None` is nobody, and an inactive user no
longer anybody: they pass no check and select nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from onsite.exceptions import NotPermitted
from onsite.roles import COORDINATOR, LEADERSHIP, TEAM_LEADER
from workflows.actors import is_system

# What a scope is when it selects every row: no filter at all.
EVERYTHING = None
NOTHING = Q(pk__in=[])

READ, CHANGE = "read", "change"


def role_names(user: Any) -> set[str]:
    # Asked once per user object (one request), like Django's own permission cache.
    if not hasattr(user, "_onsite_roles"):
        user._onsite_roles = set(user.groups.values_list("name", flat=True))
    return user._onsite_roles


def has_role(user: Any, *roles: str) -> bool:
    if is_system(user):
        return True
    if user is None or not user.is_active:
        return False
    return user.is_superuser or bool(role_names(user) & set(roles))


def check_role(user: Any, *roles: str) -> None:
    if not has_role(user, *roles):
        raise NotPermitted()


# --- customers -----------------------------------------------------------------------------------


def customer_scope(user: Any, *, to: str = READ, through: str = "") -> Q | None:
    """The customers `user` may read (`to=READ`) or change (`to=CHANGE`), as a filter on the
    customer reached by the lookup path `through` ("" on customers themselves, "customer" on their
    leads, "visit__customer" on summaries); `EVERYTHING` (None) when no filter is needed."""
    if to not in (READ, CHANGE):
        raise ValueError(f"unknown access {to!r}")
    if is_system(user):
        return EVERYTHING
    if user is None or not user.is_active:
        return NOTHING
    roles = role_names(user)
    if user.is_superuser or COORDINATOR in roles or (to == READ and LEADERSHIP in roles):
        return EVERYTHING
    path = f"{through}__" if through else ""
    scope = Q(**{f"{path}account_manager": user}) | Q(
        **{f"{path}account_manager__staff_profile__team__leader": user}
    )
    if to == READ:
        from onsite.models import SupportRequest, Visit

        # Subqueries rather than joins, so a customer is listed once however many visits name them.
        scope |= Q(**{f"{path}pk__in": Visit.objects.filter(support_staff=user).values("customer_id")})
        scope |= Q(**{f"{path}pk__in": SupportRequest.objects.filter(assignee=user).values("customer_id")})
        from onsite.selectors.project_teams import team_customer_ids, today

        for customer_ids in team_customer_ids(user, on=today()):
            scope |= Q(**{f"{path}pk__in": customer_ids})
    return scope


def scoped(queryset: QuerySet, scope: Q | None) -> QuerySet:
    if scope is EVERYTHING:
        return queryset
    if scope is NOTHING:
        return queryset.none()
    return queryset.filter(scope)


def customers_visible_to(user: Any) -> QuerySet:
    from onsite.models import Customer

    return scoped(Customer.objects.all(), customer_scope(user, to=READ))


def customers_managed_by(user: Any) -> QuerySet:
    from onsite.models import Customer

    return scoped(Customer.objects.all(), customer_scope(user, to=CHANGE))


def sees_customer(user: Any, customer: Any) -> bool:
    """Whether `customer` is among `customers_visible_to(user)`."""
    from onsite.models import Customer

    return _selects(Customer, customer_scope(user, to=READ), customer)


def manages_customer(user: Any, customer: Any) -> bool:
    """Whether `customer` is among `customers_managed_by(user)`: the customer's account manager,
    their team leader, a coordinator (or the system)."""
    from onsite.models import Customer

    return _selects(Customer, customer_scope(user, to=CHANGE), customer)


def check_customer_access(user: Any, customer: Any) -> None:
    """Refuse unless `user` may change the customer's records."""
    if not manages_customer(user, customer):
        raise NotPermitted(
            _("%(user)s does not look after customer %(customer)s.")
            % {"user": user, "customer": customer.name}
        )


def check_customer_read(user: Any, customer: Any) -> None:
    if not sees_customer(user, customer):
        raise NotPermitted(
            _("%(user)s may not read the records of customer %(customer)s.")
            % {"user": user, "customer": customer.name}
        )


# --- project teams -------------------------------------------------------------------------------


def project_team_scope(user: Any) -> Q | None:
    """The project teams whose membership `user` may change: those they lead, those led by a
    manager of the team they lead; every team for coordinators, superusers and the system."""
    if is_system(user):
        return EVERYTHING
    if user is None or not user.is_active:
        return NOTHING
    if user.is_superuser or COORDINATOR in role_names(user):
        return EVERYTHING
    return Q(leader=user) | Q(leader__staff_profile__team__leader=user)


def manages_project_team(user: Any, team: Any) -> bool:
    from onsite.models import ProjectTeam

    return _selects(ProjectTeam, project_team_scope(user), team)


def check_project_team_change(user: Any, team: Any) -> None:
    if not manages_project_team(user, team):
        raise NotPermitted(
            _("%(user)s may not change the members of project team %(team)s.") % {"user": user, "team": team}
        )


# --- people --------------------------------------------------------------------------------------


def people_scope(user: Any, *, through: str = "") -> Q | None:
    """The people whose own records (statements, indicators) `user` may read, as a filter on the
    user reached by `through` ("" on users, "person" on incentive records); `EVERYTHING` or a Q."""
    if is_system(user):
        return EVERYTHING
    if user is None or not user.is_active:
        return NOTHING
    if user.is_superuser or role_names(user) & {COORDINATOR, LEADERSHIP}:
        return EVERYTHING
    path = f"{through}__" if through else ""
    return Q(**{f"{path}pk": user.pk}) | Q(**{f"{path}staff_profile__team__leader": user})


def people_visible_to(user: Any) -> QuerySet:
    from django.contrib.auth import get_user_model

    return scoped(get_user_model().objects.all(), people_scope(user))


def sees_person(user: Any, someone: Any) -> bool:
    """Whether `someone` is among `people_visible_to(user)`."""
    from django.contrib.auth import get_user_model

    return _selects(get_user_model(), people_scope(user), someone)


def check_person_read(user: Any, someone: Any) -> None:
    if not sees_person(user, someone):
        raise NotPermitted(
            _("%(user)s may not read the records of %(person)s.") % {"user": user, "person": someone}
        )


# --- teams ---------------------------------------------------------------------------------------


def team_scope(user: Any) -> Q | None:
    """The teams whose comparisons (the short board) `user` may read: the team they lead or belong
    to; every team for coordinators, leadership, superusers and the system."""
    if is_system(user):
        return EVERYTHING
    if user is None or not user.is_active:
        return NOTHING
    if user.is_superuser or role_names(user) & {COORDINATOR, LEADERSHIP}:
        return EVERYTHING
    from onsite.models import StaffProfile

    return Q(leader=user) | Q(pk__in=StaffProfile.objects.filter(user=user).values("team_id"))


def sees_team(user: Any, team: Any) -> bool:
    from onsite.models import Team

    return _selects(Team, team_scope(user), team)


def check_team_read(user: Any, team: Any) -> None:
    if not sees_team(user, team):
        raise NotPermitted(
            _("%(user)s may not read the records of team %(team)s.") % {"user": user, "team": team}
        )


def desk_team_scope(user: Any) -> Q | None:
    """The teams whose desk (review queue, team page, warnings) `user` may open: the team they lead;
    every team for coordinators, leadership, superusers and the system. Not a team's members: a
    manager reads their own row of the team's comparison, never the leader's desk."""
    if is_system(user):
        return EVERYTHING
    if user is None or not user.is_active:
        return NOTHING
    roles = role_names(user)
    if user.is_superuser or roles & {COORDINATOR, LEADERSHIP}:
        return EVERYTHING
    if TEAM_LEADER in roles:
        return Q(leader=user)
    return NOTHING


def desk_teams(user: Any) -> QuerySet:
    from onsite.models import Team

    return scoped(Team.objects.all(), desk_team_scope(user))


def check_desk_read(user: Any, team: Any) -> None:
    from onsite.models import Team

    if not _selects(Team, desk_team_scope(user), team):
        raise NotPermitted(
            _("%(user)s may not open the desk of team %(team)s.") % {"user": user, "team": team}
        )


# --- programmes ----------------------------------------------------------------------------------


def enrolment_scope(user: Any) -> Q | None:
    """The enrolments whose pages `user` may read, as a filter on enrolments."""
    if is_system(user):
        return EVERYTHING
    if user is None or not user.is_active:
        return NOTHING
    roles = role_names(user)
    if user.is_superuser or roles & {COORDINATOR, LEADERSHIP}:
        return EVERYTHING
    if TEAM_LEADER in roles:
        return customer_scope(user, to=READ, through="customer")
    return NOTHING


def enrolments_visible_to(user: Any) -> QuerySet:
    from onsite.models import Enrolment

    return scoped(Enrolment.objects.all(), enrolment_scope(user))


def programme_scope(user: Any) -> Q | None:
    """The programmes whose pages `user` may read: every one for coordinators and leadership, those
    holding an enrolment they may read for a team leader."""
    scope = enrolment_scope(user)
    if scope is EVERYTHING or scope is NOTHING:
        return scope
    return Q(pk__in=enrolments_visible_to(user).values("programme_id"))


def programmes_visible_to(user: Any) -> QuerySet:
    from onsite.models import Programme

    return scoped(Programme.objects.all(), programme_scope(user))


# --- reports -------------------------------------------------------------------------------------


def report_scope(user: Any) -> Q | None:
    """The reports `user` may read and download, one rule per kind, each derived from the rule of
    what the report is about: a visit report as its customer (`customer_scope` READ), an incentive
    statement as its person (`people_scope`), a monthly report as the team's desk
    (`desk_team_scope`: coordinators and leadership every one, a team leader those of a team they
    lead, nobody else any)."""
    from onsite.models import ReportKind, Team

    if is_system(user):
        return EVERYTHING
    if user is None or not user.is_active:
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    teams = desk_team_scope(user)
    monthly = teams if teams is EVERYTHING else Q(team__in=scoped(Team.objects.all(), teams).values("pk"))
    rules = (
        (ReportKind.VISIT, customer_scope(user, to=READ, through="customer")),
        (ReportKind.INCENTIVE_STATEMENT, people_scope(user, through="person")),
        (ReportKind.MONTHLY, monthly),
    )
    allowed = [
        Q(kind=kind) if rule is EVERYTHING else Q(kind=kind) & rule
        for kind, rule in rules
        if rule is not NOTHING
    ]
    if not allowed:
        return NOTHING
    scope = allowed[0]
    for rule in allowed[1:]:
        scope |= rule
    return scope


def reports_visible_to(user: Any) -> QuerySet:
    from onsite.models import Report

    return scoped(Report.objects.all(), report_scope(user))


def sees_report(user: Any, report: Any) -> bool:
    """Whether `report` is among `reports_visible_to(user)`."""
    from onsite.models import Report

    return _selects(Report, report_scope(user), report)


def _selects(model: Any, scope: Q | None, row: Any) -> bool:
    """Whether the filter `scope` selects the stored `row`: the yes/no answer derived from the list."""
    if row is None or row.pk is None or scope is NOTHING:
        return False
    if scope is EVERYTHING:
        return True
    return model.objects.filter(scope, pk=row.pk).exists()


# --- tasks ---------------------------------------------------------------------------------------

WORK = "work"


def task_access(user: Any, task: Any, customer: Any = None) -> str | None:
    """What `user` may do with a human task: `WORK` it (the engine's rule, `workflows.access`),
    `READ` it, or nothing (None). Read: the person who completed it, coordinators, and whoever
    reads the records of the customer it is about (`customer`, the one its process's business key
    names; None for processes about a person or a team). A manager opening another manager's task
    gets nothing, like their customer."""
    from workflows.access import can_work_on

    if task.status == task.Status.OPEN and can_work_on(user, task):
        return WORK
    if user is None or not user.is_active:
        return None
    if task.completed_by_id == user.pk or user.is_superuser or COORDINATOR in role_names(user):
        return READ
    if customer is not None and sees_customer(user, customer):
        return READ
    return None
