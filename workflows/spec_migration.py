"""Moving a running workflow onto another version of its process's specs: what stands in the way,
and the move itself. SpiffWorkflow's `bpmn.util.diff` aligns the old specs with the new ones (by
BPMN id first, then by structure) and resets the waiting tasks onto the new specs; this module
decides whether that is safe and keeps what the people working on the instance rely on.

The safety rule (spiff-arena's, loosened only where the engine can tell it is harmless):

- every task the instance holds in a definite state (waiting, ready, running, finished, failed)
  must still exist in the new version; predicted tasks do not count, they are predicted anew;
- a task that has finished or is running (a called process, a multi-instance activity) must be
  unchanged in the new version, except in what only describes it (its name, documentation, lane
  and extension properties): its work is done or under way, and the new version's flow around it
  would not be the one it took;
- a waiting or ready task may change: it is reset onto its new spec, as SpiffWorkflow does.

Compaction (`workflows.compaction`) keeps little finished history, so in practice the rule looks at
the waiting elements, the tasks that led to them, and running calls.

What is kept through the move: the ids of waiting and ready tasks (SpiffWorkflow resets a task in
place), so their human-task rows with assignee, claim, drafts and due date stay as they were; and,
for each of them whose element did not change, its data and engine bookkeeping - a timer keeps the
moment it is due, a task its form data - instead of the fresh ones a reset would give.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from workflows.serialization import SERIALIZER, Specs

# Attributes of a task spec that only describe it: changing them never changes what a finished or
# running task has done or will do when it ends.
DESCRIPTIVE = frozenset({"bpmn_name", "description", "documentation", "lane", "extensions"})

# What a finished task's spec says about the ways in and out of it (its gateway conditions too).
ROUTING = frozenset({"inputs", "outputs", "cond_task_specs", "default_task_spec"})
FINISHED = TaskState.COMPLETED | TaskState.CANCELLED

# The states of tasks reset onto their new spec (SpiffWorkflow's default).
RESET = TaskState.READY | TaskState.WAITING
# The states whose task must be unchanged (but for its description) in the new version.
SETTLED_OR_RUNNING = TaskState.COMPLETED | TaskState.CANCELLED | TaskState.STARTED | TaskState.ERROR
WAITING_ELEMENT = TaskState.READY | TaskState.WAITING | TaskState.STARTED


_STATE_WORDS = {
    TaskState.READY: gettext_lazy("ready"),
    TaskState.WAITING: gettext_lazy("waiting"),
    TaskState.STARTED: gettext_lazy("running"),
    TaskState.COMPLETED: gettext_lazy("finished"),
    TaskState.CANCELLED: gettext_lazy("cancelled"),
    TaskState.ERROR: gettext_lazy("failed"),
}


@dataclass(frozen=True)
class Obstacle:
    """Why a workflow cannot move: an element (its BPMN id and name) in a state, and what is wrong."""

    bpmn_id: str
    name: str
    state: str
    problem: str  # "removed", "changed" or "process_removed"
    attributes: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.problem == "process_removed":
            return _("The process '%(name)s' it runs inside does not exist in the new version.") % {
                "name": self.name
            }
        if self.problem == "removed":
            return _("'%(name)s' (%(state)s) does not exist in the new version.") % {
                "name": self.name,
                "state": self.state,
            }
        return _("'%(name)s' (%(state)s) was changed in the new version (%(attributes)s).") % {
            "name": self.name,
            "state": self.state,
            "attributes": ", ".join(self.attributes),
        }


@dataclass
class Assessment:
    """What moving a workflow to new specs would do: the diffs, and what forbids the move."""

    top: WorkflowDiff
    subprocesses: dict[Any, WorkflowDiff | None]
    obstacles: list[Obstacle] = field(default_factory=list)
    waiting: list[tuple[str, str]] = field(default_factory=list)  # (bpmn id, name) of waiting elements

    @property
    def movable(self) -> bool:
        return not self.obstacles


def _label(task: Task) -> str:
    spec = task.task_spec
    return spec.bpmn_name or spec.bpmn_id or spec.name


def _is_element(task: Task) -> bool:
    # SpiffWorkflow's own specs (Root, Start, End, boundary splits and joins) have no BPMN id.
    return getattr(task.task_spec, "bpmn_id", None) is not None


def waiting_elements(workflow: BpmnWorkflow) -> list[tuple[str, str]]:
    """The BPMN elements the workflow waits at (ready, waiting or running tasks), in tree order."""
    found: dict[str, str] = {}
    for wf in [workflow, *workflow.subprocesses.values()]:
        for task in wf.get_tasks(state=WAITING_ELEMENT, skip_subprocesses=True):
            if _is_element(task) and not _is_subprocess_caller(task, workflow):
                found.setdefault(task.task_spec.bpmn_id, _label(task))
    return list(found.items())


def _is_subprocess_caller(task: Task, workflow: BpmnWorkflow) -> bool:
    # An embedded subprocess is "running" while its own tasks wait: those are the waiting ones.
    return task.state == TaskState.STARTED and task.id in workflow.subprocesses


def assess(workflow: BpmnWorkflow, target: Specs) -> Assessment:
    """Diff `workflow` against `target` and apply the safety rule. Changes nothing."""
    top_specs = spec_diff(workflow.spec, target.spec)
    result = Assessment(
        top=WorkflowDiff(workflow, top_specs), subprocesses={}, waiting=waiting_elements(workflow)
    )
    _check(workflow, result.top, top_specs, result.obstacles)
    for sub_id, sub in workflow.subprocesses.items():
        new_spec = target.subprocess_specs.get(sub.spec.name)
        if new_spec is None:
            result.subprocesses[sub_id] = None
            result.obstacles.append(
                Obstacle(sub.spec.name, sub.spec.description or sub.spec.name, "", "process_removed")
            )
            continue
        sub_specs = spec_diff(sub.spec, new_spec)
        result.subprocesses[sub_id] = WorkflowDiff(sub, sub_specs)
        _check(sub, result.subprocesses[sub_id], sub_specs, result.obstacles)
    return result


# Specs are restored once per version and shared (`serialization.cached_specs`), so the diff of
# two versions' specs is computed once, not once per instance: (old, new) -> SpecDiff.
_SPEC_DIFFS: dict[tuple[int, int], tuple[Any, Any, SpecDiff]] = {}


def spec_diff(old, new) -> SpecDiff:
    """SpiffWorkflow's alignment of two process specs (cached while both specs live)."""
    key = (id(old), id(new))
    cached = _SPEC_DIFFS.get(key)
    if cached is None or cached[0] is not old or cached[1] is not new:
        if len(_SPEC_DIFFS) >= 64:
            _SPEC_DIFFS.clear()
        cached = (old, new, SpecDiff(SERIALIZER.registry, old, new))
        _SPEC_DIFFS[key] = cached
    return cached[2]


