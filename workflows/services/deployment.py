"""Deploying process models: validated, immutable, numbered versions."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from workflows.actors import is_system, person, require_actor
from workflows.dialects import CAMUNDA_NS, SPIFF_NS
from workflows.documents import BPMN_NS, DeploymentError, Problem, SourceFile, parse_xml
from workflows.exceptions import NotAllowed, ProcessNotDeployed
from workflows.models import AuditEvent, DeployedFile, ProcessModel, ProcessVersion
from workflows.serialization import SERIALIZER_VERSION, dump_specs
from workflows.sessions import specs_for
from workflows.specs import LinkedCallActivity
from workflows.validation import check_bundle, is_linked_call
from workflows.versions import latest_version


@dataclass
class Deployment:
    version: ProcessVersion
    created: bool
    warnings: list[Problem] = field(default_factory=list)


DEPLOY_PERMISSION = "workflows.deploy_processmodel"


def check_may_deploy(user: Any) -> None:
    require_actor(user)
    if not (is_system(user) or user.has_perm(DEPLOY_PERMISSION)):
        raise NotAllowed(_("You are not allowed to deploy process models."))


def read_files(paths: list[str | Path]) -> list[SourceFile]:
    return [SourceFile(Path(p).name, Path(p).read_bytes()) for p in paths]


def deploy(*, files: list[SourceFile], user: Any) -> Deployment:
    """Validate `files` (one BPMN diagram first, then the processes, DMN tables and forms it uses)
    and store them as the next version of the diagram's process model.

    Raises DeploymentError naming every problem; nothing is stored then. Deploying content that
    is identical to the latest version returns that version unchanged. `user` needs the deploy
    permission (or is SYSTEM).
    """
    check_may_deploy(user)
    checked = check_bundle(files, deployed_process_ids=_deployed_process_ids, deployed_calls=_deployed_calls)
    parsed = checked.parsed
    stored = [(s.kind, s.name, s.text) for s in checked.sources if not s.is_form]
    stored += [
        # In the author's order: the order of a form's fields is the order the page shows them in.
        ("form", name, json.dumps(schema, ensure_ascii=False, indent=2))
        for name, schema in sorted(checked.forms.items())
    ]
    checksum = hashlib.sha256(
        json.dumps(sorted(stored), ensure_ascii=False).encode("utf-8") + SERIALIZER_VERSION.encode()
    ).hexdigest()
    for attempt in range(2):
        try:
            return _store(parsed, checked, stored, checksum, user)
        except IntegrityError:
            if attempt:  # a concurrent deploy of the same model won twice; give up loudly
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _store(parsed, checked, stored, checksum, user) -> Deployment:
    model, _ = ProcessModel.objects.get_or_create(
        process_id=parsed.process_id, defaults={"name": parsed.name[:255]}
    )
    model = ProcessModel.objects.select_for_update().get(pk=model.pk)
    latest = model.versions.defer("spec").order_by("-number").first()
    if latest is not None and latest.checksum == checksum:
        return Deployment(version=latest, created=False, warnings=checked.warnings)
    version = ProcessVersion.objects.create(
        model=model,
        number=(latest.number + 1) if latest else 1,
        checksum=checksum,
        spec=dump_specs(parsed.spec, parsed.subprocess_specs),
        serializer_version=SERIALIZER_VERSION,
        warnings=[str(w) for w in checked.warnings],
        created_by=person(user),
    )
    main_name = checked.sources[0].name
    DeployedFile.objects.bulk_create(
        [
            DeployedFile(version=version, kind=kind, name=name, content=content, is_main=(name == main_name))
            for kind, name, content in stored
        ]
    )
    if parsed.name and model.name != parsed.name[:255]:
        model.name = parsed.name[:255]
        model.save(update_fields=["name"])
    AuditEvent.objects.create(
        version=version,
        kind=AuditEvent.Kind.DEPLOYED,
        actor=person(user),
        at=timezone.now(),
        details={
            "process_id": model.process_id,
            "number": version.number,
            "files": [n for _, n, _ in stored],
        },
    )
    return Deployment(version=version, created=True, warnings=checked.warnings)


def _deployed_calls(process_id: str) -> set[str]:
    """The processes the latest version of `process_id` starts as linked instances."""
    try:
        specs = specs_for(latest_version(process_id))
    except ProcessNotDeployed:
        return set()
    return {
        task_spec.called_element
        for process_spec in [specs.spec, *specs.subprocess_specs.values()]
        if process_spec is not None
        for task_spec in process_spec.task_specs.values()
        if isinstance(task_spec, LinkedCallActivity)
    }


def _deployed_process_ids() -> set[str]:
    return set(ProcessModel.objects.filter(versions__isnull=False).values_list("process_id", flat=True))


def deploy_files(*, files: list[SourceFile], user: Any) -> list[Deployment]:
    """Deploy several files at once, all or nothing: every BPMN file becomes (a version of) its own
    process model, with the given files it embeds by call activity, the DMN files whose decisions
    it (or what it embeds) calls, and every form as companions. A DMN file no diagram calls is
    refused. Processes called as separate instances are deployed before their callers."""
    check_may_deploy(user)
    forms = [s for s in files if s.is_form]
    bundles = _bundles(files)
    with transaction.atomic():
        return [deploy(files=[*bundle, *forms], user=user) for bundle in bundles]


def check_files(*, files: list[SourceFile], user: Any) -> list[Problem]:
    """Make the checks `deploy_files` makes on the same files, storing nothing: return the
    warnings, or raise DeploymentError with the problems a deploy would name (the modeler's
    "validate"). A diagram starting a process given in the same files as a separate instance is
    judged against what is deployed now, as each deploy of the bundle would be in turn."""
    check_may_deploy(user)
    forms = [s for s in files if s.is_form]
    warnings: list[Problem] = []
    for bundle in _bundles(files):
        checked = check_bundle(
            [*bundle, *forms], deployed_process_ids=_deployed_process_ids, deployed_calls=_deployed_calls
        )
        warnings.extend(checked.warnings)
    return warnings


def _bundles(files: list[SourceFile]) -> list[list[SourceFile]]:
    """The diagrams among `files` in deploy order, each with the files it embeds and the tables it
    calls; DeploymentError if a document cannot be read or a table is called by none."""
    documents = {}
    problems: list[Problem] = []
    for source in files:
        if source.is_form:
            continue
        try:
            source.tree = parse_xml(source, max_bytes=settings.WORKFLOWS["MAX_BPMN_BYTES"])
        except DeploymentError as exc:
            problems.extend(exc.problems)
            continue
        documents[source.name] = source
    if problems:
        raise DeploymentError(problems)
    diagrams = [s for s in documents.values() if s.kind == "bpmn"]
    defined = {pid: s.name for s in diagrams for pid in _process_ids(s)}
    tables = [s for s in documents.values() if s.kind == "dmn"]
    decided_in = {decision: s.name for s in tables for decision in _decision_ids(s)}
    bundles = []
    for main in _deploy_order(diagrams, defined):
        embedded = [documents[name] for name in _embedded_closure(main, documents, defined)]
        used = _tables_called(main, embedded, decided_in)
        bundles.append([main, *embedded, *(documents[name] for name in used)])
    called = {source.name for bundle in bundles for source in bundle}
    unused = [s.name for s in tables if s.name not in called]
    if unused:
        raise DeploymentError(
            [
                Problem(name, _("No diagram given with this file calls one of its decisions."))
                for name in unused
            ]
        )
    return bundles


def _process_ids(source: SourceFile) -> list[str]:
    return [p.get("id") for p in source.tree.getroot().iterfind(f"{{{BPMN_NS}}}process")]


def _decision_ids(source: SourceFile) -> list[str]:
    return [
        node.get("id")
        for node in source.tree.getroot().iter()
        if isinstance(node.tag, str) and etree.QName(node).localname == "decision" and node.get("id")
    ]


def _decisions_called(source: SourceFile) -> set[str]:
    """The decisions a diagram's business rule tasks call, as Spiff or Camunda Modeler write them."""
    called = set()
    for task in source.tree.getroot().iter(f"{{{BPMN_NS}}}businessRuleTask"):
        spiff = task.find(f".//{{{SPIFF_NS}}}calledDecisionId")
        if spiff is not None and (spiff.text or "").strip():
            called.add(spiff.text.strip())
        if task.get(f"{{{CAMUNDA_NS}}}decisionRef"):
            called.add(task.get(f"{{{CAMUNDA_NS}}}decisionRef").strip())
    return called


