"""The engine's background jobs (django-q2): each takes ids or nothing and calls one service."""

from __future__ import annotations

from workflows import events
from workflows.services import fire_due_timers as fire_timers_now


def fire_due_timers() -> int:
    """Every minute: fire the BPMN timers that are due (each exactly once, per instance under its
    lock); how many fired."""
    return len(fire_timers_now())


def handle_events(instance_id: int) -> int:
    """After a change to an instance committed: react to its events (`workflows.events`)."""
    return events.handle_events(instance_id=instance_id)


def handle_pending_events() -> int:
    """Every minute: the events no job handled (the worker was down, a job failed)."""
    return events.handle_pending_events()