def _check(workflow, diff: WorkflowDiff, specs: SpecDiff, obstacles: list[Obstacle]) -> None:
    removed = set(diff.removed)
    changes = specs.changed
    changed = {task: changes.get(task.task_spec, []) for task in diff.changed}
    for task in workflow.get_tasks(skip_subprocesses=True):
        if task.has_state(TaskState.PREDICTED_MASK):
            continue  # predicted anew from the new specs
        state = str(_STATE_WORDS.get(task.state, TaskState.get_name(task.state).lower()))
        if task in removed:
            obstacles.append(_obstacle(task, state, "removed"))
        elif task.has_state(SETTLED_OR_RUNNING) and task in changed:
            ignored = DESCRIPTIVE
            if task.has_state(FINISHED) and _path_kept(task, diff, removed):
                ignored = DESCRIPTIVE | ROUTING
            significant = tuple(sorted(set(changed[task]) - ignored))
            if significant:
                obstacles.append(_obstacle(task, state, "changed", significant))


def _path_kept(task: Task, diff: WorkflowDiff, removed: set[Task]) -> bool:
    """Whether the new version still leads from this finished task to where it went: then changes
    to its other ways out (or in) do not touch this instance. Compaction splices settled history,
    so only children the old spec led to directly are compared; a way to an element that was
    removed is reported on that element. A cancelled join that a later firing of its gateway
    still counts is never lenient."""
    if task.state == TaskState.CANCELLED and isinstance(task.task_spec, Join):
        return False
    new_spec = diff.alignment.get(task)
    if new_spec is None:
        return False
    for child in task.children:
        if child.has_state(TaskState.PREDICTED_MASK | TaskState.CANCELLED) or child in removed:
            continue  # ways it did not take
        if child.task_spec in task.task_spec.outputs and diff.alignment.get(child) not in new_spec.outputs:
            return False
    return True


