"""The task inbox: a person's open tasks, their roles' unclaimed ones, the overdue, what they
completed lately and, for a team leader, their team's — each a queryset the page paginates, with
the customers the rows concern read in one query.

Who may work which task is the engine's rule (`workflows.access.task_pools`) less the domain's pool
rule (`onsite.assignment.speciality_admits`, the filter form of the rule `workflows.access.admitted`
asks), so the inbox lists exactly what `claim_task` would allow. Every read is one query whatever
the number of tasks: the page costs the same with five rows or five hundred.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from onsite.access import customers_managed_by, role_names
from onsite.assignment import speciality_admits
from onsite.models import Customer, Enrolment, StaffProfile
from onsite.roles import SUPPORT_STAFF, TEAM_LEADER
from workflows.access import task_pools
from workflows.models import HumanTask, ProcessModel

MINE, POOL, OVERDUE, COMPLETED, TEAM = "mine", "pool", "overdue", "completed", "team"
TABS = (MINE, POOL, OVERDUE, COMPLETED, TEAM)
COMPLETED_DAYS = 30
# Counted no further: nobody reads a thousand tasks one by one, they filter.
COUNT_LIMIT = 999

# What a row shows; never the instance's state nor the version's specs (large texts).
_ROW_FIELDS = (
    "id",
    "instance",
    "bpmn_id",
    "name",
    "role",
    "assignee",
    "status",
    "due_at",
    "created_at",
    "claimed_at",
    "completed_at",
    "instance__business_key",
    "instance__process_id",
    "instance__version",
    "instance__version__model",
    "instance__version__model__name",
    "instance__version__model__process_id",
    "role__name",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
)


@dataclass(frozen=True)
class InboxFilters:
    """What the list is narrowed to: a customer's code or name containing `customer`, a process
    (its process id), a programme stage (its code), due on or after / on or before a date."""

    customer: str = ""
    process: str = ""
    stage: str = ""
    due_after: date | None = None
    due_before: date | None = None


def inbox_tabs(*, user: Any) -> tuple[str, ...]:
    """The tabs `user` has: everyone the first four, a team leader their team's too."""
    if user.is_superuser or TEAM_LEADER in role_names(user):
        return TABS
    return TABS[:-1]


class TaskList:
    """A tab's tasks in list order, sliced a page at a time (what `Paginator` asks of it): one query
    that orders the tasks' ids alone and joins only the page's rows to their instance, process and
    people. Where an index gives the order (one pool on PostgreSQL) the ids come straight from it;
    where it cannot (SQLite's NULLS LAST, a person with several roles) sorting ids is a fraction of
    sorting whole joined rows."""

    def __init__(self, tasks: QuerySet, order: tuple) -> None:
        self.ids = tasks.order_by(*order).values("pk")
        self.order = order

    def __getitem__(self, page: slice) -> list[HumanTask]:
        if not isinstance(page, slice):
            raise TypeError("a task list is read a page (a slice) at a time")
        rows = HumanTask.objects.filter(pk__in=self.ids[page])
        rows = rows.select_related("instance__version__model", "role", "assignee").only(*_ROW_FIELDS)
        return list(rows.order_by(*self.order))


def inbox_tasks(*, user: Any, tab: str, filters: InboxFilters | None = None) -> TaskList:
    """The tasks of one tab, narrowed by `filters`, in the order the page lists them: open ones
    soonest due first (undated last, then oldest), completed ones latest first."""
    if tab not in TABS:
        raise ValueError(f"unknown inbox tab {tab!r}")
    tasks = HumanTask.objects.filter(_tab_filter(user, tab)).filter(_narrowed(filters or InboxFilters()))
    if tab == COMPLETED:
        return TaskList(tasks, ("-completed_at", "-id"))
    return TaskList(tasks, (F("due_at").asc(nulls_last=True), "created_at", "id"))


def tab_counts(*, user: Any, filters: InboxFilters | None = None) -> dict[str, int]:
    """How many tasks each of `user`'s tabs holds, narrowed by `filters`, counted up to
    `COUNT_LIMIT` + 1 (more than the limit reads "999+"): one query per tab, which stops at the
    limit, so a pool of a hundred thousand open tasks is counted as fast as one of a thousand."""
    narrowed = _narrowed(filters or InboxFilters())
    return {
        tab: HumanTask.objects.filter(_tab_filter(user, tab))
        .filter(narrowed)
        .order_by()  # (counted in whatever order the rows come: no sort of the whole tab)
        .values("pk")[: COUNT_LIMIT + 1]
        .count()
        for tab in inbox_tabs(user=user)
    }


