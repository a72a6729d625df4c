"""Engine events: what a save changed that others react to, published after the save commits.

A save (`sessions.save_state`, the task services) writes its events (`EngineEvent`) in its own
transaction, and `publish_after_commit` has the worker handle that instance's events once the
transaction commits (the job queued in that same transaction when the database is the queue): a
rolled-back change leaves no event and notifies nobody; a reaction that fails never undoes the
change. The worker's job (`workflows.tasks.handle_events`) runs every subscriber (`subscribe`) for
each event in order, in one transaction per event, and marks it handled, so a retried or
duplicated job handles nothing twice; subscribers act idempotently (by unique keys), since a job
that dies mid-way is run again. What no job handled (the worker was down when the change
committed, a job failed or was lost) the every-minute sweep (`handle_pending_events`) picks up; an
event that keeps failing is given up after `MAX_ATTEMPTS`, its error kept.

The engine knows no subscriber: the domain subscribes in its `AppConfig.ready`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from workflows.models import EngineEvent, HumanTask

logger = logging.getLogger("workflows")

Kind = EngineEvent.Kind
MAX_ATTEMPTS = 5
Subscriber = Callable[[EngineEvent], None]
_SUBSCRIBERS: list[Subscriber] = []
_job = threading.local()  # `handled_in_this_job`'s instances, in this thread


def subscribe(subscriber: Subscriber) -> None:
    """Call `subscriber(event)` for every engine event, after the change that made it committed."""
    if subscriber not in _SUBSCRIBERS:
        _SUBSCRIBERS.append(subscriber)


def event_rows(
    instance_id: Any, kinds_and_tasks: Iterable[tuple[str, Any]], *, actor_id: int | None
) -> list[dict]:
    """The rows of a save's events, for `store.insert_rows` (written with the save's other rows)."""
    now = timezone.now()
    return [
        {
            "instance": instance_id,
            "task_id": task_id,
            "kind": kind,
            "actor_id": actor_id,
            "created_at": now,
            "handled_at": None,
            "attempts": 0,
            "error": "",
        }
        for kind, task_id in kinds_and_tasks
    ]


def record_task_event(task: HumanTask, kind: str, *, actor_id: int | None) -> None:
    """One task's event, written now in the current transaction (claims, releases, reassignments)."""
    EngineEvent.objects.create(instance_id=task.instance_id, task_id=task.pk, kind=kind, actor_id=actor_id)
    publish_after_commit(task.instance_id)


def publish_after_commit(instance_id: int) -> None:
    """Have the worker handle the instance's events once the current transaction commits, and only
    then. With the database as the queue (the default broker), the job is queued in the change's own
    transaction: it commits, or vanishes, with the change, at the cost of one INSERT. With Redis,
    which no transaction covers, it is queued after the commit (`transaction.on_commit`). Inside
    `handled_in_this_job`, the job that made the change handles them itself, queueing nothing."""
    collected = getattr(_job, "instance_ids", None)
    if collected is not None:
        collected.append(instance_id)
    elif _queue_in_this_database():
        _enqueue(instance_id)
    else:
        transaction.on_commit(lambda: _enqueue(instance_id))


@contextmanager
def handled_in_this_job() -> Iterator[None]:
    """For a background job that changes many instances, each in its own transaction (the timer
    batches): their events are handled by this job at its end, after every change committed, not by
    a job queued per instance (ten thousand firings would queue ten thousand jobs, which the broker
    hands out far slower than they are fired). What fails here, or is lost with the job, the sweep
    picks up."""
    _job.instance_ids = collected = []
    try:
        yield
    finally:
        _job.instance_ids = None
    for instance_id in dict.fromkeys(collected):
        try:
            handle_events(instance_id=instance_id)
        except Exception:
            logger.exception("Handling the events of instance #%s failed; left to the sweep", instance_id)


def _queue_in_this_database() -> bool:
    cluster = settings.Q_CLUSTER
    return cluster.get("orm") == DEFAULT_DB_ALIAS and not cluster.get("sync")


def _enqueue(instance_id: int) -> None:
    from django_q.tasks import async_task

    try:
        # In a transaction: outside one, django-q's database broker first closes this connection if
        # its age is up — on SQLite (no kept connections) every time, a reconnect per queued job.
        with transaction.atomic():
            async_task("workflows.tasks.handle_events", instance_id)
    except Exception:
        # Only the queueing is undone (its savepoint); the events stay, and the every-minute sweep
        # handles them.
        logger.exception("Could not queue the events of instance #%s", instance_id)


def handle_events(*, instance_id: int) -> int:
    """Handle the instance's pending events in order; how many were handled now."""
    return _handle(EngineEvent.objects.filter(instance_id=instance_id))


def handle_pending_events(*, limit: int = 1000) -> int:
    """Handle the oldest pending events of any instance (the sweep); how many were handled now."""
    return _handle(EngineEvent.objects.all(), limit=limit)


def _handle(events: Any, *, limit: int = 1000) -> int:
    pending = events.filter(handled_at=None, attempts__lt=MAX_ATTEMPTS).order_by("id")
    handled = 0
    for event_id in list(pending.values_list("pk", flat=True)[:limit]):
        try:
            handled += _handle_one(event_id)
        except Exception as exc:
            _record_failure(event_id, exc)
    return handled


def _handle_one(event_id: int) -> int:
    with transaction.atomic():
        # Locked, and still pending: another worker may have handled it since the read above.
        event = (
            EngineEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_id, handled_at=None)
            .first()
        )
        if event is None:
            return 0
        for subscriber in _SUBSCRIBERS:
            subscriber(event)
        EngineEvent.objects.filter(pk=event.pk).update(handled_at=timezone.now(), attempts=event.attempts + 1)
    return 1


def _record_failure(event_id: int, exc: Exception) -> None:
    logger.error("Handling engine event %s failed", event_id, exc_info=exc)
    with transaction.atomic():
        event = EngineEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is not None:
            EngineEvent.objects.filter(pk=event_id).update(
                attempts=event.attempts + 1, error=f"{type(exc).__name__}: {exc}"[:2000]
            )
