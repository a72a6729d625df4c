"""Who works a task in the on-site processes: not everyone with the role, but the person the
customer's records name — its account manager, that manager's team leader, the support engineer
dispatched, the programme's coordinator; an appraisal's reviewer and the person appraised.
Registered with the engine in `OnsiteConfig.ready`.

The role is the one the engine gives the task (`AssignmentRequest.role`: its lane's `LaneRole`
mapping, seeded from `onsite.roles` by a migration and editable in the admin), so a lane remapped
there sends the task to the new role and to that role's person alike."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from onsite.models import (
    Appraisal,
    Customer,
    Enrolment,
    IncentiveReview,
    Lead,
    RenewalTarget,
    Speciality,
    StaffProfile,
    SupportRequest,
    Visit,
    WinBackTarget,
)
from onsite.roles import ACCOUNT_MANAGER, COORDINATOR, SUPPORT_STAFF, TEAM_LEADER
from onsite.selectors.project_teams import team_member_for
from workflows.assignment import AssignmentRequest

# The records a task's data may name its person by; data naming none of them names nobody.
_RECORD_KEYS = (
    "appraisal_id",
    "lead_id",
    "support_request_id",
    "target_id",
    "customer_id",
    "review_id",
    "visit",
    "enrolment_id",
)


def resolve_assignee(request: AssignmentRequest) -> Any:
    data = request.data
    if not any(key in data for key in _RECORD_KEYS):
        return None  # nothing to look up: not even the role is read
    role = request.role
    appraisal = _get(Appraisal, "person", data.get("appraisal_id"), "reviewer")
    if appraisal is not None:
        return appraised(appraisal, role)
    if role == ACCOUNT_MANAGER:
        return account_manager(data)
    if role == TEAM_LEADER:
        review = _get(IncentiveReview, "team", data.get("review_id"))
        if review is not None:
            return review.team.leader
        return team_leader_of(account_manager(data))
    if role == SUPPORT_STAFF:
        return support_engineer(data)
    if role == COORDINATOR:
        enrolment = _get(Enrolment, "programme__coordinator", data.get("enrolment_id"))
        return enrolment.programme.coordinator if enrolment is not None else None
    return None


def support_engineer(data: dict) -> Any:
    """The engineer the support request was dispatched to (or the visit's support staff): the
    dispatch chose them from the customer's or lead's project team first
    (`onsite.services.support.choose_support_staff`), and a team leader may have handed the work on
    since. Work dispatched to nobody goes to a project team member of the speciality it needs, if
    the team has one; otherwise it stays in the pool."""
    request = _get(SupportRequest, "assignee", data.get("support_request_id"))
    if request is not None:
        return request.assignee or team_member_for(
            speciality=request.speciality, customer=request.customer, lead=request.lead
        )
    visit = data.get("visit")
    found = _get(Visit, "support_staff", visit.get("visit_id") if isinstance(visit, dict) else None)
    if found is None:
        return None
    return found.support_staff or team_member_for(
        speciality=found.support_speciality, customer=found.customer
    )


def appraised(appraisal: Appraisal, role: str) -> Any:
    """An appraisal's tasks: the team leader's review to the reviewer, a dispute to the coordinators'
    pool, and the rest (the response) to the person appraised, whatever their role."""
    if role == TEAM_LEADER:
        return appraisal.reviewer
    if role == COORDINATOR:
        return None
    return appraisal.person


def speciality_refusal(user: Any, task: Any) -> Any:
    """A support task left in the pool is for engineers of the speciality it needs: another
    engineer works it only when the team leader (the dispatcher) assigns it to them."""
    if task.role is None or task.role.name != SUPPORT_STAFF:
        return None
    needed = speciality_needed(task.instance_id)
    if not needed:
        return None
    own = StaffProfile.objects.filter(user=user).values_list("speciality", flat=True).first()
    if own == needed:
        return None
    return _(
        "This work needs the speciality %(speciality)s; only the team leader can give it to someone else."
    ) % {"speciality": Speciality(needed).label}


def speciality_admits(user: Any) -> Q:
    """`speciality_refusal` as a filter on `HumanTask`: the pool tasks it lets `user` take, so a
    list (the inbox's pool, its counts) selects them in one query whatever the number of tasks. The
    two must agree (tests/onsite/test_assignment_filter.py)."""
    if not hasattr(user, "_onsite_speciality"):  # asked once per user object (one request)
        user._onsite_speciality = (
            StaffProfile.objects.filter(user=user).values_list("speciality", flat=True).first() or ""
        )
    fits = ["", user._onsite_speciality]
    requests = SupportRequest.objects.filter(instance_id=OuterRef("instance_id"))
    visits = Visit.objects.filter(instance_id=OuterRef("instance_id"))
    needs_none_or_own = Exists(requests.filter(speciality__in=fits)) | (
        ~Exists(requests) & ~Exists(visits.exclude(support_speciality__in=fits))
    )
    return ~Q(role__name=SUPPORT_STAFF) | Q(role__isnull=True) | needs_none_or_own


def speciality_needed(instance_id: int) -> str:
    """The speciality the instance's support work needs: its support request's, or its visit's."""
    found = SupportRequest.objects.filter(instance_id=instance_id).values_list("speciality", flat=True)
    for speciality in found:
        return speciality
    return (
        Visit.objects.filter(instance_id=instance_id).values_list("support_speciality", flat=True).first()
        or ""
    )


def account_manager(data: dict) -> Any:
    """The lead's owner, the manager who asked for the support, the win-back or renewal target's
    manager, or the customer's own account manager."""
    lead = _get(Lead, "owner", data.get("lead_id"))
    if lead is not None:
        return lead.owner
    request = _get(SupportRequest, "requested_by", data.get("support_request_id"))
    if request is not None:
        return request.requested_by
    for model, key in ((WinBackTarget, "target_id"), (RenewalTarget, "renewal_id")):
        target = _get(model, "account_manager", data.get(key))
        if target is not None and target.account_manager is not None:
            return target.account_manager
    customer = _get(Customer, "account_manager", data.get("customer_id"))
    return customer.account_manager if customer is not None else None


def team_leader_of(user: Any) -> Any:
    if user is None:
        return None
    profile = StaffProfile.objects.select_related("team__leader").filter(user=user).first()
    return profile.team.leader if profile is not None and profile.team is not None else None


def _get(model, related: str, pk: Any, *more: str) -> Any:
    """The record with id `pk` and the related person, in one query; no query (none is even built)
    when `pk` is not an id."""
    if isinstance(pk, bool) or not isinstance(pk, int):
        return None
    return model.objects.select_related(related, *more).filter(pk=pk).first()
