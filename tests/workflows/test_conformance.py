"""Diagrams made elsewhere (../shared/conformance/bpmn, see its README and SOURCES.md).

Every schema-valid diagram SpiffWorkflow can parse into an executable process deploys; every one of
those that can run with empty task data runs to its end, or waits on a timer or message, or keeps
looping on its form defaults; the others fail cleanly with a message naming the problem (the
instance goes to `error`, or the task's own post-processing refuses the empty submission); every
other file is refused at deploy with a message naming the file. Nothing crashes.
"""

import re

import pytest

from tests.conftest import CONFORMANCE_DIR, source
from workflows import forms
from workflows.actors import SYSTEM
from workflows.documents import DeploymentError
from workflows.exceptions import TaskRejected
from workflows.models import HumanTask, ProcessInstance
from workflows.services import complete_task, deploy, form_schema, start_instance

pytestmark = pytest.mark.django_db

# SOURCES.md, "Companion files": deployed together with the file that calls them.
COMPANIONS = {
    "spiff_call_activity_end_event.bpmn": ["spiff_call_activity_call_activity.bpmn"],
    "spiff_call_activity_with_error.bpmn": ["spiff_call_activity_call_activity.bpmn"],
    "spiffx_prescript_postscript_parent.bpmn": ["spiffx_prescript_postscript_call_activity.bpmn"],
    "spiffcam_call_activity_with_message_parent.bpmn": ["spiffcam_call_activity_with_message.bpmn"],
    "spiffx_business_rule_task.bpmn": ["spiffx_business_rules.dmn"],
    "spiffcam_ExclusiveGatewayIfElseAndDecision.bpmn": ["spiffcam_test_integer_decision.dmn"],
    "spiffcam_DMNMultiInstance.bpmn": ["spiffcam_test_integer_decision_multi.dmn"],
    "miwg_C.9.0.bpmn": ["miwg_C.9.1.bpmn", "miwg_C.9.2.bpmn"],
    "miwg_C.9.2.bpmn": ["miwg_C.9.1.bpmn"],
}

NOT_EXECUTABLE = 'isExecutable="false"'
NO_OPERATION = "does not say which operation to call"

