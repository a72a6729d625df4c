from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from tests.conftest import TEST_BPMN_DIR, source
from workflows import clock, events, tasks
from workflows.actors import SYSTEM
from workflows.models import AuditEvent, EngineEvent, HumanTask, ProcessInstance, Timer
from workflows.services import complete_task, deploy, fire_due_timers, start_instance

pytestmark = pytest.mark.django_db

JOBS_BPMN_DIR = Path(__file__).resolve().parent.parent / "jobs" / "bpmn"


@pytest.fixture
def instance():
    deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "timers.bpmn")])
    return start_instance(user=SYSTEM, process_id="timers")


def timers_of(instance):
    return {t.bpmn_id: t for t in Timer.objects.filter(instance=instance)}


def test_waiting_timers_are_in_the_table_with_their_due_time(instance):
    started = timezone.now()
    timers = timers_of(instance)
    assert set(timers) == {"timeout", "reminder"}
    assert abs(timers["timeout"].due_at - (started + timedelta(hours=1))) < timedelta(seconds=30)
    assert abs(timers["reminder"].due_at - (started + timedelta(minutes=10))) < timedelta(seconds=30)
    assert instance.human_tasks.get().due_at == timers["timeout"].due_at


def test_nothing_fires_before_it_is_due(instance):
    assert fire_due_timers(now=timezone.now() + timedelta(minutes=5)) == []
    assert timers_of(instance).keys() == {"timeout", "reminder"}


def test_a_cycle_fires_once_per_occurrence_and_keeps_the_task_open(instance):
    later = timezone.now() + timedelta(minutes=11)
    fired = fire_due_timers(now=later)
    assert [t.bpmn_id for t in fired] == ["reminder"]
    assert fire_due_timers(now=later) == []  # exactly once

    reminder = timers_of(instance)["reminder"]
    assert timedelta(minutes=19) < reminder.due_at - timezone.now() < timedelta(minutes=21)
    assert instance.human_tasks.get().status == "open"
    assert AuditEvent.objects.filter(instance=instance, kind="timer_fired").count() == 1


def test_an_interrupting_timer_cancels_the_task_and_takes_its_path(instance):
    fired = fire_due_timers(now=timezone.now() + timedelta(hours=2))

    assert sorted(t.bpmn_id for t in fired) == ["reminder", "timeout"]
    assert instance.human_tasks.get().status == HumanTask.Status.CANCELLED
    # The timeout path waits for an intermediate timer a day after "now" was passed in.
    cool_down = timers_of(instance)["cool_down"]
    assert timedelta(hours=25) < cool_down.due_at - timezone.now() < timedelta(hours=27)
    instance.refresh_from_db()
    assert instance.status == ProcessInstance.Status.WAITING


def test_the_last_timer_ends_the_instance(instance):
    fire_due_timers(now=timezone.now() + timedelta(hours=2))
    fire_due_timers(now=timezone.now() + timedelta(days=3))

    instance.refresh_from_db()
    assert instance.status == ProcessInstance.Status.COMPLETED
    assert not Timer.objects.filter(instance=instance).exists()


def test_completing_the_task_removes_its_timers(instance):
    complete_task(task_id=instance.human_tasks.get().pk, data={}, user=SYSTEM)
    assert timers_of(instance) == {}
    assert fire_due_timers(now=timezone.now() + timedelta(days=1)) == []


def test_timers_of_a_suspended_instance_wait(instance):
    from workflows.services import resume_instance, suspend_instance

    suspend_instance(user=SYSTEM, instance_id=instance.pk)
    assert fire_due_timers(now=timezone.now() + timedelta(hours=2)) == []
    resume_instance(user=SYSTEM, instance_id=instance.pk)
    assert len(fire_due_timers(now=timezone.now() + timedelta(hours=2))) == 2


def test_a_failing_instance_does_not_stop_the_others(instance, monkeypatch):
    deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "timers.bpmn")])
    other = start_instance(user=SYSTEM, process_id="timers")
    from workflows.services import timers as timer_service

    real = timer_service.runtime.open_session

    def broken_for_first(inst, **kwargs):
        if inst.pk == instance.pk:
            raise RuntimeError("disk on fire")
        return real(inst, **kwargs)

    monkeypatch.setattr(timer_service.runtime, "open_session", broken_for_first)
    fired = fire_due_timers(now=timezone.now() + timedelta(minutes=11))
    assert [t.instance_id for t in fired] == [other.pk]