def _obstacle(task: Task, state: str, problem: str, attributes: tuple[str, ...] = ()) -> Obstacle:
    spec = task.task_spec
    return Obstacle(spec.bpmn_id or spec.name, _label(task), state, problem, attributes)


def migrate(workflow: BpmnWorkflow, target: Specs, assessment: Assessment) -> None:
    """Move `workflow` onto `target` (which `assess` found movable), in memory.

    Raises ValueError if the moved workflow would hold a task whose element the target lacks (a
    case the rule did not foresee): the caller then keeps the instance as it was.
    """
    if not assessment.movable:
        raise ValueError("The workflow cannot move; assess it first.")
    kept = _bookkeeping(workflow, assessment)
    migrate_workflow(assessment.top, workflow, target.spec)
    for sub_id, sub in workflow.subprocesses.items():
        migrate_workflow(assessment.subprocesses[sub_id], sub, target.subprocess_specs[sub.spec.name])
    workflow.subprocess_specs = dict(target.subprocess_specs)
    _restore(workflow, kept)
    _repredict_running(workflow)
    stale = _stale_tasks(workflow)
    if stale:
        raise ValueError(f"Tasks left on elements the new version lacks: {', '.join(sorted(stale))}")


def _bookkeeping(workflow: BpmnWorkflow, assessment: Assessment) -> dict[Any, tuple[int, dict, dict]]:
    """State, data and internal data of the tasks the move resets whose element did not change."""
    kept = {}
    diffs = [assessment.top, *(d for d in assessment.subprocesses.values() if d is not None)]
    changed = {task.id for diff in diffs for task in diff.changed}
    for wf in [workflow, *workflow.subprocesses.values()]:
        for task in wf.get_tasks(state=RESET, skip_subprocesses=True):
            if task.id not in changed:
                kept[task.id] = (task.state, deepcopy(task.data), deepcopy(task.internal_data))
    return kept


def _restore(workflow: BpmnWorkflow, kept: dict[Any, tuple[int, dict, dict]]) -> None:
    for wf in [workflow, *workflow.subprocesses.values()]:
        for task_id, (state, data, internal) in kept.items():
            task = wf.tasks.get(task_id)
            if task is not None and task.state == state:
                task.data, task.internal_data = data, internal


def _repredict_running(workflow: BpmnWorkflow) -> None:
    """Running tasks are not reset: predict their successors again from the new specs (the ones
    predicted from the old specs may name elements that are gone)."""
    for wf in [workflow, *workflow.subprocesses.values()]:
        for task in list(wf.get_tasks(state=TaskState.STARTED, skip_subprocesses=True)):
            if task.id in wf.tasks and any(c.has_state(TaskState.PREDICTED_MASK) for c in task.children):
                task.task_spec._predict(task, mask=TaskState.STARTED | TaskState.PREDICTED_MASK)


def _stale_tasks(workflow: BpmnWorkflow) -> set[str]:
    stale = set()
    for wf in [workflow, *workflow.subprocesses.values()]:
        specs = wf.spec.task_specs
        for task in wf.tasks.values():
            if specs.get(task.task_spec.name) is not task.task_spec:
                stale.add(task.task_spec.name)
    return stale
