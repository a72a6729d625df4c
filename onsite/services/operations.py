"""A coordinator retries a failed background job: the same job (function, arguments, group) enqueued
again after commit, and the retry recorded against the failed one (the admin's history of it, and the
operations page, name who retried it and when). Jobs are idempotent, so a retry — or two — never
does anything twice."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django_q.models import Task
from django_q.tasks import async_task

from onsite.selectors.operations import failed_job

RETRIED = "Retried from the operations page."


@transaction.atomic
def retry_job(*, task_id: str, acting_user: Any) -> Task:
    """Enqueue the failed job `task_id` again; a coordinator's action (anyone else: NotFound)."""
    job = failed_job(user=acting_user, task_id=task_id)
    LogEntry.objects.log_actions(
        user_id=acting_user.pk, queryset=[job], action_flag=CHANGE, change_message=RETRIED, single_object=True
    )
    args, kwargs = tuple(job.args or ()), dict(job.kwargs or {})
    options = {"group": job.group, "hook": job.hook}
    transaction.on_commit(lambda: async_task(job.func, *args, q_options=options, **kwargs))
    return job
