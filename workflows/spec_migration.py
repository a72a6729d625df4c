"""Moving a running workflow onto another version of its process's specs: what stands in the way,
and the move itself. SpiffWorkflow's `bpmn.util.diff` aligns the old specs with the new ones (by
BPMN id first, then by structure) and resets the waiting tasks onto the new specs; this module
decides whether that is safe and keeps what the people working on the instance rely on.

The safety rule (spiff-arena's - refuse when a finished or running task's spec changed or was
removed - loosened only where the engine can tell it is harmless):

- every waiting, ready, running or failed task must still exist in the new version; predicted
  tasks do not count, they are predicted anew from the new specs;
- a finished task whose element was removed is history nothing reads again: the move drops it
  from the tree, its successors (which hold their own data) taking its place - except a cancelled
  join that a later firing of its gateway still counts, which refuses the move;
- a task that has finished or is running (a called process, a multi-instance activity) must be
  unchanged in the new version, except in what only describes it (its name, documentation, lane
  and extension properties); a finished task may also have new ways in or out, as long as the way
  it took still exists (the instance will not go back there);
- a waiting or ready task may change: it is reset onto its new spec, as SpiffWorkflow does.

Compaction (`workflows.compaction`) keeps little finished history, so in practice the rule looks at
the waiting elements, the tasks that led to them, and running calls.

What the move keeps: the ids of waiting and ready tasks (SpiffWorkflow resets a task in place), so
their human-task rows with assignee, claim, drafts and due date stay as they were; their data (what
a form shows); and, where their element did not change, their engine bookkeeping - a timer keeps
the moment it is due - instead of the fresh one a reset gives.
"""

from __future__ import annotations

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
    # Finished tasks of removed elements, dropped from the history by the move.
    dropped: list[Task] = field(default_factory=list)

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
    _check(workflow, result.top, top_specs, result.obstacles, result.dropped)
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
        _check(sub, result.subprocesses[sub_id], sub_specs, result.obstacles, result.dropped)
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


def _check(
    workflow, diff: WorkflowDiff, specs: SpecDiff, obstacles: list[Obstacle], dropped: list[Task]
) -> None:
    removed = set(diff.removed)
    changes = specs.changed
    changed = {task: changes.get(task.task_spec, []) for task in diff.changed}
    for task in workflow.get_tasks(skip_subprocesses=True):
        if task.has_state(TaskState.PREDICTED_MASK):
            continue  # predicted anew from the new specs
        state = str(_STATE_WORDS.get(task.state, TaskState.get_name(task.state).lower()))
        if task in removed and _droppable(task, workflow):
            dropped.append(task)
        elif task in removed:
            obstacles.append(_obstacle(task, state, "removed"))
        elif task.has_state(SETTLED_OR_RUNNING) and task in changed:
            ignored = DESCRIPTIVE
            if task.has_state(FINISHED) and _path_kept(task, diff, removed):
                ignored = DESCRIPTIVE | ROUTING
            significant = tuple(sorted(set(changed[task]) - ignored))
            if significant:
                obstacles.append(_obstacle(task, state, "changed", significant))


def _droppable(task: Task, workflow) -> bool:
    """A finished task of a removed element is history nothing reads again - its successors hold
    their own data - unless it is a cancelled join its gateway still counts, or the top of the tree."""
    if not task.has_state(FINISHED) or task.parent is None or task is workflow.task_tree:
        return False
    return not (task.state == TaskState.CANCELLED and isinstance(task.task_spec, Join))


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

    Raises MigrationFailed if the reset fails (a pre-script of a waiting task, say) or the moved
    workflow would hold a task whose element the target lacks: the caller then keeps the instance
    as it was.
    """
    if not assessment.movable:
        raise MigrationFailed("The workflow cannot move; assess it first.")
    kept = _bookkeeping(workflow)
    last = {wf: wf.last_task.id if wf.last_task is not None else None for wf in _workflows(workflow)}
    for task in assessment.dropped:
        _drop(task)
    try:
        migrate_workflow(assessment.top, workflow, target.spec)
        for sub_id, sub in workflow.subprocesses.items():
            migrate_workflow(assessment.subprocesses[sub_id], sub, target.subprocess_specs[sub.spec.name])
        workflow.subprocess_specs = dict(target.subprocess_specs)
        _restore(workflow, kept, _changed_ids(assessment))
        _repredict_running(workflow)
    except Exception as exc:
        raise MigrationFailed(str(exc)) from exc
    for wf, task_id in last.items():
        # SpiffWorkflow forgets the last completed task on a move; it holds the data a finished
        # process hands back.
        wf.last_task = wf.tasks.get(task_id) if task_id is not None else None
    stale = _stale_tasks(workflow)
    if stale:
        raise MigrationFailed(f"Tasks left on elements the new version lacks: {', '.join(sorted(stale))}")


class MigrationFailed(Exception):
    """The move could not be made; the workflow in memory is spoiled and must be dropped."""


def _workflows(workflow: BpmnWorkflow) -> list:
    return [workflow, *workflow.subprocesses.values()]


def _drop(task: Task) -> None:
    """Remove a finished task from the tree, its children taking its place under its parent."""
    tasks = task.workflow.tasks
    parent = tasks[task._parent]
    index = parent._children.index(task.id)
    parent._children[index : index + 1] = list(task._children)
    for child_id in task._children:
        tasks[child_id]._parent = parent.id
    del tasks[task.id]


def _changed_ids(assessment: Assessment) -> set:
    diffs = [assessment.top, *(d for d in assessment.subprocesses.values() if d is not None)]
    return {task.id for diff in diffs for task in diff.changed}


def _bookkeeping(workflow: BpmnWorkflow) -> dict[Any, tuple[int, dict, dict]]:
    """State, data and internal data of the tasks the move resets. No copies: a reset gives the
    task new dictionaries and leaves these as they were."""
    return {
        task.id: (task.state, task.data, task.internal_data)
        for wf in _workflows(workflow)
        for task in wf.get_tasks(state=RESET, skip_subprocesses=True)
    }


def _restore(workflow: BpmnWorkflow, kept: dict[Any, tuple[int, dict, dict]], changed: set) -> None:
    """A reset task takes its data from its parent again, and forgets its engine bookkeeping (a
    timer's due time). A task back in the state it was in keeps its data (what its form shows; a
    finished task of a removed element may have been dropped above it); if its element did not
    change, its bookkeeping too."""
    for wf in _workflows(workflow):
        for task_id, (state, data, internal) in kept.items():
            task = wf.tasks.get(task_id)
            if task is None or task.state != state:
                continue
            task.data = data
            if task_id not in changed:
                task.internal_data = internal


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
