"""Moving running instances to another version of their process model (a programme runs for years;
its diagram changes under it), and the records pinned to a version with them.

First a dry run (`plan_migration`) says for each unfinished instance whether it can move and why
not, changing nothing; then `migrate_instance` moves one - under its family's lock, checked again
there, in its own transaction, recorded in its audit trail - and `migrate_instances` moves several,
each on its own. What may move is decided in `workflows.spec_migration`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.util.diff import SpecDiff

from workflows import assignment, pins, projections, runtime, store
from workflows.actors import is_system, person, require_actor
from workflows.exceptions import ConcurrentUpdate, InstanceNotActive, MigrationRefused, NotAllowed
from workflows.models import AuditEvent, HumanTask, ProcessInstance, ProcessVersion, TaskDraft, Wait
from workflows.serialization import SERIALIZER
from workflows.spec_migration import MigrationFailed, assess, migrate

logger = logging.getLogger("workflows")

MIGRATE_PERMISSION = "workflows.manage_processinstance"
VIEW_PERMISSION = "workflows.view_processversion"

UNFINISHED_STATUSES = (
    ProcessInstance.Status.RUNNING,
    ProcessInstance.Status.WAITING,
    ProcessInstance.Status.SUSPENDED,
    ProcessInstance.Status.ERROR,
)


def check_may_migrate(user: Any) -> None:
    require_actor(user)
    if not (is_system(user) or user.has_perm(MIGRATE_PERMISSION)):
        raise NotAllowed(_("Only coordinators can move process instances to another version."))


def check_may_plan(user: Any) -> None:
    require_actor(user)
    if not (is_system(user) or user.has_perm(MIGRATE_PERMISSION) or user.has_perm(VIEW_PERMISSION)):
        raise NotAllowed(_("You are not allowed to see process versions."))


def check_versions(source: ProcessVersion, target: ProcessVersion) -> None:
    """Instances move only between two different versions of the same process model."""
    if source.model_id != target.model_id:
        raise MigrationRefused(_("Instances can only move between versions of the same process model."))
    if source.pk == target.pk:
        raise MigrationRefused(
            _("The instance already runs on version %(number)s.") % {"number": target.number}
        )


# --- the dry run ----------------------------------------------------------------------------


@dataclass(frozen=True)
class InstanceCheck:
    """One unfinished instance in a dry run: where it waits, and whether it can move."""

    instance_id: int
    business_key: str
    status: str
    revision: int
    waiting: list[tuple[str, str]]  # (BPMN id, name) of the elements it waits at
    reasons: list[str]  # why it cannot move; empty if it can

    @property
    def movable(self) -> bool:
        return not self.reasons

    @property
    def status_label(self) -> str:
        return str(ProcessInstance.Status(self.status).label)


@dataclass(frozen=True)
class ElementChanges:
    """The elements of the main process that the target version added, removed or changed."""

    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class MigrationPlan:
    source: ProcessVersion
    target: ProcessVersion
    checks: list[InstanceCheck]
    changes: ElementChanges

    @property
    def movable(self) -> list[InstanceCheck]:
        return [check for check in self.checks if check.movable]


def plan_migration(
    *,
    from_version: ProcessVersion,
    to_version: ProcessVersion,
    user: Any,
    instance_ids: list[int] | None = None,
) -> MigrationPlan:
    """For every unfinished instance of `from_version` (or those of `instance_ids`), whether it can
    move to `to_version` and why not. Changes nothing."""
    check_may_plan(user)
    check_versions(from_version, to_version)
    instances = (
        ProcessInstance.objects.filter(version=from_version, status__in=UNFINISHED_STATUSES)
        .select_related("version")
        .defer("version__spec")
        .order_by("pk")
    )
    if instance_ids is not None:
        instances = instances.filter(pk__in=instance_ids)
    target = runtime.specs_for(to_version)
    checks = [check_instance(instance, to_version, target) for instance in instances]
    return MigrationPlan(from_version, to_version, checks, _element_changes(from_version, to_version))


def check_instance(instance: ProcessInstance, to_version: ProcessVersion, target=None) -> InstanceCheck:
    """Whether `instance` can move to `to_version` now, read without its lock. Changes nothing."""
    target = target or runtime.specs_for(to_version)
    reasons: list[str] = []
    waiting: list[tuple[str, str]] = []
    if instance.status == ProcessInstance.Status.ERROR:
        reasons.append(_("It is in error: retry or terminate it first."))
    elif instance.status in ProcessInstance.ENDED_STATUSES:
        reasons.append(_("It has ended."))
    else:
        session = runtime.open_session(instance, actor=None)
        assessment = assess(session.workflow, target)
        waiting = assessment.waiting
        reasons = [obstacle.describe() for obstacle in assessment.obstacles]
        if not reasons:
            # The move itself, on this copy in memory (never saved): what it would fail on shows now.
            try:
                migrate(session.workflow, target, assessment)
            except MigrationFailed:
                reasons.append(_("Its tasks could not be placed on the new version."))
    return InstanceCheck(
        instance_id=instance.pk,
        business_key=instance.business_key,
        status=instance.status,
        revision=instance.revision,
        waiting=waiting,
        reasons=reasons,
    )


def _element_changes(source: ProcessVersion, target: ProcessVersion) -> ElementChanges:
    diff = SpecDiff(SERIALIZER.registry, runtime.specs_for(source).spec, runtime.specs_for(target).spec)

    def named(specs) -> list[tuple[str, str]]:
        return sorted({(s.bpmn_id, s.bpmn_name or s.bpmn_id) for s in specs if getattr(s, "bpmn_id", None)})

    return ElementChanges(added=named(diff.added), removed=named(diff.removed), changed=named(diff.changed))


# --- moving ---------------------------------------------------------------------------------


def migrate_instance(
    *,
    instance_id: int,
    to_version: ProcessVersion,
    user: Any,
    reason: str = "",
    revision: int | None = None,
) -> ProcessInstance:
    """Move one instance to `to_version`, keeping its open tasks (assignee, claim, drafts, due
    date) and its timers' due times where their elements did not change. With `revision` (from a
    dry run), refuse if the instance changed since. Raises MigrationRefused with the reasons, and
    changes nothing then."""
    check_may_migrate(user)
    with transaction.atomic():
        instance = runtime.lock_instance(instance_id)
        source = ProcessVersion.objects.only("id", "model_id", "number").get(pk=instance.version_id)
        check_versions(source, to_version)
        if revision is not None and instance.revision != revision:
            raise ConcurrentUpdate(
                _("Instance #%(id)s changed since the dry run; run it again.") % {"id": instance.pk}
            )
        if instance.status in ProcessInstance.ENDED_STATUSES:
            raise InstanceNotActive(_("The instance has already ended."))
        if instance.status == ProcessInstance.Status.ERROR:
            raise MigrationRefused(_("The instance is in error: retry or terminate it first."))
        session = runtime.open_session(instance, actor=user)
        assessment = assess(session.workflow, runtime.specs_for(to_version))
        if not assessment.movable:
            raise MigrationRefused(" ".join(obstacle.describe() for obstacle in assessment.obstacles))
        try:
            migrate(session.workflow, runtime.specs_for(to_version), assessment)
        except MigrationFailed:
            logger.exception("Instance #%s could not move to version %s", instance.pk, to_version.pk)
            raise MigrationRefused(
                _("The instance's tasks could not be placed on version %(number)s.")
                % {"number": to_version.number}
            ) from None
        session.record(
            AuditEvent.Kind.MIGRATED,
            from_version=source.number,
            to_version=to_version.number,
            reason=reason,
        )
        session.events[-1]["version"] = to_version.pk
        keep_status = instance.status if instance.status == ProcessInstance.Status.SUSPENDED else None
        before = session.before
        runtime.save(session, status=keep_status)
        ProcessInstance.objects.filter(pk=instance.pk).update(version=to_version)
        # Where it waits now, it waits on the new version; its ended waits stay on the old one.
        Wait.objects.filter(instance_id=instance.pk, ended_at=None).update(version=to_version)
        instance.version = to_version
        _carry_over_tasks(instance, before.human, session.before.human)
    return instance


def _carry_over_tasks(instance: ProcessInstance, before: dict, after: dict) -> None:
    """Bring the open task rows in line with the new version's elements, keeping who works them."""
    for task_id, task in after.items():
        if task_id in before:
            _describe_again(task_id, task)
    # SpiffWorkflow resets a waiting task in place, so ids survive; should one not, its successor
    # of the same element inherits the person, claim, due date, drafts and time waited.
    gone = {task.task_spec.bpmn_id: task_id for task_id, task in before.items() if task_id not in after}
    for task_id, task in after.items():
        old_id = gone.get(task.task_spec.bpmn_id)
        if task_id in before or old_id is None:
            continue
        old = (
            HumanTask.objects.filter(pk=old_id)
            .values("assignee", "claimed_by", "claimed_at", "due_at", "created_at")
            .first()
        )
        if old is None:
            continue
        HumanTask.objects.filter(pk=task_id).update(
            assignee_id=old["assignee"],
            claimed_by_id=old["claimed_by"],
            claimed_at=old["claimed_at"],
            due_at=old["due_at"],
        )
        TaskDraft.objects.filter(task_id=old_id).update(task_id=task_id)
        # The instance still waits there as it did: since the old task opened.
        Wait.objects.filter(instance_id=instance.pk, task_id=task_id, ended_at=None).update(
            started_at=old["created_at"]
        )


