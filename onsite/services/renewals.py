"""Renewal targeting (续约): one of our own contracts expiring within the renewal window starts a
task for the customer's account manager, once per product and expiry date. The plan either pursues
the renewal (a lead for the product, whose won follow-up records the new contract's expiry, which
in its time is the next target) or records why the contract will not be renewed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from onsite.models import Customer, Lead, Ownership, ProductHolding, RenewalTarget
from onsite.services.contract_targets import record_decision, start_target
from onsite.services.leads import create_lead
from onsite.services.processes import start_once_each
from onsite.thresholds import threshold
from workflows.actors import SYSTEM, person

RENEWAL_PROCESS = "renewal"


def expiring_own_products(*, today: date, window_days: int | None = None, customer: Customer | None = None):
    """Our contracts ending between today and the renewal window's last day, both included."""
    window = threshold("RENEWAL_WINDOW_DAYS", on=today) if window_days is None else window_days
    products = ProductHolding.objects.filter(
        ownership=Ownership.OURS,
        expiry_date__gte=today,
        expiry_date__lte=today + timedelta(days=window),
    )
    return products.filter(customer=customer) if customer is not None else products


def start_renewal_targets(
    *, today: date | None = None, window_days: int | None = None, customer: Customer | None = None
) -> list[RenewalTarget]:
    """Start a renewal task for every contract of ours expiring within the window that has none yet
    for its expiry date. Safe to run any number of times (the background scheduler does daily)."""
    today = today or timezone.localdate()
    targeted = RenewalTarget.objects.filter(product=OuterRef("pk"), expiry_date=OuterRef("expiry_date"))
    products = (
        expiring_own_products(today=today, window_days=window_days, customer=customer)
        .filter(customer__account_manager__isnull=False)
        .exclude(Exists(targeted))
        .select_related("customer")
        .order_by("expiry_date", "pk")
    )
    return start_once_each(products, _start)


def _start(product: ProductHolding) -> RenewalTarget:
    return start_target(RenewalTarget, product, process_id=RENEWAL_PROCESS, data=renewal_data)


def record_renewal_plan(*, target: RenewalTarget, plan: dict, actor: Any, at: datetime) -> RenewalTarget:
    """The manager's decision: pursue the renewal (a lead) or record why the contract ends."""
    return record_decision(
        target,
        plan,
        at=at,
        pursue=lambda: _renewal_lead(target, plan, actor=actor, at=at),
        unknown=_("Unknown renewal decision '%(decision)s'."),
    )


def _renewal_lead(target: RenewalTarget, plan: dict, *, actor: Any, at: datetime) -> Lead:
    """The lead renewing the product: one still followed up from an earlier target of the same
    product (its contract date corrected since, say), else a new one."""
    open_lead = (
        Lead.objects.filter(renewal_targets__product=target.product, status__in=Lead.OPEN_STATUSES)
        .order_by("pk")
        .first()
    )
    if open_lead is not None:
        return open_lead
    return create_lead(
        customer=target.customer,
        description=plan.get("approach") or _("Renew %(product)s") % {"product": target.product.product},
        urgency=plan["urgency"],
        product=target.product.product,
        estimated_value=plan.get("estimated_value"),
        owner=target.account_manager or person(actor),
        user=SYSTEM,
        at=at,
    )


def renewal_data(target: RenewalTarget) -> dict:
    """The start data of a renewal target's process."""
    return {
        "renewal_id": target.pk,
        "customer_id": target.customer.pk,
        "customer_name": target.customer.name,
        "our_product": target.product.product,
        "expiry_date": target.expiry_date.isoformat(),
    }
