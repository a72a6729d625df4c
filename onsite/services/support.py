"""Support requests: 需求单 (requested) → 调度单 (dispatched to a support engineer) → 竣工单
(completed with a result), then confirmed by the account manager who asked. Each runs the
`support_request` process; its service tasks call the functions below."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, Count, Q, When
from django.utils import timezone
from django.utils.translation import gettext as _

from onsite.access import check_customer_access
from onsite.exceptions import InvalidInput, OnsiteError
from onsite.models import Customer, IncentiveEvent, Region, SupportOutcome, SupportRequest, Visit
from onsite.roles import SUPPORT_STAFF
from onsite.selectors.project_teams import team_member_for
from onsite.services.customers import validate, validate_fields
from onsite.services.incentives import award
from onsite.services.processes import start_domain_process
from onsite.services.project_teams import record_support_contribution
from onsite.thresholds import threshold
from workflows import clock
from workflows.actors import person
from workflows.exceptions import WorkflowError
from workflows.selectors import open_tasks
from workflows.services import reassign_task, reschedule_task

SUPPORT_PROCESS = "support_request"
# A request is due at the end of the working day of its due date.
DUE_TIME = time(18, 0)
# The support request diagram's task in which the engineer works the request.
HANDLING_TASK = "Task_handle_support"
# The team leader's choices for an overdue request that change something (also "reminded").
ESCALATION_REASSIGN, ESCALATION_EXTEND = "reassigned", "rescheduled"
# Engineers offered to the team leader: enough for any branch, bounded for the task's data.
MAX_CANDIDATES = 200


def request_support(
    *,
    customer: Customer,
    kind: str,
    speciality: str,
    description: str,
    due_date: date,
    user: Any,
    requested_by: Any = None,
    source_visit: Visit | None = None,
    source_need: Any = None,
    lead: Any = None,
) -> SupportRequest:
    """A 需求单 from the customer's account manager (or from an approved visit summary, `user=SYSTEM`)."""
    check_customer_access(user, customer)
    # A summary's need was dated when the summary was written; it is due at once if that has passed.
    if source_need is None:
        check_due_date(due_date, field="due_date")
    request = new_support_request(
        customer=customer,
        kind=kind,
        speciality=speciality,
        description=description,
        due_date=due_date,
        requested_by=requested_by or person(user),
        source_visit=source_visit,
        source_need=source_need,
        lead=lead,
    )
    validate(request)
    with transaction.atomic():
        request.save()
        request.instance = _start_process(request)
        request.save(update_fields=["instance"])
    return request


def request_support_for_needs(requests: list[SupportRequest], *, user: Any) -> None:
    """Store the requests an approved summary's resource needs make (`new_support_request`, one
    customer's) as `request_support` stores one, in a fixed number of statements however many
    (besides the process each starts)."""
    if not requests:
        return
    if len({r.customer_id for r in requests}) != 1:
        raise OnsiteError(_("Support requests stored together are one customer's."))
    check_customer_access(user, requests[0].customer)
    for request in requests:
        validate_fields(request)
    with transaction.atomic():
        SupportRequest.objects.bulk_create(requests)
        for request in requests:
            request.instance = _start_process(request)
        SupportRequest.objects.bulk_update(requests, ["instance"])


def new_support_request(
    *, customer: Customer, requested_by: Any, description: str, **values: Any
) -> SupportRequest:
    """The request, not yet stored (`request_support`, `request_support_for_needs` store it)."""
    if requested_by is None:
        raise OnsiteError(_("A support request needs the person who asks for it."))
    return SupportRequest(
        customer=customer,
        description=(description or "").strip(),
        requested_by=requested_by,
        requested_at=timezone.now(),
        **values,
    )


def _start_process(request: SupportRequest) -> Any:
    return start_domain_process(
        SUPPORT_PROCESS,
        business_key=request.customer.code,
        user=request.requested_by,
        data=support_request_data(request),
    )


def support_request_data(request: SupportRequest) -> dict:
    """The start data of a support request's process."""
    return {
        "support_request_id": request.pk,
        "customer_id": request.customer.pk,
        "customer_name": request.customer.name,
        "kind": request.kind,
        "speciality": request.speciality,
        "description": request.description,
        "due_date": request.due_date.isoformat(),
    }


