"""Changing the A/B/C service standards and a customer's tier.

A change to a standard adds a version from its effective time onward; a change of tier is recorded
in the customer's history. Neither touches what was already scheduled or promised: a visit keeps
the date and summary deadline it was given, a support request its response and completion times.
What comes next (the next visit scheduled, the next request made) follows the new terms.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from onsite.access import check_customer_access, check_role, has_role
from onsite.exceptions import InvalidInput, NotPermitted
from onsite.models import Customer, CustomerChange, ServiceStandard, Tier
from onsite.roles import COORDINATOR, TEAM_LEADER
from onsite.selectors.standards import standard_in_effect
from onsite.services.customers import record_change
from workflows import clock
from workflows.actors import person


def change_service_standard(
    *,
    tier: str,
    values: dict,
    reason: str,
    user: Any,
    effective_from: datetime | None = None,
) -> ServiceStandard:
    """The coordinator sets new terms for a tier from `effective_from` (now by default, never in
    the past): a new version holding the terms in effect then with `values` changed."""
    check_role(user, COORDINATOR)
    now = clock.now()
    moment = effective_from or now
    errors: dict[str, list[str]] = {}
    if tier not in Tier.values:
        raise InvalidInput({"tier": [_("Unknown service tier: %(tiers)s.") % {"tiers": tier}]})
    if not isinstance(values, dict):
        raise InvalidInput({"values": [_("Give a value for each term changed.")]})
    unknown = sorted(str(name) for name in set(values) - set(ServiceStandard.TERMS))
    for name in unknown:
        errors[name] = [_("Not a term of a service standard.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Say why the standard changes.")]
    if effective_from is not None and effective_from < now:
        errors["effective_from"] = [_("A change applies from now on; it cannot start in the past.")]
    if errors:
        raise InvalidInput(errors)
    base = standard_in_effect(tier, at=moment)
    standard = ServiceStandard(
        tier=tier,
        **base.terms(),
        effective_from=moment,
        reason=reason.strip(),
        changed_by=person(user),
        changed_at=now,
    )
    for name, value in values.items():
        setattr(standard, name, value)
    try:
        standard.full_clean(exclude=["changed_by"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from None
    if standard.support_response_hours > standard.support_completion_hours:
        # A request is taken up before it is done.
        raise InvalidInput(
            {
                "support_response_hours": [
                    _("The response time cannot be longer than the completion time (%(hours)s hours).")
                    % {"hours": standard.support_completion_hours}
                ]
            }
        )
    standard.changes = {
        name: [getattr(base, name), getattr(standard, name)]
        for name in ServiceStandard.TERMS
        if getattr(base, name) != getattr(standard, name)
    }
    if not standard.changes:
        raise InvalidInput({"values": [_("These are the terms already in effect; nothing changes.")]})
    try:
        with transaction.atomic():
            standard.save()
    except IntegrityError:
        raise InvalidInput(
            {"effective_from": [_("Another change of this tier's standard takes effect at that moment.")]}
        ) from None
    return standard


def change_tier(*, customer: Customer, tier: str, reason: str, user: Any) -> Customer:
    """Move the customer to another service tier (a coordinator, or the leader of the customer's
    manager's team), with the reason, into the customer's history. Only what comes next follows it."""
    check_customer_access(user, customer)
    if not has_role(user, COORDINATOR, TEAM_LEADER):
        raise NotPermitted(_("Only a coordinator or the team leader can change a customer's service tier."))
    errors: dict[str, list[str]] = {}
    if tier not in Tier.values:
        errors["tier"] = [_("The service tier must be A, B or C, not %(tier)s.") % {"tier": tier}]
    if not (reason or "").strip():
        errors["reason"] = [_("Say why the customer's service tier changes.")]
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.tier == tier:
            raise InvalidInput({"tier": [_("The customer is already in tier %(tier)s.") % {"tier": tier}]})
        before = locked.tier
        locked.tier = tier
        locked.save(update_fields=["tier", "updated_at"])
        record_change(
            locked,
            locked,
            CustomerChange.Action.UPDATED,
            {"tier": [before, tier]},
            source=CustomerChange.Source.MANUAL,
            actor=user,
            reason=reason.strip(),
        )
    customer.tier = tier
    return customer
