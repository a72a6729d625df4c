"""Loading, running and saving one process instance: the machinery under the services.

A `Session` is one instance loaded under its lock. Services open a session, change the workflow
(complete a task, deliver an event, ...), call `advance` to let the engine run, and `save`. Saving
prunes settled history, stores the state under an optimistic revision check, brings the projection
tables (human tasks, timers, message subscriptions) in line with the workflow, starts and finishes
linked call activities, and writes the audit events collected on the way.

Only the services call this module; nothing here decides who may do what.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from workflows import assignment, clock
from workflows.compaction import compact
from workflows.exceptions import ConcurrentUpdate, NotFound
from workflows.models import (
    AuditEvent,
    HumanTask,
    MessageSubscription,
    ProcessInstance,
    ProcessVersion,
    Timer,
)
from workflows.operations import OperationContext, OperationError, get_operation
from workflows.sandbox import SandboxEnvironment, ScriptError
from workflows.serialization import SERIALIZER_VERSION, Specs, cached_specs, dump_state, restore_workflow
from workflows.specs import LinkedCallActivity

logger = logging.getLogger("workflows")

FORM_PROPERTY = "formJsonSchemaFilename"
DUE_PROPERTY = "dueIn"


class EngineLimitError(Exception):
    """The stored state would exceed the engine's size limit."""


def limits() -> dict:
    return settings.WORKFLOWS


# --- the script engine ----------------------------------------------------------------------


class EngineScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine, sandboxed, with service tasks calling registered operations."""

    def __init__(self, instance: ProcessInstance | None = None) -> None:
        super().__init__(environment=SandboxEnvironment(limits()["SCRIPT_TIME_LIMIT"]))
        self.instance = instance

    def evaluate(self, task: Task, expression: str, external_context: dict | None = None) -> Any:
        result = super().evaluate(task, expression, external_context)
        spec = task.task_spec
        # Refuse a cardinality before SpiffWorkflow creates that many task instances.
        if isinstance(spec, MultiInstanceTask) and expression == spec.cardinality:
            _check_multi_instance_size(task, result)
        return result

    def call_service(self, task: Task, operation_name: str, operation_params: dict, **kwargs: Any) -> str:
        operation = get_operation(operation_name)
        if operation is None:
            raise WorkflowTaskException(
                f"The service operation '{operation_name}' is not registered.", task=task
            )
        params = {name: param["value"] for name, param in operation_params.items()}
        context = OperationContext(
            instance=self.instance, task_id=task.id, bpmn_id=task.task_spec.bpmn_id, data=deepcopy(task.data)
        )
        try:
            # A savepoint: an operation that fails leaves none of its own writes behind.
            with transaction.atomic():
                result = operation.func(context, **params)
        except OperationError as exc:
            raise WorkflowTaskException(f"{operation_name}: {exc}", task=task) from exc
        except SpiffWorkflowException:
            raise
        except Exception:
            reference = uuid.uuid4().hex[:12]
            logger.exception("Service operation %s failed (reference %s)", operation_name, reference)
            # Logged above with its traceback; users get the reference, never the internals.
            raise WorkflowTaskException(
                f"The service operation '{operation_name}' failed unexpectedly (reference {reference}).",
                task=task,
            ) from None
        return json.dumps(result, default=str)


def _check_multi_instance_size(task: Task, size: Any) -> None:
    count = size if isinstance(size, int) else len(size) if hasattr(size, "__len__") else None
    maximum = limits()["MAX_MULTI_INSTANCE"]
    if count is not None and count > maximum:
        raise WorkflowTaskException(
            f"'{_task_label(task)}' would start {count:,} instances; the limit is {maximum:,}.", task=task
        )


def _task_label(task: Task) -> str:
    return task.task_spec.bpmn_name or task.task_spec.bpmn_id or task.task_spec.name


class _BoundedInput:
    """Wraps a multi-instance input collection so that an oversized one is refused before any
    instance is created (SpiffWorkflow reads the collection directly, not through the engine)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def get(self, my_task: Task) -> Any:
        value = self._inner.get(my_task)
        _check_multi_instance_size(my_task, value)
        return value

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _guard_specs(specs: Specs) -> Specs:
    for process_spec in [specs.spec, *specs.subprocess_specs.values()]:
        if process_spec is None:
            continue
        for task_spec in process_spec.task_specs.values():
            if (
                isinstance(task_spec, MultiInstanceTask)
                and task_spec.data_input is not None
                and not isinstance(task_spec.data_input, _BoundedInput)
            ):
                task_spec.data_input = _BoundedInput(task_spec.data_input)
    return specs


