"""Running instances against hostile diagrams and data: whatever stops an instance leaves it in
`error` with a clear message, within the time limit plus a margin, with its tasks and timers
consistent, retry available, and the engine serving the next request."""

import time
from datetime import timedelta
from xml.sax.saxutils import escape

import pytest
from django.utils import timezone

from tests.workflows.diagrams import linear, process, script_task, user_task
from tests.workflows.diagrams import source as text
from workflows.actors import SYSTEM
from workflows.exceptions import InstanceNotActive
from workflows.models import AuditEvent, ProcessInstance, Timer
from workflows.operations import register_operation, unregister_operation
from workflows.services import (
    complete_task,
    deploy,
    fire_due_timers,
    retry_instance,
    start_instance,
    terminate_instance,
)
from workflows.services.deployment import deploy_files

pytestmark = pytest.mark.django_db

Status = ProcessInstance.Status
LIMIT = 0.5
MARGIN = 2.5


@pytest.fixture(autouse=True)
def limits(settings):
    settings.WORKFLOWS = {**settings.WORKFLOWS, "SCRIPT_TIME_LIMIT": LIMIT, "ENGINE_TIME_LIMIT": 2.0}


def steps(*elements: str) -> str:
    return linear(*elements, process_id="hostile")


def flow(body: str) -> str:
    return process(body, process_id="hostile")


def started(document: str, *, data=None):
    deploy(user=SYSTEM, files=[text("hostile.bpmn", document)])
    begun = time.monotonic()
    instance = start_instance(user=SYSTEM, process_id="hostile", data=data or {})
    instance.elapsed = time.monotonic() - begun
    instance.refresh_from_db()
    return instance


def in_error(instance, *phrases, bound=LIMIT + MARGIN):
    assert instance.status == Status.ERROR, instance.error
    for phrase in phrases:
        assert phrase in instance.error["message"], instance.error["message"]
    assert "Traceback" not in instance.error["message"] and "/site-packages" not in instance.error["message"]
    assert getattr(instance, "elapsed", 0) < bound
    assert AuditEvent.objects.filter(instance=instance, kind=AuditEvent.Kind.ERROR).exists()
    serves_the_next_request()


def serves_the_next_request():
    deploy(
        user=SYSTEM,
        files=[
            text(
                "plain.bpmn",
                linear(script_task("add", "total = sum([a, b])"), user_task("look"), process_id="plain"),
            )
        ],
    )
    begun = time.monotonic()
    instance = start_instance(user=SYSTEM, process_id="plain", data={"a": 1, "b": 2})
    assert instance.status == Status.RUNNING and time.monotonic() - begun < MARGIN, instance.error


def gateway(condition: str) -> str:
    return f"""
<bpmn:startEvent id="start" />
<bpmn:exclusiveGateway id="choose" default="to_other" />
<bpmn:userTask id="yes" /><bpmn:userTask id="no" />
<bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="choose" />
<bpmn:sequenceFlow id="to_yes" sourceRef="choose" targetRef="yes">
  <bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="to_other" sourceRef="choose" targetRef="no" />
<bpmn:sequenceFlow id="f3" sourceRef="yes" targetRef="end" />
<bpmn:sequenceFlow id="f4" sourceRef="no" targetRef="end" />"""


