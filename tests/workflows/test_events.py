"""Engine events: written with the change that made them, published only once it commits, handled
once each by the subscribers, a failing subscriber never undoing the change."""

import pytest
from django.db import transaction
from django_q.models import OrmQ

from tests.workflows.conftest import open_task
from tests.workflows.diagrams import linear, script_task, source, user_task
from workflows import events
from workflows.actors import SYSTEM
from workflows.models import EngineEvent, HumanTask
from workflows.services import claim_task, complete_task, deploy, release_task, start_instance

pytestmark = pytest.mark.django_db

Kind = EngineEvent.Kind


def kinds(instance) -> list[tuple[str, str | None]]:
    found = EngineEvent.objects.filter(instance=instance).order_by("id")
    bpmn = dict(HumanTask.objects.filter(instance=instance).values_list("id", "bpmn_id"))
    return [(e.kind, bpmn.get(e.task_id)) for e in found]


@pytest.fixture
def heard():
    """What a subscriber is told, in order (subscribed for the test only)."""
    told: list[EngineEvent] = []
    events.subscribe(told.append)
    yield told
    events._SUBSCRIBERS.remove(told.append)


def test_a_task_created_completed_and_the_instance_finished_are_each_an_event(approval, people):
    assert kinds(approval) == [(Kind.TASK_CREATED, "submit")]

    complete_task(
        task_id=open_task(approval, "submit").pk, data={"amount": 5, "reason": "pens"}, user=people["alice"]
    )
    complete_task(task_id=open_task(approval, "review").pk, data={"approved": True}, user=people["bob"])

    assert kinds(approval) == [
        (Kind.TASK_CREATED, "submit"),
        (Kind.TASK_COMPLETED, "submit"),
        (Kind.TASK_CREATED, "review"),
        (Kind.TASK_COMPLETED, "review"),
        (Kind.INSTANCE_FINISHED, None),
    ]
    completed = EngineEvent.objects.get(
        instance=approval, kind=Kind.TASK_COMPLETED, task_id=open_task_id(approval, "review")
    )
    assert completed.actor_id == people["bob"].pk


def open_task_id(instance, bpmn_id):
    return HumanTask.objects.get(instance=instance, bpmn_id=bpmn_id).pk


def test_claiming_and_releasing_a_task_are_assignments(approval, people):
    task = open_task(approval, "submit")

    claim_task(task_id=task.pk, user=people["alice"])
    release_task(task_id=task.pk, user=people["alice"])

    assert kinds(approval)[1:] == [(Kind.TASK_ASSIGNED, "submit"), (Kind.TASK_ASSIGNED, "submit")]


def test_a_failing_script_makes_the_instance_failed_event():
    deploy(user=SYSTEM, files=[source("broken.bpmn", linear(script_task("boom", "x = 1 / 0")))])

    instance = start_instance(user=SYSTEM, process_id="test_process")

    assert instance.status == "error"
    assert [kind for kind, _task in kinds(instance)] == [Kind.INSTANCE_FAILED]


def queued_jobs() -> list[tuple]:
    return [(job.task["func"], job.task["args"]) for job in OrmQ.objects.all()]  # django-q2's own queue


def test_with_the_database_as_the_queue_the_job_is_queued_with_the_change_and_gone_with_its_rollback(people):
    deploy(user=SYSTEM, files=[source("one.bpmn", linear(user_task("do_it", name="Do it")))])

    with pytest.raises(RuntimeError), transaction.atomic():
        start_instance(user=SYSTEM, process_id="test_process")
        raise RuntimeError("the caller's own failure")
    instance = start_instance(user=SYSTEM, process_id="test_process")

    assert EngineEvent.objects.count() == 1
    assert queued_jobs() == [("workflows.tasks.handle_events", (instance.pk,))]


def test_with_redis_as_the_queue_the_job_is_queued_only_after_the_change_commits(
    people, settings, django_capture_on_commit_callbacks
):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "orm": None, "redis": "redis://127.0.0.1:6379/15"}
    deploy(user=SYSTEM, files=[source("one.bpmn", linear(user_task("do_it", name="Do it")))])

    with (
        django_capture_on_commit_callbacks() as rolled_back,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        start_instance(user=SYSTEM, process_id="test_process")
        raise RuntimeError("the caller's own failure")
    with django_capture_on_commit_callbacks() as committed:
        start_instance(user=SYSTEM, process_id="test_process")

    assert (len(rolled_back), len(committed)) == (0, 1)
    assert queued_jobs() == []


def test_each_event_is_handled_once_in_order(approval, people, heard):
    complete_task(
        task_id=open_task(approval, "submit").pk, data={"amount": 5, "reason": "pens"}, user=people["alice"]
    )

    first = events.handle_events(instance_id=approval.pk)
    again = events.handle_events(instance_id=approval.pk)

    assert (first, again) == (3, 0)
    assert [e.kind for e in heard] == [Kind.TASK_CREATED, Kind.TASK_COMPLETED, Kind.TASK_CREATED]
    assert not EngineEvent.objects.filter(handled_at=None).exists()


def test_a_failing_subscriber_undoes_only_its_own_work_and_the_event_is_retried_then_given_up(
    approval, heard
):
    def fails(event):
        HumanTask.objects.filter(pk=event.task_id).update(name="changed by the subscriber")
        raise ValueError("mail server down")

    events.subscribe(fails)
    try:
        for _attempt in range(events.MAX_ATTEMPTS + 2):
            assert events.handle_pending_events() == 0
    finally:
        events._SUBSCRIBERS.remove(fails)

    event = EngineEvent.objects.get(instance=approval)
    assert (event.handled_at, event.attempts, event.error) == (
        None,
        events.MAX_ATTEMPTS,
        "ValueError: mail server down",
    )
    assert open_task(approval, "submit").name == "Submit request"  # the subscriber's write rolled back
    assert approval.human_tasks.count() == 1  # the change itself stands


def test_the_sweep_handles_what_no_job_did(approval, heard):
    assert events.handle_pending_events() == 1
    assert [e.kind for e in heard] == [Kind.TASK_CREATED]
