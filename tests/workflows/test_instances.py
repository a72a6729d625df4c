import json

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import TEST_BPMN_DIR, source
from tests.factories import UserFactory
from tests.workflows.diagrams import linear, script_task, user_task
from tests.workflows.diagrams import source as text
from workflows.actors import SYSTEM
from workflows.exceptions import (
    InstanceNotActive,
    InvalidData,
    NotAllowed,
    ProcessNotDeployed,
    TaskNotReady,
    WorkflowError,
)
from workflows.models import AuditEvent, HumanTask, ProcessInstance, Timer
from workflows.operations import OperationError, register_operation, unregister_operation
from workflows.services import (
    complete_task,
    deliver_message,
    deploy,
    resume_instance,
    retry_instance,
    start_instance,
    suspend_instance,
    terminate_instance,
)
from workflows.services.deployment import deploy_files

pytestmark = pytest.mark.django_db

Status = ProcessInstance.Status


def refreshed(instance):
    instance.refresh_from_db()
    return instance


class TestStarting:
    def test_unknown_process_is_a_clear_error(self):
        with pytest.raises(ProcessNotDeployed):
            start_instance(user=SYSTEM, process_id="nothing_here")

    def test_start_data_must_be_an_object_of_readable_names(self):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "parallel.bpmn")])
        with pytest.raises(WorkflowError):
            start_instance(user=SYSTEM, process_id="parallel", data=["not", "an", "object"])
        with pytest.raises(WorkflowError):
            start_instance(user=SYSTEM, process_id="parallel", data={"__class__": 1})
        assert not ProcessInstance.objects.exists()

    def test_start_records_who_and_the_business_key(self):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "parallel.bpmn")])
        starter = UserFactory(roles=["coordinator"])
        instance = start_instance(process_id="parallel", business_key="K-1", user=starter)
        assert (instance.business_key, instance.started_by, instance.status) == (
            "K-1",
            starter,
            Status.RUNNING,
        )
        assert set(instance.human_tasks.values_list("bpmn_id", flat=True)) == {"left", "right"}
        assert AuditEvent.objects.get(instance=instance, kind="started").actor == starter

    def test_a_start_stores_its_instance_once_with_its_state_first_tasks_audit_and_events(self):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "parallel.bpmn")])
        with CaptureQueriesContext(connection) as captured:
            instance = start_instance(process_id="parallel", user=SYSTEM)
        writes = [
            q["sql"]
            for q in captured
            if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "WITH"))
        ]
        table = ProcessInstance._meta.db_table
        # The row goes in with its state: it is never inserted empty and then updated.
        assert not [sql for sql in writes if sql.lstrip().upper().startswith("UPDATE") and table in sql]
        if connection.vendor == "postgresql":
            # Instance, first tasks, audit and events as one statement, then the job that handles
            # the events queued beside it (django-q's own table, in the same transaction).
            assert len(writes) == 2 and "django_q_ormq" in writes[1]
        stored = refreshed(instance)
        assert (stored.status, stored.revision) == (Status.RUNNING, instance.revision)
        assert json.loads(stored.state)["tasks"]
        assert set(stored.human_tasks.values_list("bpmn_id", flat=True)) == {"left", "right"}
        assert list(AuditEvent.objects.filter(instance=stored).values_list("kind", flat=True)) == ["started"]

    def test_an_operation_run_by_the_start_finds_its_instance_stored(self):
        seen = {}

        @register_operation("tests.lookup")
        def lookup(context, key, suffix):
            seen["id"] = context.instance.pk
            seen["stored"] = ProcessInstance.objects.filter(pk=context.instance.pk).exists()
            return {"key": key + suffix}

        try:
            deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "service_call.bpmn")])
            instance = start_instance(user=SYSTEM, process_id="service_call", data={"customer_key": "GC-7"})
        finally:
            unregister_operation("tests.lookup")
        assert seen == {"id": instance.pk, "stored": True}
        stored = refreshed(instance)
        assert (stored.status, stored.revision) == (Status.RUNNING, instance.revision)
        assert '"key":"GC-7-checked"' in stored.state.replace(" ", "")
        assert list(AuditEvent.objects.filter(instance=stored).values_list("kind", flat=True)) == ["started"]


