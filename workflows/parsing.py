"""Turning checked BPMN/DMN trees into SpiffWorkflow specs.

`EngineParser` is SpiffWorkflow's Spiff parser (it understands the `spiffworkflow:` extensions
bpmn-js-spiffworkflow writes, and DMN) with two additions: call activities marked
`calledElementInstance=separate` become `LinkedCallActivity`, and timer expressions that are bare
ISO 8601 literals (`PT48H`, as BPMN itself writes them) are read as the literal instead of as a
Python name that would fail at run time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import CallActivityParser
from SpiffWorkflow.spiff.specs.defaults import CallActivity

from workflows.documents import BPMN_NS, SourceFile
from workflows.specs import LINKED_INSTANCE_PROPERTY, LINKED_INSTANCE_VALUE, LinkedCallActivity

NS = {"bpmn": BPMN_NS}

_ISO_LITERAL = re.compile(
    r"^(R\d*/)?"  # optional repetition
    r"(P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?"
    r"|\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?)"
    r"(/(P[\dYMWDTHS.]+|\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?))?$"
)


def is_iso_timer_literal(expression: str) -> bool:
    return bool(_ISO_LITERAL.match(expression.strip()))


class _CallActivityParser(CallActivityParser):
    def create_task(self):
        extensions = self.parse_extensions()
        if extensions.get("properties", {}).get(LINKED_INSTANCE_PROPERTY) == LINKED_INSTANCE_VALUE:
            return LinkedCallActivity(
                self.spec,
                self.bpmn_id,
                called_element=self.node.get("calledElement"),
                prescript=extensions.get("preScript"),
                postscript=extensions.get("postScript"),
                **self.bpmn_attributes,
            )
        return super().create_task()


class EngineParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("callActivity"): (_CallActivityParser, CallActivity),
    }

    def __init__(self) -> None:
        super().__init__(validator=VALIDATOR)


@dataclass
class ParsedBundle:
    """The specs of a main process and every process it embeds, parsed from one deployment."""

    process_id: str
    name: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    parser: EngineParser
    other_roots: list[str] = field(default_factory=list)

    def all_specs(self) -> list[BpmnProcessSpec]:
        return [self.spec, *(s for s in self.subprocess_specs.values() if s is not None)]


def main_process_id(
    main: SourceFile, bundle: list[SourceFile], parser: EngineParser
) -> tuple[str, list[str]]:
    """Pick the process a deployment starts: a collaboration of several executable pools, or the
    executable process of the main file that no other process in the bundle calls."""
    root = main.tree.getroot()
    executable = set(parser.get_process_ids())
    for collaboration in root.iterfind("bpmn:collaboration", NS):
        pools = [p.get("processRef") for p in collaboration.iterfind("bpmn:participant", NS)]
        if len([p for p in pools if p in executable]) > 1:
            return collaboration.get("id"), []
    called = {
        node.get("calledElement")
        for f in bundle
        if f.kind == "bpmn"
        for node in f.tree.getroot().iter(f"{{{BPMN_NS}}}callActivity")
    }
    in_main = [p.get("id") for p in root.iterfind("bpmn:process", NS) if p.get("id") in executable]
    roots = [pid for pid in in_main if pid not in called] or in_main
    if not roots:
        return "", []
    return roots[0], roots[1:]


def parse_bundle(main: SourceFile, bundle: list[SourceFile]) -> ParsedBundle:
    """Parse already-checked documents; SpiffWorkflow's ValidationException propagates."""
    parser = EngineParser()
    for source in bundle:
        if source.kind == "bpmn":
            parser.add_bpmn_xml(source.tree, filename=source.name)
        elif source.kind == "dmn":
            parser.add_dmn_xml(source.tree.getroot(), filename=source.name)
    process_id, others = main_process_id(main, bundle, parser)
    if not process_id:
        raise ValidationException(
            _(
                'The diagram has no executable process: every process is marked isExecutable="false" '
                "(bpmn.io's default). Mark the process executable in the modeler's properties panel."
            ),
            file_name=main.name,
        )
    if process_id in parser.collaborations:
        spec, subprocess_specs = parser.get_collaboration(process_id)
    else:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    bundle_result = ParsedBundle(
        process_id=process_id,
        name=spec.description or process_id,
        spec=spec,
        subprocess_specs=subprocess_specs,
        parser=parser,
        other_roots=others,
    )
    for process_spec in bundle_result.all_specs():
        _quote_timer_literals(process_spec)
    return bundle_result


def _quote_timer_literals(process_spec: BpmnProcessSpec) -> None:
    for task_spec in process_spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        definitions = (
            definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
        )
        for d in definitions:
            if isinstance(d, TimerEventDefinition) and d.expression and is_iso_timer_literal(d.expression):
                d.expression = repr(d.expression.strip())


def element_line(tree: etree._ElementTree, element_id: str) -> int | None:
    found = tree.getroot().xpath("//*[@id=$id]", id=element_id)
    return found[0].sourceline if found else None
