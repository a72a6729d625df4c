"""Loading, running and saving one process instance: the machinery under the services.

A `Session` is one instance loaded under its lock. `run_engine` lets the engine run it until it
waits; `save_state` prunes settled history, stores the state under an optimistic revision check,
brings the projection tables (human tasks, timers, message subscriptions) in line with the workflow
and writes the audit events collected on the way. Instances that call each other (linked call
activities) are built on this in `linked_calls`; the services use both through `runtime`.

Nothing here decides who may do what.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from workflows import clock, projections, store
from workflows import events as engine_events
from workflows.actors import person_id
from workflows.bounds import DataRefused, check_data, data_limits
from workflows.compaction import compact
from workflows.diagram_code import names_read
from workflows.exceptions import EngineLimitError, NotFound
from workflows.models import AuditEvent, EngineEvent, ProcessInstance, ProcessVersion
from workflows.operations import OperationContext, OperationError, get_operation
from workflows.projections import Completion, Snapshot, take_snapshot
from workflows.refusals import Refusal
from workflows.sandbox import SandboxEnvironment, ScriptError, ScriptLimitError
from workflows.serialization import SERIALIZER_VERSION, Specs, cached_specs, dump_state, restore_workflow
from workflows.timer_values import timer_kind

logger = logging.getLogger("workflows")

# Told of the tasks each save finds completed, before compaction prunes them; set only by the dry
# run (`workflows.dry_run`), which prints the path an instance took. Tasks kept after a save are
# reported again by the next one: the observer recognises them by id.
task_observer: ContextVar[Callable[[ProcessInstance, list[Task]], None] | None] = ContextVar(
    "workflows_task_observer", default=None
)


def limits() -> dict:
    return settings.WORKFLOWS


# --- the script engine ----------------------------------------------------------------------


class EngineScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine, sandboxed, with service tasks calling registered operations."""

    def __init__(self, instance: ProcessInstance | None = None, actor: Any = None) -> None:
        super().__init__(environment=SandboxEnvironment())
        self.instance = instance
        self.actor = actor
        # When the current run must end (`advance`): checked before every evaluation too, since
        # one step - a decision table of thousands of rules, say - can evaluate a great many.
        self.deadline: float | None = None

    def _check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ScriptLimitError(
                _("The process ran longer than %(seconds)s s in one go.")
                % {"seconds": f"{limits()['ENGINE_TIME_LIMIT']:g}"}
            )

    def execute(self, task: Task, script: str, external_context: dict | None = None) -> Any:
        self._check_deadline()
        return super().execute(task, script, external_context)

    def evaluate(self, task: Task, expression: str, external_context: dict | None = None) -> Any:
        self._check_deadline()
        # As SpiffWorkflow's own, but the helper also checks what the engine will do with the value:
        # a timer's fire time, a multi-instance's size.
        check = _purpose(task, expression)
        try:
            result = self.environment.evaluate(expression, task.data, external_context, check=check)
        except SpiffWorkflowException as exc:
            exc.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as exc:
            raise WorkflowTaskException(
                f"Error evaluating expression '{expression}'", task=task, exception=exc
            ) from exc
        if check == "cardinality":
            _check_multi_instance_size(task, result)
        return result

    def get_error_line_number_and_content(self, script: str, err: Exception) -> tuple[int, str]:
        # The script ran in a helper; its line comes back with the error.
        line = getattr(err, "sandbox_line", 0) or 0
        lines = script.splitlines()
        return line, lines[line - 1] if 0 < line <= len(lines) else ""

    def call_service(self, task: Task, operation_name: str, operation_params: dict, **kwargs: Any) -> str:
        operation = get_operation(operation_name)
        if operation is None:
            raise WorkflowTaskException(
                _("The service operation '%(operation)s' is not registered.") % {"operation": operation_name},
                task=task,
            )
        params = {name: param["value"] for name, param in operation_params.items()}
        store_new_instance(self.instance)  # an operation may record the instance's id
        context = OperationContext(
            instance=self.instance,
            task_id=task.id,
            bpmn_id=task.task_spec.bpmn_id,
            data=deepcopy(task.data),
            actor=self.actor,
            at=clock.now(),
        )
        try:
            # A savepoint: an operation that fails leaves none of its own writes behind.
            with transaction.atomic():
                result = operation.func(context, **params)
                check_data(result, data_limits())  # inside: an unusable result undoes the writes
        except DataRefused as exc:
            raise WorkflowTaskException(
                _("The service operation '%(operation)s' returned data the process cannot hold: %(reason)s")
                % {"operation": operation_name, "reason": exc},
                task=task,
            ) from None
        except (OperationError, Refusal) as exc:
            # A refusal stays the cause: a person's submission that led here is refused with it.
            raise WorkflowTaskException(f"{operation_name}: {exc}", task=task) from exc
        except SpiffWorkflowException:
            raise
        except Exception:
            reference = uuid.uuid4().hex[:12]
            logger.exception("Service operation %s failed (reference %s)", operation_name, reference)
            # Logged above with its traceback; users get the reference, never the internals.
            raise WorkflowTaskException(
                _("The service operation '%(operation)s' failed unexpectedly (reference %(reference)s).")
                % {"operation": operation_name, "reference": reference},
                task=task,
            ) from None
        return json.dumps(result, default=str)