def waiting_on(timer: str, expression: str, *, before: str = "") -> str:
    steps = [
        f'<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:{timer}>'
        f"{escape(expression)}</bpmn:{timer}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    ]
    if before:
        steps.insert(0, before)
    return linear(*steps, process_id="timed")


class TestCodeLimits:
    def test_a_script_that_switches_off_the_time_limit_still_fails_the_instance_in_time(self):
        code = "try:\n    while True: pass\nexcept Exception:\n    pass\nwhile True: pass"
        instance = started(steps(script_task("spin", code)))
        in_error(instance, "0.5 s limit")
        assert instance.error["bpmn_id"] == "spin"

    def test_a_one_line_loop_fails_the_instance_in_time(self):
        instance = started(steps(script_task("spin", "while 1: pass")))
        in_error(instance, "0.5 s limit")

    def test_a_gateway_condition_stuck_in_one_c_call_fails_the_instance_in_time(self):
        # Lists sharing their rows at every level: building them is instant, comparing them is
        # 9**12 comparisons in one C call.
        tree = "[1] * 9"
        for _ in range(11):
            tree = f"[{tree}] * 9"
        instance = started(flow(gateway(f"{tree} == {tree}")))
        in_error(instance, "0.5 s limit")

    def test_memory_built_in_a_condition_fails_the_instance(self):
        instance = started(flow(gateway("len(('x' * 90000).join(['y'] * 90000)) > 0")))
        in_error(instance, "MB of memory")

    def test_a_timer_expression_over_the_limit_fails_the_instance(self):
        deploy(
            user=SYSTEM,
            files=[
                text(
                    "timed.bpmn",
                    waiting_on(
                        "timeDuration",
                        "'PT' + str(sum(1 for a in range(999) for b in range(999) for c in range(999))) + 'S'",
                    ),
                )
            ],
        )
        begun = time.monotonic()
        instance = start_instance(user=SYSTEM, process_id="timed")
        instance.elapsed = time.monotonic() - begun
        instance.refresh_from_db()
        in_error(instance, "0.5 s limit")
        assert not Timer.objects.filter(instance=instance).exists()

    def test_a_dmn_output_that_builds_a_huge_value_fails_the_instance(self):
        bpmn = linear(
            '<bpmn:businessRuleTask id="decide"><bpmn:extensionElements>'
            "<spiffworkflow:calledDecisionId>pick</spiffworkflow:calledDecisionId>"
            "</bpmn:extensionElements></bpmn:businessRuleTask>",
            user_task("after"),
            process_id="decides",
        )
        dmn = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">
  <decision id="pick" name="Pick">
    <decisionTable id="table">
      <input id="in1" label="x"><inputExpression id="ie1" typeRef="string"><text>x</text></inputExpression></input>
      <output id="out1" name="y" typeRef="string" />
      <rule id="r1">
        <inputEntry id="e1"><text>"a"</text></inputEntry>
        <outputEntry id="o1"><text>[["b" * 90000] * 999] * 999</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>"""
        deploy(user=SYSTEM, files=[text("decides.bpmn", bpmn), text("pick.dmn", dmn)])
        instance = start_instance(user=SYSTEM, process_id="decides", data={"x": "a"})
        instance.refresh_from_db()
        in_error(instance)

    def test_a_loop_condition_over_the_limit_fails_the_instance(self):
        body = """
<bpmn:startEvent id="start" />
<bpmn:scriptTask id="again"><bpmn:standardLoopCharacteristics>
  <bpmn:loopCondition>sum(1 for a in range(999) for b in range(999) for c in range(999)) == 0</bpmn:loopCondition>
  </bpmn:standardLoopCharacteristics><bpmn:script>n = 1</bpmn:script></bpmn:scriptTask>
<bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="again" />
<bpmn:sequenceFlow id="f2" sourceRef="again" targetRef="end" />"""
        in_error(started(flow(body)), "0.5 s limit")

    def test_a_script_result_nested_too_deep_fails_the_instance_which_can_still_be_terminated(self):
        code = "x = []\nfor i in range(600):\n    x = [x]"
        instance = started(steps(script_task("nest", code), user_task("later")))
        in_error(instance, "'x'", "nested more than 32 levels")
        terminate_instance(user=SYSTEM, instance_id=instance.pk)
        instance.refresh_from_db()
        assert instance.status == Status.TERMINATED

    def test_one_step_evaluating_a_great_many_rules_stops_at_the_engine_limit(self, settings):
        settings.WORKFLOWS = {**settings.WORKFLOWS, "ENGINE_TIME_LIMIT": 0.2}
        rules = "".join(
            f'<rule id="r{i}"><inputEntry id="e{i}"><text>sum([{i}]) == len(x)</text></inputEntry>'
            f'<outputEntry id="o{i}"><text>{i}</text></outputEntry></rule>'
            for i in range(2000)
        )
        dmn = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">
  <decision id="pick" name="Pick"><decisionTable id="table">
    <input id="in1" label="x"><inputExpression id="ie1" typeRef="string"><text>x</text></inputExpression></input>
    <output id="out1" name="y" typeRef="integer" />{rules}
  </decisionTable></decision>
</definitions>"""
        bpmn = linear(
            '<bpmn:businessRuleTask id="decide"><bpmn:extensionElements>'
            "<spiffworkflow:calledDecisionId>pick</spiffworkflow:calledDecisionId>"
            "</bpmn:extensionElements></bpmn:businessRuleTask>",
            process_id="many_rules",
        )
        deploy(user=SYSTEM, files=[text("many_rules.bpmn", bpmn), text("pick.dmn", dmn)])
        begun = time.monotonic()
        instance = start_instance(user=SYSTEM, process_id="many_rules", data={"x": "a"})
        instance.elapsed = time.monotonic() - begun
        instance.refresh_from_db()
        in_error(instance, "longer than 0.2 s in one go")


class TestFailuresAreRecorded:
    def test_an_endless_loop_of_automatic_steps_is_recorded_and_can_be_retried(self, settings):
        settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_STEPS_PER_RUN": 200}
        body = """
<bpmn:startEvent id="start" />
<bpmn:scriptTask id="step"><bpmn:script>n = 1</bpmn:script></bpmn:scriptTask>
<bpmn:exclusiveGateway id="again" default="out" />
<bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="step" />
<bpmn:sequenceFlow id="f2" sourceRef="step" targetRef="again" />
<bpmn:sequenceFlow id="back" sourceRef="again" targetRef="step"><bpmn:conditionExpression>True</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="out" sourceRef="again" targetRef="end" />"""
        instance = started(flow(body))
        in_error(instance, "200 automatic steps")
        retry_instance(user=SYSTEM, instance_id=instance.pk)
        instance.refresh_from_db()
        assert instance.status == Status.ERROR
        assert AuditEvent.objects.filter(instance=instance, kind=AuditEvent.Kind.RETRIED).exists()

    def test_a_multi_instance_that_outlasts_the_engine_limit_is_recorded_and_retried(self, settings):
        settings.WORKFLOWS = {**settings.WORKFLOWS, "ENGINE_TIME_LIMIT": 0.3}
        body = """
<bpmn:startEvent id="start" />
<bpmn:scriptTask id="each"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>n</bpmn:loopCardinality>
  </bpmn:multiInstanceLoopCharacteristics><bpmn:script>k = 1</bpmn:script></bpmn:scriptTask>
<bpmn:userTask id="done" />
<bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="each" />
<bpmn:sequenceFlow id="f2" sourceRef="each" targetRef="done" />
<bpmn:sequenceFlow id="f3" sourceRef="done" targetRef="end" />"""
        instance = started(flow(body), data={"n": 1000})
        in_error(instance, "longer than 0.3 s in one go")
        settings.WORKFLOWS = {**settings.WORKFLOWS, "ENGINE_TIME_LIMIT": 60}
        retry_instance(user=SYSTEM, instance_id=instance.pk)
        instance.refresh_from_db()
        assert instance.status == Status.RUNNING, instance.error
        assert instance.human_tasks.get().bpmn_id == "done"

    def test_spiffworkflow_failing_on_what_the_diagram_gives_it_is_recorded_with_a_reference(self):
        body = """
<bpmn:startEvent id="start" />
<bpmn:userTask id="each"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>n</bpmn:loopCardinality>
  </bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
<bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="each" />
<bpmn:sequenceFlow id="f2" sourceRef="each" targetRef="end" />"""
        instance = started(flow(body), data={"n": 2.5})
        in_error(instance, "The engine failed while running the process", "reference")

    def test_a_timer_pass_that_cannot_be_saved_is_recorded_not_repeated_forever(self, settings):
        body = linear(
            '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"'
            "</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>",
            script_task("grow", "blob = 'x' * 90000\nmore = [blob] * 9"),
            user_task("after"),
            process_id="grows",
        )
        deploy(user=SYSTEM, files=[text("grows.bpmn", body)])
        instance = start_instance(user=SYSTEM, process_id="grows")
        settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_STATE_BYTES": 200_000}
        later = timezone.now() + timedelta(hours=2)
        assert fire_due_timers(now=later) == []
        instance.refresh_from_db()
        assert instance.status == Status.ERROR and "the limit is 200,000" in instance.error["message"]
        assert Timer.objects.filter(instance=instance).exists()  # the state is as before the pass
        assert fire_due_timers(now=later) == []  # and the scan leaves it alone
        retry_instance(
            user=SYSTEM, instance_id=instance.pk
        )  # nothing is due now: back to waiting for the timer
        instance.refresh_from_db()
        assert instance.status == Status.WAITING
        fire_due_timers(now=later)
        instance.refresh_from_db()
        assert instance.status == Status.ERROR  # the cause is still there
        settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_STATE_BYTES": 8 * 1024 * 1024}
        retry_instance(user=SYSTEM, instance_id=instance.pk)
        assert [f.bpmn_id for f in fire_due_timers(now=later)] == ["wait"]
        instance.refresh_from_db()
        assert instance.status == Status.RUNNING

    def test_an_operation_returning_data_the_process_cannot_hold_undoes_its_writes(self):
        from django.contrib.auth.models import Group

        @register_operation("tests.hoard")
        def hoard(context):
            Group.objects.create(name="written by the operation")
            nested: list = []
            for _ in range(100):
                nested = [nested]
            return {"deep": nested}

        try:
            body = linear(
                '<bpmn:serviceTask id="call"><bpmn:extensionElements>'
                '<spiffworkflow:serviceTaskOperator id="tests.hoard" resultVariable="result">'
                "<spiffworkflow:parameters /></spiffworkflow:serviceTaskOperator>"
                "</bpmn:extensionElements></bpmn:serviceTask>",
                process_id="hoards",
            )
            deploy(user=SYSTEM, files=[text("hoards.bpmn", body)])
            instance = start_instance(user=SYSTEM, process_id="hoards")
            instance.refresh_from_db()
            in_error(instance, "returned data the process cannot hold", "nested more than")
            assert not Group.objects.filter(name="written by the operation").exists()
        finally:
            unregister_operation("tests.hoard")

    @pytest.mark.parametrize("field_errors", [{"amount": ["Too much."]}, None])
    def test_an_operation_refusing_its_input_refuses_the_submission_only_field_by_field(self, field_errors):
        from django.contrib.auth.models import Group

        from workflows.exceptions import TaskRejected
        from workflows.models import HumanTask
        from workflows.refusals import Refusal

        @register_operation("tests.refuse")
        def refuse(context):
            Group.objects.create(name="written by the operation")
            raise Refusal("Not like this.", field_errors=field_errors)

        try:
            body = linear(
                user_task("ask"),
                '<bpmn:serviceTask id="call"><bpmn:extensionElements>'
                '<spiffworkflow:serviceTaskOperator id="tests.refuse" resultVariable="result">'
                "<spiffworkflow:parameters /></spiffworkflow:serviceTaskOperator>"
                "</bpmn:extensionElements></bpmn:serviceTask>",
                process_id="refuses",
            )
            deploy(user=SYSTEM, files=[text("refuses.bpmn", body)])
            instance = start_instance(user=SYSTEM, process_id="refuses")
            task = HumanTask.objects.get(instance=instance, bpmn_id="ask")
            if field_errors:
                # Input refused field by field: the person corrects it, the task stays open.
                with pytest.raises(TaskRejected) as caught:
                    complete_task(task_id=task.pk, data={}, user=SYSTEM)
                assert (str(caught.value.message), caught.value.field_errors) == (
                    "Not like this.",
                    field_errors,
                )
                task.refresh_from_db()
                instance.refresh_from_db()
                assert (task.status, instance.status) == (HumanTask.Status.OPEN, Status.RUNNING)
            else:
                # Any other refusal is the process's problem, not the person's: the instance fails.
                complete_task(task_id=task.pk, data={}, user=SYSTEM)
                instance.refresh_from_db()
                in_error(instance, "tests.refuse: Not like this.")
            assert not Group.objects.filter(name="written by the operation").exists()
        finally:
            unregister_operation("tests.refuse")

    def test_retry_refuses_an_instance_that_is_not_in_error(self):
        instance = started(steps(user_task("wait")))
        with pytest.raises(InstanceNotActive):
            retry_instance(user=SYSTEM, instance_id=instance.pk)


class TestCallChains:
    def test_a_chain_of_linked_calls_longer_than_the_limit_fails_at_run_time(self, settings):
        settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_CALL_DEPTH": 3}
        files = []
        for level in range(5):
            steps = (
                [user_task("work")]
                if level == 4
                else [
                    f'<bpmn:callActivity id="call" calledElement="level{level + 1}"><bpmn:extensionElements>'
                    '<spiffworkflow:properties><spiffworkflow:property name="calledElementInstance" value="separate" />'
                    "</spiffworkflow:properties></bpmn:extensionElements></bpmn:callActivity>"
                ]
            )
            files.append(text(f"level{level}.bpmn", linear(*steps, process_id=f"level{level}")))
        deploy_files(user=SYSTEM, files=files)
        start_instance(user=SYSTEM, process_id="level0")
        deepest = ProcessInstance.objects.order_by("-pk").first()
        assert deepest.process_id == "level3"
        assert deepest.status == Status.ERROR
        assert "a chain of more than 3 calling instances" in deepest.error["message"]

    def test_completing_tasks_keeps_working_after_an_attack(self):
        in_error(
            started(flow(gateway("[x for x in range(999) for y in range(999) for z in range(999)] == []")))
        )
        deploy(user=SYSTEM, files=[text("plain2.bpmn", linear(user_task("look"), process_id="plain2"))])
        instance = start_instance(user=SYSTEM, process_id="plain2")
        complete_task(task_id=instance.human_tasks.get().pk, data={}, user=SYSTEM)
        instance.refresh_from_db()
        assert instance.status == Status.COMPLETED