def check_due_date(due_date: Any, *, field: str) -> None:
    """A date a person sets for support work cannot already be over (today is fine)."""
    # The engine's clock, so that the date is checked against the day the diagrams' scripts see.
    if isinstance(due_date, date) and due_date < timezone.localtime(clock.now()).date():
        raise InvalidInput({field: [_("The date cannot be in the past.")]})


def choose_support_staff(*, speciality: str, customer: Customer, lead: Any = None) -> Any:
    """A member of that speciality of the project team serving the lead or the customer; failing
    that, the active support engineer of that speciality nearest the customer (its region, then its
    branch, then anywhere) with the fewest open assignments; None when there is nobody."""
    if not speciality:
        return None
    member = team_member_for(speciality=speciality, customer=customer, lead=lead)
    if member is not None:
        return member
    User = get_user_model()
    candidates = (
        User.objects.filter(is_active=True, groups__name=SUPPORT_STAFF, staff_profile__speciality=speciality)
        .select_related("staff_profile")
        .annotate(
            load=Count(
                "support_assignments",
                filter=Q(support_assignments__status=SupportRequest.Status.DISPATCHED),
                distinct=True,
            )
            + Count(
                "supported_visits",
                filter=Q(supported_visits__status=Visit.Status.PLANNED),
                distinct=True,
            )
        )
    )
    region = customer.region
    branch = region.parent_id or region.pk
    same_branch = set(Region.objects.within(branch).values_list("pk", flat=True))

    def distance(user: Any) -> int:
        place = user.staff_profile.region_id
        return 0 if place == region.pk else 1 if place in same_branch else 2

    ranked = sorted(candidates, key=lambda u: (distance(u), u.load, u.username))
    return ranked[0] if ranked else None


def dispatch_support_request(*, request: SupportRequest, at: datetime) -> dict:
    """调度单: send the request to a support engineer (the team leader can reassign the task)."""
    if request.status == SupportRequest.Status.REQUESTED:
        request.assignee = choose_support_staff(
            speciality=request.speciality, customer=request.customer, lead=request.lead
        )
        request.status = SupportRequest.Status.DISPATCHED
        request.dispatched_at = at
        request.save(update_fields=["assignee", "status", "dispatched_at"])
    due_at = due_moment(request.due_date)
    return {
        "assignee": request.assignee.get_username() if request.assignee else "",
        "due_at": max(due_at, at).isoformat(),
    }


def complete_support_request(
    *, request: SupportRequest, result: str, hours_spent: Any, actor: Any, at: datetime
) -> SupportRequest:
    """竣工单: the support engineer's result, which the account manager then sees and confirms."""
    if request.status not in (SupportRequest.Status.DISPATCHED, SupportRequest.Status.COMPLETED):
        raise OnsiteError(_("This support request is not waiting for a result."))
    request.result = result
    request.hours_spent = Decimal(str(hours_spent)) if hours_spent is not None else None
    request.completed_by = person(actor) or request.assignee
    request.completed_at = at
    request.status = SupportRequest.Status.COMPLETED
    request.save()
    # A result given again before the manager has judged it (a retried task) replaces that round's.
    latest = request.outcomes.order_by("-round").first()
    judged = latest is None or latest.resolved is not None
    SupportOutcome.objects.update_or_create(
        request=request,
        round=(latest.round if latest else 0) + (1 if judged else 0),
        defaults={
            "result": result,
            "hours_spent": request.hours_spent,
            "completed_by": request.completed_by,
            "completed_at": at,
        },
    )
    if request.completed_by is not None:
        award(
            IncentiveEvent.SUPPORT_COMPLETED,
            person=request.completed_by,
            key=f"support:{request.pk}",
            description=_("Support request completed for %(customer)s") % {"customer": request.customer},
            at=at,
            customer=request.customer,
            support_request=request,
        )
        record_support_contribution(request)
    return request