def _tables_called(main: SourceFile, embedded: list[SourceFile], decided_in: dict[str, str]) -> list[str]:
    """The DMN files holding the decisions the diagram and the processes it embeds call."""
    called = set().union(*(_decisions_called(source) for source in [main, *embedded]))
    return sorted({decided_in[decision] for decision in called if decision in decided_in})


def _calls(source: SourceFile) -> tuple[set[str], set[str]]:
    embedded, linked = set(), set()
    for node in source.tree.getroot().iter(f"{{{BPMN_NS}}}callActivity"):
        called = node.get("calledElement")
        if called:
            (linked if is_linked_call(node) else embedded).add(called)
    return embedded, linked


def _embedded_closure(
    main: SourceFile, documents: dict[str, SourceFile], defined: dict[str, str]
) -> list[str]:
    seen, queue = [], [main.name]
    while queue:
        embedded, _ = _calls(documents[queue.pop()])
        for process_id in embedded:
            name = defined.get(process_id)
            if name and name != main.name and name not in seen:
                seen.append(name)
                queue.append(name)
    return seen


def _deploy_order(diagrams: list[SourceFile], defined: dict[str, str]) -> list[SourceFile]:
    by_name = {d.name: d for d in diagrams}
    ordered: list[SourceFile] = []
    visiting: set[str] = set()

    def visit(source: SourceFile) -> None:
        if source in ordered or source.name in visiting:
            return
        visiting.add(source.name)
        for process_id in _calls(source)[1]:
            callee = by_name.get(defined.get(process_id, ""))
            if callee is not None and callee is not source:
                visit(callee)
        ordered.append(source)

    for diagram in diagrams:
        visit(diagram)
    return ordered
