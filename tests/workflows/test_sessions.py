"""One instance's machinery: finding a task of a restored workflow by its id."""

import uuid

import pytest

from tests.workflows.diagrams import process, source
from workflows import runtime
from workflows.actors import SYSTEM
from workflows.models import HumanTask
from workflows.services import deploy, start_instance

pytestmark = pytest.mark.django_db

NESTED = process(
    """
<bpmn:startEvent id="start" />
<bpmn:subProcess id="inner">
  <bpmn:startEvent id="inner_start" />
  <bpmn:userTask id="deep" name="deep" />
  <bpmn:endEvent id="inner_end" />
  <bpmn:sequenceFlow id="i1" sourceRef="inner_start" targetRef="deep" />
  <bpmn:sequenceFlow id="i2" sourceRef="deep" targetRef="inner_end" />
</bpmn:subProcess>
<bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="inner" />
<bpmn:sequenceFlow id="f2" sourceRef="inner" targetRef="end" />
""",
    process_id="nested",
)


@pytest.fixture
def nested():
    deploy(user=SYSTEM, files=[source("nested.bpmn", NESTED)])
    instance = start_instance(user=SYSTEM, process_id="nested")
    task = HumanTask.objects.get(instance=instance, bpmn_id="deep")
    return runtime.open_session(runtime.lock_instance(instance.pk), actor=SYSTEM), task


def test_find_task_finds_a_task_inside_a_subprocess_by_uuid_or_text(nested):
    session, human = nested
    assert human.pk not in session.workflow.tasks  # it lives in the subprocess's table
    for task_id in (human.pk, str(human.pk)):
        found = runtime.find_task(session.workflow, task_id)
        assert found is not None and found.task_spec.bpmn_id == "deep"


@pytest.mark.parametrize("task_id", [None, "", "not-a-uuid", uuid.UUID(int=0)])
def test_find_task_answers_none_for_an_id_that_is_no_task(nested, task_id):
    session, _human = nested
    assert runtime.find_task(session.workflow, task_id) is None


def test_find_task_is_the_only_task_lookup_of_the_engine():
    # One function finds a task by id; SpiffWorkflow's lookup raises instead of answering None.
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "workflows"
    users = [p.name for p in root.rglob("*.py") if "get_task_from_id(" in p.read_text(encoding="utf-8")]
    assert users == []
