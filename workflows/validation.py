"""Everything checked before a process version is stored. Each problem names file, element and line.

Order matters for the messages people see: the document itself (size, XML, DTD, namespace), then
structure we can explain better than an XML schema error (ids, references, start events,
executability), then the BPMN 2.0 schema and SpiffWorkflow's parse, then what the engine needs to
run the specs (forms, scripts and expressions, service operations, linked processes, limits).
Lanes that map to no role are warnings: the version deploys and their tasks go to the coordinators.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition as SpiffMessageEventDefinition
from SpiffWorkflow.spiff.specs.mixins.service_task import ServiceTask

from workflows import assignment, dialects, forms, operations, sandbox, timer_values
from workflows.diagram_code import code_of
from workflows.documents import BPMN_NS, DeploymentError, Problem, SourceFile, parse_form, parse_xml
from workflows.parsing import ParsedBundle, element_line, parse_bundle
from workflows.specs import LinkedCallActivity

FORM_PROPERTY = "formJsonSchemaFilename"
UI_FORM_PROPERTY = "formUiSchemaFilename"

# Task spec names SpiffWorkflow creates itself; a BPMN element with one of these ids collides.
RESERVED_IDS = frozenset({"Start", "End", "Root", "StartEventSplit", "StartEventJoin"})
_RESERVED_SUFFIXES = (".EndJoin", ".BoundaryEventSplit", ".BoundaryEventJoin", ".BoundaryEventParent")
_ID_NAMESPACES = frozenset(
    {
        BPMN_NS,
        "http://www.omg.org/spec/BPMN/20100524/DI",
        "http://www.omg.org/spec/DD/20100524/DC",
        "http://www.omg.org/spec/DD/20100524/DI",
    }
)
# DMN cells are short unary tests; SpiffWorkflow's DMN engine runs a regular expression over each
# one that is quadratic in its length, in the engine's process.
_MAX_DMN_CELL = 1_000
_STRING_LITERAL = re.compile(r"""^\s*(['"])([^'"\\]{0,80})\1\s*$""")
_SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*\.json$")
_FLOW_NODE_TAGS = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "scriptTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
        "transaction",
        "adHocSubProcess",
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
        "complexGateway",
    }
)


@dataclass
class CheckedBundle:
    parsed: ParsedBundle
    sources: list[SourceFile]
    forms: dict[str, dict]  # file name -> schema, for every form the version uses
    warnings: list[Problem] = field(default_factory=list)


def check_bundle(
    sources: list[SourceFile],
    *,
    deployed_process_ids: Callable[[], set[str]],
    deployed_calls: Callable[[str], set[str]] = lambda process_id: set(),
) -> CheckedBundle:
    """Check a deployment (main file first) and return what to store, or raise DeploymentError.

    `deployed_calls(process_id)` names the processes the latest deployed version of a process starts
    as linked instances, so that a cycle through earlier deployments is found too."""
    limits = settings.WORKFLOWS
    if not sources:
        raise DeploymentError([Problem(_("(none)"), _("No files were given."))])
    main = sources[0]
    if main.is_form:
        raise DeploymentError([Problem(main.name, _("The first file must be a BPMN diagram, not a form."))])
    names = [s.name for s in sources]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise DeploymentError(
            [Problem(n, _("The same file name was given twice.")) for n in sorted(duplicates)]
        )

    problems: list[Problem] = []
    bundled_forms: dict[str, dict] = {}
    for source in sources:
        try:
            if source.is_form:
                bundled_forms[source.name] = parse_form(source, max_bytes=limits["MAX_FORM_BYTES"])
            else:
                source.tree = parse_xml(source, max_bytes=limits["MAX_BPMN_BYTES"])
        except DeploymentError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DeploymentError(problems)
    documents = [s for s in sources if not s.is_form]
    if main.kind != "bpmn":
        raise DeploymentError([Problem(main.name, _("The first file must be a BPMN diagram."))])
    for document in documents:
        if document.kind == "bpmn" and dialects.uses_camunda(document):
            generated, untranslatable = dialects.translate_camunda(document)
            problems.extend(untranslatable)
            for form in generated:
                bundled_forms.setdefault(form.name, parse_form(form, max_bytes=limits["MAX_FORM_BYTES"]))
    if problems:
        raise DeploymentError(problems)

    for source in documents:
        problems.extend(_structure_problems(source, documents))
    if problems:
        raise DeploymentError(problems)
    problems.extend(_call_cycle_problems(documents, deployed_calls))
    if problems:
        raise DeploymentError(problems)

    try:
        parsed = parse_bundle(main, documents)
    except ValidationException as exc:
        raise DeploymentError([_from_validation_exception(exc, main.name, documents)]) from None
    except SpiffWorkflowException as exc:
        message = _("SpiffWorkflow cannot read this diagram: %(error)s") % {"error": exc}
        raise DeploymentError([Problem(main.name, message)]) from None
    warnings: list[Problem] = []
    used_forms: dict[str, dict] = {}
    problems = _spec_problems(parsed, documents, bundled_forms, used_forms, deployed_process_ids, warnings)
    if problems:
        raise DeploymentError(problems)
    if parsed.other_roots:
        warnings.append(
            Problem(
                main.name,
                _(
                    "The file has several top-level processes; '%(process)s' is deployed, "
                    "%(others)s only as called processes."
                )
                % {"process": parsed.process_id, "others": ", ".join(repr(p) for p in parsed.other_roots)},
            )
        )
    return CheckedBundle(parsed=parsed, sources=sources, forms=used_forms, warnings=warnings)


