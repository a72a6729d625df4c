"""Customer screening (筛选), seed 002: by industry attribute (party, government and military
customers are always in), by value contribution and by development potential — each alone or
combined with weights — into a ranked list the coordinator picks the pilot group from.

The candidates are the customers the reader may read (`onsite.access`). Each result says why it
scored as it did as data (`Reason`: a kind and its values); `describe` words a reason in the active
language when it is shown.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from onsite.access import customers_visible_to
from onsite.exceptions import InvalidInput
from onsite.models import Customer, Enrolment, Industry, Region, Tier

INDUSTRY, VALUE, POTENTIAL = "industry", "value", "potential"
DIMENSIONS = (INDUSTRY, VALUE, POTENTIAL)
DEFAULT_WEIGHTS = {INDUSTRY: Decimal("0.2"), VALUE: Decimal("0.5"), POTENTIAL: Decimal("0.3")}
# How much an industry's informatization market is worth pursuing on site, 0-100.
DEFAULT_INDUSTRY_SCORES = {
    Industry.PARTY_GOVERNMENT_MILITARY: 100,
    Industry.FINANCE: 90,
    Industry.HEALTHCARE_PHARMA: 80,
    Industry.EDUCATION: 80,
    Industry.POWER_ENERGY: 80,
    Industry.TRANSPORT_LOGISTICS: 70,
    Industry.MANUFACTURING: 70,
    Industry.TELECOM: 60,
    Industry.TOURISM: 60,
    Industry.RETAIL: 60,
    Industry.OTHER: 40,
}
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class ScreeningCriteria:
    dimensions: tuple[str, ...] = DIMENSIONS
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    industry_scores: dict = field(default_factory=lambda: dict(DEFAULT_INDUSTRY_SCORES))
    region: Region | None = None  # with its counties
    industries: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    min_score: Decimal | None = None
    limit: int | None = None
    # Seed 002: party, government and military customers are always in, whatever their score.
    always_include_party_government_military: bool = True
    # Extending a programme later: customers already in one are left out.
    exclude_enrolled: bool = True


# The kinds of reason a customer is in, or scored as it did.
ALWAYS_IN = "always_in"


@dataclass(frozen=True)
class Reason:
    """Why a customer scored as it did: `kind` (ALWAYS_IN or a dimension) and its values."""

    kind: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ScreenedCustomer:
    customer: Customer
    score: Decimal  # 0-100
    scores: dict  # dimension -> 0-100
    reasons: tuple[Reason, ...]
    always_in: bool


def screen_customers(criteria: ScreeningCriteria | None = None, *, user: Any) -> list[ScreenedCustomer]:
    """Rank the customers `user` may read by the criteria; refused (`InvalidInput`, a message per
    field) when the criteria are not ones."""
    criteria = criteria or ScreeningCriteria()
    weights = checked_weights(criteria)
    candidates = customers_visible_to(user).select_related("region", "account_manager").order_by("code")
    if criteria.region is not None:
        candidates = candidates.filter(region__in=Region.objects.within(criteria.region).values("pk"))
    if criteria.industries:
        candidates = candidates.filter(industry__in=criteria.industries)
    if criteria.tiers:
        candidates = candidates.filter(tier__in=criteria.tiers)
    if criteria.exclude_enrolled:
        candidates = candidates.exclude(enrolments__status=Enrolment.Status.ACTIVE)
    customers = list(candidates)
    values = sorted(c.monthly_value for c in customers)
    screened = [score_customer(customer, criteria, weights, values) for customer in customers]
    screened.sort(key=lambda s: (-s.score, s.customer.code))
    min_score = None if criteria.min_score is None else Decimal(str(criteria.min_score))
    chosen, others = 0, []
    for item in screened:
        if item.always_in:
            others.append(item)
            continue
        if min_score is not None and item.score < min_score:
            continue
        if criteria.limit is not None and chosen >= criteria.limit:
            continue
        chosen += 1
        others.append(item)
    return others


# The screening page's form: a query string, read back into criteria by `criteria_from`.
SUBMITTED = "screened"  # present once the form was sent, so that unticked boxes mean "off"


def criteria_from(params: Any) -> ScreeningCriteria:
    """The criteria a screening form's query (a `QueryDict`, or any mapping with `getlist`) gives;
    defaults where it is silent. `InvalidInput`, a message per field, for a value that is not a
    number, a region that does not exist, or criteria `checked_weights` refuses."""
    sent = SUBMITTED in params
    errors: dict[str, list[str]] = {}
    weights = dict(DEFAULT_WEIGHTS)
    for dimension in DIMENSIONS:
        typed = (params.get(f"weight_{dimension}") or "").strip()
        if typed:
            weights[dimension] = typed  # checked_weights reads it, or refuses it at "weights"
    industry_scores = dict(DEFAULT_INDUSTRY_SCORES)
    for industry in Industry.values:
        typed = (params.get(f"score_{industry}") or "").strip()
        if typed:
            industry_scores[industry] = typed
    region = None
    typed_region = (params.get("region") or "").strip()
    if typed_region:
        region = Region.objects.filter(pk=typed_region).first() if typed_region.isdigit() else None
        if region is None:
            errors["region"] = [_("Choose a region.")]
    limit = None
    typed_limit = (params.get("limit") or "").strip()
    if typed_limit:
        if typed_limit.isdigit():
            limit = int(typed_limit)
        else:
            errors["limit"] = [_("Give the number of customers as a whole number.")]
    criteria = ScreeningCriteria(
        dimensions=tuple(params.getlist("dimension")) if sent else DIMENSIONS,
        weights=weights,
        industry_scores=industry_scores,
        region=region,
        industries=tuple(value for value in params.getlist("industry") if value),
        tiers=tuple(value for value in params.getlist("tier") if value),
        min_score=(params.get("min_score") or "").strip() or None,
        limit=limit,
        always_include_party_government_military=bool(params.get("always_in")) if sent else True,
    )
    try:
        checked_weights(criteria)
    except InvalidInput as refusal:
        errors = {**refusal.errors, **errors}
    if errors:
        raise InvalidInput(errors)
    return criteria


def score_customer(
    customer: Customer, criteria: ScreeningCriteria, weights: dict, values: list[Decimal]
) -> ScreenedCustomer:
    """One customer screened: its score per dimension and combined, with the reasons; `values` the
    sorted monthly values of the customers it is ranked among (itself included)."""
    scores, reasons = {}, []
    always_in = (
        criteria.always_include_party_government_military
        and customer.industry == Industry.PARTY_GOVERNMENT_MILITARY
    )
    if always_in:
        reasons.append(Reason(ALWAYS_IN))
    if INDUSTRY in weights:
        scores[INDUSTRY] = Decimal(str(criteria.industry_scores.get(customer.industry, 0)))
        if not always_in:
            reasons.append(Reason(INDUSTRY, {"industry": customer.industry, "score": scores[INDUSTRY]}))
    if VALUE in weights:
        scores[VALUE] = _percentile(customer.monthly_value, values)
        reasons.append(
            Reason(VALUE, {"value": customer.monthly_value, "share": scores[VALUE].quantize(Decimal(1))})
        )
    if POTENTIAL in weights:
        scores[POTENTIAL] = Decimal(customer.potential - 1) * HUNDRED / 4
        reasons.append(Reason(POTENTIAL, {"potential": customer.potential}))
    total = sum(weights[d] * scores[d] for d in weights) / sum(weights.values())
    return ScreenedCustomer(
        customer=customer,
        score=total.quantize(Decimal("0.01"), ROUND_HALF_UP),
        scores={d: s.quantize(Decimal("0.01"), ROUND_HALF_UP) for d, s in scores.items()},
        reasons=tuple(reasons),
        always_in=always_in,
    )


def describe(reason: Reason) -> str:
    """The reason as a sentence in the active language."""
    values = reason.params
    if reason.kind == ALWAYS_IN:
        return _("Party, government or military customer: always included.")
    if reason.kind == INDUSTRY:
        return _("Industry %(industry)s scores %(score)s.") % {
            "industry": Industry(values["industry"]).label,
            "score": values["score"],
        }
    if reason.kind == VALUE:
        return _("Value contribution %(value)s CNY a month, above %(share)s%% of the candidates.") % {
            "value": f"{values['value']:,.2f}",
            "share": values["share"],
        }
    return _("Development potential %(potential)s of 5.") % values


def checked_weights(criteria: ScreeningCriteria) -> dict:
    """The criteria's weight per dimension; `InvalidInput`, a message per field, when they are not ones."""
    errors = {}
    # Each criterion of the right kind first, so that the checks below can only answer, not crash.
    shapes = _check_shapes(criteria)
    if shapes:
        raise InvalidInput(shapes)
    unknown = set(criteria.dimensions) - set(DIMENSIONS)
    if unknown or not criteria.dimensions:
        errors["dimensions"] = [_("Choose one or more of: industry, value, potential.")]
    weights = {}
    for dimension in criteria.dimensions:
        try:
            weight = Decimal(str(criteria.weights.get(dimension, DEFAULT_WEIGHTS.get(dimension, 0))))
        except ArithmeticError:
            weight = Decimal(-1)
        # Finite first: comparing NaN with zero raises instead of answering.
        if not weight.is_finite() or weight < 0:
            errors["weights"] = [_("Weights must be numbers of zero or more.")]
        weights[dimension] = weight
    if not errors and sum(weights.values()) <= 0:
        errors["weights"] = [_("At least one weight must be above zero.")]
    if criteria.limit is not None and criteria.limit < 1:
        errors["limit"] = [_("Choose at least one customer.")]
    if criteria.min_score is not None and not _is_score(criteria.min_score):
        errors["min_score"] = [_("The lowest score is a number from 0 to 100.")]
    # A mistyped filter would otherwise screen to an empty list without saying why.
    unknown_industries = sorted(str(i) for i in set(criteria.industries) - set(Industry.values))
    if unknown_industries:
        errors["industries"] = [
            _("Unknown industry: %(industries)s.") % {"industries": ", ".join(unknown_industries)}
        ]
    unknown_tiers = sorted(str(t) for t in set(criteria.tiers) - set(Tier.values))
    if unknown_tiers:
        errors["tiers"] = [_("Unknown service tier: %(tiers)s.") % {"tiers": ", ".join(unknown_tiers)}]
    scores = criteria.industry_scores.items()
    if not all(industry in Industry.values and _is_score(score) for industry, score in scores):
        errors["industry_scores"] = [_("Score known industries from 0 to 100.")]
    if errors:
        raise InvalidInput(errors)
    return weights


