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
    # (value, depth, where): `where` is (parent's where, key), turned into a path only on refusal.
    stack: list[tuple[Any, int, tuple | None]] = [(value, 0, None)]
    while stack:
        current, depth, where = stack.pop()
        items += 1
        kind = type(current)
        if kind is str:
            if len(current) > limits.string:
                raise DataRefused(
                    _path(path, where),
                    _("The text is longer than %(limit)s characters.") % {"limit": f"{limits.string:,}"},
                )
            size += len(current)
        elif kind is dict or kind is list or kind is tuple:
            if depth >= limits.depth:
                raise DataRefused(
                    _path(path, where),
                    _("The data is nested more than %(limit)s levels deep.") % {"limit": limits.depth},
                )
            if kind is dict:
                for key, item in current.items():
                    if type(key) is not str or not 0 < len(key) <= 200 or not key.isprintable():
                        _refuse_key(key, _path(path, where))
                    size += len(key)
                    stack.append((item, depth + 1, (where, key)))
            else:
                stack.extend((item, depth + 1, (where, index)) for index, item in enumerate(current))
            size += _SCALAR_SIZE
        elif kind is bool or current is None or (kind is int and -MAX_INT <= current <= MAX_INT):
            size += _SCALAR_SIZE
        else:
            problem = _scalar_problem(current)
            if problem:
                raise DataRefused(_path(path, where), problem)
            size += _SCALAR_SIZE
        if items > limits.items:
            raise DataRefused(
                path, _("The data holds more than %(limit)s values.") % {"limit": f"{limits.items:,}"}
            )
        if size > limits.size:
            raise DataRefused(
                path, _("The data is larger than %(limit)s bytes.") % {"limit": f"{limits.size:,}"}
            )


def _path(root: str, where: tuple | None) -> str:
    keys = []
    while where is not None:
        where, key = where
        keys.append(str(key))
    return ".".join(filter(None, [root, *reversed(keys)]))


def _refuse_key(key: Any, where: str) -> None:
    if not isinstance(key, str):
        raise DataRefused(where, _("Keys must be text, not %(type)s.") % {"type": type(key).__name__})
    raise DataRefused(
        where,
        _("The key %(key)s is not allowed: keys are 1 to 200 printable characters.")
        % {"key": repr(key[:50])},
    )


def _scalar_problem(value: Any) -> str | None:
    if not isinstance(value, SCALARS):
        return _("A %(type)s cannot be stored in process data; use numbers, text, lists or dictionaries.") % {
            "type": type(value).__name__
        }
    if (isinstance(value, float) and not math.isfinite(value)) or (
        isinstance(value, Decimal) and not value.is_finite()
    ):
        return _("Numbers must be finite (not NaN or infinity).")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        return _("Whole numbers must lie between -%(limit)s and %(limit)s.") % {"limit": MAX_INT}
    return None
