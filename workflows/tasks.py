"""The engine's background jobs (django-q2): each takes ids or nothing and calls one service."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from workflows import events
from workflows.services import due_timer_instances
from workflows.services import fire_due_timers as fire_timers_now

# Instances per timer job: a share small enough that the workers fire side by side and each job
# ends well within its timeout, large enough that queueing a job costs little beside its firings
# (a few milliseconds each).
TIMER_BATCH = 200


def fire_due_timers() -> int:
    """Every minute: fire the BPMN timers that are due (each exactly once, per instance under its
    lock); how many this job fired. Their events are handled by the job that fired them.

    Beyond one batch of due instances, the others are queued as jobs of their own (`fire_timers_of`)
    before this job fires the first, so that the cluster's workers fire them side by side. Each
    instance is in one batch, and is judged again under its lock when fired; a batch job that is
    lost leaves its timers due for the next minute's run.
    """
    now = timezone.now()
    instance_ids = due_timer_instances(now=now)
    first, rest = instance_ids[:TIMER_BATCH], instance_ids[TIMER_BATCH:]
    if rest:
        from django_q.tasks import async_task

        # One transaction: on the database broker, queueing outside one reconnects on SQLite.
        with transaction.atomic():
            for start in range(0, len(rest), TIMER_BATCH):
                async_task(
                    "workflows.tasks.fire_timers_of", rest[start : start + TIMER_BATCH], now.isoformat()
                )
    with events.handled_in_this_job():
        return len(fire_timers_now(now=now, instance_ids=first))


def fire_timers_of(instance_ids: list[int], due_at: str) -> int:
    """A batch of the every-minute job's due instances: fire what was due at `due_at` (ISO 8601);
    how many fired. The firings' events are handled here, at the end (`events.handled_in_this_job`)."""
    with events.handled_in_this_job():
        return len(fire_timers_now(now=datetime.fromisoformat(due_at), instance_ids=instance_ids))


def handle_events(instance_id: int) -> int:
    """After a change to an instance committed: react to its events (`workflows.events`)."""
    return events.handle_events(instance_id=instance_id)


def handle_pending_events() -> int:
    """Every minute: the events no job handled (the worker was down, a job failed)."""
    return events.handle_pending_events()