class TestCoordinatorControls:
    @pytest.fixture
    def instance(self):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "parallel.bpmn")])
        return start_instance(user=SYSTEM, process_id="parallel")

    def test_controls_need_the_permission(self, instance):
        with pytest.raises(NotAllowed):
            suspend_instance(instance_id=instance.pk, user=UserFactory())
        coordinator = UserFactory()
        coordinator.user_permissions.add(Permission.objects.get(codename="manage_processinstance"))
        assert suspend_instance(instance_id=instance.pk, user=coordinator).status == Status.SUSPENDED

    def test_suspend_and_resume(self, instance):
        suspend_instance(user=SYSTEM, instance_id=instance.pk, reason="customer on holiday")
        assert refreshed(instance).status == Status.SUSPENDED
        with pytest.raises(InstanceNotActive):
            suspend_instance(user=SYSTEM, instance_id=instance.pk)

        resume_instance(user=SYSTEM, instance_id=instance.pk)
        assert refreshed(instance).status == Status.RUNNING
        kinds = list(AuditEvent.objects.filter(instance=instance).values_list("kind", flat=True))
        assert kinds[-2:] == ["suspended", "resumed"]

    def test_each_control_keeps_its_reason_in_the_audit_trail(self, instance):
        suspend_instance(user=SYSTEM, instance_id=instance.pk, reason="customer on holiday")
        resume_instance(user=SYSTEM, instance_id=instance.pk, reason="customer back")
        terminate_instance(user=SYSTEM, instance_id=instance.pk, reason="duplicate")

        reasons = AuditEvent.objects.filter(
            instance=instance, kind__in=["suspended", "resumed", "terminated"]
        )
        assert [(e.kind, e.details["reason"]) for e in reasons.order_by("pk")] == [
            ("suspended", "customer on holiday"),
            ("resumed", "customer back"),
            ("terminated", "duplicate"),
        ]

    def test_terminate_cancels_open_tasks_and_ends_the_instance(self, instance):
        terminate_instance(user=SYSTEM, instance_id=instance.pk, reason="duplicate")

        instance = refreshed(instance)
        assert (instance.status, instance.ended_at is not None) == (Status.TERMINATED, True)
        assert set(instance.human_tasks.values_list("status", flat=True)) == {HumanTask.Status.CANCELLED}
        with pytest.raises(InstanceNotActive):
            terminate_instance(user=SYSTEM, instance_id=instance.pk)
        with pytest.raises(TaskNotReady, match="cancelled"):
            complete_task(task_id=instance.human_tasks.first().pk, data={}, user=SYSTEM)

    def test_terminate_removes_waiting_timers(self):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "timers.bpmn")])
        instance = start_instance(user=SYSTEM, process_id="timers")
        terminate_instance(user=SYSTEM, instance_id=instance.pk)
        assert not Timer.objects.filter(instance=instance).exists()


class TestRetry:
    @pytest.fixture
    def flaky(self):
        calls = {"fail": True, "count": 0}

        @register_operation("tests.lookup")
        def lookup(context, key, suffix):
            calls["count"] += 1
            if calls["fail"]:
                raise OperationError("the customer register is offline")
            calls["actor"] = context.actor
            return {"key": key + suffix, "instance": context.instance.pk}

        yield calls
        unregister_operation("tests.lookup")

    def test_failed_service_call_puts_the_instance_in_error_then_retry_finishes_it(self, flaky):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "service_call.bpmn")])
        instance = start_instance(user=SYSTEM, process_id="service_call", data={"customer_key": "GC-7"})

        instance = refreshed(instance)
        assert instance.status == Status.ERROR
        assert instance.error["bpmn_id"] == "call_service"
        assert "the customer register is offline" in instance.error["message"]
        assert not instance.human_tasks.exists()
        with pytest.raises(InstanceNotActive):
            resume_instance(user=SYSTEM, instance_id=instance.pk)

        flaky["fail"] = False
        coordinator = UserFactory(is_superuser=True)
        retry_instance(instance_id=instance.pk, user=coordinator, reason="register back online")
        assert flaky["actor"] == coordinator  # the operation knows who made the engine run

        instance = refreshed(instance)
        assert (instance.status, instance.error) == (Status.RUNNING, None)
        assert '"customer":{"key":"GC-7-checked"' in instance.state.replace(" ", "")
        assert flaky["count"] == 2
        assert list(AuditEvent.objects.filter(instance=instance).values_list("kind", flat=True)) == [
            "started",
            "error",
            "retried",
        ]
        retried = AuditEvent.objects.get(instance=instance, kind="retried")
        assert retried.details == {"tasks": ["call_service"], "reason": "register back online"}

    def test_retry_of_a_healthy_instance_is_refused(self, flaky):
        flaky["fail"] = False
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "service_call.bpmn")])
        instance = start_instance(user=SYSTEM, process_id="service_call", data={"customer_key": "GC-7"})
        with pytest.raises(InstanceNotActive):
            retry_instance(user=SYSTEM, instance_id=instance.pk)

    def test_an_operation_that_fails_leaves_none_of_its_writes(self):
        from django.contrib.auth.models import Group

        @register_operation("tests.lookup")
        def half_done(context, key, suffix):
            Group.objects.create(name="written before the failure")
            raise OperationError("stopped halfway")

        try:
            deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "service_call.bpmn")])
            instance = start_instance(user=SYSTEM, process_id="service_call", data={"customer_key": "x"})
        finally:
            unregister_operation("tests.lookup")
        assert refreshed(instance).status == Status.ERROR
        assert not Group.objects.filter(name="written before the failure").exists()

    def test_an_unexpected_exception_in_an_operation_shows_a_reference_not_a_traceback(self):
        @register_operation("tests.lookup")
        def buggy(context, key, suffix):
            raise KeyError("/srv/secret/path")

        try:
            deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "service_call.bpmn")])
            instance = refreshed(
                start_instance(user=SYSTEM, process_id="service_call", data={"customer_key": "x"})
            )
        finally:
            unregister_operation("tests.lookup")
        assert "failed unexpectedly (reference " in instance.error["message"]
        assert "/srv/secret" not in instance.error["message"]