# --- structure --------------------------------------------------------------------------------


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _bpmn(element: etree._Element) -> bool:
    return isinstance(element.tag, str) and etree.QName(element).namespace == BPMN_NS


def _structure_problems(source: SourceFile, documents: list[SourceFile]) -> Iterator[Problem]:
    if source.kind != "bpmn":
        return
    root = source.tree.getroot()
    seen: dict[str, int] = {}
    for element in root.iter():
        # Vendor extensions (other namespaces) may carry "id" attributes of their own.
        if not isinstance(element.tag, str) or etree.QName(element).namespace not in _ID_NAMESPACES:
            continue
        element_id = element.get("id")
        if element_id is None:
            continue
        if element_id in seen:
            yield Problem(
                source.name,
                _("The id is used twice (first on line %(line)s); ids must be unique in a file.")
                % {"line": seen[element_id]},
                element_id,
                element.sourceline,
            )
        else:
            seen[element_id] = element.sourceline
        if _bpmn(element) and (element_id in RESERVED_IDS or element_id.endswith(_RESERVED_SUFFIXES)):
            yield Problem(
                source.name,
                _(
                    "The id '%(id)s' is reserved by the engine; rename the element "
                    "(for example '%(suggestion)s_1')."
                )
                % {"id": element_id, "suggestion": element_id.replace(".", "_")},
                element_id,
                element.sourceline,
            )

    for process in root.iterfind(f"{{{BPMN_NS}}}process"):
        yield from _container_problems(source, process, seen)

    for element in root.iter(f"{{{BPMN_NS}}}boundaryEvent"):
        attached = element.get("attachedToRef")
        if not attached:
            yield Problem(
                source.name,
                _("The boundary event is not attached to any activity (attachedToRef)."),
                element.get("id", ""),
                element.sourceline,
            )
        elif attached not in seen:
            yield Problem(
                source.name,
                _("The boundary event is attached to '%(target)s', which does not exist.")
                % {"target": attached},
                element.get("id", ""),
                element.sourceline,
            )

    definitions = _definition_ids(source)
    for tag, attribute, kind in (
        ("messageEventDefinition", "messageRef", "message"),
        ("signalEventDefinition", "signalRef", "signal"),
        ("errorEventDefinition", "errorRef", "error"),
        ("escalationEventDefinition", "escalationRef", "escalation"),
        ("receiveTask", "messageRef", "message"),
        ("sendTask", "messageRef", "message"),
    ):
        for element in root.iter(f"{{{BPMN_NS}}}{tag}"):
            ref = element.get(attribute)
            if ref and ref.split(":")[-1] not in definitions[kind]:
                owner = element if element.get("id") else element.getparent()
                yield Problem(
                    source.name, _undefined_reference(kind, ref), owner.get("id", ""), element.sourceline
                )

    embedded_targets = {
        p.get("id")
        for d in documents
        if d.kind == "bpmn"
        for p in d.tree.getroot().iterfind(f"{{{BPMN_NS}}}process")
    }
    for element in root.iter(f"{{{BPMN_NS}}}callActivity"):
        called = element.get("calledElement")
        if not called:
            yield Problem(
                source.name,
                _("The call activity does not name the process it calls (calledElement)."),
                element.get("id", ""),
                element.sourceline,
            )
        elif called not in embedded_targets and not is_linked_call(element):
            yield Problem(
                source.name,
                _(
                    "The call activity calls process '%(process)s', which is in none of the deployed files; "
                    "deploy the file that defines it together with this one."
                )
                % {"process": called},
                element.get("id", ""),
                element.sourceline,
            )


