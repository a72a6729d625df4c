"""Timer values are checked before SpiffWorkflow computes a fire time from them: whatever a form
field or an expression puts there, the engine's arithmetic stays bounded and the instance gets a
clear error, not a hang or a raw OverflowError."""

import time
from datetime import timedelta
from xml.sax.saxutils import escape

import pytest
from django.utils import timezone

from tests.workflows.diagrams import linear, script_task, user_task
from tests.workflows.diagrams import source as text
from workflows.actors import SYSTEM
from workflows.documents import DeploymentError
from workflows.exceptions import TaskRejected
from workflows.models import AuditEvent, ProcessInstance, Timer
from workflows.sandbox import ScriptError
from workflows.services import complete_task, deploy, fire_due_timers, start_instance
from workflows.timer_values import TimerBounds, check_timer_value, run_spiff_parse

Status = ProcessInstance.Status
BOUNDS = TimerBounds(min_cycle_seconds=60, max_span_days=36_600)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("duration", "PT48H"),
        ("duration", "P1Y2M3DT4H5M6S"),
        ("duration", "P2W"),
        ("duration", "PT0.5S"),
        ("date", "2026-12-01T09:00:00+08:00"),
        ("date", "2026-12-01"),
        ("cycle", "R3/PT1H"),
        ("cycle", "R/P1D"),
        ("cycle", "R2/2026-12-01T09:00:00+08:00/PT1H"),
    ],
)
def test_ordinary_timer_values_pass_and_spiffworkflow_can_read_them(kind, value):
    assert check_timer_value(kind, value, BOUNDS) == value
    run_spiff_parse(kind, value, BOUNDS)


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("duration", "P9999999999Y", "not an ISO 8601 timer value"),
        ("duration", "P999999999Y", "longer than 36,600 days"),
        ("duration", "PT999999999H", "longer than 36,600 days"),
        ("duration", "P" + "1" * 5000 + "D", "longer than 80 characters"),
        ("duration", "PT", "not an ISO 8601"),
        ("duration", 42, "not a int"),
        ("date", "9999-12-31T23:59:59-05:00", "out of range"),
        ("date", "0001-01-01", "out of range"),
        ("date", "tomorrow", "not an ISO 8601"),
        ("cycle", "R/PT0S", "at most once every 60 s"),
        ("cycle", "R/PT59S", "at most once every 60 s"),
        ("cycle", "R5/PT1H/PT2H", "not an ISO 8601"),
        ("cycle", "R9999999999/PT1H", "not an ISO 8601"),
    ],
)
def test_timer_values_out_of_bounds_are_refused_quickly(kind, value, message):
    started = time.monotonic()
    with pytest.raises(ScriptError, match=message):
        check_timer_value(kind, value, BOUNDS)
    assert time.monotonic() - started < 0.1


def test_a_value_spiffworkflow_cannot_read_is_refused_in_its_own_words():
    with pytest.raises(ScriptError, match="not an ISO 8601"):
        run_spiff_parse("duration", "P1W2D", BOUNDS)  # weeks with days: SpiffWorkflow refuses it


