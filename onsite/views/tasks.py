"""A task's page: its form rendered from the task's JSON Schema, completed, saved as a draft (by the
button and automatically while typing), and the customer's briefing beside it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from onsite.exceptions import NotPermitted
from onsite.selectors.task_page import TaskPage, task_page
from onsite.views.refusals import form_errors
from workflows.exceptions import FormValidationError, TaskRejected
from workflows.forms import apply_row_action, render_form, row_action, submission_from_post
from workflows.models import HumanTask
from workflows.services import check_open, complete_task, save_draft

# Refusals about what was submitted: shown on the form, everything typed kept.
SUBMISSION_REFUSALS = (FormValidationError, TaskRejected)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def task(request: HttpRequest, task_id: Any) -> HttpResponse:
    page = task_page(task_id, user=request.user)
    if request.method != "POST":
        data = page.draft.data if page.draft else (page.task.data or page.previous or {})
        return _render(request, page, data, {})
    if not page.may_work:
        # Done or cancelled meanwhile: the engine says by whom and when (a message, back here).
        check_open(page.task)
        raise NotPermitted()
    data = submission_from_post(page.schema, request.POST)
    if "_save_draft" in request.POST:
        save_draft(task_id=page.task.pk, user=request.user, data=data)
        messages.success(request, _("Draft saved."))
        return redirect("task", task_id=page.task.pk)
    action = row_action(request.POST)
    if action is not None:
        data = apply_row_action(data, action, schema=page.schema)
        save_draft(task_id=page.task.pk, user=request.user, data=data)
        return _render(request, page, data, {})
    try:
        complete_task(task_id=page.task.pk, data=data, user=request.user)
    except SUBMISSION_REFUSALS as refusal:
        save_draft(task_id=page.task.pk, user=request.user, data=data)
        return _render(request, page, data, form_errors(refusal), status=200)
    messages.success(request, _("Done: %(task)s.") % {"task": page.task.name})
    return redirect("home")


@login_required
@require_POST
def autosave(request: HttpRequest, task_id: Any) -> HttpResponse:
    """htmx: keep what is typed so far as the person's draft; answer with the draft's status line."""
    page = task_page(task_id, user=request.user)
    if not page.may_work:
        raise NotPermitted()
    draft = save_draft(
        task_id=page.task.pk, user=request.user, data=submission_from_post(page.schema, request.POST)
    )
    return render(request, "onsite/tasks/_draft_status.html", {"draft": draft})


def _render(
    request: HttpRequest, page: TaskPage, data: dict, errors: dict, status: int = 200
) -> HttpResponse:
    form = render_form(page.schema, data, errors, language=get_language())
    context = {
        "page": page,
        "task": page.task,
        "form": form,
        "open": page.task.status == HumanTask.Status.OPEN,
        "overdue": page.task.due_at is not None and page.task.due_at < timezone.now(),
    }
    return render(request, "onsite/tasks/task.html", context, status=status)
