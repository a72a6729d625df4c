"""Drafts of task forms: what a person typed into an open task's form, kept until the task is done.

Saved as typed, valid or not (validation is the completion's job), within the engine's data limits;
only by someone who may work the task, and only while it is open. Completing the task removes its
drafts (`complete_task`)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows import access, store
from workflows.actors import is_system, require_actor
from workflows.bounds import DataRefused, check_data, data_limits
from workflows.exceptions import InvalidData, NotFound, TaskNotReady, TaskNotYours
from workflows.models import HumanTask, TaskDraft


def save_draft(*, task_id: UUID | str, user: Any, data: Any) -> TaskDraft:
    """Keep `data` as `user`'s draft of the task's form, replacing their previous one."""
    require_actor(user)
    if is_system(user):
        raise TaskNotYours(_("Only a person keeps drafts."))
    if not isinstance(data, dict):
        raise InvalidData(_("A draft must be a set of fields."))
    try:
        check_data(data, data_limits())
    except DataRefused as exc:
        raise InvalidData(_("The draft is too large to keep: %(reason)s") % {"reason": exc.reason}) from None
    with transaction.atomic():
        # Under the family's lock, so a draft never outlives the task's completion.
        found = store.read_task(task_id, lock=True)
        if found is None:
            raise NotFound(_("No such task."))
        task = found[0]
        if task.status != HumanTask.Status.OPEN:
            raise TaskNotReady(_("This task is no longer open; its form is not kept."))
        if not access.can_work_on(user, task):
            raise TaskNotYours()
        draft, _created = TaskDraft.objects.update_or_create(
            task=task, user=user, defaults={"data": data, "saved_at": timezone.now()}
        )
    return draft


def discard_draft(*, task_id: UUID | str, user: Any) -> None:
    """Forget `user`'s draft of the task, if any."""
    require_actor(user)
    TaskDraft.objects.filter(task_id=task_id, user_id=getattr(user, "pk", None)).delete()
