"""Workflow state survives the database, on SQLite and PostgreSQL alike, task by task."""

import json
import random

import pytest

from tests.onsite.flow import (
    RESOURCES,
    build_org,
    complete,
    current_visit,
    customer_of,
    deploy_processes,
    enrol,
    new_programme,
    plan,
)
from workflows import runtime
from workflows.models import ProcessInstance
from workflows.serialization import SERIALIZER_VERSION, restore_workflow

pytestmark = pytest.mark.django_db


def every_task_data(workflow) -> dict:
    tasks = dict(workflow.tasks)
    for sub in workflow.subprocesses.values():
        tasks.update(sub.tasks)
    return {str(task_id): task.data for task_id, task in tasks.items()}


@pytest.fixture
def visit():
    deploy_processes()
    org = build_org()
    visit = current_visit(enrol(org, new_programme(org), customer_of(org)))
    complete(visit, "Task_plan_visit", org.manager, plan(needs_support=True))
    complete(visit, "Task_prepare_resources", org.manager, RESOURCES)
    return ProcessInstance.objects.get(pk=visit.pk)


def test_every_tasks_data_comes_back_from_the_database_unchanged(visit):
    in_memory = runtime.open_session(visit, actor=None)
    expected = every_task_data(in_memory.workflow)
    assert any("support_request" in data for data in expected.values())  # real form data, not just ids

    stored = ProcessInstance.objects.get(pk=visit.pk)  # a fresh read from the configured database
    reloaded = runtime.open_session(stored, actor=None)

    assert every_task_data(reloaded.workflow) == expected
    assert {data.get("support_request") for data in every_task_data(reloaded.workflow).values()} >= {
        "准备政务云迁移方案"
    }


def test_state_is_stored_as_text_because_reordered_keys_lose_task_data(visit):
    """What a jsonb column would do to the state: the same JSON, tasks in another order."""
    assert ProcessInstance._meta.get_field("state").get_internal_type() == "TextField"
    stored = json.loads(visit.state)
    order = list(stored["tasks"].items())
    random.Random(7).shuffle(order)
    stored["tasks"] = dict(order)

    specs = runtime.specs_for(visit.version)
    reordered = restore_workflow(json.dumps(stored), SERIALIZER_VERSION, specs, lambda: "")
    original = restore_workflow(visit.state, SERIALIZER_VERSION, specs, lambda: "")

    assert every_task_data(reordered) != every_task_data(original)