def specs_for(version: ProcessVersion) -> Specs:
    return _guard_specs(cached_specs(version.pk, version.checksum, lambda: _spec_text(version)))


def _spec_text(version: ProcessVersion) -> str:
    return ProcessVersion.objects.values_list("spec", flat=True).get(pk=version.pk)


# --- what the projections mirror ---------------------------------------------------------------


@dataclass
class Snapshot:
    human: dict[uuid.UUID, Task] = field(default_factory=dict)
    timers: dict[uuid.UUID, tuple[datetime, str, str]] = field(default_factory=dict)
    subscriptions: dict[uuid.UUID, tuple[str, dict, str]] = field(default_factory=dict)
    linked: dict[uuid.UUID, int | None] = field(default_factory=dict)


def take_snapshot(workflow: BpmnWorkflow) -> Snapshot:
    snap = Snapshot()
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        snap.human[task.id] = task
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


# --- sessions -------------------------------------------------------------------------------


@dataclass
class Session:
    instance: ProcessInstance
    workflow: BpmnWorkflow
    actor: Any
    before: Snapshot
    events: list[AuditEvent] = field(default_factory=list)
    completed_task_ids: set[uuid.UUID] = field(default_factory=set)
    # The instance ended up in error during this session: the message and task, for the record.
    failure: dict | None = None
    # False while a parent session starts this instance: the parent handles its completion itself.
    resumes_parent: bool = True

    def record(
        self, kind: str, *, task_id: uuid.UUID | None = None, actor: Any = None, **details: Any
    ) -> None:
        self.events.append(
            AuditEvent(
                instance=self.instance,
                task_id=task_id,
                kind=kind,
                actor=actor or self.actor,
                at=timezone.now(),
                details=details,
            )
        )


def lock_instance(instance_id: int, *, skip_locked: bool = False) -> ProcessInstance | None:
    """Lock an instance and every instance above it (linked calls), root first, so that a child
    completing and resuming its parent can never deadlock with an operation on the parent."""
    chain: list[int] = []
    current: int | None = instance_id
    while current is not None:
        chain.append(current)
        current = ProcessInstance.objects.filter(pk=current).values_list("parent_id", flat=True).first()
        if current in chain:
            break
    locked = None
    for pk in reversed(chain):
        query = ProcessInstance.objects.select_related("version").defer("version__spec")
        if connection.features.has_select_for_update:
            query = query.select_for_update(skip_locked=skip_locked, of=("self",))
        locked = query.filter(pk=pk).first()
        if locked is None:
            if skip_locked:
                return None
            raise NotFound(f"Process instance #{pk} does not exist.")
    return locked


def open_session(instance: ProcessInstance, *, actor: Any) -> Session:
    specs = specs_for(instance.version)
    workflow = restore_workflow(
        instance.state, instance.serializer_version, specs, lambda: _spec_text(instance.version)
    )
    # A restored workflow gets SpiffWorkflow's unrestricted engine; replace it every time.
    workflow.script_engine = EngineScriptEngine(instance)
    return Session(instance=instance, workflow=workflow, actor=actor, before=take_snapshot(workflow))


def new_session(version: ProcessVersion, instance: ProcessInstance, *, actor: Any) -> Session:
    specs = specs_for(version)
    workflow = BpmnWorkflow(
        specs.spec, dict(specs.subprocess_specs), script_engine=EngineScriptEngine(instance)
    )
    return Session(instance=instance, workflow=workflow, actor=actor, before=Snapshot())


# --- running the engine ---------------------------------------------------------------------


