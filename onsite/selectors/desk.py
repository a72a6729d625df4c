"""The team leader's desk as data: the review queue (the open tasks in the team leader's lane for
one team, grouped by what they ask of the leader), the team's overview (the short board, the funnel
and the month's targets against actuals) and the team's early warnings with the task each one
waits on.

A task belongs to a team through the records its process is about: the customer its business key
names (whose account manager is in the team), the team's incentive review, or an appraisal in the
team. Read by whoever may open the team's desk (`onsite.access.desk_team_scope`). A constant number
of queries whatever the number of tasks or warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from onsite.access import check_desk_read, desk_teams
from onsite.exceptions import NotPermitted
from onsite.models import Customer, StaffProfile, Team
from onsite.roles import TEAM_LEADER
from onsite.selectors.appraisals import Figures, month_bounds, team_appraisal_figures
from onsite.selectors.funnel import Funnel, sales_funnel
from onsite.selectors.short_board import ShortBoard, short_board
from onsite.selectors.warnings import EarlyWarning, early_warnings
from workflows.models import HumanTask

# What the leader is asked, by the BPMN ids of the tasks in the team leader's lane; in the order
# the queue shows them. A team-leader task of any other id is listed under OTHER.
SUMMARIES, INCENTIVES, STAGE_REVIEWS, ESCALATIONS, APPRAISALS, OTHER = (
    "summaries",
    "incentives",
    "stage_reviews",
    "escalations",
    "appraisals",
    "other",
)
GROUPS: dict[str, tuple[str, ...]] = {
    SUMMARIES: ("Task_review_summary",),
    INCENTIVES: ("Task_review_incentives",),
    STAGE_REVIEWS: ("Task_stage_review",),
    ESCALATIONS: ("Task_escalate_summary", "Task_escalate_support"),
    APPRAISALS: ("Task_review_appraisal",),
}
_GROUP_OF = {bpmn_id: group for group, ids in GROUPS.items() for bpmn_id in ids}


def desk_team_choices(user: Any) -> list[Team]:
    """The teams whose desk `user` may open, by name: one query."""
    return list(desk_teams(user).select_related("region").order_by("name", "pk"))


def chosen_team(*, user: Any, team_id: Any, choices: list[Team]) -> Team:
    """The team asked for among `choices` (those `desk_team_choices` gave), else the first of them.
    A team the reader may not open, or none at all, is refused (`NotPermitted`) like one that does
    not exist: the reader learns nothing of it."""
    if team_id in (None, ""):
        if not choices:
            raise NotPermitted()
        return choices[0]
    for team in choices:
        if str(team.pk) == str(team_id):
            return team
    raise NotPermitted()


@dataclass(frozen=True)
class QueueItem:
    task: HumanTask
    customer_id: int | None
    customer_code: str
    customer_name: str
    manager: Any  # whose work is reviewed: the visit's or the customer's manager, the person appraised
    overdue: bool


@dataclass(frozen=True)
class QueueGroup:
    code: str
    items: list[QueueItem]

    @property
    def count(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class ReviewQueue:
    team: Team
    groups: list[QueueGroup]

    @property
    def total(self) -> int:
        return sum(group.count for group in self.groups)


def review_queue(*, team: Team, user: Any, now: datetime | None = None) -> ReviewQueue:
    """The team's open team-leader tasks, soonest due first, in `GROUPS` (an `OTHER` group only when
    it has any): three queries besides the access check, whatever the number of tasks."""
    check_desk_read(user, team)
    now = now or timezone.now()
    customer = Customer.objects.filter(code=OuterRef("instance__business_key"))
    team_customers = Customer.objects.filter(account_manager__staff_profile__team=team).values("code")
    tasks = list(
        HumanTask.objects.filter(status=HumanTask.Status.OPEN, role__name=TEAM_LEADER)
        .filter(
            Q(instance__business_key__in=team_customers)
            | Q(instance__incentive_review__team=team)
            | Q(instance__appraisal__team=team)
        )
        .annotate(
            customer_pk=Subquery(customer.values("pk")[:1]),
            customer_name=Subquery(customer.values("name")[:1]),
            manager_pk=Coalesce(
                "instance__visit__account_manager_id",
                "instance__appraisal__person_id",
                Subquery(customer.values("account_manager_id")[:1]),
                output_field=IntegerField(),
            ),
        )
        .select_related("instance", "assignee")
        .only(
            "id",
            "bpmn_id",
            "name",
            "status",
            "due_at",
            "created_at",
            "assignee__username",
            "assignee__first_name",
            "assignee__last_name",
            "instance__business_key",
            "instance__process_id",
        )
        .order_by(F("due_at").asc(nulls_last=True), "created_at", "pk")
    )
    manager_ids = {task.manager_pk for task in tasks} - {None}
    managers = get_user_model().objects.in_bulk(manager_ids) if manager_ids else {}
    grouped: dict[str, list[QueueItem]] = {code: [] for code in (*GROUPS, OTHER)}
    for task in tasks:
        found = task.customer_pk is not None
        grouped[_GROUP_OF.get(task.bpmn_id, OTHER)].append(
            QueueItem(
                task=task,
                customer_id=task.customer_pk,
                customer_code=task.instance.business_key if found else "",
                customer_name=task.customer_name or "",
                manager=managers.get(task.manager_pk),
                overdue=task.due_at is not None and task.due_at < now,
            )
        )
    groups = [QueueGroup(code, items) for code, items in grouped.items() if code != OTHER or items]
    return ReviewQueue(team=team, groups=groups)


@dataclass(frozen=True)
class TeamOverview:
    team: Team
    start: date
    end: date
    board: ShortBoard
    funnel: Funnel
    figures: list[Figures]


def team_overview(*, team: Team, month: date, user: Any) -> TeamOverview:
    """The month of `month` for the team: its managers against the team median, the month's targets
    against actuals; and its funnel as of now (every lead of the team's managers, whenever made)."""
    check_desk_read(user, team)
    start, end = month_bounds(month)
    return TeamOverview(
        team=team,
        start=start,
        end=end,
        board=short_board(team=team, start=start, end=end, user=user),
        funnel=sales_funnel(user=user, team=team),
        figures=team_appraisal_figures(team=team, period=start, user=user),
    )


@dataclass(frozen=True)
class TeamWarning:
    warning: EarlyWarning
    # The open task the warning waits on in its record's process: the acting person's, else one in
    # its role's pool; None when there is none.
    task_id: Any


def team_warnings(*, team: Team, user: Any, now: datetime | None = None) -> list[TeamWarning]:
    """The early warnings `user` reads that concern the team - its members' customers, its members
    and the team itself - in `early_warnings`' order, each with the open task it waits on. Two
    queries besides the warnings' own."""
    check_desk_read(user, team)
    members = set(StaffProfile.objects.filter(team=team).values_list("user_id", flat=True))

    def concerns(warning: EarlyWarning) -> bool:
        if warning.customer is not None:
            return warning.customer.account_manager_id in members
        if isinstance(warning.related, Team):
            return warning.related.pk == team.pk
        return getattr(warning.person, "pk", None) in members

    warnings = [w for w in early_warnings(user=user, now=now) if concerns(w)]
    instance_ids = {_instance_id(w.related) for w in warnings} - {None}
    open_tasks: dict[int, list[tuple[Any, Any]]] = {}
    if instance_ids:
        rows = (
            HumanTask.objects.filter(instance_id__in=instance_ids, status=HumanTask.Status.OPEN)
            .order_by("created_at", "pk")
            .values_list("instance_id", "pk", "assignee_id")
        )
        for instance_id, pk, assignee_id in rows:
            open_tasks.setdefault(instance_id, []).append((pk, assignee_id))

    def task_for(warning: EarlyWarning) -> Any:
        candidates = open_tasks.get(_instance_id(warning.related), [])
        acting = getattr(warning.person, "pk", None)
        # The acting person's own task first, else one still in its role's pool; never someone else's.
        mine = [pk for pk, assignee_id in candidates if assignee_id == acting]
        pooled = [pk for pk, assignee_id in candidates if assignee_id is None]
        return (mine or pooled or [None])[0]

    return [TeamWarning(warning=w, task_id=task_for(w)) for w in warnings]


def _instance_id(record: Any) -> int | None:
    # Visits and support requests run their own process; a lead its follow-up.
    return getattr(record, "instance_id", None) or getattr(record, "follow_up_id", None)
