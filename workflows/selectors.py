"""Reads of engine data. Only `instance_variables` deserializes workflow state; lists never do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, Q
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from workflows.access import admitted, can_work_on, task_pools
from workflows.models import HumanTask, ProcessInstance, ProcessVersion, TaskDraft
from workflows.serialization import restore_workflow

_INSTANCE_LIST_FIELDS = (
    "version",
    "process_id",
    "business_key",
    "status",
    "parent",
    "started_at",
    "updated_at",
    "ended_at",
    "error",
)


def inbox(user: Any, *, limit: int = 50) -> list[HumanTask]:
    """The first `limit` open tasks the user can work (`workflows.access`: assigned to them, or
    unassigned in one of their roles; every task for the system) - soonest due first, tasks without
    a due date last, oldest first.

    Each pool (the user's own tasks, each role's unassigned ones; with and without a due date) is
    read by an index-ordered query with its own limit and the results are merged, so a page costs
    the same with a hundred open tasks or a hundred thousand.
    """
    base = (
        HumanTask.objects.filter(status=HumanTask.Status.OPEN)
        .select_related("instance", "role", "assignee")
        .only(*[f"instance__{f}" for f in _INSTANCE_LIST_FIELDS], *_TASK_FIELDS)
    )
    # The pools are the access rule itself (workflows.access), so the inbox lists exactly the
    # tasks `can_work_on` allows.
    pools = [Q(**pool) for pool in task_pools(user)]
    found: dict = {}
    for pool in pools:
        for task in base.filter(pool, due_at__isnull=False).order_by("due_at", "created_at")[:limit]:
            found[task.pk] = task
        for task in base.filter(pool, due_at__isnull=True).order_by("created_at")[:limit]:
            found[task.pk] = task
    tasks = sorted(found.values(), key=lambda t: (t.due_at is None, t.due_at or t.created_at, t.created_at))
    # Less the pool tasks a domain rule keeps from this member of the role (`access.admitted`).
    return [t for t in tasks if admitted(user, t)][:limit]


_TASK_FIELDS = (
    "id",
    "instance",
    "bpmn_id",
    "name",
    "lane",
    "role__name",
    "assignee__username",
    "form_file",
    "status",
    "due_at",
    "created_at",
    "claimed_at",
)


def last_completed_task(instance: ProcessInstance, bpmn_id: str) -> HumanTask | None:
    """The latest completion of the instance's task `bpmn_id`, with who completed it; None if none."""
    return (
        HumanTask.objects.filter(instance=instance, bpmn_id=bpmn_id, status=HumanTask.Status.COMPLETED)
        .select_related("completed_by")
        .order_by("-completed_at")
        .first()
    )


def open_tasks(instance: ProcessInstance, bpmn_id: str) -> list[HumanTask]:
    """The instance's open tasks `bpmn_id` (one, unless the diagram runs it in parallel)."""
    return list(
        HumanTask.objects.filter(instance=instance, bpmn_id=bpmn_id, status=HumanTask.Status.OPEN).order_by(
            "created_at"
        )
    )


def restored_workflow(instance: ProcessInstance) -> BpmnWorkflow:
    """The instance's workflow as stored, for reading only: nothing here saves it or takes its lock,
    and it gets no script engine to run anything with."""
    from workflows.sessions import _spec_text, specs_for

    return restore_workflow(
        instance.state,
        instance.serializer_version,
        specs_for(instance.version),
        lambda: _spec_text(instance.version_id),
    )


def instance_variables(instance: ProcessInstance) -> dict:
    """The process variables as they stand: the data of the task that finished last, in the process
    or any of its subprocesses (the whole data of a finished instance)."""
    return workflow_variables(restored_workflow(instance))


def workflow_variables(workflow: BpmnWorkflow) -> dict:
    """`instance_variables` of a workflow already restored."""
    if workflow.completed:
        return dict(workflow.data)
    finished = [w.last_task for w in [workflow, *workflow.subprocesses.values()] if w.last_task is not None]
    if not finished:
        return dict(workflow.task_tree.data)
    return dict(max(finished, key=lambda task: task.last_state_change).data)


@dataclass(frozen=True)
class ElementStates:
    """The diagram's elements (BPMN ids) by where the instance stands with them. `done` is what the
    stored state still holds: settled history is pruned on save (`workflows.compaction`), so a
    page adds what the task table and the audit trail remember."""

    done: frozenset[str]
    active: frozenset[str]  # ready, waiting (timers, messages, joins) or started (called instances)
    failed: frozenset[str]


_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def element_states(workflow: BpmnWorkflow) -> ElementStates:
    done: set[str] = set()
    active: set[str] = set()
    failed: set[str] = set()
    for wf in [workflow, *workflow.subprocesses.values()]:
        for task in wf.tasks.values():
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if not bpmn_id:  # the engine's own start, end and root tasks
                continue
            if task.state == TaskState.ERROR:
                failed.add(bpmn_id)
            elif task.state & _ACTIVE:
                active.add(bpmn_id)
            elif task.state == TaskState.COMPLETED:
                done.add(bpmn_id)
    return ElementStates(frozenset(done), frozenset(active), frozenset(failed))


def element_names(version: ProcessVersion) -> dict[str, str]:
    """Each element's name in the version's processes (its BPMN id when it has none), by BPMN id."""
    from workflows.sessions import specs_for

    specs = specs_for(version)
    names: dict[str, str] = {}
    for process_spec in [specs.spec, *specs.subprocess_specs.values()]:
        if process_spec is None:
            continue
        for task_spec in process_spec.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if bpmn_id:
                names.setdefault(bpmn_id, getattr(task_spec, "bpmn_name", None) or bpmn_id)
    return names


def task_with_process(task_id: Any) -> HumanTask | None:
    """The task with its instance, process model, role and people, in one query; None if no such
    task (or `task_id` is not a task id)."""
    try:
        return (
            HumanTask.objects.select_related(
                "instance__version__model", "role", "assignee", "claimed_by", "completed_by"
            )
            .filter(pk=task_id)
            .first()
        )
    except (ValueError, ValidationError):
        return None


def draft_of(task: HumanTask, user: Any) -> TaskDraft | None:
    """`user`'s draft of the task's form (`services.save_draft`), or None."""
    return TaskDraft.objects.filter(task=task, user_id=getattr(user, "pk", None)).first()


def open_task_per_instance(instance_ids: list[int], user: Any) -> dict[int, HumanTask]:
    """For each instance, its open task `user` may work (the soonest due), if any: one query for
    the whole list."""
    found: dict[int, HumanTask] = {}
    tasks = HumanTask.objects.filter(instance_id__in=instance_ids, status=HumanTask.Status.OPEN).order_by(
        F("due_at").asc(nulls_last=True), "created_at"
    )
    for task in tasks.select_related("role"):
        if task.instance_id not in found and can_work_on(user, task):
            found[task.instance_id] = task
    return found
