"""What changed between two versions of a process model: the elements added, removed and changed
(SpiffWorkflow's `SpecDiff`, which aligns elements by id and, failing that, by their place in the
flow), and the text of every deployed file (the diagram, DMN tables, form schemas).

Plain data: element ids, names and type codes, attribute codes, old and new values, diff lines.
The page turns the codes into words."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.diff import SpecDiff
from SpiffWorkflow.specs.base import TaskSpec

from workflows.models import DeployedFile, ProcessVersion
from workflows.serialization import SERIALIZER, load_specs

# Attributes whose old and new values a page can show as they are (short text).
SHOWN_VALUES = frozenset(
    {"bpmn_id", "bpmn_name", "lane", "typename", "script", "prescript", "postscript", "documentation"}
    | {"called_element", "operation_name", "decision_ref", "default_task_spec"}
)
# Beyond this many lines a file's differences are cut (a page, not a patch tool).
MAX_DIFF_LINES = 2000


@dataclass(frozen=True)
class Element:
    id: str  # the BPMN id
    name: str
    type: str  # SpiffWorkflow's type name, e.g. "UserTask"


@dataclass(frozen=True)
class Change:
    attribute: str  # the serialized attribute, e.g. "bpmn_name"; "extension" for one extension property
    before: str | None = None  # shown for short text values only
    after: str | None = None
    detail: str = ""  # for an extension property, its name (e.g. "dueIn")


@dataclass(frozen=True)
class ChangedElement:
    element: Element  # as it was in the old version
    new_id: str  # its id in the new version (a different one when aligned by its place in the flow)
    changes: list[Change]


@dataclass(frozen=True)
class ProcessDiff:
    process_id: str
    status: str  # "changed", "same", "added" (only in the new version) or "removed"
    added: list[Element] = field(default_factory=list)
    removed: list[Element] = field(default_factory=list)
    changed: list[ChangedElement] = field(default_factory=list)


@dataclass(frozen=True)
class FileDiff:
    name: str
    kind: str  # DeployedFile.Kind
    status: str  # "changed", "same", "added" or "removed"
    old_id: int | None  # the files' ids, for their downloads
    new_id: int | None
    lines: list[tuple[str, str]] = field(default_factory=list)  # ("hunk"|"add"|"del"|"context", text)
    truncated: bool = False


@dataclass(frozen=True)
class VersionDiff:
    old: ProcessVersion
    new: ProcessVersion
    processes: list[ProcessDiff]
    files: list[FileDiff]

    @property
    def changed_processes(self) -> list[ProcessDiff]:
        return [p for p in self.processes if p.status != "same"]

    @property
    def same(self) -> bool:
        return all(p.status == "same" for p in self.processes) and all(f.status == "same" for f in self.files)

    def markers(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """Diagram markers (old diagram: removed and changed elements, new diagram: added and
        changed ones) of every process: a collaboration's elements are in its pools' processes,
        and ids are unique within a file."""
        old: dict[str, list[str]] = {}
        new: dict[str, list[str]] = {}
        for process in self.processes:
            for element in process.removed:
                old[element.id] = ["diff-removed"]
            for element in process.added:
                new[element.id] = ["diff-added"]
            for changed in process.changed:
                old[changed.element.id] = ["diff-changed"]
                new[changed.new_id] = ["diff-changed"]
        return old, new


def version_diff(old: ProcessVersion, new: ProcessVersion) -> VersionDiff:
    """The differences from `old` to `new` (two versions of one model, in either order)."""
    specs = {
        pk: load_specs(text)
        for pk, text in ProcessVersion.objects.filter(pk__in=[old.pk, new.pk]).values_list("pk", "spec")
    }
    files = DeployedFile.objects.filter(version__in=[old.pk, new.pk]).order_by("-is_main", "kind", "name")
    return VersionDiff(
        old=old,
        new=new,
        processes=_process_diffs(specs[old.pk], specs[new.pk]),
        files=_file_diffs(
            [f for f in files if f.version_id == old.pk], [f for f in files if f.version_id == new.pk]
        ),
    )


# --- elements -------------------------------------------------------------------------------


def _process_diffs(old: Any, new: Any) -> list[ProcessDiff]:
    """The main process first, then each process the version carries beside it (embedded
    subprocesses, the pools of a collaboration, processes called from the same file)."""
    diffs = [_spec_diff(old.spec.name, old.spec, new.spec)]
    for name in sorted(set(old.subprocess_specs) | set(new.subprocess_specs)):
        before, after = old.subprocess_specs.get(name), new.subprocess_specs.get(name)
        if before is None:
            diffs.append(ProcessDiff(name, "added"))
        elif after is None:
            diffs.append(ProcessDiff(name, "removed"))
        else:
            diffs.append(_spec_diff(name, before, after))
    return diffs


def _spec_diff(process_id: str, old: BpmnProcessSpec, new: BpmnProcessSpec) -> ProcessDiff:
    registry = SERIALIZER.registry
    diff = SpecDiff(registry, old, new)
    changed = [
        ChangedElement(
            _element(spec), diff.alignment[spec].bpmn_id or "", _changes(spec, diff.alignment[spec], keys)
        )
        for spec, keys in diff.changed.items()
        if _is_element(spec)
    ]
    added = [_element(spec) for spec in diff.added if _is_element(spec)]
    removed = [_element(spec) for spec in diff.removed if _is_element(spec)]
    ordered = (
        sorted(added, key=_order),
        sorted(removed, key=_order),
        sorted(changed, key=lambda c: _order(c.element)),
    )
    status = "changed" if any(ordered) else "same"
    return ProcessDiff(process_id, status, *ordered)


def _is_element(spec: TaskSpec) -> bool:
    # SpiffWorkflow adds specs of its own (the start, the end join, boundary event splits), which
    # have no BPMN id: nothing a person drew.
    return bool(getattr(spec, "bpmn_id", None))


def _element(spec: TaskSpec) -> Element:
    return Element(spec.bpmn_id, spec.bpmn_name or "", _typename(spec))


def _typename(spec: TaskSpec) -> str:
    return SERIALIZER.registry.typenames.get(type(spec), type(spec).__name__)


def _order(element: Element) -> tuple[str, str]:
    return (element.name or element.id, element.id)


def _changes(old: TaskSpec, new: TaskSpec, keys: list[str]) -> list[Change]:
    registry = SERIALIZER.registry
    before, after = registry.convert(old), registry.convert(new)
    if keys == ["typename"]:
        return [Change("typename", before.get("typename"), after.get("typename"))]
    changes = []
    for key in keys:
        if key == "name" and "bpmn_id" in keys:
            continue  # a BPMN element's spec is named by its id: one change, not two
        if key == "extensions":
            changes.extend(_extension_changes(before.get(key) or {}, after.get(key) or {}))
        elif key in SHOWN_VALUES:
            changes.append(Change(key, _text(before.get(key)), _text(after.get(key))))
        else:
            changes.append(Change(key))
    return changes


def _extension_changes(before: dict, after: dict) -> list[Change]:
    """Each extension property that changed (a form, a due date, instructions), by its name."""
    flat_before, flat_after = _flat_extensions(before), _flat_extensions(after)
    return [
        Change("extension", _text(flat_before.get(name)), _text(flat_after.get(name)), detail=name)
        for name in sorted(set(flat_before) | set(flat_after))
        if flat_before.get(name) != flat_after.get(name)
    ]


def _flat_extensions(extensions: dict) -> dict[str, Any]:
    flat = {key: value for key, value in extensions.items() if key != "properties"}
    flat.update(extensions.get("properties") or {})
    return flat


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


# --- files ----------------------------------------------------------------------------------


def _file_diffs(old_files: list[DeployedFile], new_files: list[DeployedFile]) -> list[FileDiff]:
    """Files paired by kind and name, the new version's order first, then the removed ones."""
    old_by_key = {(f.kind, f.name): f for f in old_files}
    new_keys = {(f.kind, f.name) for f in new_files}
    diffs = []
    for file in new_files:
        before = old_by_key.get((file.kind, file.name))
        if before is None:
            diffs.append(FileDiff(file.name, file.kind, "added", None, file.pk))
        elif before.content == file.content:
            diffs.append(FileDiff(file.name, file.kind, "same", before.pk, file.pk))
        else:
            lines, truncated = _text_diff(before.content, file.content)
            diffs.append(FileDiff(file.name, file.kind, "changed", before.pk, file.pk, lines, truncated))
    for file in old_files:
        if (file.kind, file.name) not in new_keys:
            diffs.append(FileDiff(file.name, file.kind, "removed", file.pk, None))
    return diffs


def _text_diff(before: str, after: str) -> tuple[list[tuple[str, str]], bool]:
    lines: list[tuple[str, str]] = []
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=3)
    for line in diff:
        if line.startswith(("---", "+++")) and not lines:
            continue  # the two file headers: the page names the versions itself
        if len(lines) >= MAX_DIFF_LINES:
            return lines, True
        if line.startswith("@@"):
            lines.append(("hunk", line))
        elif line.startswith("+"):
            lines.append(("add", line[1:]))
        elif line.startswith("-"):
            lines.append(("del", line[1:]))
        else:
            lines.append(("context", line[1:]))
    return lines, False
