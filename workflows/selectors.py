"""Reads of engine data. Only `instance_variables` deserializes workflow state; lists never do."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from workflows.models import AuditEvent, HumanTask, ProcessInstance
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


def tasks_for_user(user: Any) -> QuerySet[HumanTask]:
    """Open tasks the user can work: assigned to them, or unassigned in one of their roles."""
    mine = Q(assignee=user)
    if not user.is_superuser:
        mine |= Q(assignee__isnull=True, role__in=user.groups.all())
    else:
        mine |= Q(assignee__isnull=True)
    return (
        HumanTask.objects.filter(mine, status=HumanTask.Status.OPEN)
        .select_related("instance", "role", "assignee")
        .only(*[f"instance__{f}" for f in _INSTANCE_LIST_FIELDS], *_TASK_FIELDS)
        .order_by("due_at", "created_at")
    )


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


def open_tasks(instance: ProcessInstance) -> QuerySet[HumanTask]:
    return instance.human_tasks.filter(status=HumanTask.Status.OPEN).order_by("created_at")


def instances(**filters: Any) -> QuerySet[ProcessInstance]:
    return ProcessInstance.objects.filter(**filters).only(*_INSTANCE_LIST_FIELDS).order_by("-started_at")


def history(instance: ProcessInstance) -> QuerySet[AuditEvent]:
    return instance.audit_events.select_related("actor").order_by("id")


def instance_variables(instance: ProcessInstance) -> dict:
    """The process variables as they stand: the data of the task that finished last, in the process
    or any of its subprocesses (the whole data of a finished instance)."""
    from workflows.runtime import _spec_text, specs_for

    workflow = restore_workflow(
        instance.state,
        instance.serializer_version,
        specs_for(instance.version),
        lambda: _spec_text(instance.version),
    )
    if workflow.completed:
        return dict(workflow.data)
    finished = [w.last_task for w in [workflow, *workflow.subprocesses.values()] if w.last_task is not None]
    if not finished:
        return dict(workflow.task_tree.data)
    return dict(max(finished, key=lambda task: task.last_state_change).data)
