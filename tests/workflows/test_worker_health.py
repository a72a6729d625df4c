"""The worker's health from the database: each schedule's last success, and a system check
(`workflows.W001`) when the every-minute schedule has gone 5 minutes without one — never on a
fresh database, before the worker had its chance."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule, Task

from tests.conftest import ROOT
from workflows.checks import check_worker_runs
from workflows.worker_health import HEARTBEAT, schedule_runs, stalled_since

pytestmark = pytest.mark.django_db


def run(minutes_ago: float, *, success: bool = True, group: str = HEARTBEAT) -> Task:
    stopped = timezone.now() - timedelta(minutes=minutes_ago)
    return Task.objects.create(
        id=f"{int(minutes_ago * 1000)}{int(success)}".rjust(32, "0"),
        name="a-run",
        func="workflows.tasks.fire_due_timers",
        group=group,
        started=stopped - timedelta(seconds=1),
        stopped=stopped,
        success=success,
        attempt_count=1,
    )


def heartbeat_due(minutes_ago: float) -> None:
    Schedule.objects.filter(name=HEARTBEAT).update(next_run=timezone.now() - timedelta(minutes=minutes_ago))


def warnings() -> list[str]:
    return [message.id for message in check_worker_runs(None, databases=["default"])]


def test_a_schedule_just_written_by_migrate_is_no_alarm():
    heartbeat_due(0)

    assert stalled_since() is None
    assert warnings() == []
    call_command(
        "check", "--database", "default", "--tag", "database", "--fail-level", "WARNING", stdout=StringIO()
    )


def test_a_schedule_never_run_for_more_than_5_minutes_means_a_stalled_worker():
    heartbeat_due(6)

    assert stalled_since() is not None
    assert warnings() == ["workflows.W001"]


def test_a_success_within_5_minutes_is_a_running_worker_an_older_one_a_stalled_one():
    heartbeat_due(30)
    run(4)
    assert warnings() == []

    Task.objects.all().delete()
    last = run(6)
    assert stalled_since() == last.stopped
    assert warnings() == ["workflows.W001"]


def test_a_worker_that_runs_the_schedule_but_fails_every_time_is_stalled_once_5_minutes_have_passed():
    heartbeat_due(-1)  # the scheduler keeps moving it on
    run(3, success=False)
    assert warnings() == []

    run(6, success=False)
    assert warnings() == ["workflows.W001"]


def test_the_check_is_a_database_check_not_run_by_every_command():
    heartbeat_due(60)

    assert check_worker_runs(None) == []
    assert check_worker_runs(None, databases=["default"])


def test_each_schedule_shows_its_latest_success_only():
    run(2)
    latest = run(1)
    run(0.5, success=False)
    run(0.1, group="another")

    (heartbeat,) = [found for found in schedule_runs() if found.name == HEARTBEAT]
    assert heartbeat.last_success == latest.stopped


def test_check_passes_on_a_database_not_even_migrated(tmp_path):
    env = {**os.environ, "DEBUG": "true", "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--database", "default", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "W001" not in result.stdout + result.stderr