def confirm_support_request(
    *,
    request: SupportRequest,
    feedback: str,
    at: datetime,
    resolved: bool = True,
    due_date: date | None = None,
) -> SupportRequest:
    """The manager's verdict on the latest result. Resolved: the request is done. Not resolved: it
    goes back to dispatch, due on `due_date`, and the outcome stays in its history."""
    if request.status != SupportRequest.Status.COMPLETED:
        raise OnsiteError(_("This support request has no result waiting for confirmation."))
    if not resolved:
        if due_date is None:
            raise InvalidInput({"reopen_due_date": [_("Say by when the need must now be met.")]})
        check_due_date(due_date, field="reopen_due_date")
    outcome = request.outcomes.order_by("-round").first()
    if outcome is not None:
        outcome.resolved, outcome.manager_feedback, outcome.confirmed_at = resolved, feedback, at
        outcome.save(update_fields=["resolved", "manager_feedback", "confirmed_at"])
    request.manager_feedback = feedback
    if resolved:
        request.confirmed_at = at
        request.status = SupportRequest.Status.CONFIRMED
        request.save(update_fields=["manager_feedback", "confirmed_at", "status"])
    else:
        # Reopened: the dispatch chooses an engineer again; the result stays with its outcome.
        request.status, request.due_date = SupportRequest.Status.REQUESTED, due_date
        request.save(update_fields=["manager_feedback", "status", "due_date"])
    return request


def escalation_options(*, request: SupportRequest, at: datetime) -> dict:
    """What the team leader chooses from when the request is overdue: whether it still waits for
    its engineer past its due date, and the support engineers it can be handed to (active, the
    speciality first). A request reopened with a later date since the escalation began is not
    overdue: its new dispatch has its own deadline and escalation."""
    User = get_user_model()
    staff = (
        User.objects.filter(is_active=True, groups__name=SUPPORT_STAFF)
        .annotate(
            other=Case(When(staff_profile__speciality=request.speciality, then=0), default=1),
        )
        .order_by("other", "username")
        .values_list("username", flat=True)[:MAX_CANDIDATES]
    )
    return {
        "open": request.status == SupportRequest.Status.DISPATCHED and due_moment(request.due_date) <= at,
        "engineers": list(staff),
        "assignee": request.assignee.get_username() if request.assignee else "",
    }


def act_on_escalation(
    *,
    request: SupportRequest,
    instance: Any,
    action: str,
    reassign_to: str = "",
    new_due_date: date | None = None,
    actor: Any,
    at: datetime,
) -> dict:
    """Do what the team leader chose for an overdue request: hand the open work to the person
    picked, or give it a new due date. The result says when to check again (`due_at`, empty when
    there is nothing to wait for): the escalation comes back if the new date passes too, or, after
    a reminder or a hand-over, if the work is still not done a follow-up period later."""
    if request.status != SupportRequest.Status.DISPATCHED:
        return {"action": action, "due_at": ""}  # done meanwhile: nothing left to chase
    follow_up = at + timedelta(hours=threshold("ESCALATION_FOLLOW_UP_HOURS"))
    if action in (ESCALATION_REASSIGN, ESCALATION_EXTEND) and person(actor) is None:
        raise OnsiteError(_("Only a team leader can reassign or reschedule support work."))
    tasks = open_tasks(instance, HANDLING_TASK)
    if action == ESCALATION_REASSIGN:
        engineer = get_user_model().objects.filter(username=reassign_to, is_active=True).first()
        if engineer is None:
            raise InvalidInput({"reassign_to": [_("Choose an active support engineer.")]})
        try:
            for task in tasks:
                reassign_task(task_id=task.pk, to_user=engineer, user=actor)
        except WorkflowError as exc:
            raise OnsiteError(str(exc)) from None
        request.assignee = engineer
        request.save(update_fields=["assignee"])
        return {"action": action, "due_at": follow_up.isoformat()}
    if action == ESCALATION_EXTEND:
        if new_due_date is None:
            raise InvalidInput({"new_due_date": [_("Give the new due date.")]})
        check_due_date(new_due_date, field="new_due_date")
        due_at = max(due_moment(new_due_date), at)
        try:
            for task in tasks:
                reschedule_task(task_id=task.pk, due_at=due_at, user=actor)
        except WorkflowError as exc:
            raise OnsiteError(str(exc)) from None
        request.due_date = new_due_date
        request.save(update_fields=["due_date"])
        return {"action": action, "due_at": due_at.isoformat()}
    return {"action": action, "due_at": follow_up.isoformat()}


def due_moment(due_date: date) -> datetime:
    return timezone.make_aware(datetime.combine(due_date, DUE_TIME))