# --- the every-minute job ----------------------------------------------------------------------


@pytest.fixture
def due_instances():
    """Five instances each waiting on a timer that has been due for an hour."""
    deploy(user=SYSTEM, files=[source(JOBS_BPMN_DIR / "wait_an_hour.bpmn")])
    with clock.frozen(timezone.now() - timedelta(hours=2)):
        return [start_instance(user=SYSTEM, process_id="wait_an_hour").pk for _ in range(5)]


def queued_timer_jobs() -> list[tuple]:
    return [
        job.task["args"] for job in OrmQ.objects.all() if job.task["func"] == "workflows.tasks.fire_timers_of"
    ]


def fired_per_instance(instance_ids) -> dict[int, int]:
    found = AuditEvent.objects.filter(instance_id__in=instance_ids, kind=AuditEvent.Kind.TIMER_FIRED)
    return dict(Counter(found.values_list("instance_id", flat=True)))


def test_the_every_minute_job_fires_a_batch_and_shares_the_other_due_instances_out_as_jobs(
    due_instances, monkeypatch
):
    monkeypatch.setattr(tasks, "TIMER_BATCH", 2)

    assert tasks.fire_due_timers() == 2

    assert fired_per_instance(due_instances) == {due_instances[0]: 1, due_instances[1]: 1}
    queued = queued_timer_jobs()
    assert [ids for ids, _due_at in queued] == [due_instances[2:4], due_instances[4:]]
    assert sum(tasks.fire_timers_of(*args) for args in queued) == 3
    assert fired_per_instance(due_instances) == dict.fromkeys(due_instances, 1)


def test_a_batch_job_run_again_or_after_the_next_minutes_run_fires_nothing_twice(due_instances, monkeypatch):
    monkeypatch.setattr(tasks, "TIMER_BATCH", 2)
    tasks.fire_due_timers()
    queued = queued_timer_jobs()

    assert tasks.fire_due_timers() == 2  # the next minute: the batches' instances are still due
    assert sum(tasks.fire_timers_of(*args) for args in queued_timer_jobs()) == 1
    assert sum(tasks.fire_timers_of(*args) for args in queued) == 0  # the first batches, handed out late

    assert fired_per_instance(due_instances) == dict.fromkeys(due_instances, 1)


def test_a_batch_fires_only_what_was_due_when_the_job_looked(due_instances, monkeypatch):
    monkeypatch.setattr(tasks, "TIMER_BATCH", 2)
    with clock.frozen(timezone.now() - timedelta(minutes=30)):  # due in half an hour from now
        later = start_instance(user=SYSTEM, process_id="wait_an_hour").pk

    looked_at = timezone.now().isoformat()
    assert tasks.fire_timers_of([due_instances[0], later], looked_at) == 1
    assert tasks.fire_timers_of([later], (timezone.now() + timedelta(hours=1)).isoformat()) == 1


def test_the_timer_jobs_handle_their_firings_events_themselves_and_queue_no_job_per_instance(
    due_instances, monkeypatch
):
    monkeypatch.setattr(tasks, "TIMER_BATCH", 2)
    told: list[EngineEvent] = []
    events.subscribe(told.append)
    try:
        tasks.fire_due_timers()
        for args in queued_timer_jobs():
            tasks.fire_timers_of(*args)
    finally:
        events._SUBSCRIBERS.remove(told.append)

    assert not [job for job in OrmQ.objects.all() if job.task["func"] == "workflows.tasks.handle_events"]
    finished = [e.instance_id for e in told if e.kind == EngineEvent.Kind.INSTANCE_FINISHED]
    assert sorted(finished) == sorted(due_instances)  # each once, by the job that fired it
    assert not EngineEvent.objects.filter(handled_at=None).exists()


def test_an_instance_changed_outside_a_timer_job_still_has_its_events_job_queued(due_instances):
    fire_due_timers()  # the service itself, as `manage.py fire_timers` calls it

    queued = [
        job.task["args"] for job in OrmQ.objects.all() if job.task["func"] == "workflows.tasks.handle_events"
    ]
    assert sorted(args[0] for args in queued) == sorted(due_instances)
