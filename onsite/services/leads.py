"""Marketing leads: new → following → won / lost, and their way through the sales funnel (销售漏斗,
seed 003): 销售准备 → … → 给客户他想要的解决方案 → 成交 → 销售后. Every lead starts a follow-up task
for its owner (the `lead_follow_up` process) the moment it is created, due sooner the more urgent
it is.

The status is the outcome the warnings, the short board and the win-back read; the stage is how far
the lead got. A lead moves forward only (it may skip a step: a customer who already knows what they
want goes straight to the solution), each move recorded (`LeadStageMove`); it is won only from the
solution stage, lost at any stage with a reason (keeping that stage), and its after-sale follow-up
(建立长期合作关系) records the product sold among the customer's products."""

from __future__ import annotations

from collections.abc import Iterable
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
    FunnelStage,
    IncentiveEvent,
    Lead,
    LeadActivity,
    LeadStageMove,
    Ownership,
    ProductHolding,
    SupportRequest,
    Urgency,
)
from onsite.models.funnel import OPEN_STAGES, STAGE_ORDER, stay_days
from onsite.services.customers import upsert_product, validate, validate_fields
from onsite.services.incentives import Award, award, award_all
from onsite.services.notices import after_commit, notify_urgent_leads
from onsite.services.processes import start_domain_process
from onsite.services.project_teams import reward_team_win
from onsite.thresholds import threshold
from workflows.actors import acting_for, person
from workflows.exceptions import WorkflowError
from workflows.models import ProcessInstance
from workflows.services import deliver_message

FOLLOW_UP_PROCESS = "lead_follow_up"
DUPLICATE_WIN_BACK = gettext_lazy("This competitor product already has a win-back lead.")
# How an own product is recorded when the lead sold it and no provider name is known yet.
OUR_PROVIDER = "我方"
# The days a lead's follow-up task is due in, by urgency (`onsite.thresholds`).
FOLLOW_UP_DAYS = {
    Urgency.HIGH: "LEAD_FOLLOW_UP_DAYS_HIGH",
    Urgency.MEDIUM: "LEAD_FOLLOW_UP_DAYS_MEDIUM",
    Urgency.LOW: "LEAD_FOLLOW_UP_DAYS_LOW",
}
Status = Lead.Status
Stage = FunnelStage
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
        LeadStageMove.objects.create(**_first_move(lead, user))
        award_all([_creation_award(lead)])
        lead.follow_up = _start_follow_up(lead, user)
        lead.save(update_fields=["follow_up"])
        if lead.urgency == Urgency.HIGH:
            after_commit(notify_urgent_leads, lead_ids=[lead.pk])
    return lead


def create_leads(leads: list[Lead], *, user: Any) -> None:
    """Store leads made by `new_lead` for one customer as `create_lead` stores one, in a fixed number
    of statements however many, their follow-ups not yet started (`start_follow_ups`, after the
    storing committed). None of them may pursue a competitor product (`displaces`): that pursuit goes
    through `create_lead`."""
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
        LeadStageMove.objects.bulk_create(LeadStageMove(**_first_move(lead, user)) for lead in leads)
        award_all(_creation_award(lead) for lead in leads)
        urgent = [lead.pk for lead in leads if lead.urgency == Urgency.HIGH]
        if urgent:
            after_commit(notify_urgent_leads, lead_ids=urgent)


def start_follow_ups(leads: Iterable[Lead], *, user: Any) -> int:
    """Start the follow-up process of each lead that has none yet; how many were started. The
    caller serializes concurrent calls (holds the lock of what the leads came from), so a lead's
    follow-up is started once."""
    started = [lead for lead in leads if lead.follow_up_id is None]
    for lead in started:
        lead.follow_up = _start_follow_up(lead, user)
    Lead.objects.bulk_update(started, ["follow_up"])
    return len(started)


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
        stage=Stage.PREPARATION,
        stage_entered_at=at,
    )


def _first_move(lead: Lead, user: Any) -> dict:
    """A lead enters the funnel at sales preparation (销售准备) when it is created."""
    return {
        **_of_lead(lead),
        "from_stage": "",
        "to_stage": lead.stage,
        "at": lead.created_at,
        "actor": person(user) or lead.owner,
        "expected_value": lead.estimated_value,
    }


