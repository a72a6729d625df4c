"""A reader's visits: as a list (latest planned first) and as a week calendar.

Whose visits: an account manager's own (`account_manager`), a support engineer's the ones they join
(`support_staff`); for anyone else, the visits of the customers they may read (`onsite.access`: a
team leader's team, everyone's for leadership and coordinators). A visit sits in the calendar on the
day it was made, or, not made yet, on the day it is planned. A fixed number of queries, however many
visits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from onsite.access import READ, customer_scope, role_names, scoped
from onsite.exceptions import InvalidInput
from onsite.models import Visit
from onsite.roles import ACCOUNT_MANAGER, SUPPORT_STAFF

DAYS_A_WEEK = 7


def visits_of(user: Any) -> QuerySet:
    """The visits on `user`'s own pages."""
    visits = scoped(Visit.objects.all(), customer_scope(user, to=READ, through="customer"))
    if not getattr(user, "is_authenticated", False):
        return visits.none()
    roles = role_names(user)
    if ACCOUNT_MANAGER in roles:
        return visits.filter(account_manager=user)
    if SUPPORT_STAFF in roles:
        return visits.filter(support_staff=user)
    return visits


def visit_list(*, user: Any, statuses: tuple[str, ...] = ()) -> QuerySet:
    """`user`'s visits, latest planned first, narrowed to `statuses` when given."""
    if isinstance(statuses, str) or not all(isinstance(s, str) for s in statuses):
        raise InvalidInput({"status": [_unknown_status(statuses)]})
    unknown = sorted(set(statuses) - set(Visit.Status.values))
    if unknown:
        raise InvalidInput({"status": [_unknown_status(unknown)]})
    visits = visits_of(user).select_related("customer", "account_manager", "support_staff", "summary")
    if statuses:
        visits = visits.filter(status__in=statuses)
    return visits.order_by("-planned_date", "-pk")


def _unknown_status(codes: Any) -> str:
    return _("Unknown visit status: %(codes)s.") % {"codes": ", ".join(map(str, codes))}


@dataclass(frozen=True)
class Day:
    day: date
    visits: list[Visit]

    @property
    def is_today(self) -> bool:
        return self.day == timezone.localdate()


@dataclass(frozen=True)
class Week:
    start: date  # a Monday
    days: list[Day]

    @property
    def previous(self) -> date:
        return self.start - timedelta(days=DAYS_A_WEEK)

    @property
    def next(self) -> date:
        return self.start + timedelta(days=DAYS_A_WEEK)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=DAYS_A_WEEK - 1)


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def visit_week(*, user: Any, day: date | None = None) -> Week:
    """`user`'s visits in the week (Monday to Sunday) holding `day` (this week by default), each on
    the day it was made or, not made yet, the day it is planned; cancelled ones left out."""
    start = week_start(day or timezone.localdate())
    end = start + timedelta(days=DAYS_A_WEEK)
    zone = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end, time.min, tzinfo=zone)
    visits = (
        visits_of(user)
        .exclude(status=Visit.Status.CANCELLED)
        .filter(
            Q(visited_at__gte=since, visited_at__lt=until)
            | Q(visited_at__isnull=True, planned_date__gte=start, planned_date__lt=end)
        )
        .select_related("customer", "support_staff", "account_manager")
        .order_by("planned_date", "visited_at", "pk")
    )
    by_day: dict[date, list[Visit]] = {start + timedelta(days=n): [] for n in range(DAYS_A_WEEK)}
    for visit in visits:
        on = timezone.localtime(visit.visited_at, zone).date() if visit.visited_at else visit.planned_date
        by_day[on].append(visit)
    return Week(start=start, days=[Day(day=on, visits=found) for on, found in by_day.items()])
