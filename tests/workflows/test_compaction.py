"""Pruning settled history keeps SpiffWorkflow's behaviour: the same tasks, in the same order, with
the same data, as a run that keeps everything - and loops that run for hundreds of iterations."""

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from tests.workflows.diagrams import definitions, source
from workflows.actors import SYSTEM
from workflows.compaction import compact
from workflows.documents import parse_xml
from workflows.parsing import parse_bundle
from workflows.serialization import SERIALIZER_VERSION, Specs, dump_state, restore_workflow
from workflows.sessions import EngineScriptEngine

pytestmark = pytest.mark.django_db  # the script engine reads the engine's limits from settings


def looping(interior: str, entry: str, exit_: str, *, extra: str = "") -> str:
    """start -> [interior] -> count -> back to the interior while n < limit -> end."""
    return definitions(f"""
<bpmn:process id="loop" isExecutable="true">
  <bpmn:startEvent id="start" />
  <bpmn:exclusiveGateway id="merge" />
  {interior}
  <bpmn:scriptTask id="count"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
  <bpmn:exclusiveGateway id="again" default="to_end" />
  <bpmn:endEvent id="end" />
  <bpmn:sequenceFlow id="to_merge" sourceRef="start" targetRef="merge" />
  <bpmn:sequenceFlow id="to_interior" sourceRef="merge" targetRef="{entry}" />
  <bpmn:sequenceFlow id="to_count" sourceRef="{exit_}" targetRef="count" />
  <bpmn:sequenceFlow id="to_again" sourceRef="count" targetRef="again" />
  <bpmn:sequenceFlow id="loop_back" sourceRef="again" targetRef="merge">
    <bpmn:conditionExpression>n &lt; limit</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="to_end" sourceRef="again" targetRef="end" />
</bpmn:process>
{extra}""")


def flow(fid, a, b, condition=None):
    if condition is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{a}" targetRef="{b}" />'
    return (
        f'<bpmn:sequenceFlow id="{fid}" sourceRef="{a}" targetRef="{b}"><bpmn:conditionExpression>'
        f"{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>"
    )


PARALLEL_THREE_WAY = (
    '<bpmn:parallelGateway id="fork" /><bpmn:userTask id="ask_a" /><bpmn:userTask id="ask_b" />'
    '<bpmn:scriptTask id="auto_c"><bpmn:script>c = n * 3</bpmn:script></bpmn:scriptTask>'
    '<bpmn:parallelGateway id="gather" />'
    '<bpmn:scriptTask id="sum_up"><bpmn:script>total = total + a + b + c</bpmn:script></bpmn:scriptTask>'
    + flow("p1", "fork", "ask_a")
    + flow("p2", "fork", "ask_b")
    + flow("p3", "fork", "auto_c")
    + flow("p4", "ask_a", "gather")
    + flow("p5", "ask_b", "gather")
    + flow("p6", "auto_c", "gather")
    + flow("p7", "gather", "sum_up")
)
INCLUSIVE = (
    '<bpmn:inclusiveGateway id="choose" default="i_default" /><bpmn:userTask id="even_task" />'
    '<bpmn:scriptTask id="third"><bpmn:script>thirds = thirds + 1</bpmn:script></bpmn:scriptTask>'
    '<bpmn:scriptTask id="other"><bpmn:script>others = others + 1</bpmn:script></bpmn:scriptTask>'
    '<bpmn:inclusiveGateway id="rejoin" />'
    + flow("i1", "choose", "even_task", "n % 2 == 0")
    + flow("i2", "choose", "third", "n % 3 == 0")
    + flow("i_default", "choose", "other")
    + flow("i3", "even_task", "rejoin")
    + flow("i4", "third", "rejoin")
    + flow("i5", "other", "rejoin")
)
BOUNDARY = (
    '<bpmn:userTask id="work" /><bpmn:boundaryEvent id="slow" cancelActivity="false" attachedToRef="work">'
    '<bpmn:timerEventDefinition><bpmn:timeDuration>"P30D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
    '</bpmn:boundaryEvent><bpmn:scriptTask id="nag"><bpmn:script>nagged = True</bpmn:script></bpmn:scriptTask>'
    '<bpmn:endEvent id="nag_end" /><bpmn:scriptTask id="after_work"><bpmn:script>total = total + a</bpmn:script>'
    "</bpmn:scriptTask>"
    + flow("b1", "slow", "nag")
    + flow("b2", "nag", "nag_end")
    + flow("b3", "work", "after_work")
)
SUBPROCESS = (
    '<bpmn:subProcess id="inner"><bpmn:startEvent id="inner_start" /><bpmn:userTask id="inner_task" />'
    '<bpmn:scriptTask id="inner_script"><bpmn:script>total = total + a</bpmn:script></bpmn:scriptTask>'
    '<bpmn:endEvent id="inner_end" />'
    + flow("s1", "inner_start", "inner_task")
    + flow("s2", "inner_task", "inner_script")
    + flow("s3", "inner_script", "inner_end")
    + "</bpmn:subProcess>"
)
CALL = '<bpmn:callActivity id="call_callee" calledElement="callee" />'
CALLEE = (
    '<bpmn:process id="callee" isExecutable="true"><bpmn:startEvent id="c_start" /><bpmn:userTask id="c_task" />'
    '<bpmn:scriptTask id="c_script"><bpmn:script>total = total + a</bpmn:script></bpmn:scriptTask>'
    '<bpmn:endEvent id="c_end" />'
    + flow("c1", "c_start", "c_task")
    + flow("c2", "c_task", "c_script")
    + flow("c3", "c_script", "c_end")
    + "</bpmn:process>"
)