@pytest.mark.django_db
class TestInInstances:
    def timed(self, expression: str, *, kind: str = "timeDuration", before: str = "", files=()) -> None:
        steps = [
            f'<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:{kind}>'
            f"{escape(expression)}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>",
            user_task("after"),
        ]
        if before:
            steps.insert(0, before)
        deploy(user=SYSTEM, files=[text("timed.bpmn", linear(*steps, process_id="timed")), *files])

    @pytest.mark.parametrize(
        ("value", "phrase"),
        [
            ("P9999999999Y", "not an ISO 8601 timer value"),
            ("P99999999Y", "longer than 36,600 days"),
            ("P200000D", "longer than 36,600 days"),
        ],
    )
    def test_a_duration_typed_into_a_form_cannot_hang_or_crash_the_engine(self, value, phrase):
        form = text("ask.schema.json", '{"type": "object", "properties": {"wait_for": {"type": "string"}}}')
        self.timed("wait_for", before=user_task("ask", form="ask.schema.json"), files=[form])
        instance = start_instance(user=SYSTEM, process_id="timed")
        task = instance.human_tasks.get()
        started = time.monotonic()
        # The timer is set as the task completes, so the submission itself is refused: the task
        # stays open for a corrected value and nothing else changed.
        with pytest.raises(TaskRejected, match=phrase):
            complete_task(task_id=task.pk, data={"wait_for": value}, user=SYSTEM)
        assert time.monotonic() - started < 3
        instance.refresh_from_db()
        assert instance.status == Status.RUNNING and not Timer.objects.filter(instance=instance).exists()
        complete_task(task_id=task.pk, data={"wait_for": "PT2H"}, user=SYSTEM)
        assert Timer.objects.get(instance=instance).bpmn_id == "wait"

    def test_a_duration_computed_by_a_script_fails_the_instance_with_the_reason(self):
        self.timed("wait_for", before=script_task("pick", "wait_for = 'P' + str(10**9) + 'Y'"))
        instance = start_instance(user=SYSTEM, process_id="timed")
        instance.refresh_from_db()
        assert instance.status == Status.ERROR and instance.error["bpmn_id"] == "wait"
        assert "not an ISO 8601 timer value" in instance.error["message"]

    def test_a_cycle_computed_from_data_faster_than_the_minimum_is_refused(self):
        self.timed("'R/PT' + str(seconds) + 'S'", kind="timeCycle", before=script_task("pick", "seconds = 0"))
        instance = start_instance(user=SYSTEM, process_id="timed")
        instance.refresh_from_db()
        assert instance.status == Status.ERROR
        assert "at most once every 60 s" in instance.error["message"]

    @pytest.mark.parametrize(
        ("kind", "literal", "phrase"),
        [
            ("timeCycle", '"R/PT0S"', "at most once every 60 s"),
            ("timeCycle", "R/PT1S", "at most once every 60 s"),
            ("timeDuration", '"P999999Y"', "longer than 36,600 days"),
            ("timeDate", '"9999-12-31T23:59:59-05:00"', "out of range"),
        ],
    )
    def test_a_timer_written_in_the_diagram_is_checked_at_deploy(self, kind, literal, phrase):
        with pytest.raises(DeploymentError, match=phrase):
            self.timed(literal, kind=kind)

    def test_a_due_in_property_is_checked_at_deploy(self):
        task = (
            '<bpmn:userTask id="ask"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="dueIn" value="P9999999999Y" />'
            "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
        )
        with pytest.raises(DeploymentError, match="dueIn is refused"):
            deploy(user=SYSTEM, files=[text("due.bpmn", linear(task, process_id="due"))])

    def test_a_cycle_that_missed_many_firings_fires_a_few_and_skips_the_rest(self, settings):
        settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_CYCLE_CATCH_UP": 3}
        remind = (
            '<bpmn:boundaryEvent id="remind" cancelActivity="false" attachedToRef="answer">'
            '<bpmn:timerEventDefinition><bpmn:timeCycle>"R/PT1H"</bpmn:timeCycle></bpmn:timerEventDefinition>'
            "</bpmn:boundaryEvent>"
        )
        body = linear(user_task("answer"), process_id="nags").replace(
            "</bpmn:process>",
            f'{remind}<bpmn:scriptTask id="note"><bpmn:script>count = 1</bpmn:script></bpmn:scriptTask>'
            '<bpmn:endEvent id="noted" /><bpmn:sequenceFlow id="r1" sourceRef="remind" targetRef="note" />'
            '<bpmn:sequenceFlow id="r2" sourceRef="note" targetRef="noted" /></bpmn:process>',
        )
        deploy(user=SYSTEM, files=[text("nags.bpmn", body)])
        instance = start_instance(user=SYSTEM, process_id="nags")

        started = time.monotonic()
        fire_due_timers(now=timezone.now() + timedelta(days=30))
        assert time.monotonic() - started < 3
        instance.refresh_from_db()
        assert instance.status == Status.RUNNING
        skipped = AuditEvent.objects.get(instance=instance, kind=AuditEvent.Kind.TIMER_SKIPPED)
        assert skipped.details["skipped"] >= 30 * 24 - 5
        ran = AuditEvent.objects.filter(instance=instance, kind=AuditEvent.Kind.TIMER_FIRED).count()
        assert 1 <= ran <= 3
        assert Timer.objects.get(instance=instance).due_at > timezone.now() + timedelta(days=30)
