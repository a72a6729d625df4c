"""What the coordinators' operations page reads: background jobs that failed or needed more than
one attempt, with their error and who retried them, each schedule's last successful run, and whether
the worker has stalled. Coordinators only; anyone else is refused (a 404 to them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone
from django_q.models import Task

from onsite.access import check_role, has_role
from onsite.roles import COORDINATOR
from workflows.exceptions import NotFound
from workflows.worker_health import ScheduleRun, schedule_runs, stalled_since

SHOWN_JOBS = 100  # the latest; the admin ("Failed tasks") keeps the rest


@dataclass(frozen=True)
class JobRetry:
    by: str
    at: datetime


@dataclass(frozen=True)
class TroubledJob:
    id: str
    name: str
    func: str
    group: str
    started: datetime
    stopped: datetime
    failed: bool
    attempts: int
    error: str  # the exception, then its traceback
    retries: list[JobRetry]

    @property
    def error_summary(self) -> str:
        """The exception as its traceback's last line names it ("RuntimeError: …"); django-q2 keeps
        a failure as "<message> : <traceback>"."""
        message, _sep, traceback = self.error.partition(" : Traceback")
        lines = [line for line in traceback.splitlines() if line.strip()]
        return lines[-1].strip() if lines else message.strip()


@dataclass(frozen=True)
class Operations:
    jobs: list[TroubledJob]
    schedules: list[ScheduleRun]
    stalled_since: datetime | None
    now: datetime


def operations(*, user: Any) -> Operations:
    check_role(user, COORDINATOR)
    tasks = list(
        Task.objects.filter(Q(success=False) | Q(attempt_count__gt=1)).order_by("-stopped")[:SHOWN_JOBS]
    )
    retries = _retries_of([task.id for task in tasks])
    jobs = [
        TroubledJob(
            id=task.id,
            name=task.name,
            func=task.func,
            group=task.group or "",
            started=task.started,
            stopped=task.stopped,
            failed=not task.success,
            attempts=task.attempt_count,
            # A failed job's result is its error (the traceback's last line first in django-q2).
            error="" if task.success else str(task.result or ""),
            retries=retries.get(task.id, []),
        )
        for task in tasks
    ]
    now = timezone.now()
    return Operations(jobs=jobs, schedules=schedule_runs(), stalled_since=stalled_since(now=now), now=now)


def failed_job(*, user: Any, task_id: str) -> Task:
    """A failed job a coordinator may retry; anyone else, or no such failed job: NotFound."""
    if not has_role(user, COORDINATOR):
        raise NotFound()
    job = Task.objects.filter(id=task_id, success=False).first()
    if job is None:
        raise NotFound()
    return job


def _retries_of(task_ids: list[str]) -> dict[str, list[JobRetry]]:
    entries = (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Task),
            object_id__in=task_ids,
            action_flag=CHANGE,  # (the admin records deletions too)
        )
        .select_related("user")
        .order_by("action_time")
    )
    found: dict[str, list[JobRetry]] = {}
    for entry in entries:
        person = entry.user.get_full_name() or entry.user.username
        found.setdefault(entry.object_id, []).append(JobRetry(by=person, at=entry.action_time))
    return found
