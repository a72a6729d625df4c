"""Continuous percentiles as one SQL aggregate on both databases: PostgreSQL's `percentile_cont`
over an array of fractions, and on SQLite, which has none, the same computation registered on each
new connection as a Python aggregate (as Django's SQLite backend registers STDDEV_POP and the
like). Either way the values are gathered and sorted once per group, for all the fractions."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from django.db.models import Aggregate, Field

SQLITE_FUNCTION = "PERCENTILES_CONT"


class Percentiles(Aggregate):
    """The values at `fractions` (from 0 to 1) of the group's non-null values, interpolated between
    the two nearest ranks as `percentile_cont` does. Read back with `read_percentiles`."""

    function = SQLITE_FUNCTION
    output_field = Field()  # an array or JSON text, per database: no conversion

    def __init__(self, expression: Any, fractions: Sequence[float], **extra: Any) -> None:
        self.fractions = [float(f) for f in fractions]
        if not self.fractions or any(not 0 <= f <= 1 for f in self.fractions):
            raise ValueError(fractions)
        super().__init__(expression, **extra)

    def as_sql(self, compiler, connection, **extra: Any) -> tuple[str, tuple]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"{SQLITE_FUNCTION}({sql}, %s)", (*params, json.dumps(self.fractions))

    def as_postgresql(self, compiler, connection, **extra: Any) -> tuple[str, tuple]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"percentile_cont(%s::float8[]) WITHIN GROUP (ORDER BY {sql})", (self.fractions, *params)


def read_percentiles(value: Any) -> list[float | None]:
    """The aggregate's result as a list (PostgreSQL returns an array, SQLite JSON text)."""
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str) else list(value)


def percentile_cont(ordered: Sequence[float], fraction: float) -> float:
    """The value at `fraction` of the sorted, non-empty `ordered`, as PostgreSQL computes it."""
    position = fraction * (len(ordered) - 1)
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


class _SQLitePercentiles:
    def __init__(self) -> None:
        self.values: list[float] = []
        self.fractions = "[]"

    def step(self, value: float | None, fractions: str) -> None:
        if value is not None:
            self.values.append(value)
        self.fractions = fractions

    def finalize(self) -> str | None:
        if not self.values:
            return None
        self.values.sort()
        return json.dumps([percentile_cont(self.values, f) for f in json.loads(self.fractions)])


def register_on_sqlite(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: the aggregate on each new SQLite connection."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_FUNCTION, 2, _SQLitePercentiles)