def _call_cycle_problems(
    documents: list[SourceFile], deployed_calls: Callable[[str], set[str]]
) -> list[Problem]:
    """A process may not call itself, directly or through others, embedded or as linked instances:
    embedded, the engine would expand it forever; linked, every instance would start another."""
    calls: dict[str, dict[str, tuple[SourceFile, etree._Element]]] = {}
    for source in documents:
        if source.kind != "bpmn":
            continue
        for process in source.tree.getroot().iterfind(f"{{{BPMN_NS}}}process"):
            calls[process.get("id")] = {
                node.get("calledElement"): (source, node)
                for node in process.iter(f"{{{BPMN_NS}}}callActivity")
                if node.get("calledElement")
            }

    def callees(process_id: str) -> set[str]:
        return set(calls[process_id]) if process_id in calls else deployed_calls(process_id)

    problems = []
    for start in calls:
        for first, (source, node) in calls[start].items():
            chain = _path_back(first, start, callees)
            if chain is not None:
                problems.append(
                    Problem(
                        source.name,
                        _(
                            "The process calls itself (%(chain)s); calls between processes may not "
                            "form a cycle."
                        )
                        % {"chain": " → ".join([start, first, *chain])},
                        node.get("id", ""),
                        node.sourceline,
                    )
                )
    return problems


def _path_back(origin: str, target: str, callees: Callable[[str], set[str]]) -> list[str] | None:
    """The processes after `origin` on a call path from `origin` back to `target` ([] if `origin`
    is `target`), or None."""
    if origin == target:
        return []
    previous: dict[str, str] = {origin: ""}
    queue = [origin]
    while queue:
        current = queue.pop(0)
        for callee in sorted(callees(current)):
            if callee == target:
                path = [callee]
                while current != origin:
                    path.append(current)
                    current = previous[current]
                return path[::-1]
            if callee not in previous:
                previous[callee] = current
                queue.append(callee)
    return None


def is_linked_call(call_activity: etree._Element) -> bool:
    from workflows.specs import LINKED_INSTANCE_PROPERTY, LINKED_INSTANCE_VALUE

    for prop in call_activity.iter("{*}property"):
        if prop.get("name") == LINKED_INSTANCE_PROPERTY and prop.get("value") == LINKED_INSTANCE_VALUE:
            return True
    return False


def _undefined_reference(kind: str, ref: str) -> str:
    messages = {
        "message": _("It refers to message '%(ref)s', which is not defined in the file."),
        "signal": _("It refers to signal '%(ref)s', which is not defined in the file."),
        "error": _("It refers to error '%(ref)s', which is not defined in the file."),
        "escalation": _("It refers to escalation '%(ref)s', which is not defined in the file."),
    }
    return messages[kind] % {"ref": ref}


def _definition_ids(source: SourceFile) -> dict[str, set[str]]:
    root = source.tree.getroot()
    return {
        kind: {e.get("id") for e in root.iter(f"{{{BPMN_NS}}}{kind}")}
        for kind in ("message", "signal", "error", "escalation")
    }


