"""Test-only background jobs, run by the real clusters of tests/jobs."""

from __future__ import annotations

import time
from pathlib import Path

from django.contrib.auth.models import Group
from django.db import transaction


def mark(name: str) -> None:
    """A trace that the job ran: a group of that name (once, however often it runs)."""
    Group.objects.get_or_create(name=name)


@transaction.atomic
def write_in_two_halves(name: str, started: str, pause: float) -> None:
    """Two rows in one transaction with a pause between them, saying (in the file `started`, outside
    the database) when the first is written: a worker killed in the pause leaves neither. Only the
    first attempt pauses `pause` seconds, time for a test to kill it; a retry just finishes."""
    retry = Path(started).exists()
    Group.objects.get_or_create(name=f"{name} 1")
    Path(started).write_text("first half written", encoding="utf-8")
    time.sleep(0.1 if retry else pause)
    Group.objects.get_or_create(name=f"{name} 2")


def fail(reason: str) -> None:
    raise RuntimeError(reason)
