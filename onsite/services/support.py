"""Support requests: 需求单 (requested) → 调度单 (dispatched to a support engineer) → 竣工单
(completed with a result), then confirmed by the account manager who asked. Each runs the
`support_request` process; its service tasks call the functions below."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from onsite.access import check_customer_access
from onsite.exceptions import OnsiteError
from onsite.models import Customer, IncentiveEvent, Region, SupportRequest, Visit
from onsite.roles import SUPPORT_STAFF
from onsite.services.customers import validate
from onsite.services.incentives import award
from onsite.services.processes import start_domain_process
from workflows.actors import person

SUPPORT_PROCESS = "support_request"
# A request is due at the end of the working day of its due date.
DUE_TIME = time(18, 0)


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
    """A 需求单 from the customer's account manager (or from an approved visit summary, `user=None`)."""
    check_customer_access(user, customer)
    requester = requested_by or person(user)
    if requester is None:
        raise OnsiteError(_("A support request needs the person who asks for it."))
    request = SupportRequest(
        customer=customer,
        kind=kind,
        speciality=speciality,
        description=(description or "").strip(),
        due_date=due_date,
        requested_by=requester,
        requested_at=timezone.now(),
        source_visit=source_visit,
        source_need=source_need,
        lead=lead,
    )
    validate(request)
    with transaction.atomic():
        request.save()
        request.instance = start_domain_process(
            SUPPORT_PROCESS,
            business_key=customer.code,
            user=requester,
            data={
                "support_request_id": request.pk,
                "customer_id": customer.pk,
                "customer_name": customer.name,
                "kind": kind,
                "speciality": speciality,
                "description": request.description,
                "due_date": due_date.isoformat(),
            },
        )
        request.save(update_fields=["instance"])
    return request


def choose_support_staff(*, speciality: str, customer: Customer) -> Any:
    """The active support engineer of that speciality nearest the customer (its region, then its
    branch, then anywhere) with the fewest open assignments; None when there is nobody."""
    if not speciality:
        return None
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
    same_branch = {branch, *Region.objects.filter(parent_id=branch).values_list("pk", flat=True)}

    def distance(user: Any) -> int:
        place = user.staff_profile.region_id
        return 0 if place == region.pk else 1 if place in same_branch else 2

    ranked = sorted(candidates, key=lambda u: (distance(u), u.load, u.username))
    return ranked[0] if ranked else None


def dispatch_support_request(*, request: SupportRequest, at: datetime) -> dict:
    """调度单: send the request to a support engineer (the team leader can reassign the task)."""
    if request.status == SupportRequest.Status.REQUESTED:
        request.assignee = choose_support_staff(speciality=request.speciality, customer=request.customer)
        request.status = SupportRequest.Status.DISPATCHED
        request.dispatched_at = at
        request.save(update_fields=["assignee", "status", "dispatched_at"])
    due_at = timezone.make_aware(datetime.combine(request.due_date, DUE_TIME))
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
    return request


def confirm_support_request(*, request: SupportRequest, feedback: str, at: datetime) -> SupportRequest:
    request.manager_feedback = feedback
    request.confirmed_at = at
    request.status = SupportRequest.Status.CONFIRMED
    request.save(update_fields=["manager_feedback", "confirmed_at", "status"])
    return request
