"""What the domain tells whom, event by event (seed 003: a named party told at every hand-over, and
told ahead): a task waiting for a person or their role's pool, a summary sent back for rework, a
deadline missed, support dispatched, a high-urgency lead, an early warning on one's customer.

Each event has a key, so finding it again (a retried job, the next run of a schedule, two clusters)
tells nobody twice. The services that cause an event call these after their transaction commits
(`after_commit`): a rolled-back action tells nobody, a failure here never undoes the action, and a
notice that failed is handed to the worker to give again (`onsite.tasks.give_notice`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from onsite.assignment import speciality_needed, team_leader_of
from onsite.models import (
    Customer,
    Lead,
    Notification,
    NotificationKind,
    StaffProfile,
    SupportRequest,
    Urgency,
    VisitSummary,
)
from onsite.roles import SUPPORT_STAFF
from onsite.services.notifications import notify
from workflows.access import can_work_on
from workflows.models import HumanTask
from workflows.selectors import open_tasks

Kind = NotificationKind
# The diagrams' tasks a notice links to: the summary to rewrite, the support work to do.
SUMMARY_TASK = "Task_write_summary"
HANDLING_TASK = "Task_handle_support"
NOTICE_JOB = "onsite.tasks.give_notice"
logger = logging.getLogger(__name__)


def after_commit(notice: Callable[..., Any], **ids: Any) -> None:
    """Give the notice once the caller's transaction commits (at once outside one). If it fails, it
    is queued as a job that gives it again (retried from the operations page should that fail too);
    the failure is logged, never raised into the action that caused it."""

    def give() -> None:
        try:
            notice(**ids)
        except Exception:
            logger.exception("Notice %s%s failed; queued for the worker", notice.__name__, ids)
            _queue_notice(notice.__name__, ids)

    give.__qualname__ = notice.__qualname__  # named in the log line Django writes when it fails
    transaction.on_commit(give, robust=True)


def give_notice(*, name: str, ids: dict) -> None:
    """Give the notice `name` (one of those `after_commit` gives) again, for the worker."""
    notices = {n.__name__: n for n in (notify_summary_rework, notify_support_dispatched, notify_urgent_leads)}
    notices[name](**ids)


def _queue_notice(name: str, ids: dict) -> None:
    from django_q.tasks import async_task  # reads the settings when imported

    async_task(NOTICE_JOB, name, ids)


def notify_task_waiting(*, task_id: Any) -> None:
    """A task assigned to someone tells them; a task left in its role's pool tells the role's active
    members who may take it (support engineers only of work of their speciality). Once per task and
    assignee."""
    task = (
        HumanTask.objects.select_related("instance", "assignee", "role")
        .filter(pk=task_id, status=HumanTask.Status.OPEN)
        .first()
    )
    if task is None:
        return
    params = {"task": task.name, "customer": _customer_name(task.instance.business_key)}
    link = reverse("task", args=[task.pk])
    if task.assignee_id is not None:
        notify(
            recipients=[task.assignee],
            kind=Kind.TASK_ASSIGNED,
            key=f"{task.pk}:{task.assignee_id}",
            params=params,
            link=link,
        )
        return
    if task.role_id is None:
        return
    members = get_user_model().objects.filter(groups=task.role_id, is_active=True)
    if task.role.name == SUPPORT_STAFF:
        needed = speciality_needed(task.instance_id)
        if needed:
            members = members.filter(staff_profile__speciality=needed)
    notify(
        recipients=[m for m in members if can_work_on(m, task)],
        kind=Kind.TASK_IN_POOL,
        key=str(task.pk),
        params=params,
        link=link,
    )


def notify_summary_rework(*, summary_id: int) -> None:
    """The account manager who wrote the summary, told it was sent back (once per rework round)."""
    record = (
        VisitSummary.objects.select_related("visit__customer", "submitted_by").filter(pk=summary_id).first()
    )
    if record is None or record.status != VisitSummary.Status.REWORK:
        return
    visit = record.visit
    visited = timezone.localdate(visit.visited_at) if visit.visited_at else visit.planned_date
    task = open_tasks(visit.instance_id, SUMMARY_TASK) if visit.instance_id else []
    notify(
        recipients=[record.submitted_by],
        kind=Kind.SUMMARY_REWORK,
        key=f"{record.pk}:{record.rework_count}",
        params={
            "customer": visit.customer.name,
            "date": visited.isoformat(),
            "comment": record.review_comment,
        },
        link=reverse("task", args=[task[0].pk]) if task else reverse("inbox"),
    )


def notify_support_dispatched(*, request_id: int) -> None:
    """The engineer a support request was dispatched to (once per request and engineer)."""
    request = SupportRequest.objects.select_related("customer", "assignee").filter(pk=request_id).first()
    if request is None or request.assignee is None:
        return
    task = open_tasks(request.instance_id, HANDLING_TASK) if request.instance_id else []
    notify(
        recipients=[request.assignee],
        kind=Kind.SUPPORT_DISPATCHED,
        key=f"{request.pk}:{request.assignee_id}",
        params={
            "kind": request.kind,
            "customer": request.customer.name,
            "date": request.due_date.isoformat(),
        },
        link=reverse("task", args=[task[0].pk]) if task else reverse("support_requests"),
    )


def notify_urgent_leads(*, lead_ids: list[int]) -> None:
    """Each high-urgency lead's owner and the owner's team leader (once per lead)."""
    leads = Lead.objects.select_related("customer", "owner").filter(pk__in=lead_ids, urgency=Urgency.HIGH)
    for lead in leads:
        notify(
            recipients=[lead.owner, team_leader_of(lead.owner)],
            kind=Kind.URGENT_LEAD,
            key=str(lead.pk),
            params={
                "customer": lead.customer.name,
                "lead": lead.description,
                "owner": lead.owner.get_full_name() or lead.owner.get_username(),
            },
            link=reverse("customer", args=[lead.customer_id]),
        )


def notify_missed_deadlines(*, now: datetime) -> int:
    """Open tasks past their due time: the assignee and their team leader, once per task and due
    time (a deadline moved later and missed again is a new miss). How many notifications were made."""
    tasks = list(
        HumanTask.objects.filter(status=HumanTask.Status.OPEN, due_at__lt=now, assignee__isnull=False)
        .select_related("instance", "assignee")
        .order_by("due_at")
    )
    keys = {task.pk: f"{task.pk}:{task.due_at.isoformat()}" for task in tasks}
    # Told already: skipped without a query each, so a run every few minutes stays cheap.
    told = set(
        Notification.objects.filter(kind=Kind.DEADLINE_MISSED, key__in=keys.values()).values_list(
            "key", flat=True
        )
    )
    tasks = [task for task in tasks if keys[task.pk] not in told]
    if not tasks:
        return 0
    leaders = dict(
        StaffProfile.objects.filter(user_id__in={t.assignee_id for t in tasks}).values_list(
            "user_id", "team__leader"
        )
    )
    people = get_user_model().objects.in_bulk({pk for pk in leaders.values() if pk is not None})
    customers = dict(
        Customer.objects.filter(code__in={t.instance.business_key for t in tasks}).values_list("code", "name")
    )
    made = 0
    for task in tasks:
        assignee = task.assignee
        leader = people.get(leaders.get(assignee.pk))
        common = {
            "task": task.name,
            "customer": customers.get(task.instance.business_key, ""),
            "assignee": assignee.get_full_name() or assignee.get_username(),
            "due": timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M"),
        }
        made += len(
            notify(
                recipients=[assignee],
                kind=Kind.DEADLINE_MISSED,
                key=keys[task.pk],
                params=common,
                link=reverse("task", args=[task.pk]),
            )
        )
        if leader is not None and leader.pk != assignee.pk:
            made += len(
                notify(
                    recipients=[leader],
                    kind=Kind.DEADLINE_MISSED,
                    key=keys[task.pk],
                    params=common,
                    link=reverse("inbox") + "?tab=team",
                )
            )
    return made


def notify_early_warnings(*, day: date) -> int:
    """Each early warning on a customer, as it stands on `day`: the customer's account manager and
    the person the warning names to act, one notice per warning and day. How many were made."""
    from onsite.selectors.warnings import early_warnings
    from workflows.actors import SYSTEM

    end_of_day = timezone.make_aware(datetime.combine(day, time.max))
    # A person's or a team's target is not a customer's: those are for the desk's warnings page.
    warnings = [
        w for w in early_warnings(user=SYSTEM, now=min(timezone.now(), end_of_day)) if w.customer is not None
    ]
    managers = get_user_model().objects.in_bulk({w.customer.account_manager_id for w in warnings} - {None})
    made = 0
    for warning in warnings:
        customer, related = warning.customer, warning.related
        made += len(
            notify(
                recipients=[managers.get(customer.account_manager_id), warning.person],
                kind=Kind.EARLY_WARNING,
                key=f"{warning.kind}:{related._meta.model_name}:{related.pk}:{day.isoformat()}",
                params={"warning": warning.kind, "customer": customer.name, "params": warning.params},
                link=reverse("customer", args=[customer.pk]),
            )
        )
    return made


def _customer_name(code: str) -> str:
    if not code:
        return ""
    return Customer.objects.filter(code=code).values_list("name", flat=True).first() or ""