def _container_problems(source: SourceFile, container: etree._Element, ids: dict) -> Iterator[Problem]:
    """Flows must connect nodes of the same process or subprocess; processes need a start event."""
    nodes = {c.get("id") for c in container if _bpmn(c) and _local(c) in _FLOW_NODE_TAGS}
    flows = [c for c in container if _bpmn(c) and _local(c) == "sequenceFlow"]
    flow_ids = {f.get("id") for f in flows}
    for flow in flows:
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if not ref:
                message = _("The sequence flow has no %(attribute)s.") % {"attribute": end}
                yield Problem(source.name, message, flow.get("id", ""), flow.sourceline)
            elif ref not in nodes:
                if ref not in ids:
                    message = _("The sequence flow's %(attribute)s '%(ref)s' does not exist.")
                else:
                    message = _(
                        "The sequence flow's %(attribute)s '%(ref)s' is in another process or subprocess."
                    )
                yield Problem(
                    source.name,
                    message % {"attribute": end, "ref": ref},
                    flow.get("id", ""),
                    flow.sourceline,
                )
    for child in container:
        default = child.get("default") if _bpmn(child) else None
        if default and default not in flow_ids:
            yield Problem(
                source.name,
                _("The default flow '%(flow)s' is not a sequence flow of this process.") % {"flow": default},
                child.get("id", ""),
                child.sourceline,
            )
    is_process = _local(container) == "process"
    triggered = container.get("triggeredByEvent") == "true"
    starts = [c for c in container if _bpmn(c) and _local(c) == "startEvent"]
    if is_process and container.get("isExecutable", "true") == "true" and not starts:
        yield Problem(
            source.name, _("The process has no start event."), container.get("id", ""), container.sourceline
        )
    if triggered and not starts:
        yield Problem(
            source.name,
            _("The event subprocess has no start event."),
            container.get("id", ""),
            container.sourceline,
        )
    for child in container:
        if _bpmn(child) and _local(child) in ("subProcess", "transaction", "adHocSubProcess"):
            yield from _container_problems(source, child, ids)


def _from_validation_exception(
    exc: ValidationException, default_file: str, documents: list[SourceFile]
) -> Problem:
    file_name = getattr(exc, "file_name", "") or default_file
    element = getattr(exc, "id", "") or ""
    line = getattr(exc, "line_number", None)
    message = str(exc.args[0]) if exc.args else str(exc)
    if "schema" in message.lower() or "Element '" in message:
        message = _("The file does not follow the BPMN 2.0 schema: %(error)s") % {"error": message}
    elif message == "A Service Task must have an operator":
        known = ", ".join(operations.operation_names()) or _("none are registered yet")
        message = _(
            "The service task does not say which operation to call (spiffworkflow:serviceTaskOperator); "
            "registered operations: %(operations)s."
        ) % {"operations": known}
    # SpiffWorkflow sometimes prints an lxml element; name the tag instead of a memory address.
    message = re.sub(
        r"<Element \{[^}]*\}(\w+) at 0x[0-9a-f]+>",
        lambda m: _("(its %(tag)s cannot be resolved)") % {"tag": m.group(1)},
        message,
    )
    return Problem(file_name, message, element, line if isinstance(line, int) and line > 0 else None)


# --- specs ------------------------------------------------------------------------------------


