"""The three stages of seed 002 and how a customer's starting stage follows from the four factors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from onsite.exceptions import InvalidInput
from onsite.models import Stage
from onsite.models.programmes import StageFactors

ORDER = (Stage.PUBLICITY, Stage.INFORMATION_GATHERING, Stage.WIN_BACK)


def next_stage(stage: str) -> str | None:
    index = ORDER.index(Stage(stage))
    return ORDER[index + 1] if index + 1 < len(ORDER) else None


def clean_factors(factors: dict, *, required: bool = True) -> dict:
    """Each factor an integer from 1 (low) to 5 (high)."""
    if not isinstance(factors, Mapping):
        raise InvalidInput({name: [_("Score this factor from 1 to 5.")] for name in StageFactors.FIELDS})
    errors = {}
    cleaned = {}
    for name in StageFactors.FIELDS:
        value = factors.get(name)
        if value is None:
            if required:
                errors[name] = [_("Score this factor from 1 to 5.")]
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            errors[name] = [_("Score this factor from 1 to 5.")]
            continue
        cleaned[name] = value
    unknown = sorted(str(name) for name in set(factors) - set(StageFactors.FIELDS))
    for name in unknown:
        errors[name] = [_("Unknown factor.")]
    if errors:
        raise InvalidInput(errors)
    return cleaned


# Why a stage is suggested: one rule of seed 002 each.
STILL_BASIC, MATURE_WITH_COMPETITORS, READY_FOR_SOLUTIONS = "still_basic", "mature_with_competitors", "ready"


@dataclass(frozen=True)
class StageSuggestion:
    stage: str
    reason: str  # STILL_BASIC, MATURE_WITH_COMPETITORS or READY_FOR_SOLUTIONS; `describe` words it


def suggest_stage(factors: dict) -> StageSuggestion:
    """Seed 002: start with publicity while the customer's informatization or our own capability is
    basic; move to information gathering once both have grown; go for targeted win-back where we can
    embed products in the customer's key processes and there are competitors to win customers from.
    Local economic development holds a customer back when it is low."""
    f = clean_factors(factors)
    if f["informatization_level"] <= 2 or f["our_capability"] <= 2 or f["economic_development"] <= 1:
        return StageSuggestion(Stage.PUBLICITY, STILL_BASIC)
    if f["informatization_level"] >= 4 and f["our_capability"] >= 4 and f["competition"] >= 3:
        return StageSuggestion(Stage.WIN_BACK, MATURE_WITH_COMPETITORS)
    return StageSuggestion(Stage.INFORMATION_GATHERING, READY_FOR_SOLUTIONS)


def describe(suggestion: StageSuggestion) -> str:
    """Why the stage is suggested, as a sentence in the active language."""
    if suggestion.reason == STILL_BASIC:
        return _("Informatization, our capability or the local economy is still basic: start with publicity.")
    if suggestion.reason == MATURE_WITH_COMPETITORS:
        return _(
            "A mature customer, strong capability and competitors present: start with targeted win-back."
        )
    return _(
        "The customer values informatization and we can offer solutions: start by gathering information."
    )
