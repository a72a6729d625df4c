"""Bounded process data: the checks every value passes before the engine stores or runs on it.

Form submissions, start data, message payloads, service-task results and what scripts compute all
become task data that SpiffWorkflow copies, merges, serializes and hands to the next expression.
A value nested a few hundred levels deep makes each of those steps fail with RecursionError, so an
instance holding it could never move again; one huge value makes every later step slow. Every way
in is therefore checked here first: nesting depth, number of values, string length, total size,
finite numbers and plain data types. The walk is iterative, so it cannot itself be made to recurse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.utils.translation import gettext as _

# Values SpiffWorkflow's serializer stores as they are (the engine registers date and Decimal).
SCALARS = (str, bool, int, float, type(None), datetime, date, timedelta, Decimal, UUID)
MAX_INT = 2**63 - 1  # what databases and JSON readers elsewhere hold exactly
_SCALAR_SIZE = 8  # what a number or a flag counts for in the size estimate


@dataclass(frozen=True)
class DataLimits:
    depth: int
    items: int
    string: int
    size: int

    def as_list(self) -> list[int]:
        return [self.depth, self.items, self.string, self.size]


def data_limits() -> DataLimits:
    from django.conf import settings

    config = settings.WORKFLOWS
    return DataLimits(
        depth=config["MAX_DATA_DEPTH"],
        items=config["MAX_DATA_ITEMS"],
        string=config["MAX_STRING_LENGTH"],
        size=config["MAX_DATA_BYTES"],
    )


class DataRefused(ValueError):
    """A value breaks a limit; `path` names where ("" for the whole value, "a.b.0" inside it)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}" if path else reason)


def check_data(value: Any, limits: DataLimits, *, path: str = "") -> None:
    """Raise DataRefused unless `value` is plain data within `limits`."""
    items = size = 0
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        current, where, depth = stack.pop()
        items += 1
        if items > limits.items:
            raise DataRefused(
                path, _("The data holds more than %(limit)s values.") % {"limit": f"{limits.items:,}"}
            )
        if isinstance(current, str):
            if len(current) > limits.string:
                raise DataRefused(
                    where,
                    _("The text is longer than %(limit)s characters.") % {"limit": f"{limits.string:,}"},
                )
            size += len(current)
        elif isinstance(current, (dict, list, tuple)):
            if depth >= limits.depth:
                raise DataRefused(
                    where, _("The data is nested more than %(limit)s levels deep.") % {"limit": limits.depth}
                )
            if isinstance(current, dict):
                for key, item in current.items():
                    _check_key(key, where)
                    size += len(key)
                    stack.append((item, _join(where, key), depth + 1))
            else:
                stack.extend((item, _join(where, index), depth + 1) for index, item in enumerate(current))
            size += _SCALAR_SIZE
        else:
            _check_scalar(current, where)
            size += _SCALAR_SIZE
        if size > limits.size:
            raise DataRefused(
                path, _("The data is larger than %(limit)s bytes.") % {"limit": f"{limits.size:,}"}
            )


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _check_key(key: Any, where: str) -> None:
    if not isinstance(key, str):
        raise DataRefused(where, _("Keys must be text, not %(type)s.") % {"type": type(key).__name__})
    if not key or len(key) > 200 or not key.isprintable():
        raise DataRefused(
            where,
            _("The key %(key)s is not allowed: keys are 1 to 200 printable characters.")
            % {"key": repr(key[:50])},
        )


def _check_scalar(value: Any, where: str) -> None:
    if not isinstance(value, SCALARS):
        raise DataRefused(
            where,
            _("A %(type)s cannot be stored in process data; use numbers, text, lists or dictionaries.")
            % {"type": type(value).__name__},
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise DataRefused(where, _("Numbers must be finite (not NaN or infinity)."))
    if isinstance(value, Decimal) and not value.is_finite():
        raise DataRefused(where, _("Numbers must be finite (not NaN or infinity)."))
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise DataRefused(
            where, _("Whole numbers must lie between -%(limit)s and %(limit)s.") % {"limit": MAX_INT}
        )
