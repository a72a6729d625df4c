"""Reading diagrams from Camunda Modeler: its `camunda:` extensions, translated into the
`spiffworkflow:` extensions and plain BPMN this engine runs.

Translated: decision references, extension properties, generated task forms (`camunda:formData`
becomes a JSON Schema form), message payload expressions and result variables, multi-instance
collections, candidate groups and literal assignees. Refused with an explanation: Java delegates,
external tasks and JUEL (`${...}`) expressions, which only a Camunda engine can run. The stored file
is the one uploaded; the translation is redone from it on every deploy.
"""

from __future__ import annotations

import json

from django.utils.translation import gettext as _
from lxml import etree

from workflows.documents import BPMN_NS, Problem, SourceFile

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_B, _C, _S = f"{{{BPMN_NS}}}", f"{{{CAMUNDA_NS}}}", f"{{{SPIFF_NS}}}"

_FIELD_TYPES = {
    "string": {"type": "string"},
    "long": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
}
_VALIDATION_KEYWORDS = {
    "min": "minimum",
    "max": "maximum",
    "minlength": "minLength",
    "maxlength": "maxLength",
}
_JAVA_ONLY = ("class", "delegateExpression", "expression", "type", "topic")


def uses_camunda(source: SourceFile) -> bool:
    return CAMUNDA_NS in (source.tree.getroot().nsmap or {}).values() or any(
        isinstance(e.tag, str) and e.tag.startswith(_C) for e in source.tree.getroot().iter()
    )


def translate_camunda(source: SourceFile) -> tuple[list[SourceFile], list[Problem]]:
    """Rewrite `source.tree` in place; return the generated form files and what cannot run."""
    root = source.tree.getroot()
    forms: list[SourceFile] = []
    problems: list[Problem] = []
    for task in root.iter(f"{_B}businessRuleTask"):
        ref = task.get(f"{_C}decisionRef")
        if ref and _spiff_child(task, "calledDecisionId") is None:
            _spiff_extension(task, "calledDecisionId").text = ref
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            continue
        camunda_props = element.find(f"{_B}extensionElements/{_C}properties")
        if camunda_props is not None:
            for prop in camunda_props.iterfind(f"{_C}property"):
                _set_property(element, prop.get("name"), prop.get("value"))
    for task in root.iter(f"{_B}userTask"):
        generated = _form_for(task, source.name)
        if generated is not None:
            forms.append(generated)
        groups = task.get(f"{_C}candidateGroups")
        if groups and not groups.lstrip().startswith(("${", "#{")):
            _set_property(task, "candidateGroups", groups)
        assignee = task.get(f"{_C}assignee")
        if assignee and not assignee.lstrip().startswith(("${", "#{")):
            _set_property(task, "assignee", assignee)
    for definition in root.iter(f"{_B}messageEventDefinition"):
        expression, variable = definition.get(f"{_C}expression"), definition.get(f"{_C}resultVariable")
        if expression and _spiff_child(definition, "messagePayload") is None:
            _spiff_extension(definition, "messagePayload").text = expression
        if variable and _spiff_child(definition, "messageVariable") is None:
            _spiff_extension(definition, "messageVariable").text = variable
    for loop in root.iter(f"{_B}multiInstanceLoopCharacteristics"):
        _translate_collection(loop)
    for task in root.iter(f"{_B}serviceTask"):
        java = [a for a in _JAVA_ONLY if task.get(f"{_C}{a}")]
        if java:
            problems.append(
                Problem(
                    source.name,
                    _(
                        "Camunda implementation camunda:%(attribute)s runs Java or an external worker, "
                        "which this engine cannot do; call a registered operation instead "
                        "(spiffworkflow:serviceTaskOperator)."
                    )
                    % {"attribute": java[0]},
                    task.get("id", ""),
                    task.sourceline,
                )
            )
    return forms, problems


def _spiff_child(element: etree._Element, name: str) -> etree._Element | None:
    return element.find(f"{_B}extensionElements/{_S}{name}")


