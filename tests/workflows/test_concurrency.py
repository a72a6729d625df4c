"""Two requests on one instance at the same moment, on real database connections in threads."""

import threading
import time

import pytest
from django.db import connection

from tests.conftest import TEST_BPMN_DIR, source
from workflows import runtime
from workflows.actors import SYSTEM
from workflows.exceptions import TaskAlreadyCompleted
from workflows.models import AuditEvent, HumanTask, ProcessInstance
from workflows.selectors import instance_variables
from workflows.services import complete_task, deploy, start_instance

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def slow_engine(monkeypatch):
    """Hold each transaction open a moment inside the engine, so the two requests overlap."""
    real = runtime.advance

    def advance_slowly(session):
        time.sleep(0.3)
        real(session)

    monkeypatch.setattr(runtime, "advance", advance_slowly)


def run_together(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            call()
            outcomes[index] = "done"
        except Exception as exc:
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_the_same_task_completed_twice_at_once_is_completed_exactly_once(slow_engine):
    deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "parallel.bpmn")])
    instance = start_instance(user=SYSTEM, process_id="parallel")
    left = instance.human_tasks.get(bpmn_id="left")

    outcomes = run_together(
        lambda: complete_task(task_id=left.pk, data={}, user=SYSTEM),
        lambda: complete_task(task_id=left.pk, data={}, user=SYSTEM),
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["TaskAlreadyCompleted", "str"]
    assert [o for o in outcomes if isinstance(o, TaskAlreadyCompleted)]
    assert AuditEvent.objects.filter(task_id=left.pk, kind="completed").count() == 1
    assert HumanTask.objects.get(pk=left.pk).status == "completed"
    assert instance.human_tasks.get(bpmn_id="right").status == "open"


def test_two_parallel_branches_completed_at_once_are_both_kept(slow_engine):
    deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "parallel.bpmn")])
    instance = start_instance(user=SYSTEM, process_id="parallel")
    left, right = (instance.human_tasks.get(bpmn_id=b) for b in ("left", "right"))
    started_revision = instance.revision

    outcomes = run_together(
        lambda: complete_task(task_id=left.pk, data={}, user=SYSTEM),
        lambda: complete_task(task_id=right.pk, data={}, user=SYSTEM),
    )

    assert outcomes == ["done", "done"]
    instance.refresh_from_db()
    assert instance.status == ProcessInstance.Status.COMPLETED
    assert instance_variables(instance)["both"] == "done"
    assert instance.revision == started_revision + 2  # one save per completion: no update was lost
