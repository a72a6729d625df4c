"""The recurring background jobs (django-q2 schedules), kept as code and written to the database
after every `migrate`, idempotently: each app registers its own (`register`), and
`ensure_schedules` creates a missing schedule or brings an existing one's job and frequency in line,
keeping when it runs next. They show in the admin under "Scheduled tasks"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

MINUTES, DAILY, MONTHLY = "I", "D", "M"  # django_q.models.Schedule's types


@dataclass(frozen=True)
class Recurring:
    """A job run every `minutes` minutes, every day or every month; the first run at
    `first_run(now)` (a daily job at a quiet hour, a monthly one on the first of the month). `label`
    says what it does in words, for the people who watch the worker."""

    name: str
    func: str
    schedule_type: str
    minutes: int | None = None
    label: Any = ""
    first_run: Callable[[datetime], datetime] = lambda now: now


_REGISTERED: dict[str, Recurring] = {}


def register(*entries: Recurring) -> None:
    for entry in entries:
        _REGISTERED[entry.name] = entry


def registered() -> list[Recurring]:
    return list(_REGISTERED.values())


def label_of(name: str) -> Any:
    """What the schedule named `name` does, in words; its name if it was not registered."""
    entry = _REGISTERED.get(name)
    return entry.label if entry is not None and entry.label else name


def at_local_time(hour: int, minute: int = 0) -> Callable[[datetime], datetime]:
    """The next time the local clock reads hour:minute."""

    def first(now: datetime) -> datetime:
        local = timezone.localtime(now)
        run = timezone.make_aware(datetime.combine(local.date(), time(hour, minute)))
        return run if run > now else run + timedelta(days=1)

    return first


def first_of_month_at(hour: int) -> Callable[[datetime], datetime]:
    """The next first day of a month, at `hour` local time."""

    def first(now: datetime) -> datetime:
        local = timezone.localtime(now).date()
        start = local.replace(day=1)
        run = timezone.make_aware(datetime.combine(start, time(hour)))
        if run <= now:
            following = (start + timedelta(days=32)).replace(day=1)
            run = timezone.make_aware(datetime.combine(following, time(hour)))
        return run

    return first


def ensure_schedules(**_signal: Any) -> None:
    """Every registered job scheduled once (by name); a post_migrate receiver."""
    from django_q.models import Schedule

    now = timezone.now()
    for entry in registered():
        values = {"func": entry.func, "schedule_type": entry.schedule_type, "minutes": entry.minutes}
        found = Schedule.objects.filter(name=entry.name).order_by("pk")
        first = found.first()
        if first is None:
            Schedule.objects.create(name=entry.name, next_run=entry.first_run(now), repeats=-1, **values)
            continue
        found.exclude(pk=first.pk).delete()  # (a name is one schedule: a copy would run twice)
        if any(getattr(first, field) != value for field, value in values.items()):
            Schedule.objects.filter(pk=first.pk).update(**values)
