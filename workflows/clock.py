"""The engine's single notion of "now".

SpiffWorkflow's timer definitions read the wall clock directly (`datetime.now(timezone.utc)` in
`bpmn/specs/event_definitions/timer.py`). `install()` points that module at a clock that honours
`frozen(at)`, so `fire_due_timers(now=...)` decides which timers are due, and computes new due
times, against the moment it was given - the same moment the timer table was queried with.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, tzinfo

from django.utils import timezone

_frozen_at: ContextVar[datetime | None] = ContextVar("workflows_clock_frozen_at", default=None)


def now() -> datetime:
    """The current engine time, timezone-aware."""
    return _frozen_at.get() or timezone.now()


def local_timezone() -> tzinfo:
    return timezone.get_current_timezone()


@contextmanager
def frozen(at: datetime | None) -> Iterator[None]:
    """Run the engine as if the time were `at` (no-op for None)."""
    if at is None:
        yield
        return
    if timezone.is_naive(at):
        raise ValueError("The engine clock needs a timezone-aware datetime.")
    token = _frozen_at.set(at)
    try:
        yield
    finally:
        _frozen_at.reset(token)


class _EngineDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:
        frozen_at = _frozen_at.get()
        if frozen_at is None:
            return super().now(tz)
        # Without a zone, datetime.now() means the process's local time, naive.
        moment = frozen_at.astimezone(tz) if tz else frozen_at.astimezone().replace(tzinfo=None)
        return cls.combine(moment.date(), moment.timetz())


def install() -> None:
    """Route SpiffWorkflow's timer arithmetic through the engine clock (idempotent)."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = _EngineDatetime