# file -> (outcome, a phrase the outcome's message must contain)
EXPECTED = {
    "bpmnio_diagram.bpmn": ("refused", NOT_EXECUTABLE),
    "bpmnio_kitchen-sink.bpmn": ("refused", "does not name the process it calls"),
    "bpmnio_nested-subprocesses.bpmn": ("completed", ""),
    "bpmnio_newDiagram.bpmn": ("refused", NOT_EXECUTABLE),
    "bpmnio_pizza-collaboration.bpmn": ("refused", NOT_EXECUTABLE),
    "bpmnio_transaction-boundaries.bpmn": ("refused", NOT_EXECUTABLE),
    "bpmnjs_boundary-events.bpmn": ("refused", NOT_EXECUTABLE),
    "bpmnjs_boundaryEvent-missingAttachToRef.bpmn": ("refused", "not attached to any activity"),
    "bpmnjs_duplicate-ids.bpmn": ("refused", "element 'test' (line 9): The id is used twice"),
    "bpmnjs_empty-definitions.bpmn": ("refused", NOT_EXECUTABLE),
    "bpmnjs_invalid-child.bpmn": ("refused", "does not follow the BPMN 2.0 schema"),
    "bpmnjs_invalid-flow-element.bpmn": ("refused", NOT_EXECUTABLE),
    "bpmnjs_missing-namespace.bpmn": ("refused", "not a BPMN 2.0 or DMN document"),
    "bpmnjs_no-process-collaboration.bpmn": ("refused", NOT_EXECUTABLE),
    "miwg_A.1.0.bpmn": ("refused", NOT_EXECUTABLE),
    "miwg_A.2.0.bpmn": ("refused", NOT_EXECUTABLE),
    "miwg_A.2.1.bpmn": ("refused", NOT_EXECUTABLE),
    "miwg_A.3.0.bpmn": ("refused", NOT_EXECUTABLE),
    "miwg_A.4.0.bpmn": ("refused", NOT_EXECUTABLE),
    "miwg_A.4.1.bpmn": ("refused", NOT_EXECUTABLE),
    "miwg_B.1.0.bpmn": ("refused", "calls process 'global-task'"),
    "miwg_B.2.0.bpmn": ("refused", "which is in none of the deployed files"),
    "miwg_C.1.0.bpmn": ("refused", NO_OPERATION),
    "miwg_C.1.1.bpmn": ("refused", "Data Store with name Financial Accounting System has no implementation"),
    "miwg_C.2.0.bpmn": ("refused", NOT_EXECUTABLE),
    "miwg_C.3.0.bpmn": ("refused", "Exactly one start event is required in a SubWorkflow Task"),
    "miwg_C.4.0.bpmn": ("refused", "Data Store with name Employee Details has no implementation"),
    "miwg_C.5.0.bpmn": ("refused", "Data Store with name Bank System has no implementation"),
    "miwg_C.6.0.bpmn": ("refused", "Cannot resolve dataInputAssociation (its sourceRef cannot be resolved)"),
    "miwg_C.7.0.bpmn": ("refused", "Cannot resolve dataOutputAssociation (its targetRef cannot be resolved)"),
    "miwg_C.8.0.bpmn": ("refused", NOT_EXECUTABLE),
    "miwg_C.8.1.bpmn": ("refused", NO_OPERATION),
    "miwg_C.9.0.bpmn": ("refused", NO_OPERATION),
    "miwg_C.9.1.bpmn": ("waiting", ""),
    "miwg_C.9.2.bpmn": (
        "refused",
        "A multiinstance task must specify a cardinality or a loop input data reference",
    ),
    "spiff_Approvals.bpmn": ("completed", ""),
    "spiff_ParallelOrder.bpmn": ("completed", ""),
    "spiff_ScriptTest.bpmn": ("completed", ""),
    "spiff_boundary.bpmn": ("completed", ""),
    "spiff_boundary_timer_on_task.bpmn": ("completed", ""),
    "spiff_call_activity_call_activity.bpmn": ("error", "NameError: name 'remove_this_var' is not defined"),
    "spiff_call_activity_end_event.bpmn": ("completed", ""),
    "spiff_call_activity_with_error.bpmn": ("error", "name 'remove_this_var' is not defined"),
    "spiff_collaboration.bpmn": ("waiting", ""),
    "spiff_data_object.bpmn": ("rejected", "A data object could not be set; 'obj_1' not exist in the task"),
    "spiff_data_object_invalid.bpmn": ("refused", "The id is used twice"),
    "spiff_event-gateway.bpmn": ("waiting", ""),
    "spiff_event-subprocess.bpmn": ("completed", ""),
    "spiff_exclusive_gateway_no_default.bpmn": ("error", "Error evaluating expression 'x > 1'"),
    "spiff_inclusive_gateway.bpmn": ("error", "Error evaluating expression 'u > 0'"),
    "spiff_lanes.bpmn": ("completed", ""),
    "spiff_no-tasks.bpmn": ("completed", ""),
    "spiff_non-executable-process.bpmn": ("refused", NOT_EXECUTABLE),
    "spiff_parallel_multiinstance_cardinality.bpmn": ("rejected", "Expected an output item"),
    "spiff_sequential_multiinstance_loop_input.bpmn": ("error", "Missing data input for multiinstance task"),
    "spiff_single_call_activity.bpmn": ("refused", "calls process 'SingleTask_Process'"),
    "spiff_standard_loop.bpmn": ("error", "Error evaluating expression 'not done'"),
    "spiff_timer-cycle-start.bpmn": ("refused", "may repeat at most once every 60 s"),
    "spiff_timer-non-interrupt-boundary.bpmn": ("looping", ""),
    "spiff_timer.bpmn": ("waiting", ""),
    "spiff_transaction.bpmn": ("error", "Error evaluating expression 'quantity < 0'"),
    "spiff_uncaught_escalation.bpmn": ("completed", ""),
    "spiffcam_DMNMultiInstance.bpmn": ("error", "name 'item' is not defined"),
    "spiffcam_ExclusiveGatewayIfElseAndDecision.bpmn": ("error", "Error evaluating expression 'x==1'"),
    "spiffcam_MessageBoundary.bpmn": ("looping", ""),
    "spiffcam_call_activity_with_message.bpmn": ("waiting", ""),
    "spiffcam_call_activity_with_message_parent.bpmn": (
        "error",
        "Error evaluating expression 'Approved == \"Yes\"'",
    ),
    "spiffcam_subWorkflowComplex.bpmn": ("completed", ""),
    "spiffx_business_rule_task.bpmn": ("completed", ""),
    "spiffx_error_event_payload.bpmn": ("error", "Error evaluating expression 'error'"),
    "spiffx_escalation_event_payload.bpmn": ("error", "Error evaluating expression 'escalation'"),
    "spiffx_human_task_metadata.bpmn": ("completed", ""),
    "spiffx_prescript_postscript_call_activity.bpmn": ("error", "name 'in_data' is not defined"),
    "spiffx_prescript_postscript_parent.bpmn": ("error", "Error occurred in the Pre-Script"),
    "spiffx_signal_event_payload.bpmn": ("error", "name 'v1' is not defined"),
    "spiffx_spiff_multiinstance.bpmn": ("error", "name 'input_data' is not defined"),
}

DRY_RUN_TASKS = 30
UNSAFE = re.compile(r"Traceback|File \"/|site-packages|at 0x[0-9a-f]{6,}")


def test_every_diagram_in_the_corpus_has_an_expected_outcome():
    assert sorted(EXPECTED) == sorted(p.name for p in CONFORMANCE_DIR.glob("*.bpmn"))


def dry_run(instance: ProcessInstance) -> tuple[str, str]:
    family = ProcessInstance.objects.filter(pk=instance.pk) | ProcessInstance.objects.filter(parent=instance)
    for _ in range(DRY_RUN_TASKS):
        task = HumanTask.objects.filter(instance__in=family, status="open").order_by("created_at").first()
        if task is None or task.instance.status not in ProcessInstance.ACTIVE_STATUSES:
            break
        try:
            complete_task(task_id=task.pk, data=forms.example_submission(form_schema(task)), user=SYSTEM)
        except TaskRejected as exc:
            return "rejected", str(exc)
    else:
        instance.refresh_from_db()
        return ("looping" if instance.status == "running" else instance.status), ""
    failed = family.filter(status=ProcessInstance.Status.ERROR).first()
    if failed is not None:
        return "error", failed.error["message"]
    instance.refresh_from_db()
    return instance.status, ""


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_conformance_diagram(name):
    expected, phrase = EXPECTED[name]
    files = [source(CONFORMANCE_DIR / name)] + [source(CONFORMANCE_DIR / c) for c in COMPANIONS.get(name, [])]

    try:
        deployment = deploy(user=SYSTEM, files=files)
    except DeploymentError as exc:
        outcome, message = "refused", str(exc)
        assert any(p.file.endswith((".bpmn", ".dmn")) for p in exc.problems)
    else:
        instance = start_instance(user=SYSTEM, process_id=deployment.version.model.process_id)
        outcome, message = dry_run(instance)

    assert (outcome, phrase in message) == (expected, True), message
    assert not UNSAFE.search(message), message