def _of_lead(lead: Lead) -> dict:
    """What a stage move copies from its lead (see `LeadStageMove`)."""
    return {"lead": lead, "customer_id": lead.customer_id, "lead_created_at": lead.created_at}


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
    """The start data of a lead's follow-up process: what the task shows, and when each follow-up
    task is due (an ISO 8601 duration by the lead's urgency, `onsite.thresholds`), and its
    after-sale follow-up once won."""
    return {
        "lead_id": lead.pk,
        "customer_id": lead.customer.pk,
        "customer_name": lead.customer.name,
        "lead_description": lead.description,
        "lead_product": lead.product,
        "lead_urgency": lead.urgency,
        "follow_up_due_in": f"P{follow_up_days(lead.urgency)}D",
        "after_sale_due_in": f"P{threshold('LEAD_AFTER_SALE_DAYS')}D",
    }


def follow_up_days(urgency: str) -> int:
    """Days a lead's follow-up task is due in: high urgency within days, medium and low later."""
    return threshold(FOLLOW_UP_DAYS.get(urgency, FOLLOW_UP_DAYS[Urgency.LOW]))


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
    stage: str | None = None,
    estimated_value: Any = None,
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
            stage=stage,
            estimated_value=estimated_value,
        )
        if not lead.is_open:
            _end_follow_up(lead, user)
    return lead


def move_lead_stage(
    *,
    lead: Lead,
    stage: str,
    user: Any,
    note: str = "",
    estimated_value: Any = None,
    at: datetime | None = None,
) -> Lead:
    """Move an open lead forward in the funnel, up to the solution stage (成交 is `win_lead`'s, 销售后
    `record_after_sale`'s), revising its expected value if given; a move is a follow-up, so a new
    lead becomes one being followed."""
    return update_lead(
        lead=lead,
        status=Status.FOLLOWING,
        stage=stage,
        user=user,
        note=note,
        estimated_value=estimated_value,
        at=at,
    )


def win_lead(
    *,
    lead: Lead,
    won_value: Any,
    user: Any,
    note: str = "",
    at: datetime | None = None,
    expiry_date: Any = None,
) -> Lead:
    """成交: only from the solution stage (给客户他想要的解决方案), with the value won."""
    return update_lead(
        lead=lead,
        status=Status.WON,
        won_value=won_value,
        note=note,
        at=at,
        expiry_date=expiry_date,
        user=user,
    )


def lose_lead(*, lead: Lead, reason: str, user: Any, note: str = "", at: datetime | None = None) -> Lead:
    """Lost at whatever stage it reached, which it keeps; the reason is required."""
    return update_lead(lead=lead, status=Status.LOST, lost_reason=reason, note=note, at=at, user=user)


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
    stage: str | None = None,
    estimated_value: Any = None,
) -> Lead:
    """Move the lead (the caller holds its lock), and along the funnel to `stage` when following it
    up. Winning a win-back lead makes the competitor's product it displaces ours, from the day won
    until `expiry_date` (the new contract's, if known)."""
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
    target = _target_stage(lead, status, stage, errors)
    if estimated_value not in (None, ""):
        lead.estimated_value = parse_amount(estimated_value, field="estimated_value")
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
    if target != lead.stage:
        _enter_stage(lead, target, actor=actor, at=at, note=note, task_id=task_id)
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


def _target_stage(lead: Lead, status: str, stage: str | None, errors: dict) -> str:
    """Where the move takes the lead in the funnel; refusals go into `errors` under `stage`."""
    current = Stage(lead.stage)
    if status == Status.WON:
        if current != Stage.SOLUTION:
            errors["stage"] = [
                _("A lead is won only from the stage “%(solution)s”; this one is at “%(current)s”.")
                % {"solution": Stage.SOLUTION.label, "current": current.label}
            ]
        return Stage.WON
    if stage in (None, "") or stage == current:
        return current
    if status != Status.FOLLOWING:
        errors["stage"] = [
            _("A lead is lost at the stage it reached; move it along the funnel in a follow-up.")
        ]
    elif stage not in OPEN_STAGES:
        errors["stage"] = [
            _("“%(stage)s” is not a stage a lead being followed up can move to.")
            % {"stage": Stage(stage).label if stage in Stage.values else stage}
        ]
    elif STAGE_ORDER[stage] < STAGE_ORDER[current]:
        errors["stage"] = [
            _("A lead moves forward in the funnel only: it is at “%(current)s”, past “%(stage)s”.")
            % {"current": current.label, "stage": Stage(stage).label}
        ]
    return stage if "stage" not in errors else current


