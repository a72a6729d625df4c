"""Pruning settled history from a workflow's task tree, so loops can run forever.

SpiffWorkflow keeps every task it ever ran in one tree and a BPMN loop adds a new branch level per
iteration: the stored state grows without bound, every step walks more of it, and past about 1,000
levels its iterators (`max_depth=1000`) stop seeing the live tasks, so the workflow reports itself
complete without reaching an end event. A programme of weekly visits loops for years.

Before each save we remove the history nothing will read again, keeping the engine's semantics:

- Live tasks are kept: anything not COMPLETED or CANCELLED (ERROR included, so it can be retried),
  plus cancelled join tasks that no later completed join of the same gateway has consumed - a
  parallel or inclusive gateway still merges their branch's data and counts their inputs.
- A settled subtree with nothing live in it, under a settled parent, is removed whole.
- A settled task with exactly one settled child is spliced out (the child takes its place), unless
  the child is a join (its parent tells the gateway which input arrived) or has a live child (a
  boundary-event join looks up its split through the main task).
- The root, the start task, `last_task` and callers of running subprocesses always stay; finished
  subprocesses whose calling task is settled are dropped.

Task data needs no fixing: in memory every task holds its full data, and the serializer computes
each child's delta against whatever parent it ends up with.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

SETTLED = TaskState.COMPLETED | TaskState.CANCELLED


def compact(workflow: BpmnWorkflow) -> int:
    """Remove settled history from `workflow` and its subprocesses; return how many tasks went."""
    removed = 0
    for sub_id in _finished_subprocess_ids(workflow):
        del workflow.subprocesses[sub_id]
    running_callers = {sub_id for sub_id, sub in workflow.subprocesses.items() if not sub.completed}
    for wf in [workflow, *workflow.subprocesses.values()]:
        removed += _compact_tree(wf, running_callers)
    for sub_id in _finished_subprocess_ids(workflow):
        del workflow.subprocesses[sub_id]
    return removed


def _finished_subprocess_ids(workflow: BpmnWorkflow) -> list[UUID]:
    """Completed subprocesses whose calling task is settled or no longer in the tree."""
    all_tasks: dict[UUID, Task] = dict(workflow.tasks)
    for sub in workflow.subprocesses.values():
        all_tasks.update(sub.tasks)
    finished = []
    for sub_id, sub in workflow.subprocesses.items():
        caller = all_tasks.get(sub_id)
        if sub.completed and (caller is None or caller.state & SETTLED):
            finished.append(sub_id)
    return finished


def _compact_tree(wf, protected: set[UUID]) -> int:
    tasks: dict[UUID, Task] = wf.tasks
    root = wf.task_tree
    keep = {task_id for task_id in protected if task_id in tasks}
    keep.add(root.id)
    if wf.last_task is not None:
        keep.add(wf.last_task.id)
    keep.update(child_id for child_id in root._children)  # the start task
    keep.update(_pending_joins(tasks))

    def live(task: Task) -> bool:
        return not task.state & SETTLED or task.id in keep

    order = list(_preorder(root, tasks))
    has_live: dict[UUID, bool] = {}
    for task in reversed(order):
        has_live[task.id] = live(task) or any(has_live.get(c, False) for c in task._children)

    removed = 0
    for task in order:
        if task.id not in tasks or live(task):
            continue
        for child_id in [c for c in task._children if not has_live.get(c, True)]:
            removed += _drop_subtree(tasks, child_id)
            task._children.remove(child_id)

    for task in order:
        while task.id in tasks and _can_splice(task, tasks, live):
            _splice_out(task, tasks)
            removed += 1
            task = tasks[task._children[0]] if task._children else task
    return removed


def _preorder(root: Task, tasks: dict[UUID, Task]) -> Iterator[Task]:
    stack = [root.id]
    while stack:
        task = tasks.get(stack.pop())
        if task is None:
            continue
        yield task
        stack.extend(reversed(task._children))


def _pending_joins(tasks: dict[UUID, Task]) -> set[UUID]:
    """Cancelled join tasks whose branch data and input a later gateway firing still needs."""
    latest_completed: dict[str, float] = {}
    cancelled: list[Task] = []
    for task in tasks.values():
        if not isinstance(task.task_spec, Join):
            continue
        if task.state == TaskState.COMPLETED:
            name = task.task_spec.name
            latest_completed[name] = max(latest_completed.get(name, 0.0), task.last_state_change)
        elif task.state == TaskState.CANCELLED:
            cancelled.append(task)
    return {t.id for t in cancelled if latest_completed.get(t.task_spec.name, -1.0) < t.last_state_change}


def _drop_subtree(tasks: dict[UUID, Task], top_id: UUID) -> int:
    count, stack = 0, [top_id]
    while stack:
        task = tasks.pop(stack.pop(), None)
        if task is not None:
            count += 1
            stack.extend(task._children)
    return count


def _can_splice(task: Task, tasks: dict[UUID, Task], live) -> bool:
    if live(task) or task._parent is None or len(task._children) != 1:
        return False
    child = tasks.get(task._children[0])
    if child is None or live(child) or isinstance(child.task_spec, Join):
        return False
    return not any(live(tasks[g]) for g in child._children if g in tasks)


def _splice_out(task: Task, tasks: dict[UUID, Task]) -> None:
    parent = tasks[task._parent]
    child = tasks[task._children[0]]
    parent._children[parent._children.index(task.id)] = child.id
    child._parent = parent.id
    del tasks[task.id]
