"""Marketing leads: new → following → won / lost. A high-urgency lead starts a follow-up task for
its owner (the `lead_follow_up` process) the moment it is created."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onsite.access import check_customer_access
from onsite.amounts import parse_amount
from onsite.exceptions import InvalidInput, OnsiteError
from onsite.locking import lock_with_process
from onsite.models import (
    Customer,
    CustomerChange,
    IncentiveEvent,
    Lead,
    LeadActivity,
    Ownership,
    SupportRequest,
    Urgency,
)
from onsite.services.customers import upsert_product, validate, validate_fields
from onsite.services.incentives import Award, award, award_all
from onsite.services.processes import start_domain_process
from onsite.services.project_teams import reward_team_win
from workflows.actors import acting_for, person
from workflows.exceptions import WorkflowError
from workflows.models import ProcessInstance
from workflows.services import deliver_message

FOLLOW_UP_PROCESS = "lead_follow_up"
DUPLICATE_WIN_BACK = gettext_lazy("This competitor product already has a win-back lead.")
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
    at = at or timezone.now()
    lead = new_lead(
        customer=customer,
        description=description,
        urgency=urgency,
        user=user,
        product=product,
        estimated_value=estimated_value,
        win_back=win_back,
        displaces=displaces,
        source_visit=source_visit,
        source_item=source_item,
        owner=owner,
        at=at,
    )
    if displaces is not None and live_win_back_lead(displaces) is not None:
        raise InvalidInput({"displaces": [DUPLICATE_WIN_BACK]})
    try:
        validate(lead)
    except InvalidInput:
        # The constraint's check saw a lead saved since the line above: name the field it concerns.
        if displaces is not None and live_win_back_lead(displaces) is not None:
            raise InvalidInput({"displaces": [DUPLICATE_WIN_BACK]}) from None
        raise
    with transaction.atomic():
        try:
            with transaction.atomic():
                lead.save()
        except IntegrityError:
            # Another pursuit of the same competitor product was saved since validate() looked.
            raise InvalidInput({"displaces": [DUPLICATE_WIN_BACK]}) from None
        LeadActivity.objects.create(lead=lead, actor=person(user) or lead.owner, at=at, status_to=lead.status)
        award_all([_creation_award(lead)])
        if lead.urgency == Urgency.HIGH:
            lead.follow_up = _start_follow_up(lead, user)
            lead.save(update_fields=["follow_up"])
    return lead


def create_leads(leads: list[Lead], *, user: Any) -> None:
    """Store leads made by `new_lead` for one customer as `create_lead` stores one, in a fixed number
    of statements however many (besides the follow-ups the high-urgency ones start). None of them
    may pursue a competitor product (`displaces`): that pursuit goes through `create_lead`."""
    if not leads:
        return
    customers = {lead.customer_id for lead in leads}
    if len(customers) != 1 or any(lead.displaces_id is not None for lead in leads):
        raise OnsiteError(_("Leads stored together are one customer's and pursue no competitor product."))
    check_customer_access(user, leads[0].customer)
    for lead in leads:
        validate_fields(lead)
    with transaction.atomic():
        Lead.objects.bulk_create(leads)
        LeadActivity.objects.bulk_create(
            LeadActivity(
                lead=lead, actor=person(user) or lead.owner, at=lead.created_at, status_to=lead.status
            )
            for lead in leads
        )
        award_all(_creation_award(lead) for lead in leads)
        followed = [lead for lead in leads if lead.urgency == Urgency.HIGH]
        for lead in followed:
            lead.follow_up = _start_follow_up(lead, user)
        if followed:
            Lead.objects.bulk_update(followed, ["follow_up"])


def new_lead(
    *,
    customer: Customer,
    description: str,
    urgency: str,
    user: Any,
    at: datetime,
    product: str = "",
    estimated_value: Any = None,
    win_back: bool = False,
    displaces: Any = None,
    source_visit: Any = None,
    source_item: Any = None,
    owner: Any = None,
) -> Lead:
    """The lead, not yet stored (`create_lead`, `create_leads` store it)."""
    owner = owner or customer.account_manager
    if owner is None:
        raise InvalidInput(
            {"owner": [_("%(customer)s has no account manager to own the lead.") % {"customer": customer}]}
        )
    return Lead(
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
        created_by=person(user) or owner,
        created_at=at,
        last_activity_at=at,
    )


def _creation_award(lead: Lead) -> Award:
    return Award(
        IncentiveEvent.LEAD_CREATED,
        person=lead.owner,
        key=f"lead:{lead.pk}",
        description=_("Lead created: %(lead)s") % {"lead": lead},
        at=lead.created_at,
        urgency=lead.urgency,
        links={"customer": lead.customer, "lead": lead},
    )


def follow_up_data(lead: Lead) -> dict:
    """The start data of a lead's follow-up process."""
    return {
        "lead_id": lead.pk,
        "customer_id": lead.customer.pk,
        "customer_name": lead.customer.name,
        "lead_description": lead.description,
        "lead_product": lead.product,
    }


