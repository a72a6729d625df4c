"""Instances that call each other: linked call activities, and running and saving any instance.

A call activity marked `calledElementInstance=separate` runs its process as a separate instance
linked to the caller (`ProcessInstance.parent`, `parent_task_id`). The callee starts inside the
caller's run, and a callee that finishes resumes its caller inside its own save, so running and
saving an instance are defined here, over the one-instance machinery of `sessions`:

- `advance` runs the engine and starts the instances newly reached call activities wait for;
- `save` stores the instance, ends the callees of calls that were cancelled (a boundary event, an
  early end) and hands a finished callee's data back to its caller, which then runs on;
- `terminate_family` ends an instance and, first, every instance it called; `fail_caller` puts
  the caller of a terminated callee in error.

The whole family runs under the lock of its root row, taken by whoever opened the first session.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from workflows import projections, sessions, store
from workflows.actors import SYSTEM, person
from workflows.exceptions import ProcessNotDeployed
from workflows.models import AuditEvent, ProcessInstance, ProcessVersion
from workflows.serialization import SERIALIZER_VERSION
from workflows.sessions import Session, find_task
from workflows.specs import LinkedCallActivity
from workflows.versions import latest_version


def advance(session: Session) -> None:
    """Run everything the engine can run now, starting linked instances as it reaches them.

    A failure puts the failing task in ERROR and the instance in error; it does not raise. Only a
    database error, after which nothing can be recorded, propagates.
    """
    sessions.run_engine(session, between_runs=_start_waiting_calls)


def save(session: Session, *, status: str | None = None) -> ProcessInstance:
    """Persist the session's workflow and everything derived from it, then end the callees of
    cancelled calls and resume the caller of a finished callee. Must run in a transaction."""
    saved = sessions.save_state(session, status=status)
    _end_orphaned_calls(session, saved)
    instance = session.instance
    if saved.finished and instance.parent_id and session.resumes_parent:
        _resume_parent(instance, session.workflow, actor=session.actor)
    return instance


def create_instance(
    version: ProcessVersion,
    *,
    data: dict,
    business_key: str,
    actor: Any,
    parent: ProcessInstance | None = None,
    parent_task_id=None,
    resumes_parent: bool = True,
) -> ProcessInstance:
    """Create an instance of `version` with `data` and run it until it waits (or fails)."""
    instance = ProcessInstance(
        version=version,
        process_id=version.model.process_id,
        business_key=business_key[:255],
        status=ProcessInstance.Status.RUNNING,
        started_by=person(actor),
        parent=parent,
        parent_task_id=parent_task_id,
        root_id=(parent.root_id or parent.pk) if parent is not None else None,
        serializer_version=SERIALIZER_VERSION,
    )
    session = sessions.new_session(version, instance, actor=actor)
    session.resumes_parent = resumes_parent
    start = session.workflow.get_next_task(state=TaskState.READY)
    start.set_data(**data)
    # The row is inserted by the first save, with its state, first tasks and audit; earlier only if
    # the run needs its id (`sessions.store_new_instance`): a linked instance it starts points to it.
    instance.revision = 1
    session.record(
        AuditEvent.Kind.STARTED,
        process_id=instance.process_id,
        version=version.number,
        business_key=instance.business_key,
    )
    advance(session)
    save(session)
    return instance


# --- starting and finishing calls -------------------------------------------------------------


def _start_waiting_calls(session: Session) -> bool:
    """Start the instances that newly reached linked call activities are waiting for.

    Returns True if any of them finished at once, so the engine must run again.
    """
    if not projections.has_linked_calls(session.workflow):
        return False
    resumed = False
    for task in session.workflow.get_tasks(state=TaskState.STARTED, spec_class=LinkedCallActivity):
        if task.internal_data.get("linked_instance") is not None:
            continue
        sessions.store_new_instance(session.instance)
        child = start_linked_instance(parent=session.instance, task=task, actor=session.actor)
        task.internal_data["linked_instance"] = child.pk
        session.record(
            AuditEvent.Kind.STARTED, task_id=task.id, linked_instance=child.pk, process_id=child.process_id
        )
        if child.status == ProcessInstance.Status.COMPLETED:
            finish_linked_call(task, child_output(child))
            resumed = True
    return resumed


def start_linked_instance(*, parent: ProcessInstance, task: Task, actor: Any) -> ProcessInstance:
    """Start the instance a linked call activity waits for (from the parent's session)."""
    called = task.task_spec.called_element
    maximum = settings.WORKFLOWS["MAX_CALL_DEPTH"]
    if _call_depth(parent, maximum) >= maximum:
        # Deployment refuses cycles, but versions deployed since an instance started can form one.
        raise WorkflowTaskException(
            _(
                "Starting process '%(process)s' would make a chain of more than %(limit)s calling "
                "instances; a process probably calls itself through other processes."
            )
            % {"process": called, "limit": maximum},
            task=task,
        )
    try:
        version = latest_version(called)
    except ProcessNotDeployed as exc:
        raise WorkflowTaskException(str(exc), task=task) from None
    callee = sessions.specs_for(version).spec
    inputs = callee.io_specification.data_inputs if callee.io_specification is not None else []
    if inputs:
        missing = [var.bpmn_id for var in inputs if var.bpmn_id not in task.data]
        if missing:
            raise WorkflowTaskException(
                _("The called process '%(process)s' needs data the caller does not have: %(missing)s")
                % {"process": called, "missing": ", ".join(missing)},
                task=task,
            )
        data = {var.bpmn_id: deepcopy(task.data[var.bpmn_id]) for var in inputs}
    else:
        data = deepcopy(task.data)
    return create_instance(
        version,
        data=data,
        business_key=parent.business_key,
        actor=actor,
        parent=parent,
        parent_task_id=task.id,
        resumes_parent=False,
    )


def _call_depth(instance: ProcessInstance, maximum: int) -> int:
    """How many instances called `instance`, directly or in turn (counting stops past `maximum`)."""
    depth, parent_id = 0, instance.parent_id
    while parent_id is not None and depth <= maximum:
        depth += 1
        parent_id = ProcessInstance.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    return depth


def child_output(child: ProcessInstance, workflow: BpmnWorkflow | None = None) -> dict:
    """The data a finished linked instance hands back: its process's data outputs, else all."""
    if workflow is None:
        workflow = sessions.open_session(child, actor=SYSTEM).workflow
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


def _resume_parent(child: ProcessInstance, child_workflow: BpmnWorkflow, *, actor: Any) -> None:
    parent = store.read_instance(child.parent_id)  # the family lock is already held
    if parent.status not in ProcessInstance.ACTIVE_STATUSES:
        return
    session = sessions.open_session(parent, actor=actor)
    task = find_task(session.workflow, child.parent_task_id)
    if task is None or task.state != TaskState.STARTED:
        return
    if task.internal_data.get("linked_instance") != child.pk:
        return
    finish_linked_call(task, child_output(child, child_workflow))
    advance(session)
    save(session)


# --- ending calls ---------------------------------------------------------------------------


def _end_orphaned_calls(session: Session, saved: sessions.Saved) -> None:
    """A linked call activity that was cancelled (boundary event, early end) ends its instance."""
    for task_id, child_id in saved.before.linked.items():
        if child_id is None or task_id in saved.after.linked:
            continue
        task = find_task(session.workflow, task_id)
        if task is not None and task.state == TaskState.COMPLETED:
            continue
        terminate_family(child_id, actor=session.actor, reason=_("the calling activity was cancelled"))


def terminate_family(instance_id: int, *, actor: Any, reason: str) -> None:
    """Terminate an instance and, first, the instances it called. Caller holds the family lock."""
    instance = ProcessInstance.objects.select_related("version").defer("version__spec").get(pk=instance_id)
    if instance.status in ProcessInstance.ENDED_STATUSES:
        return
    for child_id in (
        ProcessInstance.objects.filter(parent=instance)
        .exclude(status__in=ProcessInstance.ENDED_STATUSES)
        .values_list("pk", flat=True)
    ):
        terminate_family(child_id, actor=actor, reason=reason)
    session = sessions.open_session(instance, actor=actor)
    session.workflow.cancel()
    session.record(AuditEvent.Kind.TERMINATED, reason=reason)
    session.resumes_parent = False
    save(session, status=ProcessInstance.Status.TERMINATED)


def fail_caller(child: ProcessInstance, *, actor: Any) -> None:
    """Put the caller of a terminated instance in error, if it still waits for it."""
    parent = ProcessInstance.objects.select_related("version").defer("version__spec").get(pk=child.parent_id)
    if parent.status not in ProcessInstance.ACTIVE_STATUSES:
        return
    session = sessions.open_session(parent, actor=actor)
    task = find_task(session.workflow, child.parent_task_id)
    if task is None or task.state != TaskState.STARTED:
        return
    message = _("The called instance #%(id)s (%(process)s) was terminated.") % {
        "id": child.pk,
        "process": child.process_id,
    }
    sessions.fail_task(session, task, message)
    save(session)