def _extensions(element: etree._Element) -> etree._Element:
    ext = element.find(f"{_B}extensionElements")
    if ext is None:
        ext = etree.Element(f"{_B}extensionElements")
        # extensionElements comes right after documentation in every BPMN element.
        position = sum(1 for child in element if child.tag == f"{_B}documentation")
        element.insert(position, ext)
    return ext


def _spiff_extension(element: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(_extensions(element), f"{_S}{name}")


def _set_property(element: etree._Element, name: str | None, value: str | None) -> None:
    if not name:
        return
    ext = _extensions(element)
    props = ext.find(f"{_S}properties")
    if props is None:
        props = etree.SubElement(ext, f"{_S}properties")
    if not any(p.get("name") == name for p in props.iterfind(f"{_S}property")):
        etree.SubElement(props, f"{_S}property", name=name, value=value or "")


def _form_for(task: etree._Element, file_name: str) -> SourceFile | None:
    fields = task.findall(f"{_B}extensionElements/{_C}formData/{_C}formField")
    if not fields:
        return None
    properties, required = {}, []
    for field in fields:
        field_id = field.get("id") or ""
        schema = dict(_FIELD_TYPES.get(field.get("type") or "string", {"type": "string"}))
        if field.get("type") == "enum":
            schema = {
                "oneOf": [
                    {"const": v.get("id"), "title": v.get("name") or v.get("id")}
                    for v in field.iterfind(f"{_C}value")
                ]
            }
        if field.get("label"):
            schema["title"] = field.get("label")
        default = field.get("defaultValue")
        if default is not None:
            schema["default"] = _typed(default, schema.get("type"))
        elif "type" in schema:
            # Camunda submits every field of its forms, empty ones as null.
            schema["type"], schema["default"] = [schema["type"], "null"], None
        for constraint in field.iterfind(f"{_C}validation/{_C}constraint"):
            name, config = constraint.get("name"), constraint.get("config")
            if name == "required":
                required.append(field_id)
            elif name in _VALIDATION_KEYWORDS and config is not None:
                schema[_VALIDATION_KEYWORDS[name]] = _typed(config, "number")
        properties[field_id] = schema
    form = {"type": "object", "title": task.get("name") or task.get("id"), "properties": properties}
    if required:
        form["required"] = required
    name = f"{_stem(file_name)}.{task.get('id')}.schema.json"
    _set_property(task, "formJsonSchemaFilename", name)
    return SourceFile(name, json.dumps(form, ensure_ascii=False, indent=2).encode("utf-8"))


def _typed(text: str, kind: str | None):
    if kind in ("integer", "number"):
        try:
            return int(text) if kind == "integer" else float(text)
        except ValueError:
            return text
    if kind == "boolean":
        return text.strip().lower() == "true"
    return text


def _stem(file_name: str) -> str:
    return file_name.rsplit(".", 1)[0].replace(" ", "_")


def _translate_collection(loop: etree._Element) -> None:
    collection, element = loop.get(f"{_C}collection"), loop.get(f"{_C}elementVariable")
    if not collection or loop.find(f"{_B}loopDataInputRef") is not None:
        return
    # Schema order: loopCardinality, loopDataInputRef, loopDataOutputRef, inputDataItem, ...
    position = sum(
        1
        for child in loop
        if child.tag in (f"{_B}documentation", f"{_B}extensionElements", f"{_B}loopCardinality")
    )
    ref = etree.Element(f"{_B}loopDataInputRef")
    ref.text = collection.strip().removeprefix("${").removesuffix("}")
    loop.insert(position, ref)
    if element:
        item = etree.Element(f"{_B}inputDataItem", id=f"{loop.getparent().get('id')}_{element}", name=element)
        after_ref = position + 1 + sum(1 for child in loop if child.tag == f"{_B}loopDataOutputRef")
        loop.insert(after_ref, item)
