"""The real on-site diagrams, changed the way a coordinator changes them, for migration tests:
edited as XML text and deployed as the next version."""

from __future__ import annotations

import re

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
        "<bpmn:flowNodeRef>EndEvent_visit_closed</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>EndEvent_visit_closed</bpmn:flowNodeRef>\n"
        "        <bpmn:flowNodeRef>Task_thank_customer</bpmn:flowNodeRef>",
    )
    text = replaced(
        text,
        '<bpmn:sequenceFlow id="Flow_report_end" sourceRef="Task_visit_report" targetRef="EndEvent_visit_closed" />',
        '<bpmn:sequenceFlow id="Flow_report_end" sourceRef="Task_visit_report" targetRef="Task_thank_customer" />\n'
        '    <bpmn:sequenceFlow id="Flow_thanks_end" sourceRef="Task_thank_customer" targetRef="EndEvent_visit_closed" />\n'
        '    <bpmn:userTask id="Task_thank_customer" name="回访致谢">\n'
        "      <bpmn:incoming>Flow_report_end</bpmn:incoming>\n"
        "      <bpmn:outgoing>Flow_thanks_end</bpmn:outgoing>\n"
        "    </bpmn:userTask>",
    )
    text = replaced(
        text,
        "<bpmn:incoming>Flow_report_end</bpmn:incoming>\n      <bpmn:terminateEventDefinition",
        "<bpmn:incoming>Flow_thanks_end</bpmn:incoming>\n      <bpmn:terminateEventDefinition",
    )
    return text


def renamed(text: str, bpmn_id: str, old_name: str, new_name: str) -> str:
    return replaced(text, f'id="{bpmn_id}" name="{old_name}"', f'id="{bpmn_id}" name="{new_name}"')


def deploy_text(name: str, text: str) -> ProcessVersion:
    return deploy(user=SYSTEM, files=[text_source(name, text)]).version


def without_plan_task(text: str) -> str:
    """The visit no longer asks for a plan: the visit goes from its registration to saving."""
    text = re.sub(r'\s*<bpmn:userTask id="Task_plan_visit".*?</bpmn:userTask>', "", text, count=1, flags=re.S)
    text = re.sub(r'\s*<bpmndi:BPMNShape id="Task_plan_visit_di".*?</bpmndi:BPMNShape>', "", text, flags=re.S)
    text = re.sub(r'\s*<bpmndi:BPMNEdge id="Flow_plan_save_di".*?</bpmndi:BPMNEdge>', "", text, flags=re.S)
    text = replaced(text, "        <bpmn:flowNodeRef>Task_plan_visit</bpmn:flowNodeRef>\n", "")
    text = replaced(
        text,
        '<bpmn:sequenceFlow id="Flow_plan_save" sourceRef="Task_plan_visit" targetRef="Task_save_plan" />',
        "",
    )
    text = replaced(
        text,
        'sourceRef="Task_open_visit" targetRef="Task_plan_visit"',
        'sourceRef="Task_open_visit" targetRef="Task_save_plan"',
    )
    return replaced(
        text, "<bpmn:incoming>Flow_plan_save</bpmn:incoming>", "<bpmn:incoming>Flow_open_plan</bpmn:incoming>"
    )


def with_final_report(text: str) -> str:
    """The programme, once win-back is done, asks the team leader for a final report."""
    text = replaced(
        text,
        "        <bpmn:flowNodeRef>EndEvent_stages_done</bpmn:flowNodeRef>\n",
        "        <bpmn:flowNodeRef>EndEvent_stages_done</bpmn:flowNodeRef>\n"
        "        <bpmn:flowNodeRef>Task_final_report</bpmn:flowNodeRef>\n",
    )
    text = replaced(
        text,
        'sourceRef="Gateway_last_stage" targetRef="EndEvent_stages_done"',
        'sourceRef="Gateway_last_stage" targetRef="Task_final_report"',
    )
    text = replaced(
        text,
        "<bpmn:incoming>Flow_win_back_done</bpmn:incoming>",
        "<bpmn:incoming>Flow_final_report_done</bpmn:incoming>",
    )
    end = (
        '<bpmn:terminateEventDefinition id="TerminateEventDefinition_stages_done" />\n      </bpmn:endEvent>'
    )
    return replaced(
        text,
        end,
        end + "\n"
        '      <bpmn:userTask id="Task_final_report" name="方案总结">\n'
        "        <bpmn:incoming>Flow_win_back_done</bpmn:incoming>\n"
        "        <bpmn:outgoing>Flow_final_report_done</bpmn:outgoing>\n"
        "      </bpmn:userTask>\n"
        '      <bpmn:sequenceFlow id="Flow_final_report_done" sourceRef="Task_final_report" '
        'targetRef="EndEvent_stages_done" />',
    )