SHAPES = {
    "three-way parallel join": (PARALLEL_THREE_WAY, "fork", "sum_up", ""),
    "boundary timer": (BOUNDARY, "work", "after_work", ""),
    "embedded subprocess": (SUBPROCESS, "inner", "inner", ""),
    "call activity": (CALL, "call_callee", "call_callee", CALLEE),
}
START = {"n": 0, "total": 0, "thirds": 0, "others": 0}


def specs_for(xml: str) -> Specs:
    document = source("loop.bpmn", xml)
    document.tree = parse_xml(document, max_bytes=10**6)
    parsed = parse_bundle(document, [document])
    return Specs(parsed.spec, parsed.subprocess_specs)


def drive(specs: Specs, limit: int, *, prune: bool, persist: bool = True):
    """Run to the end, answering each human task with its turn; with `persist`, through a save and
    load at every step, as the engine does."""
    workflow = BpmnWorkflow(specs.spec, dict(specs.subprocess_specs), script_engine=EngineScriptEngine())
    workflow.get_next_task(state=TaskState.READY).set_data(**START, limit=limit)
    workflow.do_engine_steps()
    answered, largest = [], 0
    for turn in range(limit * 4 + 10):
        ready = sorted(
            workflow.get_tasks(state=TaskState.READY, manual=True), key=lambda t: t.task_spec.bpmn_id
        )
        if not ready:
            break
        task = ready[0]
        task.data.update(a=turn, b=turn * 2)
        task.run()
        workflow.do_engine_steps()
        answered.append((task.task_spec.bpmn_id, task.data.get("n")))
        if prune:
            compact(workflow)
        largest = max(
            largest, len(workflow.tasks) + sum(len(s.tasks) for s in workflow.subprocesses.values())
        )
        if persist:
            workflow = restore_workflow(dump_state(workflow), SERIALIZER_VERSION, specs, lambda: "")
            workflow.script_engine = EngineScriptEngine()
    return workflow, answered, largest


@pytest.mark.parametrize("shape", SHAPES)
def test_pruned_and_persisted_run_matches_spiffworkflow_in_memory(shape):
    interior, entry, exit_, extra = SHAPES[shape]
    specs = specs_for(looping(interior, entry, exit_, extra=extra))

    kept, kept_answers, kept_size = drive(specs, 12, prune=False, persist=False)
    pruned, pruned_answers, pruned_size = drive(specs, 12, prune=True)

    assert kept.is_completed() and pruned.is_completed()
    assert pruned_answers == kept_answers
    assert pruned.data == kept.data
    assert pruned.data["n"] == 12
    assert pruned_size < kept_size


@pytest.mark.parametrize("shape", SHAPES)
def test_a_loop_of_hundreds_of_iterations_reaches_its_end_with_bounded_state(shape):
    interior, entry, exit_, extra = SHAPES[shape]
    specs = specs_for(looping(interior, entry, exit_, extra=extra))

    workflow, _answers, largest = drive(specs, 300, prune=True)

    assert workflow.is_completed()
    assert workflow.data["n"] == 300  # the end event was reached, not a silent stop
    assert largest < 60
    assert len(dump_state(workflow)) < 20_000


def test_an_inclusive_join_inside_a_loop_is_reported_at_deploy():
    """SpiffWorkflow 3.2 finds an inclusive join's waiting inputs with an iterator that stops at the
    previous iteration's join, so even in memory such a loop merges the wrong branches."""
    from workflows.services import deploy

    deployment = deploy(user=SYSTEM, files=[source("inclusive.bpmn", looping(INCLUSIVE, "choose", "rejoin"))])
    assert [w.element for w in deployment.warnings if "inclusive gateway joins branches" in w.message] == [
        "rejoin"
    ]


def test_without_pruning_spiffworkflow_stops_silently_past_depth_1000():
    """The failure this module exists for, measured on SpiffWorkflow 3.2.0."""
    specs = specs_for(looping('<bpmn:userTask id="work" />', "work", "work"))
    workflow, answers, _ = drive(specs, 400, prune=False)
    assert workflow.is_completed()
    assert "n" not in workflow.data  # "completed" without ever reaching the end event
    assert len(answers) < 300


def test_a_cancelled_join_branch_waiting_for_its_partners_survives_pruning():
    specs = specs_for(looping(PARALLEL_THREE_WAY, "fork", "sum_up"))
    workflow = BpmnWorkflow(specs.spec, dict(specs.subprocess_specs), script_engine=EngineScriptEngine())
    workflow.get_next_task(state=TaskState.READY).set_data(**START, limit=1)
    workflow.do_engine_steps()
    first = workflow.get_next_task(state=TaskState.READY, spec_name="ask_a")
    first.data.update(a=1)
    first.run()
    workflow.do_engine_steps()  # ask_a and auto_c reached the join; one join task is cancelled
    compact(workflow)
    workflow = restore_workflow(dump_state(workflow), SERIALIZER_VERSION, specs, lambda: "")
    workflow.script_engine = EngineScriptEngine()

    last = workflow.get_next_task(state=TaskState.READY, spec_name="ask_b")
    last.data.update(b=2)
    last.run()
    workflow.do_engine_steps()

    assert workflow.is_completed()
    assert workflow.data["total"] == 1 + 2 + 0  # a, b and c (= n * 3 = 0) all merged
