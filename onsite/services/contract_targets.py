"""What win-back (a competitor's contract) and renewal (one of ours) have in common: a target per
product and expiry date that starts the account manager's plan task, and the plan's decision —
pursue it with a lead, or decline with a reason — recorded once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone

from onsite.exceptions import OnsiteError
from onsite.models import Lead, ProductHolding
from onsite.services.processes import start_domain_process
from workflows.actors import SYSTEM


def start_target(
    model: type[models.Model], product: ProductHolding, *, process_id: str, data: Callable[[Any], dict]
) -> Any:
    """The product's target for its expiry date (its unique key makes a concurrent start fail), and
    the plan task's process, started for the customer's account manager."""
    customer = product.customer
    target = model.objects.create(
        customer=customer,
        product=product,
        expiry_date=product.expiry_date,
        account_manager_id=customer.account_manager_id,
        created_at=timezone.now(),
    )
    target.instance = start_domain_process(
        process_id, business_key=customer.code, user=SYSTEM, data=data(target)
    )
    target.save(update_fields=["instance"])
    return target


def record_decision(
    target: Any, plan: dict, *, at: datetime, pursue: Callable[[], Lead], unknown: str
) -> Any:
    """Pursue (`pursue()` gives the lead) or decline with the plan's reason; a decided target is left
    as it is (a retried task). `unknown` is the refusal of any other decision."""
    if target.status != target.Status.OPEN:
        return target
    target.approach = plan.get("approach", "")
    target.decided_at = at
    if plan["decision"] == "pursue":
        target.lead = pursue()
        target.status = target.Status.PURSUED
    elif plan["decision"] == "decline":
        target.decline_reason = plan.get("decline_reason", "")
        target.status = target.Status.DECLINED
    else:
        raise OnsiteError(unknown % {"decision": plan["decision"]})
    target.save()
    return target
