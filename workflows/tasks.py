"""The engine's background jobs (django-q2): each takes ids or nothing and calls one service."""

from __future__ import annotations

from workflows.services import fire_due_timers as fire_timers_now


def fire_due_timers() -> int:
    """Every minute: fire the BPMN timers that are due (each exactly once, per instance under its
    lock); how many fired."""
    return len(fire_timers_now())
