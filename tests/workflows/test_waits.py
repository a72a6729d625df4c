"""The waits the engine records in the save that opens or ends them (`workflows.models.Wait`, written
by `workflows.projections`): what ends one there, what withdraws one, and where a migration leaves
them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import TEST_BPMN_DIR, source
from tests.workflows.conftest import open_task
from tests.workflows.test_migration import approval_text, deploy_approval_text
from workflows import clock
from workflows.actors import SYSTEM
from workflows.models import Wait
from workflows.services import (
    complete_task,
    deliver_message,
    deploy,
    fire_due_timers,
    start_instance,
    suspend_instance,
    terminate_instance,
)
from workflows.services.migration import migrate_instance

pytestmark = pytest.mark.django_db


def waits_of(instance, **where):
    return list(
        Wait.objects.filter(instance=instance, **where)
        .order_by("id")
        .values_list("bpmn_id", "kind", "ended_at", "seconds")
    )


def open_waits(instance):
    return sorted(
        Wait.objects.filter(instance=instance, ended_at=None).values_list("bpmn_id", "kind", "version_id")
    )


@pytest.fixture
def timed():
    deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "timers.bpmn")])
    return start_instance(user=SYSTEM, process_id="timers")


def test_a_started_instance_waits_at_its_task_and_the_timers_on_it(timed):
    assert open_waits(timed) == [
        ("answer", "task", timed.version_id),
        ("reminder", "timer", timed.version_id),
        ("timeout", "timer", timed.version_id),
    ]


def test_a_completed_task_ends_its_wait_with_its_length_and_withdraws_its_timers(timed):
    opened = Wait.objects.get(instance=timed, kind="task").started_at
    done_at = opened + timedelta(hours=5)
    with clock.frozen(done_at):
        complete_task(task_id=timed.human_tasks.get().pk, data={}, user=SYSTEM)

    task_wait = Wait.objects.get(instance=timed, kind="task")
    assert task_wait.ended_at == done_at
    assert task_wait.seconds == pytest.approx(5 * 3600, abs=0.01)
    # The boundary timers did not end there: they are gone, not measured.
    assert not Wait.objects.filter(instance=timed, kind="timer").exists()


def test_a_fired_timer_ends_its_wait_and_an_interrupted_task_is_withdrawn(timed):
    later = timezone.now() + timedelta(hours=2)
    fire_due_timers(now=later)

    ended = waits_of(timed, ended_at__isnull=False)
    assert sorted((bpmn_id, kind) for bpmn_id, kind, _at, _s in ended) == [
        ("reminder", "timer"),
        ("timeout", "timer"),
    ]
    assert all(at == later and seconds > 7000 for _b, _k, at, seconds in ended)
    assert not Wait.objects.filter(instance=timed, kind="task").exists()
    # The timeout path waits at its next timer.
    assert open_waits(timed) == [("cool_down", "timer", timed.version_id)]


def test_a_cycle_timer_that_fires_ends_one_wait_and_starts_the_next(timed):
    later = timezone.now() + timedelta(minutes=11)
    fire_due_timers(now=later)

    reminders = waits_of(timed, bpmn_id="reminder")
    assert [(at is not None) for _b, _k, at, _s in reminders] == [True, False]
    assert Wait.objects.get(instance=timed, bpmn_id="reminder", ended_at=None).started_at == later


def test_a_delivered_message_ends_the_wait_at_its_catch_event():
    deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "message_wait.bpmn")])
    order = start_instance(user=SYSTEM, process_id="message_wait", data={"order_id": "A-1"})
    assert open_waits(order) == [("wait_payment", "message", order.version_id)]

    deliver_message(
        user=SYSTEM, name="payment_received", correlation={"order_id": "A-1"}, payload={"order_id": "A-1"}
    )

    [(bpmn_id, kind, at, seconds)] = waits_of(order)
    assert (bpmn_id, kind) == ("wait_payment", "message")
    assert at is not None and seconds >= 0


def test_a_suspended_instance_still_waits_and_a_terminated_one_waits_nowhere(timed):
    suspend_instance(instance_id=timed.pk, user=SYSTEM, reason="on hold")
    assert len(open_waits(timed)) == 3

    terminate_instance(instance_id=timed.pk, user=SYSTEM, reason="stopped")

    assert not Wait.objects.filter(instance=timed).exists()


def test_a_migration_moves_the_open_waits_and_leaves_the_ended_ones_on_the_old_version(approval, people):
    complete_task(
        task_id=open_task(approval, "submit").pk,
        data={"reason": "一台电脑", "amount": 800},
        user=people["alice"],
    )
    old = approval.version_id
    target = deploy_approval_text(approval_text().replace('name="Review request"', 'name="Review it"'))

    migrate_instance(instance_id=approval.pk, to_version=target, user=SYSTEM)

    assert open_waits(approval) == [("review", "task", target.pk)]
    assert Wait.objects.get(instance=approval, bpmn_id="submit").version_id == old
