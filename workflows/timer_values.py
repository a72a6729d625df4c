"""What a BPMN timer may be set to: an ISO 8601 date, duration or cycle within bounds.

SpiffWorkflow turns a timer's value into a fire time itself, after the expression has run, and
that arithmetic is unbounded: it walks a duration's months one by one (`P9999999999Y` never
finishes), overflows `timedelta` on large counts, and fires a zero-length cycle (`R/PT0S`) again at
every refresh. So every value is checked here before SpiffWorkflow sees it: a short text of the
expected shape, every span within `max_span_days`, and a cycle's period at least `min_cycle`
seconds. The helper processes run SpiffWorkflow's own parsing of the value under their limits; the
engine repeats the structural check, which is cheap and bounded whatever the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from workflows.sandbox.errors import ScriptError

MAX_LENGTH = 80
# Each component at most 9 digits, with an optional fraction: the text is checked before any number
# in it is used, so nothing below can be made to loop or overflow.
_NUMBER = r"\d{1,9}(?:[.,]\d{1,6})?"
_DURATION = re.compile(
    rf"^P(?=\d|T\d)(?:(?P<years>{_NUMBER})Y)?(?:(?P<months>{_NUMBER})M)?(?:(?P<weeks>{_NUMBER})W)?"
    rf"(?:(?P<days>{_NUMBER})D)?(?:T(?=\d)(?:(?P<hours>{_NUMBER})H)?(?:(?P<minutes>{_NUMBER})M)?"
    rf"(?:(?P<seconds>{_NUMBER})S)?)?$",
    re.IGNORECASE,
)
_DATE_TIME = re.compile(
    r"^\d{4}-?(?:\d{2}-?\d{2}|W\d{2}-?\d)(?:T[\d:.,]{1,18}(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$"
)
_CYCLE = re.compile(r"^R(?P<count>\d{0,9})/(?P<first>[^/]{1,40})(?:/(?P<second>[^/]{1,40}))?$", re.IGNORECASE)
_DAYS_PER_UNIT = {
    "years": 366,
    "months": 31,
    "weeks": 7,
    "days": 1,
    "hours": 1 / 24,
    "minutes": 1 / 1440,
    "seconds": 1 / 86400,
}
KINDS = {
    "TimeDateEventDefinition": "date",
    "DurationTimerEventDefinition": "duration",
    "CycleTimerEventDefinition": "cycle",
}


@dataclass(frozen=True)
class TimerBounds:
    min_cycle_seconds: float
    max_span_days: int


def timer_bounds() -> TimerBounds:
    from django.conf import settings

    return TimerBounds(
        min_cycle_seconds=settings.WORKFLOWS["MIN_TIMER_CYCLE_SECONDS"],
        max_span_days=settings.WORKFLOWS["MAX_TIMER_SPAN_DAYS"],
    )


def timer_kind(definition: Any) -> str | None:
    """'date', 'duration' or 'cycle' for SpiffWorkflow's timer definitions, else None."""
    for cls in type(definition).__mro__:
        if cls.__name__ in KINDS:
            return KINDS[cls.__name__]
    return None


def check_timer_value(kind: str, value: Any, bounds: TimerBounds) -> str:
    """The timer value as ISO text, or ScriptError saying what is wrong with it. Bounded work."""
    if kind == "date" and isinstance(value, (datetime, date)):
        value = value.isoformat()
    if not isinstance(value, str):
        raise ScriptError(
            _("A timer needs ISO 8601 text (for example 'PT48H'), not a %(type)s.")
            % {"type": type(value).__name__}
        )
    text = value.strip()
    if len(text) > MAX_LENGTH:
        raise ScriptError(_("The timer value is longer than %(limit)s characters.") % {"limit": MAX_LENGTH})
    if kind == "duration":
        _check_duration(text, bounds)
    elif kind == "date":
        _check_date(text)
    else:
        _check_cycle(text, bounds)
    return text


def _invalid(text: str) -> ScriptError:
    return ScriptError(
        _(
            "%(value)s is not an ISO 8601 timer value (for example 'PT48H', "
            "'2026-12-01T09:00:00+08:00' or 'R3/P1D')."
        )
        % {"value": repr(text)}
    )


def _check_duration(text: str, bounds: TimerBounds) -> float:
    """The duration's length in days (months and years counted long)."""
    match = _DURATION.match(text)
    if match is None:
        raise _invalid(text)
    days = sum(float(v.replace(",", ".")) * _DAYS_PER_UNIT[k] for k, v in match.groupdict().items() if v)
    if days > bounds.max_span_days:
        raise ScriptError(
            _("The timer's duration %(value)s is longer than %(limit)s days.")
            % {"value": text, "limit": f"{bounds.max_span_days:,}"}
        )
    return days


def _check_date(text: str) -> None:
    if not _DATE_TIME.match(text):
        raise _invalid(text)
    # Far from the year 9999 limit of Python's datetime, so time-zone arithmetic cannot overflow.
    if not 1900 <= int(text[:4]) <= 2999:
        raise ScriptError(_("The timer's date %(value)s is out of range.") % {"value": repr(text)})


def _check_cycle(text: str, bounds: TimerBounds) -> None:
    match = _CYCLE.match(text)
    if match is None:
        raise _invalid(text)
    parts = [p for p in (match["first"], match["second"]) if p]
    durations = [p for p in parts if p[:1].upper() == "P"]
    if len(durations) != 1:
        raise _invalid(text)
    for part in parts:
        if part in durations:
            days = _check_duration(part, bounds)
        else:
            _check_date(part)
    if days * 86400 < bounds.min_cycle_seconds:
        raise ScriptError(
            _("A timer cycle may repeat at most once every %(seconds)s s; %(value)s repeats more often.")
            % {"seconds": f"{bounds.min_cycle_seconds:g}", "value": repr(text)}
        )


def run_spiff_parse(kind: str, text: str, bounds: TimerBounds) -> None:
    """Let SpiffWorkflow compute the fire time as it will (inside a helper, under its limits), so a
    value it cannot handle fails here with a clear message rather than in the engine."""
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition as Timer

    start = datetime.now(UTC)
    try:
        if kind == "duration":
            delta = Timer.get_timedelta_from_start(Timer.parse_iso_duration(text), start)
        elif kind == "date":
            moment = Timer.parse_time_or_duration(text)
            if not isinstance(moment, datetime):
                raise ValueError(text)
            delta = moment - start
        else:
            _cycles, first, delta = Timer.parse_iso_recurring_interval(text)
            delta = max(delta, first - start, key=abs)
    except ScriptError:
        raise
    except Exception:
        raise _invalid(text) from None
    if abs(delta) > timedelta(days=bounds.max_span_days):
        raise ScriptError(
            _("The timer %(value)s lies more than %(limit)s days away.")
            % {"value": repr(text), "limit": f"{bounds.max_span_days:,}"}
        )
