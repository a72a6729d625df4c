"""Support requests: 需求单 (requested) → 调度单 (dispatched to a support engineer) → 竣工单
(completed with a result), then confirmed by the account manager who asked. Each runs the
`support_request` process; its service tasks call the functions below."""

from __future__ import annotations

from collections.abc import Iterable
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
from onsite.selectors.standards import standard_in_effect
from onsite.services.customers import validate, validate_fields
from onsite.services.incentives import award
from onsite.services.notices import after_commit, notify_support_dispatched
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
# What a timer found late: nobody took the request up within the response time, or the work is
# not done by its due time.
LATE_RESPONSE, LATE_COMPLETION = "response", "completion"
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
    customer's) as `request_support` stores one, in a fixed number of statements however many,
    their processes not yet started (`start_support_processes`, after the storing committed)."""
    if not requests:
        return
    if len({r.customer_id for r in requests}) != 1:
        raise OnsiteError(_("Support requests stored together are one customer's."))
    check_customer_access(user, requests[0].customer)
    for request in requests:
        validate_fields(request)
    SupportRequest.objects.bulk_create(requests)


def start_support_processes(requests: Iterable[SupportRequest]) -> int:
    """Start the process of each request that has none yet; how many were started. The caller
    serializes concurrent calls (holds the lock of what the requests came from)."""
    started = [request for request in requests if request.instance_id is None]
    for request in started:
        request.instance = _start_process(request)
    SupportRequest.objects.bulk_update(started, ["instance"])
    return len(started)


def new_support_request(
    *, customer: Customer, requested_by: Any, description: str, standard: Any = None, **values: Any
) -> SupportRequest:
    """The request, not yet stored (`request_support`, `request_support_for_needs` store it), with
    the service level of the customer's tier as it stands now: its dispatch priority and the time by
    which an engineer must take it up (`standard`: that standard, when the caller has read it already).
    A later change of tier or standard leaves these as they are."""
    if requested_by is None:
        raise OnsiteError(_("A support request needs the person who asks for it."))
    now = clock.now()
    standard = standard or standard_in_effect(customer.tier, at=now)
    request = SupportRequest(
        customer=customer,
        description=(description or "").strip(),
        requested_by=requested_by,
        requested_at=now,
        service_standard=standard,
        dispatch_priority=standard.dispatch_priority,
        respond_by=now + timedelta(hours=standard.support_response_hours),
        **values,
    )
    if isinstance(request.due_date, date):
        # Done by the day asked, or within the standard's completion time if that comes first.
        request.complete_by = min(
            due_moment(request.due_date), now + timedelta(hours=standard.support_completion_hours)
        )
    return request


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
        # The response timer's moment (the standard's response time after the request was made).
        "respond_by": (request.respond_by or request.requested_at).isoformat(),
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
    """调度单: send the request to a support engineer (the team leader can reassign the task). The
    work is due (`due_at`, the completion timer's moment) by the date asked, or sooner when the
    request's service standard promised completion within fewer hours of the request."""
    if request.status == SupportRequest.Status.REQUESTED:
        request.assignee = choose_support_staff(
            speciality=request.speciality, customer=request.customer, lead=request.lead
        )
        request.status = SupportRequest.Status.DISPATCHED
        request.dispatched_at = at
        request.save(update_fields=["assignee", "status", "dispatched_at"])
        if request.assignee is not None:
            after_commit(notify_support_dispatched, request_id=request.pk)
    return {
        "assignee": request.assignee.get_username() if request.assignee else "",
        "due_at": timezone.localtime(max(completion_due(request), at)).isoformat(),
    }


def completion_due(request: SupportRequest) -> datetime:
    """When the work is due: the moment kept with the request (the standard's completion time or
    the day asked, whichever came first, then any date agreed later), else the end of the due date."""
    return request.complete_by or due_moment(request.due_date)


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
        # Reopened: the dispatch chooses an engineer again; the result stays with its outcome. The
        # date agreed now replaces the standard's completion time, counted from the first request.
        request.status, request.due_date = SupportRequest.Status.REQUESTED, due_date
        request.complete_by = due_moment(due_date)
        request.save(update_fields=["manager_feedback", "status", "due_date", "complete_by"])
    return request


def escalation_options(
    *, request: SupportRequest, at: datetime, instance: Any = None, late: str = LATE_COMPLETION
) -> dict:
    """What the team leader chooses from when the request is late: whether it is still late in the
    way its timer checks - waiting for its engineer past its due date (`late`: LATE_COMPLETION) or,
    past its response time, for anyone to take it up (LATE_RESPONSE) - and the support engineers it
    can be handed to (active, the speciality first). A request reopened with a later date since the
    escalation began is not overdue: its new dispatch has its own deadline and escalation."""
    User = get_user_model()
    staff = (
        User.objects.filter(is_active=True, groups__name=SUPPORT_STAFF)
        .annotate(
            other=Case(When(staff_profile__speciality=request.speciality, then=0), default=1),
        )
        .order_by("other", "username")
        .values_list("username", flat=True)[:MAX_CANDIDATES]
    )
    if late not in (LATE_COMPLETION, LATE_RESPONSE):
        raise OnsiteError(_("Unknown kind of lateness '%(late)s'.") % {"late": late})
    dispatched = request.status == SupportRequest.Status.DISPATCHED
    if late == LATE_RESPONSE:
        still_late = (
            dispatched
            and request.respond_by is not None
            and request.respond_by <= at
            and not _taken_up(request, instance)
        )
    else:
        still_late = dispatched and completion_due(request) <= at
    return {
        "open": still_late,
        "late": late,
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
        request.due_date, request.complete_by = new_due_date, due_at
        request.save(update_fields=["due_date", "complete_by"])
        return {"action": action, "due_at": due_at.isoformat()}
    return {"action": action, "due_at": follow_up.isoformat()}


def _taken_up(request: SupportRequest, instance: Any) -> bool:
    """Someone has the work: the dispatch named an engineer, or one took it from the pool."""
    if request.assignee_id is not None:
        return True
    if instance is None:
        return False
    return any(t.assignee_id or t.claimed_by_id for t in open_tasks(instance, HANDLING_TASK))


def due_moment(due_date: date) -> datetime:
    return timezone.make_aware(datetime.combine(due_date, DUE_TIME))
