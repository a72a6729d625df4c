"""Test-only background jobs, run by the real clusters of tests/jobs."""

from __future__ import annotations

import os
import smtplib
import time
import uuid
from pathlib import Path

from django.contrib.auth.models import Group
from django.core.mail.backends.base import BaseEmailBackend
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


class FileOutbox(BaseEmailBackend):
    """The clusters' mail server in these tests: each message sent is a file in $TEST_OUTBOX, which
    the test counts. With $TEST_OUTBOX_PAUSE set, the first try of each message writes
    `<outbox>/sending` and pauses that many seconds before sending: time for a test to kill the
    worker with the message unsent. With $TEST_OUTBOX_DOWN set, the server is down."""

    def send_messages(self, email_messages):
        outbox = Path(os.environ["TEST_OUTBOX"])
        if os.environ.get("TEST_OUTBOX_DOWN"):
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        pause = float(os.environ.get("TEST_OUTBOX_PAUSE") or 0)
        sending = outbox / "sending"
        if pause and not sending.exists():
            sending.write_text("first try", encoding="utf-8")
            time.sleep(pause)
        for message in email_messages:
            (outbox / f"{uuid.uuid4().hex}.eml").write_bytes(message.message().as_bytes())
        return len(email_messages)


def sent_mail(outbox: Path) -> list[str]:
    """The messages in the outbox, as text."""
    return [path.read_text(encoding="utf-8", errors="replace") for path in sorted(outbox.glob("*.eml"))]