class TestEngineLimits:
    def test_a_loop_without_any_wait_fails_cleanly(self, settings):
        settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_STEPS_PER_RUN": 200}
        body = (
            '<bpmn:startEvent id="start" /><bpmn:exclusiveGateway id="again" />'
            '<bpmn:scriptTask id="spin"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="again" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="again" targetRef="spin" />'
            '<bpmn:sequenceFlow id="f3" sourceRef="spin" targetRef="again" />'
        )
        from tests.workflows.diagrams import process

        deploy(user=SYSTEM, files=[text("spin.bpmn", process(body, process_id="spinner"))])
        instance = refreshed(start_instance(user=SYSTEM, process_id="spinner", data={"n": 0}))
        assert instance.status == Status.ERROR
        assert "ran 200 automatic steps without waiting" in instance.error["message"]

    def test_a_multi_instance_over_the_limit_from_data_fails_before_creating_tasks(self):
        many = (
            '<bpmn:userTask id="many"><bpmn:multiInstanceLoopCharacteristics>'
            "<bpmn:loopCardinality>count</bpmn:loopCardinality>"
            "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
        )
        deploy(user=SYSTEM, files=[text("many.bpmn", linear(many, process_id="many_visits"))])
        instance = refreshed(start_instance(user=SYSTEM, process_id="many_visits", data={"count": 10**8}))
        assert instance.status == Status.ERROR
        assert "would start 100,000,000 instances; the limit is 1,000" in instance.error["message"]
        assert not instance.human_tasks.exists()

    def test_a_multi_instance_collection_over_the_limit_fails(self, settings):
        settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_MULTI_INSTANCE": 5}
        many = (
            '<bpmn:userTask id="each"><bpmn:multiInstanceLoopCharacteristics>'
            "<bpmn:loopDataInputRef>customers</bpmn:loopDataInputRef>"
            '<bpmn:inputDataItem id="customer" name="customer" />'
            "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
        )
        deploy(user=SYSTEM, files=[text("each.bpmn", linear(many, process_id="each_customer"))])
        instance = refreshed(
            start_instance(user=SYSTEM, process_id="each_customer", data={"customers": list(range(6))})
        )
        assert instance.status == Status.ERROR
        assert "would start 6 instances; the limit is 5" in instance.error["message"]

    def test_state_over_the_size_limit_is_refused(self, settings):
        settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_STATE_BYTES": 20_000}
        deploy(
            user=SYSTEM,
            files=[
                text(
                    "big.bpmn",
                    linear(script_task("grow", "blob = 'x' * 50000"), user_task("wait"), process_id="big"),
                )
            ],
        )
        from workflows.exceptions import EngineLimitError

        with pytest.raises(EngineLimitError, match="the limit is 20,000"):
            start_instance(user=SYSTEM, process_id="big")
        assert not ProcessInstance.objects.exists()


