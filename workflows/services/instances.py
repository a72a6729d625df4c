"""Starting process instances and the coordinator's controls over them."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from workflows import runtime
from workflows.actors import is_system, person, require_actor
from workflows.bounds import DataRefused, check_data, data_limits
from workflows.exceptions import InstanceNotActive, InvalidData, NotAllowed, ProcessNotDeployed
from workflows.models import AuditEvent, ProcessInstance, ProcessVersion
from workflows.serialization import SERIALIZER_VERSION, dump_state

MANAGE_PERMISSION = "workflows.manage_processinstance"
START_PERMISSION = "workflows.start_processinstance"


def latest_version(process_id: str) -> ProcessVersion:
    version = (
        ProcessVersion.objects.select_related("model")
        .defer("spec")
        .filter(model__process_id=process_id)
        .order_by("-number")
        .first()
    )
    if version is None:
        raise ProcessNotDeployed(_("No process '%(process)s' is deployed.") % {"process": process_id})
    return version


def deployed_version(process_id: str, number: int) -> ProcessVersion:
    version = (
        ProcessVersion.objects.select_related("model")
        .defer("spec")
        .filter(model__process_id=process_id, number=number)
        .first()
    )
    if version is None:
        raise ProcessNotDeployed(
            _("Version %(number)s of process '%(process)s' is not deployed.")
            % {"process": process_id, "number": number}
        )
    return version


def check_process_data(data: Any) -> dict:
    """Start data and message payloads: a JSON object whose keys scripts can read, within the data
    limits (InvalidData naming the offending place otherwise). Returns a copy."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidData(_("Process data must be a JSON object."))
    bad = [key for key in data if not isinstance(key, str) or key.startswith("_")]
    if bad:
        raise InvalidData(_("Process data keys may not start with '_': %(keys)s") % {"keys": bad[:10]})
    try:
        check_data(data, data_limits())
    except DataRefused as exc:
        raise InvalidData(
            _("Process data %(place)s: %(reason)s") % {"place": exc.path, "reason": exc.reason}
        ) from None
    return deepcopy(data)


def start_instance(
    *,
    process_id: str,
    data: dict | None = None,
    business_key: str = "",
    user: Any,
    version: int | None = None,
) -> ProcessInstance:
    """Start `process_id` (its latest version, or the version numbered `version`) and run it until
    it waits (or fails). `user` needs the start permission, or is the system (`workflows.actors`)."""
    require_actor(user)
    if not (is_system(user) or user.has_perm(START_PERMISSION)):
        raise NotAllowed(_("You are not allowed to start process instances."))
    version = latest_version(process_id) if version is None else deployed_version(process_id, version)
    start_data = check_process_data(data)
    with transaction.atomic():
        return _create(version, data=start_data, business_key=business_key, actor=user)