def _describe_again(task_id: uuid.UUID, task) -> None:
    """The row's name, lane, form and instructions as the new version describes the task."""
    spec = task.task_spec
    extensions = getattr(spec, "extensions", {}) or {}
    properties = extensions.get("properties", {}) or {}
    values = {
        "name": (spec.bpmn_name or spec.bpmn_id)[:255],
        "lane": (spec.lane or "")[:255],
        "form_file": properties.get(projections.FORM_PROPERTY, "") if isinstance(spec, UserTask) else "",
        "instructions": extensions.get("instructionsForEndUser") or spec.documentation or "",
    }
    row = HumanTask.objects.filter(pk=task_id).values(*values).first()
    if row is None or row == values:
        return
    if row["lane"] != values["lane"]:
        role = store.role_name(
            candidate_groups=assignment.candidate_groups(properties),
            lane=values["lane"],
            fallback=_fallback_role(),
        )
        values["role"] = Group.objects.filter(name=role).first()
    HumanTask.objects.filter(pk=task_id).update(**values)


def _fallback_role() -> str:
    return settings.WORKFLOWS["FALLBACK_ROLE"]


@dataclass(frozen=True)
class MigrationOutcome:
    instance_id: int
    migrated: bool
    message: str = ""


def migrate_instances(
    *,
    instance_ids: list[int],
    to_version: ProcessVersion,
    user: Any,
    reason: str = "",
    revisions: dict[int, int] | None = None,
) -> list[MigrationOutcome]:
    """Move each of `instance_ids` to `to_version` on its own: one refused (or failing) leaves the
    others moving. Returns each one's outcome, in the order given."""
    check_may_migrate(user)
    outcomes = []
    for instance_id in instance_ids:
        revision = (revisions or {}).get(instance_id)
        try:
            migrate_instance(
                instance_id=instance_id, to_version=to_version, user=user, reason=reason, revision=revision
            )
        except (MigrationRefused, ConcurrentUpdate, InstanceNotActive) as exc:
            outcomes.append(MigrationOutcome(instance_id, False, str(exc)))
        except Exception as exc:  # a fault in one instance must not stop the others
            reference = uuid.uuid4().hex[:12]
            logger.exception("Migrating instance #%s failed (reference %s)", instance_id, reference)
            outcomes.append(
                MigrationOutcome(
                    instance_id,
                    False,
                    _("It failed unexpectedly (%(error)s; reference %(reference)s).")
                    % {"error": type(exc).__name__, "reference": reference},
                )
            )
        else:
            outcomes.append(MigrationOutcome(instance_id, True))
    return outcomes


# --- pinned records -------------------------------------------------------------------------


@transaction.atomic
def repin(*, from_version: ProcessVersion, to_version: ProcessVersion, user: Any) -> int:
    """Move the records pinned to `from_version` (registered in `workflows.pins`, e.g. programmes
    whose enrolments start it) to `to_version`; returns how many moved. Audited on the version."""
    check_may_migrate(user)
    check_versions(from_version, to_version)
    moved: dict[str, list] = {}
    for pin in pins.pins():
        rows = pin.model._default_manager.select_for_update().filter(**{pin.field: from_version.pk})
        ids = list(rows.values_list("pk", flat=True))
        if ids:
            pin.model._default_manager.filter(pk__in=ids).update(**{pin.field: to_version.pk})
            moved[pin.model._meta.label_lower] = ids
    count = sum(len(ids) for ids in moved.values())
    if count:
        AuditEvent.objects.create(
            version=to_version,
            kind=AuditEvent.Kind.REPINNED,
            actor=person(user),
            at=timezone.now(),
            details={"from_version": from_version.number, "to_version": to_version.number, "records": moved},
        )
    return count