def _check_shapes(criteria: ScreeningCriteria) -> dict[str, list[str]]:
    errors = {}
    for name in ("dimensions", "industries", "tiers"):
        value = getattr(criteria, name)
        if isinstance(value, str) or not _is_collection_of_strings(value):
            errors[name] = [_("Give a list of codes.")]
    for name in ("weights", "industry_scores"):
        if not isinstance(getattr(criteria, name), Mapping):
            errors[name] = [_("Give a value for each code.")]
    if criteria.region is not None and not (isinstance(criteria.region, Region) and criteria.region.pk):
        errors["region"] = [_("Choose a region.")]
    if criteria.limit is not None and (
        isinstance(criteria.limit, bool) or not isinstance(criteria.limit, int)
    ):
        errors["limit"] = [_("Give the number of customers as a whole number.")]
    return errors


def _is_collection_of_strings(value: object) -> bool:
    try:
        return all(isinstance(item, str) for item in value)  # type: ignore[union-attr]
    except TypeError:
        return False


def _is_score(score: object) -> bool:
    if isinstance(score, bool):
        return False
    try:
        score = Decimal(str(score))
    except ArithmeticError:
        return False
    return score.is_finite() and 0 <= score <= HUNDRED


def _percentile(value: Decimal, ordered: list[Decimal]) -> Decimal:
    """The share of candidates with a lower value (ties count half), 0-100; `ordered` sorted, and
    holding `value` itself (by bisection: screening thousands of customers stays cheap)."""
    if len(ordered) < 2:
        return HUNDRED
    below = bisect_left(ordered, value)
    equal = bisect_right(ordered, value) - below - 1
    return (Decimal(below) + Decimal(equal) / 2) * HUNDRED / (len(ordered) - 1)
