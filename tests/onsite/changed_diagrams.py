"""The real on-site diagrams, changed the way a coordinator changes them, for migration tests:
edited as XML text and deployed as the next version."""

from __future__ import annotations

from tests.conftest import BPMN_DIR, text_source
from workflows.actors import SYSTEM
from workflows.models import ProcessVersion
from workflows.services.deployment import deploy


def visit_cycle_text() -> str:
    return (BPMN_DIR / "visit_cycle.bpmn").read_text(encoding="utf-8")


def programme_text() -> str:
    return (BPMN_DIR / "onsite_programme.bpmn").read_text(encoding="utf-8")


def replaced(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def with_thank_you_call(text: str) -> str:
    """A new user task late in the visit: after the report, the manager thanks the customer."""
    text = replaced(
        text,
        '<bpmn:flowNodeRef>EndEvent_visit_closed</bpmn:flowNodeRef>',
        '<bpmn:flowNodeRef>EndEvent_visit_closed</bpmn:flowNodeRef>\n'
        '        <bpmn:flowNodeRef>Task_thank_customer</bpmn:flowNodeRef>',
    )
    text = replaced(
        text,
        '<bpmn:sequenceFlow id="Flow_report_end" sourceRef="Task_visit_report" targetRef="EndEvent_visit_closed" />',
        '<bpmn:sequenceFlow id="Flow_report_end" sourceRef="Task_visit_report" targetRef="Task_thank_customer" />\n'
        '    <bpmn:sequenceFlow id="Flow_thanks_end" sourceRef="Task_thank_customer" targetRef="EndEvent_visit_closed" />\n'
        '    <bpmn:userTask id="Task_thank_customer" name="回访致谢">\n'
        '      <bpmn:incoming>Flow_report_end</bpmn:incoming>\n'
        '      <bpmn:outgoing>Flow_thanks_end</bpmn:outgoing>\n'
        "    </bpmn:userTask>",
    )
    text = replaced(
        text,
        '<bpmn:incoming>Flow_report_end</bpmn:incoming>\n      <bpmn:terminateEventDefinition',
        '<bpmn:incoming>Flow_thanks_end</bpmn:incoming>\n      <bpmn:terminateEventDefinition',
    )
    return replaced(
        text,
        '<bpmn:outgoing>Flow_report_end</bpmn:outgoing>\n      <bpmn:script>',
        '<bpmn:outgoing>Flow_report_end</bpmn:outgoing>\n      <bpmn:script>',
    )


def renamed(text: str, bpmn_id: str, old_name: str, new_name: str) -> str:
    return replaced(text, f'id="{bpmn_id}" name="{old_name}"', f'id="{bpmn_id}" name="{new_name}"')


def deploy_text(name: str, text: str) -> ProcessVersion:
    return deploy(user=SYSTEM, files=[text_source(name, text)]).version
