"""Working human tasks: claim, release, reassign, complete."""

from __future__ import annotations

import functools
import json
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from SpiffWorkflow.spiff.specs.mixins.user_task import UserTask
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from workflows import access, assignment, forms, runtime, store
from workflows import events as engine_events
from workflows.actors import is_system, person, person_id, require_actor
from workflows.bounds import DataRefused, check_data, data_limits
from workflows.exceptions import (
    InstanceNotActive,
    NotAllowed,
    NotFound,
    TaskAlreadyCompleted,
    TaskNotReady,
    TaskNotYours,
    TaskRejected,
)
from workflows.models import AuditEvent, DeployedFile, EngineEvent, HumanTask, ProcessInstance, TaskDraft
from workflows.sandbox import SubmissionRefused

REASSIGN_PERMISSION = "workflows.reassign_humantask"


def can_work_on(user: Any, task: HumanTask) -> bool:
    """The assignee works the task; an unassigned task is open to its role's members; the system
    (`workflows.actors.SYSTEM`) works any task. Nobody (`None`) works none. The rule is
    `workflows.access`'s, which the inbox filters by too."""
    return access.can_work_on(user, task)


def may_reassign(user: Any) -> bool:
    return is_system(user) or user.is_superuser or user.has_perm(REASSIGN_PERMISSION)


def form_schema(task: HumanTask) -> dict:
    """The JSON Schema of the task's form, as deployed with the task's process version."""
    if not task.form_file:
        return forms.DEFAULT_FORM
    version = task.instance.version
    return _deployed_form(version.pk, version.checksum, task.form_file)


@functools.lru_cache(maxsize=512)
def _deployed_form(version_id: int, checksum: str, name: str) -> dict:
    # Deployed files never change, so caching per version is correct; the checksum guards against a
    # version id reused after a rolled-back deployment (SQLite reuses ids).
    content = DeployedFile.objects.values_list("content", flat=True).get(
        version_id=version_id, kind=DeployedFile.Kind.FORM, name=name
    )
    return json.loads(content)


def _locked(task_id: UUID | str) -> HumanTask:
    """The task, read under its family's lock (so nobody completes or claims it meanwhile)."""
    found = store.read_task(task_id, lock=True)
    if found is None:
        raise NotFound(_("No such task."))
    return found[0]


def check_open(task: HumanTask) -> None:
    """Refuse, saying who completed it and when (or that the process cancelled it), a task that is
    no longer open."""
    if task.status == HumanTask.Status.COMPLETED:
        who = (
            task.completed_by.get_full_name() or task.completed_by.username
            if task.completed_by
            else _("someone")
        )
        raise TaskAlreadyCompleted(
            _("This task was already completed by %(who)s at %(when)s.")
            % {"who": who, "when": timezone.localtime(task.completed_at).strftime("%Y-%m-%d %H:%M")}
        )
    if task.status == HumanTask.Status.CANCELLED:
        raise TaskNotReady(_("This task was cancelled by the process and no longer needs doing."))


def claim_task(*, task_id: UUID | str, user: Any) -> HumanTask:
    """Take an open task of one of your roles, so that nobody else works it."""
    with transaction.atomic():
        if is_system(user):
            raise NotAllowed(_("Only a person can claim a task."))
        require_actor(user)
        task = _locked(task_id)
        check_open(task)
        if task.assignee_id == user.pk:
            return task
        if task.assignee_id is not None:
            raise TaskNotYours(_("This task is already assigned to someone else."))
        if not can_work_on(user, task):
            raise NotAllowed(assignment.pool_refusal(user, task) or _("This task is for another role."))
        _hand_over(task, to=user, claimed=True, kind=AuditEvent.Kind.CLAIMED, actor=user)
    return task


def release_task(*, task_id: UUID | str, user: Any) -> HumanTask:
    """Give a task you hold back to its role."""
    require_actor(user)
    with transaction.atomic():
        task = _locked(task_id)
        check_open(task)
        if task.assignee_id != person_id(user) and not may_reassign(user):
            raise TaskNotYours(_("Only the person holding a task can release it."))
        _hand_over(task, to=None, claimed=False, kind=AuditEvent.Kind.RELEASED, actor=user)
    return task


def reassign_task(*, task_id: UUID | str, to_user: Any, user: Any, reason: str = "") -> HumanTask:
    """Give a task to someone else (team leaders and coordinators); only to a person who holds the
    task's role, so a reassignment never hands work to someone whose role does not cover it. The
    reason, if given, is kept in the audit trail."""
    require_actor(user)
    if not may_reassign(user):
        raise NotAllowed(_("Only team leaders and coordinators can reassign tasks."))
    if to_user is None or not to_user.is_active:
        raise NotAllowed(_("Tasks can only be given to active users."))
    with transaction.atomic():
        task = _locked(task_id)
        check_open(task)
        if not access.holds_role(to_user, task):
            raise NotAllowed(
                _("%(user)s does not hold the role %(role)s that this task is for.")
                % {"user": to_user.get_username(), "role": task.role.name if task.role else "-"}
            )
        previous = task.assignee_id
        details = {"from": _username(previous), "to": to_user.get_username()}
        if reason:
            details["reason"] = reason
        _hand_over(
            task, to=to_user, claimed=False, kind=AuditEvent.Kind.REASSIGNED, actor=user, details=details
        )
    return task