def _purpose(task: Task, expression: str) -> str | None:
    """What the engine will do with the value of `expression` evaluated for `task`, if it must be
    checked: a timer kind ('date', 'duration', 'cycle') or 'cardinality'."""
    spec = task.task_spec
    if isinstance(spec, MultiInstanceTask) and expression == spec.cardinality:
        return "cardinality"
    definition = getattr(spec, "event_definition", None)
    if definition is None:
        return None
    for candidate in getattr(definition, "event_definitions", None) or [definition]:
        kind = timer_kind(candidate)
        if kind is not None and candidate.expression == expression:
            return kind
    return None


def _check_multi_instance_size(task: Task, size: Any) -> None:
    count = size if isinstance(size, int) else len(size) if hasattr(size, "__len__") else None
    maximum = limits()["MAX_MULTI_INSTANCE"]
    if count is not None and count > maximum:
        raise WorkflowTaskException(
            _("'%(task)s' would start %(count)s instances; the limit is %(limit)s.")
            % {"task": _task_label(task), "count": f"{count:,}", "limit": f"{maximum:,}"},
            task=task,
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
    return _guard_specs(cached_specs(version.pk, version.checksum, lambda: _spec_text(version.pk)))


def names_read_by(version: ProcessVersion) -> frozenset[str]:
    """Every variable the code of this version's diagram may read."""
    return _names_read(version.pk, version.checksum)


@functools.lru_cache(maxsize=256)
def _names_read(version_id: int, checksum: str) -> frozenset[str]:
    specs = cached_specs(version_id, checksum, lambda: _spec_text(version_id))
    return names_read([specs.spec, *specs.subprocess_specs.values()])


def _spec_text(version_id: int) -> str:
    return ProcessVersion.objects.values_list("spec", flat=True).get(pk=version_id)


# --- sessions -------------------------------------------------------------------------------


@dataclass
class Session:
    instance: ProcessInstance
    workflow: BpmnWorkflow
    actor: Any
    before: Snapshot
    events: list[dict] = field(default_factory=list)
    completions: list[Completion] = field(default_factory=list)
    # The instance ended up in error during this session: the message and task, for the record.
    failure: dict | None = None
    # A service operation refused its input field by field (a `Refusal` with field errors): the
    # person's submission that made the engine run is refused with it, rather than putting the
    # instance in error.
    refusal: Refusal | None = None
    # False while a parent session starts this instance: the parent handles its completion itself.
    resumes_parent: bool = True

    def record(
        self, kind: str, *, task_id: uuid.UUID | None = None, actor: Any = None, **details: Any
    ) -> None:
        actor = actor or self.actor
        # The instance is filled in by the save: a new instance has no id until its first save.
        self.events.append(
            {
                "version": None,
                "task_id": task_id,
                "kind": kind,
                "actor": person_id(actor),
                "at": timezone.now(),
                "details": details,
            }
        )

    def complete(self, task_id: uuid.UUID, *, bpmn_id: str, data: dict) -> Completion:
        """Record that a person completed this human task (the row is written with the save)."""
        user_id = person_id(self.actor)
        completion = Completion(task_id, user_id, clock.now(), data)
        self.completions.append(completion)
        self.record(AuditEvent.Kind.COMPLETED, task_id=task_id, data=data, bpmn_id=bpmn_id)
        return completion


def lock_instance(instance_id: int, *, skip_locked: bool = False) -> ProcessInstance | None:
    """Take the family lock and read the instance (None if another worker holds it and
    `skip_locked`). Must run in a transaction."""
    if not store.lock_family(instance_id=instance_id, skip_locked=skip_locked) and skip_locked:
        return None
    instance = store.read_instance(instance_id)
    if instance is None:
        raise NotFound(_("Process instance #%(id)s does not exist.") % {"id": instance_id})
    return instance


def open_session(instance: ProcessInstance, *, actor: Any) -> Session:
    specs = specs_for(instance.version)
    workflow = restore_workflow(
        instance.state, instance.serializer_version, specs, lambda: _spec_text(instance.version_id)
    )
    # A restored workflow gets SpiffWorkflow's unrestricted engine; replace it every time.
    workflow.script_engine = EngineScriptEngine(instance, actor)
    return Session(instance=instance, workflow=workflow, actor=actor, before=take_snapshot(workflow))


def new_session(version: ProcessVersion, instance: ProcessInstance, *, actor: Any) -> Session:
    specs = specs_for(version)
    workflow = BpmnWorkflow(
        specs.spec, dict(specs.subprocess_specs), script_engine=EngineScriptEngine(instance, actor)
    )
    return Session(instance=instance, workflow=workflow, actor=actor, before=Snapshot())


def find_task(workflow: BpmnWorkflow, task_id: uuid.UUID | str | None) -> Task | None:
    """The task with this id, in the workflow or any of its subprocesses; None if there is none
    (pruned, cancelled away, or an id that was never a task)."""
    if task_id is None:
        return None
    if not isinstance(task_id, uuid.UUID):
        try:
            task_id = uuid.UUID(str(task_id))
        except ValueError:
            return None
    for tasks in [workflow.tasks, *(sub.tasks for sub in workflow.subprocesses.values())]:
        task = tasks.get(task_id)
        if task is not None:
            return task
    return None


# --- running the engine ---------------------------------------------------------------------


class _StepGuard:
    def __init__(self) -> None:
        self.steps = 0
        self.deadline = time.monotonic() + limits()["ENGINE_TIME_LIMIT"]
        self.running: Task | None = None  # the task SpiffWorkflow is running, if any

    def before(self, task: Task) -> None:
        self.running = task
        self.steps += 1
        if self.steps > limits()["MAX_STEPS_PER_RUN"]:
            raise WorkflowTaskException(
                _(
                    "The process ran %(steps)s automatic steps without waiting for a person, a timer or "
                    "a message (the last was '%(task)s'); it probably loops without a wait."
                )
                % {"steps": f"{limits()['MAX_STEPS_PER_RUN']:,}", "task": _task_label(task)},
                task=task,
            )
        if time.monotonic() > self.deadline:
            raise WorkflowTaskException(
                _("The process ran longer than %(seconds)s s in one go.")
                % {"seconds": f"{limits()['ENGINE_TIME_LIMIT']:g}"},
                task=task,
            )

    def after(self, task: Task) -> None:
        self.running = None
        if len(task.workflow.tasks) > limits()["MAX_TASKS_PER_INSTANCE"]:
            raise WorkflowTaskException(
                _("The process holds more than %(limit)s tasks at once.")
                % {"limit": f"{limits()['MAX_TASKS_PER_INSTANCE']:,}"},
                task=task,
            )


def run_engine(session: Session, *, between_runs: Callable[[Session], bool] | None = None) -> None:
    """Run everything the engine can run now. Each time the engine stops, `between_runs` (if any)
    may act on what now waits - start linked instances - and returns True if the engine must run
    again.

    A failure, in the engine or in `between_runs`, puts the failing task in ERROR and the instance
    in error; it does not raise. Only a database error, after which nothing can be recorded,
    propagates.
    """
    workflow = session.workflow
    guard = _StepGuard()
    workflow.script_engine.deadline = guard.deadline
    try:
        _bound_cycle_timers(session)
        while True:
            steps = guard.steps
            workflow.do_engine_steps(will_complete_task=guard.before, did_complete_task=guard.after)
            # Timers found due by the final refresh are READY but not yet run.
            pending = workflow.get_next_task(state=TaskState.READY, manual=False)
            if pending is not None and guard.steps > steps:
                continue
            if between_runs is None or not between_runs(session):
                break
    except (SpiffWorkflowException, ScriptError, OperationError) as exc:
        _mark_failure(session, exc)
    except DatabaseError:
        raise
    except Exception as exc:
        # SpiffWorkflow itself failed on what the diagram or its data gave it.
        task = guard.running
        message = _internal_failure(session.instance.pk, exc)
        fail_task(session, None if task is None or task.has_state(_SETTLED) else task, message)
    finally:
        workflow.script_engine.deadline = None


def _bound_cycle_timers(session: Session) -> None:
    """A cycle timer that missed many firings (the server was down, the instance suspended) fires
    at most MAX_CYCLE_CATCH_UP of them; the rest are skipped and recorded."""
    cap, now = limits()["MAX_CYCLE_CATCH_UP"], clock.now()
    for task in session.workflow.event_manager.tasks.values():
        value = task.internal_data.get("event_value")
        if task.state != TaskState.WAITING or not isinstance(value, dict) or value.get("cycles", 0) == 0:
            continue
        try:
            next_at, period = datetime.fromisoformat(value["next"]), float(value["duration"])
        except (KeyError, TypeError, ValueError):
            continue
        if period <= 0 or next_at > now:
            continue
        due = int((now - next_at).total_seconds() // period) + 1
        if value["cycles"] > 0:
            due = min(due, value["cycles"])
        if due <= cap:
            continue
        skipped = due - cap
        value["next"] = (next_at + timedelta(seconds=period * skipped)).isoformat()
        if value["cycles"] > 0:
            value["cycles"] -= skipped
        session.record(
            AuditEvent.Kind.TIMER_SKIPPED, task_id=task.id, bpmn_id=task.task_spec.bpmn_id, skipped=skipped
        )


_SETTLED = TaskState.COMPLETED | TaskState.CANCELLED


def _mark_failure(session: Session, exc: Exception) -> None:
    session.refusal = _refusal_in(exc)
    task = getattr(exc, "task", None)
    if task is not None and task.has_state(_SETTLED):
        task = None
    fail_task(session, task, describe_error(exc), line=getattr(exc, "line_number", None))


def _refusal_in(exc: BaseException | None) -> Refusal | None:
    """The refusal of input, field by field, that caused the failure, if any."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, Refusal):
            return exc if exc.field_errors else None
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


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


def record_failure(instance_id: int, exc: BaseException) -> None:
    """Put an instance in error after a change to it failed and was rolled back (its state stays as
    it was before that change), so that the failure is seen and not retried silently forever."""
    message = str(exc) if isinstance(exc, EngineLimitError) else _internal_failure(instance_id, exc)
    with transaction.atomic():
        instance = lock_instance(instance_id)
        if instance.status in ProcessInstance.ENDED_STATUSES:
            return
        error = {"message": message, "task_id": None, "bpmn_id": None, "task_name": None, "line": None}
        ProcessInstance.objects.filter(pk=instance.pk).update(
            status=ProcessInstance.Status.ERROR,
            error=error,
            updated_at=timezone.now(),
            revision=F("revision") + 1,
        )
        AuditEvent.objects.create(
            instance=instance,
            kind=AuditEvent.Kind.ERROR,
            at=timezone.now(),
            details={k: v for k, v in error.items() if k != "task_id"},
        )
        if instance.status != ProcessInstance.Status.ERROR:
            EngineEvent.objects.create(instance=instance, kind=EngineEvent.Kind.INSTANCE_FAILED)
            engine_events.publish_after_commit(instance.pk)


def _internal_failure(instance_id: int, exc: BaseException) -> str:
    """Log an unexpected failure with a reference; the message quotes it and nothing internal."""
    reference = uuid.uuid4().hex[:12]
    logger.error("Instance #%s failed (reference %s)", instance_id, reference, exc_info=exc)
    return _("The engine failed while running the process (%(error)s; reference %(reference)s).") % {
        "error": type(exc).__name__,
        "reference": reference,
    }


def describe_error(exc: BaseException) -> str:
    """A message about a failed step that names the problem but none of the server's internals."""
    message = str(exc.args[0]) if exc.args else type(exc).__name__
    message = re.sub(
        r"^(\w+(?:Error|Exception)):(?=\S)", r"\1: ", message
    )  # SpiffWorkflow writes "Error:msg"
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if cause is not None and not isinstance(cause, SpiffWorkflowException) and str(cause) not in message:
        own = isinstance(cause, (ScriptError, OperationError, Refusal))
        message = f"{message}: {cause}" if own else f"{message} ({type(cause).__name__}: {cause})"
    notes = [n for n in getattr(exc, "notes", []) if isinstance(n, str) and n]
    if notes:
        message = ". ".join([message, *notes])
    return message[:1000]


# --- saving ---------------------------------------------------------------------------------


def error_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """Tasks in ERROR, read from the task tables: SpiffWorkflow's iterators miss some (an erroring
    multi-instance child, a boundary branch)."""
    tables = [workflow.tasks, *(sub.tasks for sub in workflow.subprocesses.values())]
    return [task for tasks in tables for task in tasks.values() if task.state == TaskState.ERROR]


def compute_status(workflow: BpmnWorkflow, snapshot: Snapshot) -> str:
    if error_tasks(workflow):
        return ProcessInstance.Status.ERROR
    if workflow.is_completed():
        return ProcessInstance.Status.COMPLETED
    if snapshot.human:
        return ProcessInstance.Status.RUNNING
    return ProcessInstance.Status.WAITING


@dataclass(frozen=True)
class Saved:
    """What a save changed: the projections before and after, and whether the instance finished."""

    before: Snapshot
    after: Snapshot
    finished: bool


# The events that end a wait at a timer or a message event (a completion ends a task's).
_WAIT_ENDINGS = (AuditEvent.Kind.TIMER_FIRED, AuditEvent.Kind.MESSAGE_DELIVERED)


def save_state(session: Session, *, status: str | None = None) -> Saved:
    """Persist the session's workflow and everything derived from it. Must run in a transaction."""
    instance, workflow = session.instance, session.workflow
    observer = task_observer.get()
    if observer is not None:
        store_new_instance(instance)  # the observer knows instances by id
        observer(instance, workflow.get_tasks(state=TaskState.COMPLETED))
    compact(workflow)
    state = dump_state(workflow)
    if len(state) > limits()["MAX_STATE_BYTES"]:
        raise EngineLimitError(
            _(
                "The process data grew to %(size)s bytes; the limit is %(limit)s. "
                "Keep large content (files, long lists) outside task data."
            )
            % {"size": f"{len(state):,}", "limit": f"{limits()['MAX_STATE_BYTES']:,}"}
        )
    after = take_snapshot(workflow)
    computed = compute_status(workflow, after)
    if session.failure is not None and computed != ProcessInstance.Status.COMPLETED:
        computed = ProcessInstance.Status.ERROR  # a failure with no task left in ERROR still counts
    status = status or computed
    finished = status == ProcessInstance.Status.COMPLETED and instance.status != status
    error = None
    if computed == ProcessInstance.Status.ERROR:
        error = session.failure or {"message": _("A task is in error.")}
    ended_at = instance.ended_at
    if status in ProcessInstance.ENDED_STATUSES and ended_at is None:
        ended_at = timezone.now()
    if finished:
        session.record(AuditEvent.Kind.FINISHED)

    before, events, completions = session.before, session.events, session.completions
    reached = frozenset(e["task_id"] for e in events if e["kind"] in _WAIT_ENDINGS and e["task_id"])
    changes = _changes(before, after, completions, finished=finished, failed=_failed_now(instance, status))

    def writes(instance_id: Any) -> list[store.Statement]:
        result = projections.statements(
            instance, before, after, completions=completions, reached=reached, instance_id=instance_id
        )
        if events:
            result.append(store.insert_rows(AuditEvent, [{**e, "instance": instance_id} for e in events]))
        if changes:
            rows = engine_events.event_rows(instance_id, changes, actor_id=person_id(session.actor))
            result.append(store.insert_rows(EngineEvent, rows))
        return result

    if instance.pk is None:
        # A start that stored nothing while it ran: the row goes in with its state, first tasks and
        # audit, in one statement on PostgreSQL.
        instance.state, instance.status, instance.error, instance.ended_at = state, status, error, ended_at
        instance.serializer_version = SERIALIZER_VERSION
        instance.revision += 1
        instance.pk = store.insert_instance(instance, then=writes)
        instance._state.adding = False
    else:
        checked = store.update_instance(
            instance,
            state=state,
            status=status,
            error=error,
            serializer_version=SERIALIZER_VERSION,
            ended_at=ended_at,
            updated_at=timezone.now(),
        )
        store.execute(writes(instance.pk), checked=checked)
        instance.state, instance.status, instance.error, instance.ended_at = state, status, error, ended_at
        instance.serializer_version = SERIALIZER_VERSION
        instance.revision += 1
    if changes:
        engine_events.publish_after_commit(instance.pk)
    session.events, session.completions, session.before = [], [], after
    return Saved(before, after, finished)


def _failed_now(instance: ProcessInstance, status: str) -> bool:
    return status == ProcessInstance.Status.ERROR and instance.status != ProcessInstance.Status.ERROR


def _changes(
    before: Snapshot, after: Snapshot, completions: list, *, finished: bool, failed: bool
) -> list[tuple[str, Any]]:
    """The engine events of a save: (kind, task id) pairs."""
    Kind = EngineEvent.Kind
    done = {completion.task_id for completion in completions}
    # In the order they happened: what was done or withdrawn, then what the process asks for next.
    changes = [(Kind.TASK_COMPLETED, task_id) for task_id in done]
    changes += [
        (Kind.TASK_CANCELLED, task_id)
        for task_id in before.human
        if task_id not in after.human and task_id not in done
    ]
    changes += [(Kind.TASK_CREATED, task_id) for task_id in after.human if task_id not in before.human]
    if finished:
        changes.append((Kind.INSTANCE_FINISHED, None))
    if failed:
        changes.append((Kind.INSTANCE_FAILED, None))
    return changes


def store_new_instance(instance: ProcessInstance | None) -> None:
    """Insert the row of an instance being started, if it has none yet, without its state (its
    first save writes that, in the same transaction). A start stores its instance only with its
    first save unless its run needs the id earlier: for a service operation, or for an instance it
    calls to point to."""
    if instance is None or instance.pk is not None:
        return
    instance.state = ""
    instance.pk = store.insert_instance(instance)
    instance._state.adding = False
