"""The recurring jobs are written to django-q2's schedules after every migrate, once each by name,
keeping when they run next."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django_q.models import Schedule

from workflows.schedules import at_local_time, ensure_schedules, first_of_month_at, registered

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_timer_job_is_scheduled_every_minute_after_migrate():
    schedule = Schedule.objects.get(name="workflows.fire_due_timers")

    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "workflows.tasks.fire_due_timers",
        "I",
        1,
    )
    assert schedule.repeats == -1


def test_the_unhandled_engine_events_are_swept_every_minute():
    schedule = Schedule.objects.get(name="workflows.handle_pending_events")

    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "workflows.tasks.handle_pending_events",
        "I",
        1,
    )


def test_ensuring_the_schedules_again_changes_nothing_but_a_changed_job_and_keeps_the_next_run():
    schedule = Schedule.objects.get(name="workflows.fire_due_timers")
    next_run = datetime(2030, 1, 1, tzinfo=SHANGHAI)
    Schedule.objects.filter(pk=schedule.pk).update(func="somewhere.else", minutes=5, next_run=next_run)
    Schedule.objects.create(name=schedule.name, func="a.copy", schedule_type="I", minutes=1)

    ensure_schedules()
    ensure_schedules()

    kept = Schedule.objects.get(name=schedule.name)  # one, the copy gone
    assert (kept.pk, kept.func, kept.minutes, kept.next_run) == (
        schedule.pk,
        "workflows.tasks.fire_due_timers",
        1,
        next_run,
    )
    assert Schedule.objects.count() == len(registered())


def test_a_daily_job_first_runs_at_the_next_local_hour():
    first = at_local_time(2)

    assert first(datetime(2026, 11, 30, 1, 0, tzinfo=SHANGHAI)) == datetime(
        2026, 11, 30, 2, 0, tzinfo=SHANGHAI
    )
    assert first(datetime(2026, 11, 30, 2, 0, tzinfo=SHANGHAI)) == datetime(
        2026, 12, 1, 2, 0, tzinfo=SHANGHAI
    )


def test_a_monthly_job_first_runs_on_the_next_first_of_a_month():
    first = first_of_month_at(3)

    assert first(datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)) == datetime(
        2026, 12, 1, 3, 0, tzinfo=SHANGHAI
    )
    assert first(datetime(2026, 12, 1, 2, 0, tzinfo=SHANGHAI)) == datetime(2026, 12, 1, 3, 0, tzinfo=SHANGHAI)
    assert first(datetime(2026, 12, 31, 23, 0, tzinfo=SHANGHAI)) == datetime(
        2027, 1, 1, 3, 0, tzinfo=SHANGHAI
    )