class _StepGuard:
    def __init__(self) -> None:
        self.steps = 0
        self.deadline = time.monotonic() + limits()["ENGINE_TIME_LIMIT"]

    def before(self, task: Task) -> None:
        self.steps += 1
        if self.steps > limits()["MAX_STEPS_PER_RUN"]:
            raise WorkflowTaskException(
                f"The process ran {limits()['MAX_STEPS_PER_RUN']:,} automatic steps without waiting for "
                f"a person, a timer or a message (the last was '{_task_label(task)}'); "
                "it probably loops without a wait.",
                task=task,
            )
        if time.monotonic() > self.deadline:
            raise WorkflowTaskException(
                f"The process ran longer than {limits()['ENGINE_TIME_LIMIT']:g} s in one go.", task=task
            )

    def after(self, task: Task) -> None:
        if len(task.workflow.tasks) > limits()["MAX_TASKS_PER_INSTANCE"]:
            raise WorkflowTaskException(
                f"The process holds more than {limits()['MAX_TASKS_PER_INSTANCE']:,} tasks at once.",
                task=task,
            )


def advance(session: Session) -> None:
    """Run everything the engine can run now, starting linked instances as it reaches them.

    A failure puts the failing task in ERROR and the instance in error; it does not raise.
    """
    workflow = session.workflow
    guard = _StepGuard()
    try:
        while True:
            steps = guard.steps
            workflow.do_engine_steps(will_complete_task=guard.before, did_complete_task=guard.after)
            # Timers found due by the final refresh are READY but not yet run.
            pending = workflow.get_next_task(state=TaskState.READY, manual=False)
            if pending is not None and guard.steps > steps:
                continue
            if not _start_linked_calls(session):
                break
    except (SpiffWorkflowException, ScriptError, OperationError) as exc:
        _mark_failure(session, exc)


def _mark_failure(session: Session, exc: Exception) -> None:
    task = getattr(exc, "task", None)
    if task is not None and task.has_state(TaskState.COMPLETED | TaskState.CANCELLED):
        task = None
    fail_task(session, task, describe_error(exc), line=getattr(exc, "line_number", None))


def fail_task(session: Session, task: Task | None, message: str, *, line: int | None = None) -> None:
    """Put `task` (if any) in ERROR and record why; the instance saves as `error`."""
    if task is not None:
        task._set_state(TaskState.ERROR)
    session.failure = {
        "message": message,
        "task_id": str(task.id) if task is not None else None,
        "bpmn_id": task.task_spec.bpmn_id if task is not None else None,
        "task_name": _task_label(task) if task is not None else None,
        "line": line or None,
    }
    details = {k: v for k, v in session.failure.items() if k != "task_id"}
    session.record(AuditEvent.Kind.ERROR, task_id=task.id if task else None, **details)


def describe_error(exc: BaseException) -> str:
    """A message about a failed step that names the problem but none of the server's internals."""
    message = str(exc.args[0]) if exc.args else type(exc).__name__
    message = re.sub(
        r"^(\w+(?:Error|Exception)):(?=\S)", r"\1: ", message
    )  # SpiffWorkflow writes "Error:msg"
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if cause is not None and not isinstance(cause, SpiffWorkflowException) and str(cause) not in message:
        own = isinstance(cause, (ScriptError, OperationError))
        message = f"{message}: {cause}" if own else f"{message} ({type(cause).__name__}: {cause})"
    notes = [n for n in getattr(exc, "notes", []) if isinstance(n, str) and n]
    if notes:
        message = ". ".join([message, *notes])
    return message[:1000]


# --- linked call activities -------------------------------------------------------------------


def _start_linked_calls(session: Session) -> bool:
    """Start the instances that newly reached linked call activities are waiting for.

    Returns True if any of them finished at once, so the caller must run the engine again.
    """
    from workflows.services.instances import start_linked_instance

    resumed = False
    for task in session.workflow.get_tasks(state=TaskState.STARTED, spec_class=LinkedCallActivity):
        if task.internal_data.get("linked_instance") is not None:
            continue
        child = start_linked_instance(parent=session.instance, task=task, actor=session.actor)
        task.internal_data["linked_instance"] = child.pk
        session.record(
            AuditEvent.Kind.STARTED, task_id=task.id, linked_instance=child.pk, process_id=child.process_id
        )
        if child.status == ProcessInstance.Status.COMPLETED:
            finish_linked_call(task, child_output(child))
            resumed = True
    return resumed


