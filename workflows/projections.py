"""The tables that mirror a workflow's state - human tasks, timers, message subscriptions - and the
statements that bring them in line after a change.

A snapshot is taken when a workflow is loaded and again before it is saved; only the difference is
written, so an inbox or a scheduler never has to deserialize a workflow, and a save that changes
nothing there writes nothing there.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from workflows import assignment, clock, store
from workflows.models import HumanTask, MessageSubscription, ProcessInstance, Timer, Wait
from workflows.specs import LinkedCallActivity

logger = logging.getLogger("workflows")

FORM_PROPERTY = "formJsonSchemaFilename"
DUE_PROPERTY = "dueIn"
_REOPENED_COLUMNS = (
    "status",
    "role",
    "assignee",
    "due_at",
    "claimed_by",
    "claimed_at",
    "completed_by",
    "completed_at",
    "data",
)


@dataclass
class Snapshot:
    human: dict[uuid.UUID, Task] = field(default_factory=dict)
    timers: dict[uuid.UUID, tuple[datetime, str, str]] = field(default_factory=dict)
    subscriptions: dict[uuid.UUID, tuple[str, dict, str]] = field(default_factory=dict)
    linked: dict[uuid.UUID, int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Completion:
    task_id: uuid.UUID
    user_id: int | None
    at: datetime
    data: dict


def take_snapshot(workflow: BpmnWorkflow) -> Snapshot:
    snap = Snapshot()
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        snap.human[task.id] = task
    if has_linked_calls(workflow):
        for task in workflow.get_tasks(state=TaskState.STARTED, spec_class=LinkedCallActivity):
            snap.linked[task.id] = task.internal_data.get("linked_instance")
    for task in workflow.event_manager.tasks.values():
        if task.state != TaskState.WAITING or not isinstance(task.task_spec, CatchingEvent):
            continue
        definition = task.task_spec.event_definition
        if isinstance(definition, TimerEventDefinition):
            due = _timer_due(task)
            if due is not None:
                snap.timers[task.id] = (due, task.task_spec.bpmn_id, type(definition).__name__)
        elif isinstance(definition, MessageEventDefinition):
            snap.subscriptions[task.id] = (
                definition.name,
                _flat_correlations(workflow),
                task.task_spec.bpmn_id,
            )
    if not workflow.completed:
        for bpmn_id, definition in message_triggers(workflow).items():
            snap.subscriptions[_trigger_id(workflow, bpmn_id)] = (
                definition.name,
                _flat_correlations(workflow),
                bpmn_id,
            )
    return snap


def has_linked_calls(workflow: BpmnWorkflow) -> bool:
    specs = [workflow.spec, *workflow.subprocess_specs.values()]
    return any(
        isinstance(t, LinkedCallActivity) for s in specs if s is not None for t in s.task_specs.values()
    )


def _flat_correlations(workflow: BpmnWorkflow) -> dict:
    return {
        prop: value
        for key in workflow.correlations.values()
        if isinstance(key, dict)
        for prop, value in key.items()
    }


def message_triggers(workflow: BpmnWorkflow) -> dict[str, MessageEventDefinition]:
    """Message start events of event subprocesses and pools: nothing waits for them as a task,
    SpiffWorkflow starts them when the message arrives."""
    triggers = {}
    for name in workflow.spec.start.trigger_specs:
        spec = workflow.subprocess_specs.get(name)
        for start in spec.bpmn_start_events if spec is not None else []:
            if isinstance(start.event_definition, MessageEventDefinition):
                triggers[start.bpmn_id] = start.event_definition
    return triggers


def _trigger_id(workflow: BpmnWorkflow, bpmn_id: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"workflows:trigger:{workflow.spec.name}:{bpmn_id}")


def _timer_due(task: Task) -> datetime | None:
    definition = task.task_spec.event_definition
    value = task.internal_data.get("event_value")
    try:
        if isinstance(definition, CycleTimerEventDefinition):
            if not isinstance(value, dict) or value.get("cycles") == 0:
                return None
            return datetime.fromisoformat(value["next"])
        if isinstance(value, str):
            due = TimerEventDefinition.parse_time_or_duration(value)
            return due if isinstance(due, datetime) else None
    except (ValueError, TypeError, KeyError, AttributeError):
        logger.warning("Timer %s has an unreadable due time %r", task.task_spec.bpmn_id, value)
    return None


# --- the statements -----------------------------------------------------------------------------


def statements(
    instance: ProcessInstance,
    before: Snapshot,
    after: Snapshot,
    *,
    completions: list[Completion],
    reached: frozenset = frozenset(),
    instance_id: Any = None,
) -> list[store.Statement]:
    """The writes that bring the tables in line. `reached` are the timers that fired and the
    message events delivered to in this change (their task ids). `instance_id` is how the rows
    refer to the instance when it has no id yet (its first save inserts it,
    `store.insert_instance`)."""
    if instance_id is None:
        instance_id = instance.pk
    result = _wait_statements(instance, instance_id, before, after, completions, reached)
    result += _human_task_statements(instance, instance_id, before, after, completions)
    result += _keyed_statements(
        Timer,
        instance_id,
        before.timers,
        after.timers,
        lambda values: {"due_at": values[0], "bpmn_id": values[1], "kind": values[2]},
    )
    result += _keyed_statements(
        MessageSubscription,
        instance_id,
        before.subscriptions,
        after.subscriptions,
        lambda values: {"message_name": values[0], "correlations": values[1], "bpmn_id": values[2]},
    )
    return result


def _waits(snapshot: Snapshot) -> dict[uuid.UUID, tuple[str, str]]:
    """What the instance waits at: `{task id: (element, kind)}`."""
    waits = {task_id: (task.task_spec.bpmn_id, Wait.Kind.TASK) for task_id, task in snapshot.human.items()}
    waits.update({task_id: (values[1], Wait.Kind.TIMER) for task_id, values in snapshot.timers.items()})
    waits.update(
        {task_id: (values[2], Wait.Kind.MESSAGE) for task_id, values in snapshot.subscriptions.items()}
    )
    return waits


def _wait_statements(
    instance: ProcessInstance,
    instance_id: Any,
    before: Snapshot,
    after: Snapshot,
    completions: list[Completion],
    reached: frozenset,
) -> list[store.Statement]:
    """End the waits that ended there (a task completed, a timer fired, a message delivered),
    remove those withdrawn, open the new ones (a cycle timer that fired waits again: a new wait)."""
    was, now = _waits(before), _waits(after)
    completed = {done.task_id: done.at for done in completions}
    moment = clock.now()
    ended = {key: completed.get(key, moment) for key in was if key in completed or key in reached}
    withdrawn = [task_id for task_id in was if task_id not in now and task_id not in ended]
    result = []
    for at in set(ended.values()):
        result.append(store.end_waits(instance_id, [k for k, v in ended.items() if v == at], at=at))
    if withdrawn:
        result.append(store.withdraw_waits(instance_id, withdrawn))
    new = [task_id for task_id in now if task_id not in was or task_id in ended]
    if new:
        rows = [
            {
                "instance": instance_id,
                "version": instance.version_id,
                "task_id": task_id,
                "bpmn_id": now[task_id][0][:255],
                "kind": now[task_id][1],
                "started_at": moment,
            }
            for task_id in new
        ]
        result.append(store.insert_rows(Wait, rows))
    return result


def _human_task_statements(
    instance: ProcessInstance,
    instance_id: Any,
    before: Snapshot,
    after: Snapshot,
    completions: list[Completion],
) -> list[store.Statement]:
    result = [
        store.update_rows(
            HumanTask,
            [done.task_id],
            status=HumanTask.Status.COMPLETED,
            completed_by=done.user_id,
            completed_at=done.at,
            data=done.data,
        )
        for done in completions
    ]
    gone = set(before.human) - set(after.human) - {done.task_id for done in completions}
    if gone:
        result.append(
            store.update_rows(
                HumanTask, gone, only_if={"status": HumanTask.Status.OPEN}, status=HumanTask.Status.CANCELLED
            )
        )
    new = [task for task_id, task in after.human.items() if task_id not in before.human]
    if new:
        # A task reset after an error comes back with its old id: reopen that row.
        result.append(
            store.insert_rows(
                HumanTask,
                [_human_task_row(instance, instance_id, task, after) for task in new],
                upsert=_REOPENED_COLUMNS,
            )
        )
    return result


def _human_task_row(
    instance: ProcessInstance, instance_id: Any, task: Task, after: Snapshot
) -> dict[str, Any]:
    spec = task.task_spec
    lane = spec.lane or ""
    extensions = getattr(spec, "extensions", {}) or {}
    properties = extensions.get("properties", {}) or {}
    assignee = assignment.resolve_assignee(
        assignment.AssignmentRequest(
            instance=instance, lane=lane, bpmn_id=spec.bpmn_id, data=task.data, properties=properties
        )
    )
    if isinstance(assignee, str):
        assignee = store.active_user_expression(assignee)
    elif assignee is not None:
        assignee = assignee.pk
    candidate_groups = assignment.candidate_groups(properties)
    return {
        "id": task.id,
        "instance": instance_id,
        "bpmn_id": spec.bpmn_id,
        "name": (spec.bpmn_name or spec.bpmn_id)[:255],
        "lane": lane[:255],
        "role": store.role_expression(
            candidate_groups=candidate_groups, lane=lane, fallback=settings.WORKFLOWS["FALLBACK_ROLE"]
        ),
        "assignee": assignee,
        "form_file": properties.get(FORM_PROPERTY, "") if isinstance(spec, UserTask) else "",
        "instructions": extensions.get("instructionsForEndUser") or spec.documentation or "",
        "status": HumanTask.Status.OPEN,
        "due_at": _due_at(task, after, properties),
        "created_at": timezone.now(),
        "claimed_by": None,
        "claimed_at": None,
        "completed_by": None,
        "completed_at": None,
        "data": None,
    }


def _due_at(task: Task, after: Snapshot, properties: dict) -> datetime | None:
    # A date or duration timer on the task's boundary is its deadline (a cycle only reminds);
    # otherwise an explicit `dueIn` duration.
    parent = task.parent
    boundary = [
        after.timers[c.id][0]
        for c in (parent.children if parent else [])
        if c.id in after.timers and after.timers[c.id][2] != CycleTimerEventDefinition.__name__
    ]
    if boundary:
        return min(boundary)
    due_in = properties.get(DUE_PROPERTY)
    if due_in:
        try:
            parsed = TimerEventDefinition.parse_iso_duration(due_in)
            start = clock.now()
            return start + TimerEventDefinition.get_timedelta_from_start(parsed, start)
        except Exception:
            logger.warning("Task %s has an invalid dueIn %r", task.task_spec.bpmn_id, due_in)
    return None


def _keyed_statements(model, instance_id: Any, before: dict, after: dict, columns) -> list[store.Statement]:
    """Rows keyed by (instance, task id): delete the ones gone, upsert the new and the changed."""
    result = []
    gone = [task_id for task_id in before if task_id not in after]
    if gone:
        result.append(store.delete_where(model, "task_id", gone, instance=instance_id))
    fresh = [task_id for task_id, values in after.items() if before.get(task_id) != values]
    if fresh:
        rows = [{"instance": instance_id, "task_id": task_id, **columns(after[task_id])} for task_id in fresh]
        result.append(
            store.insert_rows(
                model, rows, conflict=("instance", "task_id"), upsert=tuple(columns(after[fresh[0]]))
            )
        )
    return result
