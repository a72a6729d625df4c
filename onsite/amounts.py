"""Amounts of money (CNY) and incentive points: read in one place, printed in one place.

Both are decimals with two places. SQLite hands back sums as 15-digit decimals (`147.400000000000`),
so a figure is brought to cents before it leaves a selector and printed through `format_amount`.
"""

from __future__ import annotations

import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from onsite.exceptions import InvalidInput

CENT = Decimal("0.01")
# The largest amount the money columns (14 digits, 2 places) hold.
MAX_AMOUNT = Decimal("999999999999.99")
# Written around an amount in files and forms: thousands separators, spaces, the currency.
_DECORATIONS = (",", " ", "\u00a0")
_CURRENCY_SIGNS = ("¥", "元")


def parse_amount(value: Any, *, field: str) -> Decimal | None:
    """An amount of money from a form, a file cell or code: `1234.5`, `"1,234.50"`, `"１２００元"`,
    `"¥ 80"`. None when blank; a field error on `field` when it is not a finite, non-negative
    amount the database can hold."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    shown = str(value).strip()
    if isinstance(value, bool):
        amount = None
    elif isinstance(value, str):
        amount = _decimal(_bare(value))
    else:
        amount = _decimal(str(value))
    if amount is None or not amount.is_finite():
        raise InvalidInput({field: [_("%(value)s is not an amount of money.") % {"value": shown}]})
    if amount < 0:
        raise InvalidInput(
            {field: [_("An amount of money cannot be negative (%(value)s).") % {"value": shown}]}
        )
    if amount > MAX_AMOUNT:
        raise InvalidInput(
            {field: [_("%(value)s is more than the largest amount accepted.") % {"value": shown}]}
        )
    return amount


def to_cents(value: Decimal | int | None) -> Decimal:
    """A figure rounded to two places (half up), as money and points are kept; None counts as 0."""
    return Decimal(value or 0).quantize(CENT, ROUND_HALF_UP)


def format_amount(value: Decimal | int | float | None) -> str:
    """An amount or a number of points as people read it: two decimals, `147.40`; blank for None."""
    if value is None:
        return ""
    return f"{to_cents(Decimal(str(value))):.2f}"


def _bare(text: str) -> str:
    # NFKC turns full-width digits, commas and signs (`１，２００`) into their ASCII forms.
    text = unicodedata.normalize("NFKC", text).strip()
    for sign in _CURRENCY_SIGNS:
        text = text.removeprefix(sign).removesuffix(sign)
    for mark in _DECORATIONS:
        text = text.replace(mark, "")
    return text


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
