"""Marketing leads: new → following → won / lost. A high-urgency lead starts a follow-up task for
its owner (the `lead_follow_up` process) the moment it is created."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from onsite.access import check_customer_access
from onsite.amounts import parse_amount
from onsite.exceptions import InvalidInput, OnsiteError
from onsite.models import Customer, IncentiveEvent, Lead, LeadActivity, SupportRequest, Urgency
from onsite.services.customers import validate
from onsite.services.incentives import award
from onsite.services.processes import start_domain_process
from workflows.exceptions import WorkflowError
from workflows.models import ProcessInstance
from workflows.services import deliver_message

FOLLOW_UP_PROCESS = "lead_follow_up"
Status = Lead.Status
# The only moves a lead can make; anything else is refused with a clear message.
TRANSITIONS = {
    Status.NEW: {Status.FOLLOWING, Status.WON, Status.LOST},
    Status.FOLLOWING: {Status.FOLLOWING, Status.WON, Status.LOST},
    Status.WON: set(),
    Status.LOST: set(),
}


def create_lead(
    *,
    customer: Customer,
    description: str,
    urgency: str,
    user: Any,
    product: str = "",
    estimated_value: Any = None,
    win_back: bool = False,
    displaces: Any = None,
    source_visit: Any = None,
    source_item: Any = None,
    owner: Any = None,
    at: datetime | None = None,
) -> Lead:
    """A lead for the customer, owned by its account manager unless said otherwise."""
    check_customer_access(user, customer)
    owner = owner or customer.account_manager
    if owner is None:
        raise InvalidInput(
            {"owner": [_("%(customer)s has no account manager to own the lead.") % {"customer": customer}]}
        )
    at = at or timezone.now()
    lead = Lead(
        customer=customer,
        description=(description or "").strip(),
        product=(product or "").strip(),
        urgency=urgency,
        estimated_value=parse_amount(estimated_value, field="estimated_value"),
        owner=owner,
        win_back=win_back or displaces is not None,
        displaces=displaces,
        source_visit=source_visit,
        source_item=source_item,
        created_by=user or owner,
        created_at=at,
        last_activity_at=at,
    )
    validate(lead)
    with transaction.atomic():
        lead.save()
        LeadActivity.objects.create(lead=lead, actor=user or owner, at=at, status_to=lead.status)
        award(
            IncentiveEvent.LEAD_CREATED,
            person=owner,
            key=f"lead:{lead.pk}",
            description=_("Lead created: %(lead)s") % {"lead": lead},
            at=at,
            urgency=lead.urgency,
            customer=customer,
            lead=lead,
        )
        if lead.urgency == Urgency.HIGH:
            lead.follow_up = start_domain_process(
                FOLLOW_UP_PROCESS,
                business_key=customer.code,
                user=user,
                data={
                    "lead_id": lead.pk,
                    "customer_id": customer.pk,
                    "customer_name": customer.name,
                    "lead_description": lead.description,
                    "lead_product": lead.product,
                },
            )
            lead.save(update_fields=["follow_up"])
    return lead


def update_lead(
    *,
    lead: Lead,
    status: str,
    user: Any,
    note: str = "",
    won_value: Any = None,
    lost_reason: str = "",
    at: datetime | None = None,
) -> Lead:
    """A manager's update outside the follow-up task; closing the lead ends its follow-up too."""
    check_customer_access(user, lead.customer)
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        change_lead_status(
            lead, status, actor=user, note=note, won_value=won_value, lost_reason=lost_reason, at=at
        )
        if not lead.is_open:
            _end_follow_up(lead, user)
    return lead


def change_lead_status(
    lead: Lead,
    status: str,
    *,
    actor: Any,
    note: str = "",
    won_value: Any = None,
    lost_reason: str = "",
    at: datetime | None = None,
    task_id: Any = None,
) -> Lead:
    if task_id is not None and LeadActivity.objects.filter(task_id=task_id).exists():
        return lead  # this follow-up task was recorded already
    if status not in TRANSITIONS.get(lead.status, set()):
        raise OnsiteError(
            _("A lead that is %(current)s cannot become %(next)s.")
            % {
                "current": lead.get_status_display(),
                "next": Status(status).label if status in Status.values else status,
            }
        )
    at = at or timezone.now()
    errors = {}
    if status == Status.WON:
        lead.won_value = parse_amount(won_value, field="won_value")
        if lead.won_value is None:
            errors["won_value"] = [_("Enter the value won.")]
    if status == Status.LOST:
        lead.lost_reason = (lost_reason or "").strip()
        if not lead.lost_reason:
            errors["lost_reason"] = [_("Say why the lead was lost.")]
    if errors:
        raise InvalidInput(errors)
    before = lead.status
    lead.status = status
    lead.last_activity_at = at
    if status in (Status.WON, Status.LOST):
        lead.closed_at = at
    lead.save()
    LeadActivity.objects.create(
        lead=lead, actor=actor, at=at, status_from=before, status_to=status, note=note, task_id=task_id
    )
    if status == Status.WON:
        _reward_win(lead, at)
    return lead


def _reward_win(lead: Lead, at: datetime) -> None:
    award(
        IncentiveEvent.LEAD_WON,
        person=lead.owner,
        key=f"lead:{lead.pk}",
        description=_("Lead won: %(lead)s") % {"lead": lead},
        at=at,
        urgency=lead.urgency,
        value=lead.won_value,
        customer=lead.customer,
        lead=lead,
    )
    for person in contributors(lead):
        award(
            IncentiveEvent.LEAD_CONTRIBUTION,
            person=person,
            key=f"lead:{lead.pk}",
            description=_("Contributed to a won lead: %(lead)s") % {"lead": lead},
            at=at,
            customer=lead.customer,
            lead=lead,
        )


def contributors(lead: Lead) -> list:
    """Support staff who helped win it: the lead's own support requests, requests for the customer
    completed while the lead was open, and the engineer who joined the visit it came from."""
    people = {}
    requests = SupportRequest.objects.filter(
        Q(lead=lead)
        | Q(customer=lead.customer, completed_at__gte=lead.created_at, completed_at__lte=lead.closed_at),
        completed_by__isnull=False,
    ).select_related("completed_by")
    for request in requests:
        people[request.completed_by_id] = request.completed_by
    visit = lead.source_visit
    if visit is not None and visit.support_staff_id is not None:
        people[visit.support_staff_id] = visit.support_staff
    people.pop(lead.owner_id, None)
    return sorted(people.values(), key=lambda user: user.pk)


def _end_follow_up(lead: Lead, user: Any) -> None:
    if lead.follow_up_id is None:
        return
    if not ProcessInstance.objects.filter(
        pk=lead.follow_up_id, status__in=ProcessInstance.ACTIVE_STATUSES
    ).exists():
        return
    try:
        deliver_message(
            name="lead_closed",
            correlation={"instance_id": lead.follow_up_id},
            payload={"status": lead.status},
            user=user,
        )
    except WorkflowError as exc:
        raise OnsiteError(str(exc)) from None
