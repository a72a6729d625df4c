"""Win-back targeting (策反): a competitor's contract that expires within the window starts a task
for the customer's account manager, once per product and expiry date."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from onsite.exceptions import InvalidInput
from onsite.models import Customer, Lead, Ownership, ProductHolding, WinBackTarget
from onsite.services.contract_targets import record_decision, start_target
from onsite.services.leads import create_lead, live_win_back_lead
from onsite.services.processes import start_once_each
from onsite.thresholds import threshold
from workflows.actors import SYSTEM, person

WIN_BACK_PROCESS = "win_back"


def expiring_competitor_products(
    *, today: date, window_days: int | None = None, customer: Customer | None = None
):
    window = threshold("WIN_BACK_WINDOW_DAYS", on=today) if window_days is None else window_days
    products = ProductHolding.objects.filter(
        ownership=Ownership.COMPETITOR,
        expiry_date__gte=today,
        expiry_date__lte=today + timedelta(days=window),
    )
    return products.filter(customer=customer) if customer is not None else products


def start_win_back_targets(
    *, today: date | None = None, window_days: int | None = None, customer: Customer | None = None
) -> list[WinBackTarget]:
    """Start a win-back task for every competitor product expiring within the window that has none
    yet for its expiry date. Safe to run any number of times (the background scheduler does)."""
    today = today or timezone.localdate()
    targeted = WinBackTarget.objects.filter(product=OuterRef("pk"), expiry_date=OuterRef("expiry_date"))
    products = (
        expiring_competitor_products(today=today, window_days=window_days, customer=customer)
        .filter(customer__account_manager__isnull=False)
        .exclude(Exists(targeted))
        .select_related("customer")
        .order_by("expiry_date", "pk")
    )
    return start_once_each(products, _start)


def _start(product: ProductHolding) -> WinBackTarget:
    return start_target(WinBackTarget, product, process_id=WIN_BACK_PROCESS, data=win_back_data)


def record_win_back_plan(*, target: WinBackTarget, plan: dict, actor: Any, at: datetime) -> WinBackTarget:
    """The manager's decision: pursue (a win-back lead) or not."""
    return record_decision(
        target,
        plan,
        at=at,
        pursue=lambda: _pursuit_of(target, plan, actor=actor, at=at),
        unknown=_("Unknown win-back decision '%(decision)s'."),
    )


def _pursuit_of(target: WinBackTarget, plan: dict, *, actor: Any, at: datetime) -> Lead:
    """The win-back lead for the target's product: the one already pursued or won (a second target
    for the same product, after a renewal, say), else a new one. Two pursuits at the same moment
    meet on the one-live-lead-per-product constraint; the second links to the first's lead."""
    existing = live_win_back_lead(target.product)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return create_lead(
                customer=target.customer,
                description=plan.get("approach") or _("Win back %(product)s") % {"product": target.product},
                urgency=plan["urgency"],
                product=plan.get("our_product", ""),
                estimated_value=plan.get("estimated_value"),
                displaces=target.product,
                owner=target.account_manager or person(actor),
                user=SYSTEM,
                at=at,
            )
    except InvalidInput:
        # Refused because another pursuit's lead was saved meanwhile (whichever check saw it
        # first: the form's validation or the constraint): link to that lead.
        existing = live_win_back_lead(target.product)
        if existing is not None:
            return existing
        raise


def win_back_data(target: WinBackTarget) -> dict:
    """The start data of a win-back target's process."""
    return {
        "target_id": target.pk,
        "customer_id": target.customer.pk,
        "customer_name": target.customer.name,
        "competitor_product": target.product.product,
        "competitor": target.product.provider,
        "expiry_date": target.expiry_date.isoformat(),
    }