def _spec_problems(
    parsed: ParsedBundle,
    documents: list[SourceFile],
    bundled_forms: dict[str, dict],
    used_forms: dict[str, dict],
    deployed_process_ids: Callable[[], set[str]],
    warnings: list[Problem],
) -> list[Problem]:
    problems: list[Problem] = []
    limits = settings.WORKFLOWS
    trees = {d.name: d.tree for d in documents}
    lanes_seen: set[str] = set()
    laneless_tasks = 0
    deployed: set[str] | None = None

    for process_spec in parsed.all_specs():
        file_name = process_spec.file or documents[0].name
        tree = trees.get(file_name)

        def problem(element: str, message: str, _file=file_name, _tree=tree) -> Problem:
            line = element_line(_tree, element) if _tree is not None and element else None
            return Problem(_file, message, element, line)

        for task_spec in process_spec.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None) or ""
            for kind, code, is_script in code_of(task_spec):
                longest = _MAX_DMN_CELL if kind.startswith("DMN") else limits["MAX_CODE_LENGTH"]
                if len(code) > longest:
                    message = _("The %(kind)s is %(length)s characters long; the limit is %(limit)s.") % {
                        "kind": _code_kind(kind),
                        "length": f"{len(code):,}",
                        "limit": f"{longest:,}",
                    }
                    problems.append(problem(bpmn_id, message))
                    continue
                if code.lstrip().startswith(("${", "#{")):
                    message = _(
                        "The %(kind)s %(code)s is a Camunda JUEL expression; write it in Python, "
                        "for example  amount > 1000 and approved"
                    ) % {"kind": _code_kind(kind), "code": repr(code.strip())}
                    problems.append(problem(bpmn_id, message))
                    continue
                try:
                    sandbox.check_code(code, script=is_script)
                except sandbox.ScriptError as exc:
                    message = _("The %(kind)s is refused: %(reason)s") % {
                        "kind": _code_kind(kind),
                        "reason": exc,
                    }
                    problems.append(problem(bpmn_id, message))
            if isinstance(task_spec, MultiInstanceTask):
                problems.extend(problem(bpmn_id, m) for m in _multi_instance_problems(task_spec))
            problems.extend(problem(bpmn_id, m) for m in _timer_problems(task_spec))
            if (
                isinstance(task_spec, ServiceTask)
                and operations.get_operation(task_spec.operation_name) is None
            ):
                known = ", ".join(operations.operation_names()) or _("none")
                message = _(
                    "The service task calls operation '%(operation)s', which is not "
                    "registered (registered: %(operations)s)."
                ) % {"operation": task_spec.operation_name, "operations": known}
                problems.append(problem(bpmn_id, message))
            if isinstance(task_spec, LinkedCallActivity):
                if deployed is None:
                    deployed = deployed_process_ids()
                if task_spec.called_element not in deployed:
                    message = _(
                        "The call activity starts process '%(process)s' as a separate "
                        "instance, but no such process is deployed; deploy it first."
                    ) % {"process": task_spec.called_element}
                    problems.append(problem(bpmn_id, message))
            if getattr(task_spec, "manual", False):
                if task_spec.lane:
                    lanes_seen.add(task_spec.lane)
                else:
                    laneless_tasks += 1
            if isinstance(task_spec, UserTask):
                problems.extend(_form_problems(task_spec, problem, bundled_forms, used_forms, warnings))
            if _inclusive_join_in_a_loop(task_spec):
                line = element_line(tree, bpmn_id) if tree is not None else None
                warnings.append(
                    Problem(
                        file_name,
                        _(
                            "The inclusive gateway joins branches inside a loop. SpiffWorkflow 3.2 cannot "
                            "tell one iteration's branches from the next and may merge the wrong ones; use a "
                            "parallel gateway, or move the looping part into a called process."
                        ),
                        bpmn_id,
                        line,
                    )
                )
            if _drops_message_payload(task_spec):
                line = element_line(tree, bpmn_id) if tree is not None else None
                warnings.append(
                    Problem(
                        file_name,
                        _(
                            "The message catch event names no message variable "
                            "(spiffworkflow:messageVariable), so the message's payload will not reach the "
                            "process data."
                        ),
                        bpmn_id,
                        line,
                    )
                )

    roles = assignment.roles_for_lanes(lanes_seen)
    fallback = assignment.fallback_role_name()
    for lane in sorted(lane for lane, role in roles.items() if role is None):
        message = _(
            "Lane '%(lane)s' maps to no role; its tasks go to the '%(role)s' role until it is mapped."
        ) % {"lane": lane, "role": fallback}
        warnings.append(Problem(documents[0].name, message))
    if laneless_tasks:
        message = _("%(count)s human task(s) are in no lane; they go to the '%(role)s' role.") % {
            "count": laneless_tasks,
            "role": fallback,
        }
        warnings.append(Problem(documents[0].name, message))
    return problems


def _inclusive_join_in_a_loop(task_spec) -> bool:
    if not isinstance(task_spec, InclusiveGateway) or len(task_spec.inputs) < 2:
        return False
    seen, stack = set(), list(task_spec.outputs)
    while stack:
        current = stack.pop()
        if current is task_spec:
            return True
        if id(current) not in seen:
            seen.add(id(current))
            stack.extend(current.outputs)
    return False


def _drops_message_payload(task_spec) -> bool:
    definition = getattr(task_spec, "event_definition", None)
    return (
        isinstance(task_spec, CatchingEvent)
        and isinstance(definition, SpiffMessageEventDefinition)
        and definition.message_var is None
    )


def _code_kind(kind: str) -> str:
    """What `code_of` calls a piece of code, in the reader's language."""
    labels = {
        "script": _("script"),
        "pre-script": _("pre-script"),
        "post-script": _("post-script"),
        "condition": _("condition"),
        "loop or completion condition": _("loop or completion condition"),
        "cardinality": _("cardinality"),
        "service parameter": _("service parameter"),
        "timedate expression": _("timedate expression"),
        "durationtimer expression": _("durationtimer expression"),
        "cycletimer expression": _("cycletimer expression"),
        "conditional expression": _("conditional expression"),
        "message expression": _("message expression"),
        "signal expression": _("signal expression"),
        "error expression": _("error expression"),
        "escalation expression": _("escalation expression"),
        "correlation expression": _("correlation expression"),
        "DMN input expression": _("DMN input expression"),
        "DMN input entry": _("DMN input entry"),
        "DMN output entry": _("DMN output entry"),
    }
    return labels.get(kind, kind)


