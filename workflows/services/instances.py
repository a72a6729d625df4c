"""Starting process instances and the coordinator's controls over them."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from SpiffWorkflow.util.task import TaskState

from workflows import runtime
from workflows.actors import is_system, person, require_actor
from workflows.bounds import DataRefused, check_data, data_limits
from workflows.exceptions import InstanceNotActive, InvalidData, NotAllowed
from workflows.models import AuditEvent, ProcessInstance
from workflows.versions import deployed_version, latest_version

MANAGE_PERMISSION = "workflows.manage_processinstance"
START_PERMISSION = "workflows.start_processinstance"


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
        return runtime.create_instance(version, data=start_data, business_key=business_key, actor=user)


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


def resume_instance(*, instance_id: int, user: Any, reason: str = "") -> ProcessInstance:
    """Let a suspended instance (and the instances it called) move again."""
    check_manager(user)
    with transaction.atomic():
        instance = runtime.lock_instance(instance_id)
        if instance.status != ProcessInstance.Status.SUSPENDED:
            raise InstanceNotActive(_("The instance is not suspended."))
        _set_resumed(instance, user, reason)
    return instance


def _set_resumed(instance: ProcessInstance, user: Any, reason: str) -> None:
    status = instance.suspended_from or ProcessInstance.Status.WAITING
    ProcessInstance.objects.filter(pk=instance.pk).update(
        status=status, suspended_from="", updated_at=timezone.now()
    )
    instance.status, instance.suspended_from = status, ""
    AuditEvent.objects.create(
        instance=instance,
        kind=AuditEvent.Kind.RESUMED,
        actor=person(user),
        at=timezone.now(),
        details={"reason": reason},
    )
    for child in ProcessInstance.objects.filter(parent=instance, status=ProcessInstance.Status.SUSPENDED):
        _set_resumed(child, user, reason)


def terminate_instance(*, instance_id: int, user: Any, reason: str = "") -> ProcessInstance:
    """End an instance for good: open tasks are cancelled, timers and waits removed. The instances
    it called end with it; if it was called by another instance, that caller goes to error."""
    check_manager(user)
    with transaction.atomic():
        instance = runtime.lock_instance(instance_id)
        if instance.status in ProcessInstance.ENDED_STATUSES:
            raise InstanceNotActive(_("The instance has already ended."))
        runtime.terminate_family(instance.pk, actor=user, reason=reason)
        instance.refresh_from_db()
        if instance.parent_id:
            runtime.fail_caller(instance, actor=user)
    return instance


def retry_instance(*, instance_id: int, user: Any, reason: str = "") -> ProcessInstance:
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
        session.record(AuditEvent.Kind.RETRIED, tasks=[t.task_spec.bpmn_id for t in failed], reason=reason)
        runtime.advance(session)
        runtime.save(session)
    return instance
