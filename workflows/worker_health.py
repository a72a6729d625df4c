"""Whether the background worker runs, as the database shows it: each schedule's last successful
run (django-q2 records a schedule's jobs in the group named after it), and whether the engine's
every-minute schedule has gone without one for too long. Read by the system checks and the
coordinators' operations page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Max, Min, Q
from django.utils import timezone
from django_q.models import Schedule, Task

from workflows.schedules import label_of

# The engine's every-minute schedule (workflows/apps.py registers it): the worker's heartbeat.
HEARTBEAT = "workflows.fire_due_timers"
STALLED_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class ScheduleRun:
    name: str
    label: Any
    func: str
    next_run: datetime | None
    last_success: datetime | None


def schedule_runs() -> list[ScheduleRun]:
    """Every schedule with the end of its latest successful job (None: none kept), by name."""
    schedules = list(Schedule.objects.order_by("name", "pk"))
    last = dict(
        Task.objects.filter(success=True, group__in=[s.name for s in schedules if s.name])
        .values("group")
        .annotate(last=Max("stopped"))
        .values_list("group", "last")
    )
    return [
        ScheduleRun(s.name or "", label_of(s.name or s.func), s.func, s.next_run, last.get(s.name))
        for s in schedules
    ]


def stalled_since(*, now: datetime | None = None) -> datetime | None:
    """Since when the every-minute schedule has been waiting for a successful run, if that is longer
    than STALLED_AFTER; None while the worker keeps up (or before it ever had the chance: a schedule
    written by a migrate a minute ago has not been missed yet)."""
    now = now or timezone.now()
    schedule = Schedule.objects.filter(name=HEARTBEAT).order_by("pk").first()
    if schedule is None:
        return None
    runs = Task.objects.filter(group=HEARTBEAT).aggregate(
        last_success=Max("stopped", filter=Q(success=True)), first_try=Min("started")
    )
    # Owed a run since its last success; never succeeded: since it first came due (the scheduler
    # moves next_run on when it hands out a job, so the first job's start is kept).
    owed_since = runs["last_success"] or min(
        (moment for moment in (runs["first_try"], schedule.next_run) if moment is not None), default=None
    )
    if owed_since is None or now - owed_since <= STALLED_AFTER:
        return None
    return owed_since