def _multi_instance_problems(task_spec) -> Iterator[str]:
    cardinality = task_spec.cardinality
    if not isinstance(cardinality, str) or not cardinality.strip():
        return
    # Evaluated without data, in a helper under its limits: a literal (or constant arithmetic) is
    # judged now; one that reads variables fails with NameError and is checked when it runs.
    try:
        value = sandbox.SandboxEnvironment().evaluate(cardinality, {}, check="cardinality")
    except NameError:
        return
    except sandbox.ScriptLimitError as exc:
        yield str(exc)
        return
    except Exception as exc:
        yield _("The cardinality '%(cardinality)s' cannot be evaluated: %(error)s") % {
            "cardinality": cardinality[:200],
            "error": exc,
        }
        return
    maximum = settings.WORKFLOWS["MAX_MULTI_INSTANCE"]
    if not isinstance(value, int) or isinstance(value, bool):
        yield _("The cardinality '%(cardinality)s' is not a whole number.") % {
            "cardinality": cardinality[:200]
        }
    elif value > maximum:
        # Judged here too: a plain number is not sent to a helper, which would have judged it.
        yield _("The multi-instance would start %(count)s instances; the limit is %(limit)s.") % {
            "count": f"{value:,}",
            "limit": f"{maximum:,}",
        }


def _timer_problems(task_spec) -> Iterator[str]:
    """A timer whose value is written in the diagram is checked now; one computed from data is
    checked each time it is set (`timer_values`)."""
    definition = getattr(task_spec, "event_definition", None)
    for candidate in getattr(definition, "event_definitions", None) or [definition]:
        kind = timer_values.timer_kind(candidate)
        literal = _STRING_LITERAL.match(candidate.expression or "") if kind else None
        if literal is None:
            continue
        bounds = timer_values.timer_bounds()
        try:
            timer_values.run_spiff_parse(
                kind, timer_values.check_timer_value(kind, literal[2], bounds), bounds
            )
        except sandbox.ScriptError as exc:
            yield str(exc)
    properties = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
    due_in = properties.get("dueIn")
    if due_in:
        try:
            timer_values.check_timer_value("duration", due_in, timer_values.timer_bounds())
        except sandbox.ScriptError as exc:
            yield _("The property dueIn is refused: %(reason)s") % {"reason": exc}


def _form_problems(
    task_spec, problem, bundled: dict[str, dict], used: dict[str, dict], warnings: list[Problem]
) -> Iterator[Problem]:
    properties = (getattr(task_spec, "extensions", {}) or {}).get("properties", {}) or {}
    for prop in (FORM_PROPERTY, UI_FORM_PROPERTY):
        name = properties.get(prop)
        if not name:
            continue
        if not _SAFE_FILE_NAME.match(name):
            message = _("The form file name '%(name)s' must be a plain .json file name.") % {"name": name}
            yield problem(task_spec.bpmn_id, message)
            continue
        schema = bundled.get(name)
        if schema is None:
            path = Path(settings.WORKFLOWS["FORMS_DIR"]) / name
            if not path.is_file():
                message = _("The form '%(name)s' does not exist in forms/ or in the deployment.") % {
                    "name": name
                }
                yield problem(task_spec.bpmn_id, message)
                continue
            try:
                schema = parse_form(
                    SourceFile(name, path.read_bytes()), max_bytes=settings.WORKFLOWS["MAX_FORM_BYTES"]
                )
            except DeploymentError as exc:
                for p in exc.problems:
                    yield problem(task_spec.bpmn_id, p.message)
                continue
        if prop == FORM_PROPERTY:
            for message in forms.schema_problems(schema):
                yield problem(
                    task_spec.bpmn_id,
                    _("The form '%(name)s' is unusable: %(problem)s") % {"name": name, "problem": message},
                )
            if name not in used:
                warnings.extend(
                    problem(
                        task_spec.bpmn_id,
                        _("The form '%(name)s': %(warning)s") % {"name": name, "warning": w},
                    )
                    for w in forms.schema_warnings(schema)
                )
        used[name] = schema