def customers_for(tasks: Iterable[HumanTask]) -> dict[str, Customer]:
    """The customers the tasks' processes concern (an instance's business key is its customer's
    code), each with `stage`: the programme stage of its latest enrolment (None if never enrolled).
    One query for all of them. Given only tasks an inbox listed: a task's customer is part of the
    task, so a support engineer sees whom pool work is for before taking it."""
    codes = {task.instance.business_key for task in tasks if task.instance.business_key}
    if not codes:
        return {}
    found = Customer.objects.filter(code__in=codes).annotate(stage=_latest_stage()).only("code", "name")
    return {customer.code: customer for customer in found}


def inbox_processes() -> list[ProcessModel]:
    """The processes a task can belong to, for the process filter."""
    return list(ProcessModel.objects.only("process_id", "name").order_by("process_id"))


def team_members(*, user: Any) -> list[Any]:
    """The active members of the teams `user` leads, each with `role_ids` (their roles' ids): whom
    a team leader may give a task to (`reassign_task` still checks the role). Two queries."""
    User = get_user_model()
    members = (
        User.objects.filter(
            is_active=True,
            pk__in=StaffProfile.objects.filter(team__leader=user, team__isnull=False).values("user_id"),
        )
        .only("username", "first_name", "last_name")
        .prefetch_related(Prefetch("groups", to_attr="roles"))
        .order_by("username")
    )
    found = list(members)
    for member in found:
        member.role_ids = {role.pk for role in member.roles}
    return found


def _tab_filter(user: Any, tab: str) -> Q:
    if tab == MINE:
        return Q(status=HumanTask.Status.OPEN, assignee_id=user.pk)
    if tab == POOL:
        return Q(status=HumanTask.Status.OPEN) & _pool(user)
    if tab == OVERDUE:
        return Q(status=HumanTask.Status.OPEN, due_at__lt=timezone.now()) & (
            Q(assignee_id=user.pk) | _pool(user)
        )
    if tab == COMPLETED:
        since = timezone.now() - timedelta(days=COMPLETED_DAYS)
        return Q(status=HumanTask.Status.COMPLETED, completed_by_id=user.pk, completed_at__gte=since)
    if tab == TEAM:
        return Q(status=HumanTask.Status.OPEN) & _team(user)
    raise ValueError(f"unknown inbox tab {tab!r}")


def _pool(user: Any) -> Q:
    """The unassigned tasks `user` may claim: the engine's pools other than their own tasks, less
    the ones the domain's pool rule keeps from them (`workflows.access.admitted`)."""
    if not user.is_active:
        return Q(pk__in=[])
    pools = [pool for pool in task_pools(user) if pool.get("assignee_id", 0) is None]
    if not pools:
        return Q(pk__in=[])
    combined = Q(pk__in=[])
    for pool in pools:
        combined |= Q(**pool)
    if user.is_superuser or SUPPORT_STAFF not in role_names(user):
        return combined  # the speciality rule judges support staff only (and never a superuser)
    return combined & speciality_admits(user)


def _team(user: Any) -> Q:
    """A team leader's team's work: the tasks held by the members of the teams they lead (not by
    themselves), and the unclaimed ones of the customers those members look after."""
    members = StaffProfile.objects.filter(team__leader=user, team__isnull=False).exclude(user=user)
    held = Q(assignee_id__in=members.values("user_id"))
    unclaimed = Q(
        assignee__isnull=True,
        instance__business_key__in=customers_managed_by(user).exclude(account_manager=None).values("code"),
    )
    if user.is_superuser:
        return held  # (a superuser "manages" every customer: the pool tab lists those)
    return held | unclaimed


def _narrowed(filters: InboxFilters) -> Q:
    narrowed = Q()
    if filters.customer:
        text = filters.customer.strip()
        named = Customer.objects.filter(Q(name__icontains=text) | Q(code__icontains=text)).values("code")
        narrowed &= Q(instance__business_key__icontains=text) | Q(instance__business_key__in=named)
    if filters.process:
        narrowed &= Q(instance__process_id=filters.process)
    if filters.stage:
        staged = Customer.objects.annotate(stage=_latest_stage()).filter(stage=filters.stage).values("code")
        narrowed &= Q(instance__business_key__in=staged)
    if filters.due_after:
        narrowed &= Q(due_at__date__gte=filters.due_after)
    if filters.due_before:
        narrowed &= Q(due_at__date__lte=filters.due_before)
    return narrowed


def _latest_stage() -> Subquery:
    # One active enrolment per customer at most; a customer whose programme ended keeps its last stage.
    latest = Enrolment.objects.filter(customer=OuterRef("pk")).order_by(
        F("ended_at").desc(nulls_first=True), "-enrolled_at", "-pk"
    )
    return Subquery(latest.values("stage")[:1])
