"""The customer list, filtered by service tier, with the tier each customer's figures suggest
beside the one it has (seed 001: A/B/C by industry, consumption, importance and potential).

The suggestion reads the same inputs as screening (`onsite.selectors.screening`): the industry,
the value contribution (its place among all customers, so it does not depend on who reads) and the
development potential, combined with the screening's default weights. Party, government and
military customers are suggested tier A whatever their score. The result is a code with its
reasons as data; `describe` words a reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from onsite.access import EVERYTHING, READ, check_customer_read, customer_scope, customers_visible_to
from onsite.exceptions import InvalidInput
from onsite.models import Customer, Enrolment, Lead, Region, Stage, Tier, Visit
from onsite.selectors import screening
from onsite.selectors.screening import ALWAYS_IN, Reason, ScreeningCriteria, checked_weights, score_customer
from onsite.thresholds import threshold

# The reason a suggestion gives for its tier: the score and the band it falls in.
SCORE_BAND = "score_band"


@dataclass(frozen=True)
class TierSuggestion:
    tier: str  # A, B or C
    score: Decimal  # the screening score, 0-100
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class CustomerRow:
    customer: Customer
    tier: str  # the tier it has
    suggestion: TierSuggestion  # the tier its figures suggest

    @property
    def differs(self) -> bool:
        return self.tier != self.suggestion.tier


def customer_list(*, user: Any, tiers: tuple[str, ...] = ()) -> list[CustomerRow]:
    """The customers `user` may read (`onsite.access`), by code, narrowed to `tiers` when given,
    each with the tier suggested beside its own. A fixed number of queries, however many."""
    if isinstance(tiers, str) or not all(isinstance(t, str) for t in tiers):
        raise InvalidInput({"tiers": [_("Give a list of codes.")]})
    unknown = sorted(set(tiers) - set(Tier.values))
    if unknown:
        raise InvalidInput({"tiers": [_("Unknown service tier: %(tiers)s.") % {"tiers": ", ".join(unknown)}]})
    customers = customers_visible_to(user).select_related("region", "account_manager").order_by("code")
    if tiers:
        customers = customers.filter(tier__in=tiers)
    rows = list(customers)
    suggestions = suggest_tiers(rows)
    return [CustomerRow(customer=c, tier=c.tier, suggestion=suggestions[c.pk]) for c in rows]


def customer_overview(
    *,
    user: Any,
    tiers: tuple[str, ...] = (),
    stages: tuple[str, ...] = (),
    search: str = "",
    region: Region | None = None,
) -> QuerySet:
    """The customers `user` may read, by code, each annotated with its programme stage
    (`programme_stage`, blank when not enrolled), the date of its next visit still to be made
    (`next_visit`) and its open leads (`open_leads`); narrowed to `tiers`, `stages`, a code or name
    containing `search`, and a region (with its counties). One query, however many rows are read."""
    _check_codes("tiers", tiers, Tier.values, _("Unknown service tier: %(codes)s."))
    _check_codes("stages", stages, Stage.values, _("Unknown stage: %(codes)s."))
    stage = Enrolment.objects.filter(customer=OuterRef("pk"), status=Enrolment.Status.ACTIVE).order_by("-pk")
    next_visit = Visit.objects.filter(
        customer=OuterRef("pk"), status__in=(Visit.Status.SCHEDULED, Visit.Status.PLANNED)
    ).order_by("planned_date", "pk")
    open_leads = (
        Lead.objects.filter(customer=OuterRef("pk"), status__in=Lead.OPEN_STATUSES)
        .order_by()
        .values("customer")
        .annotate(count=Count("pk"))
        .values("count")
    )
    customers = (
        customers_visible_to(user)
        .select_related("region", "account_manager")
        .annotate(
            programme_stage=Coalesce(Subquery(stage.values("stage")[:1]), Value("")),
            next_visit=Subquery(next_visit.values("planned_date")[:1]),
            open_leads=Coalesce(Subquery(open_leads, output_field=IntegerField()), Value(0)),
        )
        .order_by("code")
    )
    if tiers:
        customers = customers.filter(tier__in=tiers)
    if stages:
        customers = customers.filter(programme_stage__in=stages)
    search = (search or "").strip()
    if search:
        customers = customers.filter(Q(code__icontains=search) | Q(name__icontains=search))
    if region is not None:
        customers = customers.filter(region__in=Region.objects.within(region))
    return customers


def sees_every_customer(user: Any) -> bool:
    """Whether `user` reads every customer (leadership, coordinators): their list filters by region."""
    return customer_scope(user, to=READ) is EVERYTHING


def _check_codes(field: str, codes: Any, known: list[str], message: str) -> None:
    if isinstance(codes, str) or not all(isinstance(code, str) for code in codes):
        raise InvalidInput({field: [_("Give a list of codes.")]})
    unknown = sorted(set(codes) - set(known))
    if unknown:
        raise InvalidInput({field: [message % {"codes": ", ".join(unknown)}]})


def suggest_tier(customer: Customer, *, user: Any) -> TierSuggestion:
    """The tier `customer`'s figures suggest, for a reader who may read it."""
    check_customer_read(user, customer)
    return suggest_tiers([customer])[customer.pk]


def suggest_tiers(customers: Iterable[Customer] | None = None) -> dict[int, TierSuggestion]:
    """The suggested tier of each of `customers` (every customer when None) by id: scored as
    screening scores them, ranked among all customers. Two queries for a page of customers: the
    customers, and every customer's monthly value to rank against (not every customer screened)."""
    criteria = ScreeningCriteria(exclude_enrolled=False)
    weights = checked_weights(criteria)
    values = sorted(Customer.objects.values_list("monthly_value", flat=True))
    chosen = Customer.objects.all() if customers is None else customers
    suggestions = {}
    for customer in chosen:
        screened = score_customer(customer, criteria, weights, values)
        if screened.always_in or screened.score >= threshold("TIER_A_MIN_SCORE"):
            tier = Tier.A
        elif screened.score >= threshold("TIER_B_MIN_SCORE"):
            tier = Tier.B
        else:
            tier = Tier.C
        band = Reason(
            SCORE_BAND,
            {
                "score": screened.score,
                "tier": tier,
                "a_from": threshold("TIER_A_MIN_SCORE"),
                "b_from": threshold("TIER_B_MIN_SCORE"),
            },
        )
        reasons = screened.reasons if screened.always_in else (*screened.reasons, band)
        suggestions[customer.pk] = TierSuggestion(tier=tier, score=screened.score, reasons=reasons)
    return suggestions


def describe(reason: Reason) -> str:
    """A suggestion's reason as a sentence in the active language."""
    if reason.kind == SCORE_BAND:
        return (
            _("Combined score %(score)s of 100: tier %(tier)s (A from %(a_from)s, B from %(b_from)s).")
            % reason.params
        )
    if reason.kind == ALWAYS_IN:
        return _("Party, government or military customer: tier A whatever the score.")
    return screening.describe(reason)
