"""The instance monitor: the search, the incidents, an instance's page and the coordinator's actions
on it (retry, suspend, resume, terminate, reassign a task), each with a reason that the audit trail
keeps. The engine's services refuse what may not be done; the refusal middleware answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from console.access import abilities, check_may_see, check_may_view
from console.instance_filters import InstanceFilterForm
from console.pagination import CappedPaginator
from console.selectors.instances import (
    active_user,
    incidents,
    instance_page,
    process_choices,
    search_instances,
)
from workflows.exceptions import InvalidData
from workflows.services import (
    reassign_task,
    resume_instance,
    retry_instance,
    suspend_instance,
    terminate_instance,
)

PAGE_SIZE = 25
REASON_MAX = 500


@require_safe
@login_required
def instance_list(request: HttpRequest) -> HttpResponse:
    check_may_view(request.user)
    form = InstanceFilterForm(request.GET, processes=process_choices())
    page = CappedPaginator(search_instances(**form.search()), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "console/instances/list.html",
        {"form": form, "page": page, "console_tab": "instances"},
    )


@require_safe
@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    check_may_view(request.user)
    page = CappedPaginator(incidents(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "console/instances/incidents.html", {"page": page, "console_tab": "incidents"})


@require_safe
@login_required
def instance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    check_may_view(request.user)
    return render(
        request,
        "console/instances/detail.html",
        {"page": instance_page(pk), "can": abilities(request.user), "console_tab": "instances"},
    )


def _reason(request: HttpRequest) -> str:
    """The reason given with an action: required, so that the audit trail can say why."""
    reason = request.POST.get("reason", "").strip()
    if not reason:
        raise InvalidData(_("Give a reason: the audit trail keeps it with the action."))
    if len(reason) > REASON_MAX:
        raise InvalidData(_("Keep the reason under %(count)s characters.") % {"count": REASON_MAX})
    return reason


def _instance_action(service: Callable[..., Any], done: Any) -> Callable[[HttpRequest, int], HttpResponse]:
    """The view of one action on an instance: `service` does it, `done` (lazy, with `%(status)s`)
    says what became of the instance."""

    @require_POST
    @login_required
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        check_may_see(request.user)
        instance = service(instance_id=pk, user=request.user, reason=_reason(request))
        messages.success(request, str(done) % {"status": instance.get_status_display()})
        return HttpResponseRedirect(reverse("console:instance", args=[pk]))

    return view


retry = _instance_action(retry_instance, gettext_lazy("Retried: the instance is now %(status)s."))
suspend = _instance_action(suspend_instance, gettext_lazy("The instance is now %(status)s."))
resume = _instance_action(resume_instance, gettext_lazy("Resumed: the instance is now %(status)s."))
terminate = _instance_action(terminate_instance, gettext_lazy("The instance is now %(status)s."))


@require_POST
@login_required
def reassign(request: HttpRequest, pk: int, task_id: UUID) -> HttpResponse:
    check_may_see(request.user)
    reason = _reason(request)
    task = reassign_task(
        task_id=task_id, to_user=active_user(request.POST.get("to_user")), user=request.user, reason=reason
    )
    messages.success(
        request,
        _("“%(task)s” is now %(user)s's.") % {"task": task.name, "user": task.assignee.get_username()},
    )
    return HttpResponseRedirect(reverse("console:instance", args=[task.instance_id]))