def child_output(child: ProcessInstance, workflow: BpmnWorkflow | None = None) -> dict:
    """The data a finished linked instance hands back: its process's data outputs, else all."""
    if workflow is None:
        workflow = open_session(child, actor=None).workflow
    last = workflow.last_task
    data = deepcopy(last.data if last is not None else workflow.data)
    io_spec = workflow.spec.io_specification
    if io_spec is not None and io_spec.data_outputs:
        return {var.bpmn_id: data.get(var.bpmn_id) for var in io_spec.data_outputs}
    data.pop("data_objects", None)
    return data


def finish_linked_call(task: Task, output: dict) -> None:
    task.data.update(output)
    task.internal_data["linked_state"] = "completed"
    task._set_state(TaskState.READY)


# --- saving ---------------------------------------------------------------------------------


def compute_status(workflow: BpmnWorkflow, snapshot: Snapshot) -> str:
    if workflow.get_next_task(state=TaskState.ERROR) is not None:
        return ProcessInstance.Status.ERROR
    if workflow.is_completed():
        return ProcessInstance.Status.COMPLETED
    if snapshot.human:
        return ProcessInstance.Status.RUNNING
    return ProcessInstance.Status.WAITING


def save(session: Session, *, status: str | None = None) -> ProcessInstance:
    """Persist the session's workflow and everything derived from it. Must run in a transaction."""
    instance, workflow = session.instance, session.workflow
    compact(workflow)
    state = dump_state(workflow)
    if len(state) > limits()["MAX_STATE_BYTES"]:
        raise EngineLimitError(
            f"The process data grew to {len(state):,} bytes; the limit is {limits()['MAX_STATE_BYTES']:,}. "
            "Keep large content (files, long lists) outside task data."
        )
    after = take_snapshot(workflow)
    computed = compute_status(workflow, after)
    if status is None:
        status = computed
    previous_status = instance.status
    instance.status = status
    instance.error = session.failure if computed == ProcessInstance.Status.ERROR else None
    if computed == ProcessInstance.Status.ERROR and instance.error is None:
        instance.error = {"message": "A task is in error."}
    instance.state = state
    instance.serializer_version = SERIALIZER_VERSION
    if status in ProcessInstance.ENDED_STATUSES and instance.ended_at is None:
        instance.ended_at = timezone.now()

    if instance.pk is None:
        instance.revision = 1
        instance.save()
    else:
        updated = ProcessInstance.objects.filter(pk=instance.pk, revision=instance.revision).update(
            state=state,
            status=status,
            error=instance.error,
            serializer_version=SERIALIZER_VERSION,
            ended_at=instance.ended_at,
            revision=F("revision") + 1,
            updated_at=timezone.now(),
        )
        if updated != 1:
            raise ConcurrentUpdate()
        instance.revision += 1

    _sync_human_tasks(session, after)
    _sync_timers(session, after)
    _sync_subscriptions(session, after)
    _end_orphaned_calls(session, after)
    if status == ProcessInstance.Status.COMPLETED and previous_status != status:
        session.record(AuditEvent.Kind.FINISHED)
    AuditEvent.objects.bulk_create(session.events)
    session.events.clear()
    session.before = after
    if (
        status == ProcessInstance.Status.COMPLETED
        and previous_status != status
        and instance.parent_id
        and session.resumes_parent
    ):
        _resume_parent(instance, workflow, actor=session.actor)
    return instance


