from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import TEST_BPMN_DIR, source
from workflows.actors import SYSTEM
from workflows.models import AuditEvent, HumanTask, ProcessInstance, Timer
from workflows.services import complete_task, deploy, fire_due_timers, start_instance

pytestmark = pytest.mark.django_db


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
