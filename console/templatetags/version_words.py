"""Words for the codes a version's pages show: element types, the attributes of an element that
changed between two versions, the kinds of deployed files. Codes nobody named stay as they are."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from workflows.models import DeployedFile

register = template.Library()

# SpiffWorkflow's type names (its serializer's), as a person calls the element.
ELEMENT_TYPES = {
    "StartEvent": _("start event"),
    "EndEvent": _("end event"),
    "IntermediateCatchEvent": _("intermediate catch event"),
    "IntermediateThrowEvent": _("intermediate throw event"),
    "BoundaryEvent": _("boundary event"),
    "UserTask": _("user task"),
    "ManualTask": _("manual task"),
    "ScriptTask": _("script task"),
    "ServiceTask": _("service task"),
    "SendTask": _("send task"),
    "ReceiveTask": _("receive task"),
    "BusinessRuleTask": _("business rule task"),
    "NoneTask": _("task"),
    "CallActivity": _("call activity"),
    "LinkedCallActivity": _("call activity (its own instance)"),
    "SubWorkflowTask": _("subprocess"),
    "TransactionSubprocess": _("transaction subprocess"),
    "EventSubprocess": _("event subprocess"),
    "AdHocSubprocess": _("ad-hoc subprocess"),
    "ExclusiveGateway": _("exclusive gateway"),
    "InclusiveGateway": _("inclusive gateway"),
    "ParallelGateway": _("parallel gateway"),
    "EventBasedGateway": _("event-based gateway"),
    "ParallelMultiInstanceTask": _("parallel multi-instance"),
    "SequentialMultiInstanceTask": _("sequential multi-instance"),
    "StandardLoopTask": _("loop"),
}

# The attributes of SpiffWorkflow's serialized task specs.
ATTRIBUTES = {
    "bpmn_id": _("id"),
    "name": _("id"),
    "bpmn_name": _("name"),
    "typename": _("type"),
    "lane": _("lane"),
    "inputs": _("incoming flows"),
    "outputs": _("outgoing flows"),
    "cond_task_specs": _("conditions of the outgoing flows"),
    "default_task_spec": _("default flow"),
    "script": _("script"),
    "prescript": _("pre-script"),
    "postscript": _("post-script"),
    "documentation": _("documentation"),
    "extension": _("extension property"),
    "event_definition": _("event definition"),
    "cancel_activity": _("interrupting"),
    "data_input_associations": _("data inputs"),
    "data_output_associations": _("data outputs"),
    "io_specification": _("inputs and outputs"),
    "called_element": _("called process"),
    "spec": _("called process"),
    "operation_name": _("operation"),
    "operation_params": _("operation parameters"),
    "result_variable": _("result variable"),
    "decision_ref": _("decision table"),
    "task_spec": _("repeated task"),
    "cardinality": _("number of instances"),
    "data_input": _("input collection"),
    "data_output": _("output collection"),
    "input_item": _("input item"),
    "output_item": _("output item"),
    "condition": _("completion condition"),
    "maximum": _("maximum repetitions"),
    "test_before": _("test before"),
    "manual": _("manual"),
}

# The engine's extension properties (spiffworkflow:property and its elements).
EXTENSIONS = {
    "formJsonSchemaFilename": _("form"),
    "dueIn": _("due in"),
    "instructionsForEndUser": _("instructions"),
    "calledElementInstance": _("called instance"),
    "messageVariable": _("message variable"),
}

# What happened to an element or a file from one version to the other.
CHANGES = {
    "added": pgettext_lazy("version diff", "added"),
    "removed": pgettext_lazy("version diff", "removed"),
    "changed": pgettext_lazy("version diff", "changed"),
    "same": pgettext_lazy("version diff", "unchanged"),
    "unchanged": pgettext_lazy("version diff", "unchanged"),
}


@register.filter
def change_label(code: str) -> str:
    return CHANGES.get(code, code)


@register.filter
def element_type(code: str) -> str:
    return ELEMENT_TYPES.get(code, code)


@register.filter
def attribute_label(code: str) -> str:
    return ATTRIBUTES.get(code, code)


@register.filter
def extension_label(code: str) -> str:
    return EXTENSIONS.get(code, code)


@register.filter
def file_kind(code: str) -> str:
    return DeployedFile.Kind(code).label if code in DeployedFile.Kind.values else code