def _sync_human_tasks(session: Session, after: Snapshot) -> None:
    instance = session.instance
    before_ids, after_ids = set(session.before.human), set(after.human)
    gone = before_ids - after_ids - session.completed_task_ids
    if gone:
        HumanTask.objects.filter(pk__in=gone, status=HumanTask.Status.OPEN).update(
            status=HumanTask.Status.CANCELLED
        )
    new = [after.human[task_id] for task_id in after.human if task_id not in before_ids]
    if not new:
        return
    lanes = {task.task_spec.lane or "" for task in new}
    roles = assignment.roles_for_lanes(lanes)
    fallback = None
    if any(roles.get(lane) is None for lane in lanes):
        fallback = assignment.fallback_role()
    rows = []
    for task in new:
        spec = task.task_spec
        lane = spec.lane or ""
        extensions = getattr(spec, "extensions", {}) or {}
        properties = extensions.get("properties", {}) or {}
        assignee = assignment.resolve_assignee(
            assignment.AssignmentRequest(
                instance=instance, lane=lane, bpmn_id=spec.bpmn_id, data=task.data, properties=properties
            )
        )
        rows.append(
            HumanTask(
                id=task.id,
                instance=instance,
                bpmn_id=spec.bpmn_id,
                name=(spec.bpmn_name or spec.bpmn_id)[:255],
                lane=lane[:255],
                role=assignment.role_for_task(properties) or roles.get(lane) or fallback,
                assignee=assignee,
                form_file=properties.get(FORM_PROPERTY, "") if _has_form(spec) else "",
                instructions=extensions.get("instructionsForEndUser") or spec.documentation or "",
                due_at=_due_at(task, after, properties),
            )
        )
    # A task reset after an error comes back with its old id: reopen that row.
    HumanTask.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=[
            "status",
            "role",
            "assignee",
            "due_at",
            "claimed_by",
            "claimed_at",
            "completed_by",
            "completed_at",
            "data",
        ],
    )


def _has_form(spec: Any) -> bool:
    from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask

    return isinstance(spec, UserTask)


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


def _sync_timers(session: Session, after: Snapshot) -> None:
    before, instance = session.before.timers, session.instance
    stale = [tid for tid in before if tid not in after.timers or before[tid] != after.timers[tid]]
    if stale:
        Timer.objects.filter(instance=instance, task_id__in=stale).delete()
    fresh = [tid for tid in after.timers if tid not in before or before[tid] != after.timers[tid]]
    if fresh:
        Timer.objects.bulk_create(
            [
                Timer(
                    instance=instance,
                    task_id=tid,
                    due_at=after.timers[tid][0],
                    bpmn_id=after.timers[tid][1],
                    kind=after.timers[tid][2],
                )
                for tid in fresh
            ]
        )


def _sync_subscriptions(session: Session, after: Snapshot) -> None:
    before, instance = session.before.subscriptions, session.instance
    stale = [
        tid for tid in before if tid not in after.subscriptions or before[tid] != after.subscriptions[tid]
    ]
    if stale:
        MessageSubscription.objects.filter(instance=instance, task_id__in=stale).delete()
    fresh = [
        tid for tid in after.subscriptions if tid not in before or before[tid] != after.subscriptions[tid]
    ]
    if fresh:
        MessageSubscription.objects.bulk_create(
            [
                MessageSubscription(
                    instance=instance,
                    task_id=tid,
                    message_name=after.subscriptions[tid][0],
                    correlations=after.subscriptions[tid][1],
                    bpmn_id=after.subscriptions[tid][2],
                )
                for tid in fresh
            ]
        )


def _end_orphaned_calls(session: Session, after: Snapshot) -> None:
    """A linked call activity that was cancelled (boundary event, early end) ends its instance."""
    from workflows.services.instances import terminate_family

    for task_id, child_id in session.before.linked.items():
        if child_id is None or task_id in after.linked:
            continue
        try:
            task = session.workflow.get_task_from_id(task_id)
        except Exception:
            task = None
        if task is not None and task.state == TaskState.COMPLETED:
            continue
        terminate_family(child_id, actor=session.actor, reason="the calling activity was cancelled")


def _resume_parent(child: ProcessInstance, child_workflow: BpmnWorkflow, *, actor: Any) -> None:
    parent = ProcessInstance.objects.select_related("version").defer("version__spec").get(pk=child.parent_id)
    if parent.status not in ProcessInstance.ACTIVE_STATUSES:
        return
    session = open_session(parent, actor=actor)
    try:
        task = session.workflow.get_task_from_id(child.parent_task_id)
    except Exception:
        return
    if task.state != TaskState.STARTED or task.internal_data.get("linked_instance") != child.pk:
        return
    finish_linked_call(task, child_output(child, child_workflow))
    advance(session)
    save(session)
