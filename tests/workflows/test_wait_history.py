"""The waits of instances that ran before the engine recorded them, rebuilt from the task table and
the audit log (`workflows.wait_history`, run by the migration that adds them): the same waits the
engine records itself."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import TEST_BPMN_DIR, source
from tests.workflows.conftest import open_task
from workflows.actors import SYSTEM
from workflows.models import AuditEvent, Wait
from workflows.services import (
    complete_task,
    deliver_message,
    deploy,
    fire_due_timers,
    start_instance,
    terminate_instance,
)
from workflows.wait_history import fill_from_history

pytestmark = pytest.mark.django_db


def recorded():
    # A task's length to the second; a timer's is left out: the test fires them at a moment given
    # to the engine, while the audit log keeps the moment it happened.
    return sorted(
        (w.instance_id, w.version_id, w.bpmn_id, w.kind, w.ended_at is None, round(w.seconds or 0))
        if w.kind == Wait.Kind.TASK
        else (w.instance_id, w.version_id, w.bpmn_id, w.kind, w.ended_at is None, None)
        for w in Wait.objects.all()
    )


def rebuilt():
    Wait.objects.all().delete()
    fill_from_history(connection)
    return recorded()


def test_the_history_gives_the_waits_the_engine_recorded(approval, people):
    for name in ("timers.bpmn", "message_wait.bpmn"):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / name)])
    fired = start_instance(user=SYSTEM, process_id="timers")
    waiting = start_instance(user=SYSTEM, process_id="timers")
    paid = start_instance(user=SYSTEM, process_id="message_wait", data={"order_id": "A-1"})
    start_instance(user=SYSTEM, process_id="message_wait", data={"order_id": "B-2"})
    complete_task(
        task_id=open_task(approval, "submit").pk,
        data={"reason": "一台电脑", "amount": 800},
        user=people["alice"],
    )
    fire_due_timers(now=timezone.now() + timedelta(hours=2))
    deliver_message(
        user=SYSTEM, name="payment_received", correlation={"order_id": "A-1"}, payload={"order_id": "A-1"}
    )
    engine = recorded()

    history = rebuilt()

    assert history == engine
    assert [w[2:5] for w in history if w[0] == paid.pk] == [("wait_payment", "message", False)]
    assert {w[2] for w in history if w[0] == fired.pk} == {"reminder", "timeout", "cool_down"}
    assert waiting.pk in {w[0] for w in history}


def test_an_ended_instance_leaves_only_the_waits_that_ended(approval, people):
    complete_task(
        task_id=open_task(approval, "submit").pk,
        data={"reason": "一台电脑", "amount": 800},
        user=people["alice"],
    )
    terminate_instance(instance_id=approval.pk, user=SYSTEM, reason="stopped")

    assert [(w[2], w[4]) for w in rebuilt()] == [("submit", False)]


def test_a_delivery_whose_event_names_no_element_gives_no_wait(approval):
    AuditEvent.objects.create(
        instance=approval, kind=AuditEvent.Kind.MESSAGE_DELIVERED, at=timezone.now(), details={"message": "m"}
    )

    assert [w[3] for w in rebuilt()] == ["task"]