def _start_follow_up(lead: Lead, user: Any) -> ProcessInstance:
    return start_domain_process(
        FOLLOW_UP_PROCESS, business_key=lead.customer.code, user=user, data=follow_up_data(lead)
    )


def live_win_back_lead(product: Any) -> Lead | None:
    """The lead pursuing (or having won) this competitor product, if any: at most one at a time."""
    return Lead.objects.filter(displaces=product).exclude(status=Status.LOST).first()


def update_lead(
    *,
    lead: Lead,
    status: str,
    user: Any,
    note: str = "",
    won_value: Any = None,
    lost_reason: str = "",
    at: datetime | None = None,
    expiry_date: Any = None,
) -> Lead:
    """A manager's update outside the follow-up task; closing the lead ends its follow-up too.

    Locks the follow-up's family before the lead (the one lock order, `onsite.locking`): completing
    the follow-up task holds that family while it records the outcome on the lead."""
    check_customer_access(user, lead.customer)
    with transaction.atomic():
        lead = lock_with_process(Lead, lead.pk, process_field="follow_up")
        change_lead_status(
            lead,
            status,
            actor=user,
            note=note,
            won_value=won_value,
            lost_reason=lost_reason,
            at=at,
            expiry_date=expiry_date,
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
    expiry_date: Any = None,
) -> Lead:
    """Move the lead (the caller holds its lock). Winning a win-back lead makes the competitor's
    product it displaces ours, from the day won until `expiry_date` (the new contract's, if known)."""
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
        if lead.displaces_id is not None:
            expiry = _new_expiry(expiry_date, won_on=timezone.localdate(at), errors=errors)
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
        lead=lead,
        actor=person(actor),
        at=at,
        status_from=before,
        status_to=status,
        note=note,
        task_id=task_id,
    )
    if status == Status.WON:
        if lead.displaces_id is not None:
            _take_over_product(lead, start=timezone.localdate(at), expiry=expiry, actor=actor)
        _reward_win(lead, at)
    return lead


def _new_expiry(value: Any, *, won_on: date, errors: dict) -> date | None:
    if value in (None, ""):
        return None
    try:
        expiry = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        errors["expiry_date"] = [_("Enter a valid date.")]
        return None
    if expiry <= won_on:
        errors["expiry_date"] = [_("The new contract must expire after the day it was won.")]
    return expiry


def _take_over_product(lead: Lead, *, start: date, expiry: date | None, actor: Any) -> None:
    """The competitor's product is now ours, with the new contract's dates: it no longer expires
    as a competitor's (no warning, no win-back task)."""
    holding = lead.displaces
    values = {"ownership": Ownership.OURS, "start_date": start, "expiry_date": expiry}
    upsert_product(
        lead.customer,
        holding.product,
        holding.provider,
        values,
        actor=actor,
        source=CustomerChange.Source.WON_LEAD,
    )


def _reward_win(lead: Lead, at: datetime) -> None:
    # A lead a project team serves is shared among its members by the team share rules; without a
    # team the owner earns all of it, as before.
    if not reward_team_win(lead, at=at):
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
    for contributor in contributors(lead):
        award(
            IncentiveEvent.LEAD_CONTRIBUTION,
            person=contributor,
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
            user=acting_for(user),
        )
    except WorkflowError as exc:
        raise OnsiteError(str(exc)) from None
