"""The coordinators' operations page: failed and retried background jobs, a retry button, each
schedule's last successful run and a banner when the worker has stalled. Anyone else: 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from onsite.selectors.operations import operations
from onsite.services.operations import retry_job


@require_safe
@login_required
def operations_page(request: HttpRequest) -> HttpResponse:
    return render(request, "onsite/operations/page.html", {"ops": operations(user=request.user)})


@login_required
@require_POST
def retry(request: HttpRequest, task_id: str) -> HttpResponse:
    job = retry_job(task_id=task_id, acting_user=request.user)
    messages.success(request, _("The job “%(job)s” is queued again.") % {"job": job.name})
    return redirect("operations")