def start_linked_instance(*, parent: ProcessInstance, task: Task, actor: Any) -> ProcessInstance:
    """Start the instance a linked call activity waits for (called from the parent's session)."""
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
    callee = runtime.specs_for(version).spec
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
    return _create(
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


def _create(
    version: ProcessVersion,
    *,
    data: dict,
    business_key: str,
    actor: Any,
    parent: ProcessInstance | None = None,
    parent_task_id=None,
    resumes_parent: bool = True,
) -> ProcessInstance:
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
    session = runtime.new_session(version, instance, actor=actor)
    session.resumes_parent = resumes_parent
    start = session.workflow.get_next_task(state=TaskState.READY)
    start.set_data(**data)
    # The row exists before the engine runs, so linked instances it starts can point to it.
    instance.state = dump_state(session.workflow)
    instance.revision = 1
    instance.save()
    session.record(
        AuditEvent.Kind.STARTED,
        process_id=instance.process_id,
        version=version.number,
        business_key=instance.business_key,
    )
    runtime.advance(session)
    runtime.save(session)
    return instance


def check_manager(user: Any) -> None:
    require_actor(user)
    if not (is_system(user) or user.has_perm(MANAGE_PERMISSION)):
        raise NotAllowed(_("Only coordinators can suspend, resume, terminate or retry process instances."))


def suspend_instance(*, instance_id: int, user: Any, reason: str = "") -> ProcessInstance:
    """Stop an instance (and the instances it called) from moving until it is resumed."""
    check_manager(user)
    with transaction.atomic():
        instance = runtime.lock_instance(instance_id)
        if instance.status not in (*ProcessInstance.ACTIVE_STATUSES, ProcessInstance.Status.ERROR):
            raise InstanceNotActive(_("Only a running, waiting or failed instance can be suspended."))
        _set_suspended(instance, user, reason)
    return instance


def _set_suspended(instance: ProcessInstance, user: Any, reason: str) -> None:
    ProcessInstance.objects.filter(pk=instance.pk).update(
        suspended_from=instance.status, status=ProcessInstance.Status.SUSPENDED, updated_at=timezone.now()
    )
    instance.suspended_from, instance.status = instance.status, ProcessInstance.Status.SUSPENDED
    AuditEvent.objects.create(
        instance=instance,
        kind=AuditEvent.Kind.SUSPENDED,
        actor=person(user),
        at=timezone.now(),
        details={"reason": reason},
    )
    children = ProcessInstance.objects.filter(
        parent=instance, status__in=[*ProcessInstance.ACTIVE_STATUSES, ProcessInstance.Status.ERROR]
    )
    for child in children:  # the family lock covers them
        _set_suspended(child, user, reason)


def resume_instance(*, instance_id: int, user: Any) -> ProcessInstance:
    """Let a suspended instance (and the instances it called) move again."""
    check_manager(user)
    with transaction.atomic():
        instance = runtime.lock_instance(instance_id)
        if instance.status != ProcessInstance.Status.SUSPENDED:
            raise InstanceNotActive(_("The instance is not suspended."))
        _set_resumed(instance, user)
    return instance


def _set_resumed(instance: ProcessInstance, user: Any) -> None:
    status = instance.suspended_from or ProcessInstance.Status.WAITING
    ProcessInstance.objects.filter(pk=instance.pk).update(
        status=status, suspended_from="", updated_at=timezone.now()
    )
    instance.status, instance.suspended_from = status, ""
    AuditEvent.objects.create(
        instance=instance, kind=AuditEvent.Kind.RESUMED, actor=person(user), at=timezone.now()
    )
    for child in ProcessInstance.objects.filter(parent=instance, status=ProcessInstance.Status.SUSPENDED):
        _set_resumed(child, user)


def terminate_instance(*, instance_id: int, user: Any, reason: str = "") -> ProcessInstance:
    """End an instance for good: open tasks are cancelled, timers and waits removed. The instances
    it called end with it; if it was called by another instance, that caller goes to error."""
    check_manager(user)
    with transaction.atomic():
        instance = runtime.lock_instance(instance_id)
        if instance.status in ProcessInstance.ENDED_STATUSES:
            raise InstanceNotActive(_("The instance has already ended."))
        terminate_family(instance.pk, actor=user, reason=reason)
        instance.refresh_from_db()
        if instance.parent_id:
            _fail_caller(instance, actor=user)
    return instance


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
    session = runtime.open_session(instance, actor=actor)
    session.workflow.cancel()
    session.record(AuditEvent.Kind.TERMINATED, reason=reason)
    session.resumes_parent = False
    runtime.save(session, status=ProcessInstance.Status.TERMINATED)


def _fail_caller(child: ProcessInstance, *, actor: Any) -> None:
    parent = ProcessInstance.objects.select_related("version").defer("version__spec").get(pk=child.parent_id)
    if parent.status not in ProcessInstance.ACTIVE_STATUSES:
        return
    session = runtime.open_session(parent, actor=actor)
    try:
        task = session.workflow.get_task_from_id(child.parent_task_id)
    except Exception:
        return
    if task.state != TaskState.STARTED:
        return
    message = _("The called instance #%(id)s (%(process)s) was terminated.") % {
        "id": child.pk,
        "process": child.process_id,
    }
    runtime.fail_task(session, task, message)
    runtime.save(session)


def retry_instance(*, instance_id: int, user: Any) -> ProcessInstance:
    """Run an instance in error again from its failed tasks, once the cause has been fixed."""
    check_manager(user)
    with transaction.atomic():
        instance = runtime.lock_instance(instance_id)
        if instance.status != ProcessInstance.Status.ERROR:
            raise InstanceNotActive(_("Only an instance in error can be retried."))
        session = runtime.open_session(instance, actor=user)
        # No task may be in ERROR (a limit hit between steps): running again is the retry then.
        failed = runtime.error_tasks(session.workflow)
        for task in failed:
            if task.state == TaskState.ERROR:  # an earlier reset may have removed or reset it
                session.workflow.reset_from_task_id(task.id)
        session.record(AuditEvent.Kind.RETRIED, tasks=[t.task_spec.bpmn_id for t in failed])
        runtime.advance(session)
        runtime.save(session)
    return instance
