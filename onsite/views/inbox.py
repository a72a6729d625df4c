"""The task inbox: tabs, filters and pages of tasks, and claiming, releasing and reassigning them
from the list. Each action is a POST that calls one engine service and redirects back to the list
as it was (tab, filters, page); a refusal propagates to `onsite.views.refusals`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy
from django.views.decorators.http import require_GET, require_POST

from onsite.models import Stage
from onsite.selectors.inbox import (
    COMPLETED,
    COUNT_LIMIT,
    MINE,
    OVERDUE,
    POOL,
    TEAM,
    InboxFilters,
    customers_for,
    inbox_processes,
    inbox_tabs,
    inbox_tasks,
    tab_counts,
    team_members,
)
from onsite.views.refusals import next_page
from workflows.access import holds_role
from workflows.models import HumanTask
from workflows.services.tasks import claim_task, may_reassign, reassign_task, release_task

PAGE_SIZE = 25

TAB_LABELS = {
    MINE: gettext_lazy("My tasks"),
    POOL: gettext_lazy("To claim"),
    OVERDUE: gettext_lazy("Overdue"),
    COMPLETED: gettext_lazy("Completed (30 days)"),
    TEAM: gettext_lazy("My team's"),
}


# Django's own wording of a span of time (the same msgids), in words of this project's catalogue:
# 「2 天」 rather than Django's Chinese 「2 日」.
TIME_STRINGS = {
    "year": ngettext_lazy("%(num)d year", "%(num)d years", "num"),
    "month": ngettext_lazy("%(num)d month", "%(num)d months", "num"),
    "week": ngettext_lazy("%(num)d week", "%(num)d weeks", "num"),
    "day": ngettext_lazy("%(num)d day", "%(num)d days", "num"),
    "hour": ngettext_lazy("%(num)d hour", "%(num)d hours", "num"),
    "minute": ngettext_lazy("%(num)d minute", "%(num)d minutes", "num"),
}


class InboxFilterForm(forms.Form):
    """The list's filters, read from the query string so a filtered view can be bookmarked."""

    customer = forms.CharField(label=gettext_lazy("Customer"), required=False, max_length=100)
    process = forms.ChoiceField(label=gettext_lazy("Process"), required=False)
    stage = forms.ChoiceField(
        label=gettext_lazy("Stage"),
        required=False,
        choices=[("", gettext_lazy("Any stage")), *Stage.choices],
    )
    due_after = forms.DateField(
        label=gettext_lazy("Due from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    due_before = forms.DateField(
        label=gettext_lazy("Due until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, processes: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["process"].choices = [
            ("", _("Any process")),
            *[(p.process_id, p.name or p.process_id) for p in processes],
        ]
        for name, bound in self.fields.items():
            bound.widget.attrs.setdefault(
                "class", "form-select" if name in ("process", "stage") else "form-control"
            )

    def filters(self) -> InboxFilters:
        """The filters given, less any that could not be read (shown as errors on the form)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return InboxFilters(
            customer=data.get("customer") or "",
            process=data.get("process") or "",
            stage=data.get("stage") or "",
            due_after=data.get("due_after"),
            due_before=data.get("due_before"),
        )


@dataclass
class Row:
    task: HumanTask
    customer: Any
    stage: Any
    process: str
    due: str
    overdue: bool
    assignee: str
    can_claim: bool
    can_release: bool
    candidates: list = field(default_factory=list)


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = request.user
    tabs = inbox_tabs(user=user)
    tab = request.GET.get("tab") or MINE
    if tab not in tabs:
        tab = MINE
    processes = inbox_processes()
    form = InboxFilterForm(request.GET, processes=processes)
    filters = form.filters()
    counts = tab_counts(user=user, filters=filters)
    paginator = Paginator(inbox_tasks(user=user, tab=tab, filters=filters), PAGE_SIZE)
    # Counted already, with the same filter (up to the limit: the pages go no further).
    paginator.count = min(counts[tab], COUNT_LIMIT)
    page = paginator.get_page(request.GET.get("page"))
    customers = customers_for(page.object_list)
    members = team_members(user=user) if TEAM in tabs and may_reassign(user) else []
    now = timezone.now()
    rows = [_row(task, user, customers, members, now) for task in page.object_list]
    return render(
        request,
        "onsite/inbox.html",
        {
            "tab": tab,
            "tabs": [(name, TAB_LABELS[name], counts[name], _count_words(counts[name])) for name in tabs],
            "form": form,
            "filtered": any(form.data.get(name) for name in form.fields),
            "page": page,
            "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
            "ellipsis": page.paginator.ELLIPSIS,
            "rows": rows,
            "completed_tab": tab == COMPLETED,
        },
    )


def _count_words(count: int) -> str:
    return f"{COUNT_LIMIT}+" if count > COUNT_LIMIT else str(count)


def _row(task: HumanTask, user: Any, customers: dict, members: list, now: Any) -> Row:
    customer = customers.get(task.instance.business_key)
    stage = customer.stage if customer is not None else None
    is_open = task.status == HumanTask.Status.OPEN
    overdue = is_open and task.due_at is not None and task.due_at < now
    model = task.instance.version.model
    return Row(
        task=task,
        customer=customer,
        stage=Stage(stage).label if stage in Stage.values else None,
        process=model.name or model.process_id,
        due=_due_words(task, now),
        overdue=overdue,
        assignee=(task.assignee.get_full_name() or task.assignee.username) if task.assignee else "",
        can_claim=is_open and task.assignee_id is None and holds_role(user, task),
        can_release=is_open and task.assignee_id == user.pk,
        candidates=[
            member
            for member in members
            if is_open and task.role_id in member.role_ids and member.pk != task.assignee_id
        ],
    )


def _due_words(task: HumanTask, now: Any) -> str:
    """When the task is (or was) due, or was completed, relative to now: 「2 天后到期」."""
    if task.status == HumanTask.Status.COMPLETED and task.completed_at is not None:
        return _("Completed %(time)s ago") % {
            "time": timesince(task.completed_at, now, time_strings=TIME_STRINGS, depth=1)
        }
    if task.due_at is None:
        return ""
    if task.due_at < now:
        return _("Overdue by %(time)s") % {
            "time": timesince(task.due_at, now, time_strings=TIME_STRINGS, depth=1)
        }
    return _("Due in %(time)s") % {"time": timeuntil(task.due_at, now, time_strings=TIME_STRINGS, depth=1)}


# Each action returns to the list as it was when the button was pressed (`next`); so does a refusal
# (onsite.views.refusals.back_to).


@login_required
@require_POST
def claim(request: HttpRequest, task_id: UUID) -> HttpResponse:
    task = claim_task(task_id=task_id, user=request.user)
    messages.success(request, _("You took the task “%(task)s”.") % {"task": task.name})
    return redirect(next_page(request) or reverse("inbox"))


@login_required
@require_POST
def release(request: HttpRequest, task_id: UUID) -> HttpResponse:
    task = release_task(task_id=task_id, user=request.user)
    messages.success(request, _("You gave the task “%(task)s” back to its role.") % {"task": task.name})
    return redirect(next_page(request) or reverse("inbox"))


@login_required
@require_POST
def reassign(request: HttpRequest, task_id: UUID) -> HttpResponse:
    chosen = request.POST.get("to", "")
    # Only a member of the leader's own team; anyone else is nobody, which the service refuses.
    to_user = next((m for m in team_members(user=request.user) if str(m.pk) == chosen), None)
    task = reassign_task(task_id=task_id, to_user=to_user, user=request.user)
    messages.success(
        request,
        _("The task “%(task)s” now goes to %(person)s.")
        % {"task": task.name, "person": to_user.get_full_name() or to_user.username},
    )
    return redirect(next_page(request) or reverse("inbox"))
