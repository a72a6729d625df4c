"""Firing BPMN timer events that are due."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from workflows import clock, runtime
from workflows.models import AuditEvent, ProcessInstance, Timer

logger = logging.getLogger("workflows")


@dataclass(frozen=True)
class FiredTimer:
    instance_id: int
    bpmn_id: str
    due_at: datetime


def fire_due_timers(*, now: datetime | None = None) -> list[FiredTimer]:
    """Fire every timer due at `now` (default: the current time), each exactly once.

    Each instance is handled in its own transaction under its lock; an instance another worker
    holds is skipped (its timers stay due for the next run), and one that fails does not stop
    the others.
    """
    now = now or timezone.now()
    instance_ids = list(
        Timer.objects.filter(due_at__lte=now, instance__status__in=ProcessInstance.ACTIVE_STATUSES)
        .order_by("instance_id")
        .values_list("instance_id", flat=True)
        .distinct()
    )
    fired: list[FiredTimer] = []
    for instance_id in instance_ids:
        try:
            fired.extend(_fire_instance_timers(instance_id, now))
        except Exception:
            logger.exception("Firing timers of instance #%s failed", instance_id)
    return fired


def _fire_instance_timers(instance_id: int, now: datetime) -> list[FiredTimer]:
    with transaction.atomic():
        instance = runtime.lock_instance(instance_id, skip_locked=True)
        if instance is None or instance.status not in ProcessInstance.ACTIVE_STATUSES:
            return []
        due = {t.task_id: t for t in Timer.objects.filter(instance=instance, due_at__lte=now)}
        if not due:
            return []
        with clock.frozen(now):
            session = runtime.open_session(instance, actor=None)
            session.workflow.refresh_timers()
            runtime.advance(session)
            still_due = {
                task_id
                for task_id, (due_at, _bpmn, _kind) in runtime.take_snapshot(session.workflow).timers.items()
                if task_id in due and due_at == due[task_id].due_at
            }
            fired = [t for task_id, t in due.items() if task_id not in still_due]
            for timer in fired:
                session.record(
                    AuditEvent.Kind.TIMER_FIRED,
                    task_id=timer.task_id,
                    bpmn_id=timer.bpmn_id,
                    due_at=timer.due_at.isoformat(),
                    fired_at=now.isoformat(),
                )
            runtime.save(session)
    return [FiredTimer(instance_id, t.bpmn_id, t.due_at) for t in fired]