def _enter_stage(
    lead: Lead, stage: str, *, actor: Any, at: datetime, note: str = "", task_id: Any = None
) -> None:
    """Record the move (the caller saves the lead): the stay in the stage it leaves ends now."""
    LeadStageMove.objects.filter(lead=lead, left_at__isnull=True).update(
        left_at=at, stay_days=stay_days(lead.stage_entered_at, at)
    )
    LeadStageMove.objects.create(
        **_of_lead(lead),
        from_stage=lead.stage,
        to_stage=stage,
        at=at,
        actor=person(actor),
        note=note,
        expected_value=lead.won_value if stage == Stage.WON else lead.estimated_value,
        task_id=task_id,
    )
    lead.stage = stage
    lead.stage_entered_at = at


def record_after_sale(
    *,
    lead: Lead,
    user: Any,
    note: str = "",
    start_date: Any = None,
    expiry_date: Any = None,
    at: datetime | None = None,
) -> Lead:
    """销售后 (建立长期合作关系): the won lead's after-sale follow-up, recorded outside its task (which
    it then ends, as closing a lead ends its follow-up; `apply_after_sale` says what it does)."""
    check_customer_access(user, lead.customer)
    with transaction.atomic():
        lead = lock_with_process(Lead, lead.pk, process_field="follow_up", related=("displaces",))
        apply_after_sale(lead, actor=user, note=note, start_date=start_date, expiry_date=expiry_date, at=at)
        _end_follow_up(lead, user)
    return lead


def apply_after_sale(
    lead: Lead,
    *,
    actor: Any,
    note: str = "",
    start_date: Any = None,
    expiry_date: Any = None,
    at: datetime | None = None,
    task_id: Any = None,
) -> Lead:
    """Move the won lead on to 销售后 (the caller holds its lock): the product it sold is now among the
    customer's products as ours, from `start_date` (the day won unless given) until `expiry_date`
    (the contract's, if known) — the one the lead displaced for a win-back, else the own product of
    that name (the one already held, or a new one)."""
    if task_id is not None and LeadStageMove.objects.filter(task_id=task_id).exists():
        return lead  # this after-sale task was recorded already
    if lead.stage != Stage.WON:
        raise OnsiteError(
            _("Only a won lead has an after-sale follow-up, once; this one is at “%(stage)s”.")
            % {"stage": lead.get_stage_display()}
        )
    at = at or timezone.now()
    errors: dict = {}
    won_on = timezone.localdate(lead.closed_at or at)
    start = _date(start_date, field="start_date", errors=errors) or won_on
    expiry = _date(expiry_date, field="expiry_date", errors=errors)
    if expiry is not None and expiry <= start:
        errors["expiry_date"] = [_("The contract must expire after it starts.")]
    product, provider = _product_sold(lead)
    if not product:
        errors["product"] = [_("Name the product the lead sold before its after-sale follow-up.")]
    if errors:
        raise InvalidInput(errors)
    values = {"ownership": Ownership.OURS, "start_date": start}
    if expiry is not None:
        values["expiry_date"] = expiry
    upsert_product(
        lead.customer, product, provider, values, actor=actor, source=CustomerChange.Source.AFTER_SALE
    )
    _enter_stage(lead, Stage.AFTER_SALE, actor=actor, at=at, note=note, task_id=task_id)
    lead.last_activity_at = at
    lead.save()
    LeadActivity.objects.create(
        lead=lead, actor=person(actor), at=at, status_from=lead.status, status_to=lead.status, note=note
    )
    return lead


def _product_sold(lead: Lead) -> tuple[str, str]:
    if lead.displaces_id is not None:
        return lead.displaces.product, lead.displaces.provider
    product = lead.product.strip()
    held = (
        ProductHolding.objects.filter(customer=lead.customer, product=product, ownership=Ownership.OURS)
        .order_by("pk")
        .values_list("provider", flat=True)
        .first()
    )
    return product, held or OUR_PROVIDER


def _date(value: Any, *, field: str, errors: dict) -> date | None:
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        errors[field] = [_("Enter a valid date.")]
        return None


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