class TestLinkedCalls:
    @pytest.fixture
    def parent(self):
        deploy_files(
            user=SYSTEM,
            files=[source(TEST_BPMN_DIR / "linked_child.bpmn"), source(TEST_BPMN_DIR / "linked_parent.bpmn")],
        )
        return start_instance(
            user=SYSTEM, process_id="linked_parent", business_key="P-1", data={"question": "ready?"}
        )

    def child_of(self, parent):
        return ProcessInstance.objects.get(parent=parent)

    def test_the_called_process_runs_as_its_own_linked_instance(self, parent):
        child = self.child_of(parent)
        assert (child.process_id, child.business_key, child.status) == ("linked_child", "P-1", Status.RUNNING)
        assert refreshed(parent).status == Status.WAITING
        assert child.human_tasks.get().bpmn_id == "ask"

    def test_completing_the_child_hands_its_outputs_back_and_resumes_the_parent(self, parent):
        child = self.child_of(parent)
        complete_task(task_id=child.human_tasks.get().pk, data={}, user=SYSTEM)

        assert refreshed(child).status == Status.COMPLETED
        parent = refreshed(parent)
        assert parent.status == Status.COMPLETED
        state = parent.state.replace(" ", "")
        assert '"summary":"childsaidyestoready?"' in state.replace(" ", "")
        assert "not returned" not in parent.state  # only the declared output comes back

    def test_a_new_child_runs_the_latest_version_of_the_called_process(self, parent):
        bpmn = (TEST_BPMN_DIR / "linked_child.bpmn").read_text().replace("Answer the question", "Answer, v2")
        deploy(user=SYSTEM, files=[text("linked_child.bpmn", bpmn)])
        second = start_instance(user=SYSTEM, process_id="linked_parent", data={"question": "again?"})
        assert self.child_of(second).human_tasks.get().name == "Answer, v2"
        assert self.child_of(parent).human_tasks.get().name == "Answer the question"

    def test_cancelling_the_call_terminates_the_child(self, parent):
        child = self.child_of(parent)
        deliver_message(
            user=SYSTEM, name="cancel_parent", correlation={"instance_id": parent.pk}, payload={"why": "stop"}
        )

        assert refreshed(parent).status == Status.COMPLETED
        assert refreshed(child).status == Status.TERMINATED
        assert child.human_tasks.get().status == HumanTask.Status.CANCELLED

    def test_terminating_the_parent_terminates_the_child(self, parent):
        child = self.child_of(parent)
        terminate_instance(user=SYSTEM, instance_id=parent.pk)
        assert (refreshed(parent).status, refreshed(child).status) == (Status.TERMINATED, Status.TERMINATED)

    def test_terminating_the_child_puts_the_parent_in_error_and_retry_starts_a_new_child(self, parent):
        child = self.child_of(parent)
        terminate_instance(user=SYSTEM, instance_id=child.pk, reason="wrong customer")

        parent = refreshed(parent)
        assert parent.status == Status.ERROR
        assert f"called instance #{child.pk} (linked_child) was terminated" in parent.error["message"]

        retry_instance(user=SYSTEM, instance_id=parent.pk)
        assert refreshed(parent).status == Status.WAITING
        replacement = ProcessInstance.objects.filter(parent=parent).exclude(pk=child.pk).get()
        assert replacement.status == Status.RUNNING

    def test_suspending_the_parent_suspends_the_child(self, parent):
        child = self.child_of(parent)
        suspend_instance(user=SYSTEM, instance_id=parent.pk)
        assert refreshed(child).status == Status.SUSPENDED
        resume_instance(user=SYSTEM, instance_id=parent.pk)
        assert refreshed(child).status == Status.RUNNING


def nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"next": value}
    return value


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        ({"tree": nested(500)}, "nested more than 32 levels"),
        ({"ratio": float("nan")}, "finite"),
        ({"ratio": float("-inf")}, "finite"),
        ({"huge": 10**30}, "Whole numbers"),
        ({"text": "长" * 100_001}, "longer than 100,000 characters"),
        ({"rows": [[0] * 100] * 300}, "more than 20,000 values"),
        ({"bad": object()}, "A object cannot be stored"),
    ],
)
def test_start_data_beyond_the_limits_is_refused_and_nothing_is_stored(data, phrase):
    deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "parallel.bpmn")])
    with pytest.raises(InvalidData, match=phrase):
        start_instance(user=SYSTEM, process_id="parallel", data=data)
    assert not ProcessInstance.objects.exists()
