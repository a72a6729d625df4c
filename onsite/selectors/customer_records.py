"""Everything recorded about one customer, for its page: the profile, the service tier with its
history and the tier the figures suggest, key persons and the decision chain, the products held
(ours and competitors'), the visits, leads and support requests, the project team serving it, and
the history of every change (`CustomerChange`).

Read with the same access rules as every service (`onsite.access`): a customer the reader may not
read is indistinguishable from one that does not exist (`Customer.DoesNotExist`). One query per
list, whatever the customer holds. Records stay data; the page words their codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone

from onsite.access import customers_visible_to, manages_customer
from onsite.models import (
    Customer,
    CustomerChange,
    DecisionRole,
    KeyPerson,
    Lead,
    Ownership,
    ProductHolding,
    SupportRequest,
    Visit,
)
from onsite.selectors.briefing import EXPIRY_WINDOW_DAYS, rank_by
from onsite.selectors.customers import TierSuggestion, suggest_tiers
from onsite.selectors.project_teams import active_members, teams_serving

# The change history shows the latest this many changes; older ones stay in the admin.
CHANGE_HISTORY_LENGTH = 200
TRACKED_MODELS = {
    CustomerChange.Entity.CUSTOMER: Customer,
    CustomerChange.Entity.KEY_PERSON: KeyPerson,
    CustomerChange.Entity.PRODUCT: ProductHolding,
}


@dataclass(frozen=True)
class TierChange:
    at: Any
    before: str
    after: str
    actor: Any
    source: str
    reason: str


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: Any  # the field's verbose name, lazy: read in the page's language
    before: Any
    after: Any


def customer_records(*, customer_id: int, user: Any, today: date | None = None) -> dict[str, Any]:
    """Every record of the customer `customer_id` for a reader who may read it; for anyone else it
    does not exist (`Customer.DoesNotExist`)."""
    today = today or timezone.localdate()
    customer = customers_visible_to(user).select_related("region", "account_manager").get(pk=customer_id)
    suggestion: TierSuggestion = suggest_tiers([customer])[customer.pk]
    key_persons = list(
        KeyPerson.objects.filter(customer=customer).order_by(
            rank_by("decision_role", DecisionRole.values), "name"
        )
    )
    changes = list(
        CustomerChange.objects.filter(customer=customer)
        .select_related("actor", "visit")
        .order_by("-at", "-pk")[:CHANGE_HISTORY_LENGTH]
    )
    teams = teams_serving(customer=customer)
    return {
        "customer": customer,
        "may_change": manages_customer(user, customer),
        "suggestion": suggestion,
        "tier_history": _tier_history(customer),
        "key_persons": key_persons,
        "decision_chain": [person for person in key_persons if person.decision_role],
        "products": _products(customer, today=today),
        "visits": list(
            Visit.objects.filter(customer=customer)
            .select_related("summary", "support_staff")
            .order_by("-planned_date", "-pk")
        ),
        "leads": list(
            Lead.objects.filter(customer=customer).select_related("owner").order_by("-created_at", "-pk")
        ),
        "support_requests": list(
            SupportRequest.objects.filter(customer=customer)
            .select_related("assignee")
            .order_by("-requested_at", "-pk")
        ),
        "project_teams": [{"team": team, "members": list(active_members(team, on=today))} for team in teams],
        "changes": [{"change": change, "fields": field_changes(change)} for change in changes],
    }


def _tier_history(customer: Customer) -> list[TierChange]:
    changes = (
        CustomerChange.objects.filter(
            customer=customer, entity=CustomerChange.Entity.CUSTOMER, changes__has_key="tier"
        )
        .select_related("actor")
        .order_by("-at", "-pk")
    )
    return [
        TierChange(
            at=change.at,
            before=change.changes["tier"][0] or "",
            after=change.changes["tier"][1] or "",
            actor=change.actor,
            source=change.source,
            reason=change.reason,
        )
        for change in changes
    ]


def _products(customer: Customer, *, today: date) -> list[dict[str, Any]]:
    horizon = today + timedelta(days=EXPIRY_WINDOW_DAYS)
    holdings = ProductHolding.objects.filter(customer=customer).order_by(
        models.F("expiry_date").asc(nulls_last=True), "product"
    )
    rows = []
    for holding in holdings:
        expiring = holding.expiry_date is not None and today <= holding.expiry_date <= horizon
        competitor = holding.ownership == Ownership.COMPETITOR
        rows.append(
            {
                "holding": holding,
                "competitor": competitor,
                "expiring": expiring,
                # The ones worth a win-back now: a competitor's contract ending soon.
                "highlight": competitor and expiring,
                "days_left": (holding.expiry_date - today).days if expiring else None,
            }
        )
    return rows


def field_changes(change: CustomerChange) -> list[FieldChange]:
    """The fields a change touched, each with its label in the reader's language."""
    model = TRACKED_MODELS.get(change.entity)
    rows = []
    for name, values in sorted((change.changes or {}).items()):
        before, after = [*values, None, None][:2] if isinstance(values, list | tuple) else (None, values)
        model_field = _field(model, name)
        rows.append(
            FieldChange(
                field=name,
                label=model_field.verbose_name if model_field else name,
                before=_shown(model_field, before),
                after=_shown(model_field, after),
            )
        )
    return rows


def _field(model: Any, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _shown(model_field: Any, value: Any) -> Any:
    """A stored code as its label (lazy, in the reader's language); anything else as it was."""
    if value in (None, ""):
        return None
    if model_field is not None and model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    return value