def reschedule_task(*, task_id: UUID | str, due_at: Any, user: Any) -> HumanTask:
    """Give an open task a new due date (team leaders and coordinators), audited."""
    require_actor(user)
    if not may_reassign(user):
        raise NotAllowed(_("Only team leaders and coordinators can change when a task is due."))
    with transaction.atomic():
        task = _locked(task_id)
        check_open(task)
        previous, task.due_at = task.due_at, due_at
        task.save(update_fields=["due_at"])
        AuditEvent.objects.create(
            instance_id=task.instance_id,
            task_id=task.pk,
            kind=AuditEvent.Kind.RESCHEDULED,
            actor=person(user),
            at=timezone.now(),
            details={"from": previous.isoformat() if previous else None, "to": due_at.isoformat()},
        )
    return task


def _hand_over(
    task: HumanTask, *, to: Any, claimed: bool, kind: str, actor: Any, details: dict | None = None
) -> None:
    """Change who holds the task and record it (the caller holds the family lock)."""
    task.assignee = to
    task.claimed_by, task.claimed_at = (to, timezone.now()) if claimed else (None, None)
    task.save(update_fields=["assignee", "claimed_by", "claimed_at"])
    AuditEvent.objects.create(
        instance_id=task.instance_id,
        task_id=task.pk,
        kind=kind,
        actor=person(actor),
        at=timezone.now(),
        details=details or {},
    )
    # Whether to a person or back to the role's pool: someone new may have work waiting.
    engine_events.record_task_event(task, EngineEvent.Kind.TASK_ASSIGNED, actor_id=person_id(actor))


def _username(user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return get_user_model().objects.filter(pk=user_id).values_list("username", flat=True).first()


def complete_task(*, task_id: UUID | str, data: Any, user: Any) -> HumanTask:
    """Submit a task's form and let the process move on.

    Under the family lock, and changing nothing when refused: FormValidationError (field errors),
    TaskAlreadyCompleted, TaskNotReady, TaskNotYours, InstanceNotActive; TaskRejected if the task's
    own post-script, or a service operation the submission leads to, refuses the data (a
    `Refusal`, with its field errors; the task stays open). Any other failure in a later step does
    not raise: the task is done and the instance goes to `error`.
    """
    require_actor(user)
    try:
        with transaction.atomic():
            found = store.read_task(task_id, lock=True)
            if found is None:
                raise NotFound(_("No such task."))
            task, instance = found
            check_open(task)
            if not can_work_on(user, task):
                raise TaskNotYours()
            if instance.status not in ProcessInstance.ACTIVE_STATUSES:
                raise InstanceNotActive(
                    _("The process is %(status)s; its tasks cannot be completed now.")
                    % {"status": instance.get_status_display()}
                )
            session = runtime.open_session(instance, actor=user)
            spiff_task = runtime.find_task(session.workflow, task.pk)
            if spiff_task is None or spiff_task.state != TaskState.READY:
                raise TaskNotReady()
            # An open form's undeclared fields may add variables, never replace one the process
            # holds or its diagram reads (an `approved` the next gateway tests, say).
            protected = spiff_task.data.keys() | runtime.names_read_by(instance.version)
            schema = form_schema(task)
            submission = forms.validate_submission(schema, _bounded(data), protected=protected)
            if isinstance(spiff_task.task_spec, UserTask) and spiff_task.task_spec.variable is not None:
                spiff_task.task_spec.add_data_from_form(spiff_task, submission)
            else:
                _take_declared_fields(spiff_task.data, schema, submission)
                DeepMerge.merge(spiff_task.data, submission)
            try:
                spiff_task.run()
            except Exception as exc:
                raise TaskRejected(refusal(exc) or runtime.describe_error(exc)) from None
            done = session.complete(task.pk, bpmn_id=task.bpmn_id, data=submission)
            runtime.advance(session)
            if session.refusal is not None:
                # A service task after this one refused what the person submitted: undo it all.
                raise TaskRejected(session.refusal.message, field_errors=session.refusal.field_errors)
            runtime.save(session)
            TaskDraft.objects.filter(task_id=task.pk).delete()  # the form is in; its drafts are done
    except TaskRejected as exc:
        AuditEvent.objects.create(
            instance_id=task.instance_id,
            task_id=task.pk,
            kind=AuditEvent.Kind.REJECTED,
            actor=person(user),
            at=timezone.now(),
            details={"message": str(exc), "data": submission},
        )
        raise
    task.status, task.completed_at = HumanTask.Status.COMPLETED, done.at
    task.completed_by, task.data = person(user), submission
    return task


def _take_declared_fields(variables: dict, schema: dict, submission: dict) -> None:
    """The fields the form declares hold what was submitted this time, whole: one left empty is
    unset and a nested part replaced, not merged with what an earlier pass of a loop left (a
    summary sent back for rework must not keep the "nothing to report" note of a part it now
    fills). Fields the form does not declare merge as before."""
    for name in schema.get("properties", {}):
        variables.pop(name, None)


def _bounded(data: Any) -> Any:
    """The submission, if it is plain data within the engine's limits; field errors otherwise."""
    try:
        check_data(data, data_limits())
    except DataRefused as exc:
        raise forms.FormValidationError({exc.path: [exc.reason]}) from None
    return data


def refusal(exc: BaseException) -> str | None:
    """The diagram's own message when a post-script called `refuse(...)`."""
    while exc is not None:
        if isinstance(exc, SubmissionRefused):
            return str(exc)
        exc = exc.__cause__ or exc.__context__
    return None
