"""Words and figures for the team leader's desk: the selectors give codes and numbers, these show
them in the reader's language."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from onsite.models import FunnelStage, IncentiveRecord
from onsite.selectors.appraisal_indicators import AMOUNT, INDICATORS, RATE
from onsite.selectors.dashboard import PAID
from onsite.selectors.short_board import INDICATOR_LABELS
from onsite.selectors.warnings import WarningKind, describe

register = template.Library()

DASH = "—"


@register.filter
def lookup(mapping: dict, key: Any) -> Any:
    return mapping.get(key)


@register.filter
def board_indicator(code: str) -> Any:
    return INDICATOR_LABELS.get(code, code)


@register.filter
def board_value(value: Any, code: str) -> str:
    """A short-board figure: a rate as a percentage, a count (or a median of counts) as a number."""
    if value is None:
        return DASH
    if code.endswith("_rate"):
        return percent(value)
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return number_format(value, 1)
    return number_format(int(value))


@register.filter
def percent(share: Any) -> str:
    """A share from 0 to 1 as a whole percentage; a dash when there is none."""
    if share is None:
        return DASH
    return f"{number_format(Decimal(share) * 100, 0)}%"


@register.filter
def amount(value: Any) -> str:
    if value is None:
        return DASH
    # Grouped by thousands in either language (Chinese and English both write 120,000).
    return f"¥{Decimal(value):,.0f}"


@register.filter
def stage_label(code: str) -> Any:
    return FunnelStage(code).label


@register.filter
def appraisal_indicator(code: str) -> Any:
    found = INDICATORS.get(code)
    return found.label if found else code


@register.filter
def appraisal_value(value: Any, code: str) -> str:
    """An appraisal figure (a target or an actual) as its indicator counts it."""
    if value is None:
        return DASH
    kind = INDICATORS[code].kind if code in INDICATORS else None
    if kind == RATE:
        return percent(value)
    if kind == AMOUNT:
        return amount(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return number_format(int(value))
    return number_format(value)


@register.filter
def warning_text(warning: Any) -> str:
    return describe(warning)


@register.filter
def warning_kind(code: str) -> Any:
    return WarningKind(code).label


@register.filter
def incentive_status(code: str) -> Any:
    """An incentive record's status in words; "paid" for the approved ones paid out (the
    dashboard's `PAID`)."""
    return _("paid") if code == PAID else IncentiveRecord.Status(code).label


@register.filter
def person_name(user: Any) -> str:
    if user is None:
        return DASH
    return user.get_full_name() or user.get_username()
