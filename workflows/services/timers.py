"""Firing BPMN timer events that are due."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from workflows import clock, runtime
from workflows.actors import SYSTEM
from workflows.models import AuditEvent, ProcessInstance, Timer
from workflows.projections import take_snapshot

logger = logging.getLogger("workflows")


@dataclass(frozen=True)
class FiredTimer:
    instance_id: int
    bpmn_id: str
    due_at: datetime


def due_timer_instances(*, now: datetime | None = None) -> list[int]:
    """The ids of the instances with a timer due at `now` (default: the current time), in order."""
    now = now or timezone.now()
    # Only the due_at index: joining the instances' status made the database walk the instances.
    # An instance that is not active is skipped under its lock when fired.
    return sorted(set(Timer.objects.filter(due_at__lte=now).values_list("instance_id", flat=True)))


def fire_due_timers(
    *, now: datetime | None = None, instance_ids: Iterable[int] | None = None
) -> list[FiredTimer]:
    """Fire every timer due at `now` (default: the current time), each exactly once; only those of
    `instance_ids` if given (a share of `due_timer_instances`, fired beside the others).

    Each instance is handled in its own transaction under its lock, and what is due is judged again
    under the lock; an instance another worker holds is skipped (its timers stay due for the next
    run), and one that fails does not stop the others.
    """
    now = now or timezone.now()
    if instance_ids is None:
        instance_ids = due_timer_instances(now=now)
    fired: list[FiredTimer] = []
    for instance_id in instance_ids:
        try:
            fired.extend(_fire_instance_timers(instance_id, now))
        except Exception as exc:
            # Rolled back; recorded on the instance, which leaves the scan until it is retried.
            try:
                runtime.record_failure(instance_id, exc)
            except Exception:
                logger.exception("Firing timers of instance #%s failed", instance_id)
    return fired


def _fire_instance_timers(instance_id: int, now: datetime) -> list[FiredTimer]:
    with transaction.atomic():
        instance = runtime.lock_instance(instance_id, skip_locked=True)
        if instance is None or instance.status not in ProcessInstance.ACTIVE_STATUSES:
            return []
        with clock.frozen(now):
            session = runtime.open_session(instance, actor=SYSTEM)
            # Judge by the workflow itself, under the lock: the table only said where to look.
            due = {task_id: values for task_id, values in session.before.timers.items() if values[0] <= now}
            if not due:
                return []  # another worker fired them since the scan: nothing to do, nothing to save
            session.workflow.refresh_timers()
            runtime.advance(session)
            after = take_snapshot(session.workflow).timers
            fired = [(task_id, values) for task_id, values in due.items() if after.get(task_id) != values]
            for task_id, (due_at, bpmn_id, _kind) in fired:
                session.record(
                    AuditEvent.Kind.TIMER_FIRED,
                    task_id=task_id,
                    bpmn_id=bpmn_id,
                    due_at=due_at.isoformat(),
                    fired_at=now.isoformat(),
                )
            runtime.save(session)
    return [FiredTimer(instance_id, bpmn_id, due_at) for _task_id, (due_at, bpmn_id, _kind) in fired]
