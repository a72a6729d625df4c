"""How the dashboard counts time in the database (`onsite.selectors.dashboard`): the week a moment
falls in, a completion's local date and a request's turnaround give what Python gives for the same
rows, at the edges of local days and weeks, in a zone with one UTC offset and in one that changes
it within the period."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import Avg, Count, F, Q
from django.utils import timezone

from onsite.models import SupportRequest
from onsite.selectors.dashboard import (
    Elapsed,
    Filters,
    LocalDate,
    _support,
    fixed_utc_offset,
    week_number,
    weeks_of,
)
from tests.factories import UserFactory
from tests.onsite.factories import CustomerFactory, SupportRequestFactory

pytestmark = pytest.mark.django_db
START, END = date(2026, 3, 16), date(2026, 4, 12)  # four weeks; Paris changes its clocks on 03-29


def local(day: date, hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute, second, micro))


def requests_at_the_edges() -> list[SupportRequest]:
    """Requests raised and completed on either side of local midnights and week starts."""
    customer = CustomerFactory(account_manager=UserFactory(roles=["account_manager"]))
    rows = []
    for n, (requested, completed, due) in enumerate(
        [
            (
                local(START, 0, 0),
                local(START + timedelta(days=2), 23, 59, 59, 999999),
                START + timedelta(days=2),
            ),
            (local(START, 9), local(START + timedelta(days=3), 0, 0), START + timedelta(days=2)),
            (local(date(2026, 3, 22), 23, 59, 59), local(date(2026, 3, 29), 1, 30), date(2026, 3, 28)),
            (local(date(2026, 3, 23), 0, 0, 0, 1), local(date(2026, 3, 29), 3, 30), date(2026, 3, 29)),
            (local(date(2026, 3, 29), 2, 30), local(date(2026, 4, 1), 12, 0, 0, 250), date(2026, 4, 1)),
            (local(END, 23, 59, 59), None, END),
        ]
    ):
        rows.append(
            SupportRequestFactory(
                customer=customer,
                speciality="network" if n % 2 else "it",
                requested_at=requested,
                completed_at=completed,
                due_date=due,
                status="completed" if completed else "dispatched",
            )
        )
    return rows


@pytest.fixture(params=["Asia/Shanghai", "Europe/Paris"])
def zone(request):
    with timezone.override(request.param):
        yield request.param


def test_the_zone_keeps_one_offset_over_the_period_only_where_it_does(zone):
    offset = fixed_utc_offset(local(START, 0), local(END, 0))

    assert offset == (8 * 3600 if zone == "Asia/Shanghai" else None)


def test_each_moment_is_counted_in_its_local_week(zone):
    rows = requests_at_the_edges()
    weeks = weeks_of(START, END)

    counted = (
        SupportRequest.objects.annotate(week=week_number("requested_at", weeks))
        .values_list("week")
        .annotate(n=Count("*"))
        .order_by()
    )

    expected: dict[date, int] = {}
    for row in rows:
        day = timezone.localdate(row.requested_at)
        expected[day - timedelta(days=day.weekday())] = (
            expected.get(day - timedelta(days=day.weekday()), 0) + 1
        )
    assert {weeks[number]: n for number, n in counted} == expected


def test_a_completion_is_on_time_by_its_local_date_and_its_turnaround_to_the_microsecond(zone):
    rows = requests_at_the_edges()
    between = (local(START, 0), local(END + timedelta(days=1), 0))

    figures = SupportRequest.objects.annotate(
        completed_on=LocalDate("completed_at", between=between)
    ).aggregate(
        on_time=Count("pk", filter=Q(completed_on__lte=F("due_date"))),
        turnaround=Avg(Elapsed("requested_at", "completed_at")),
    )

    done = [row for row in rows if row.completed_at]
    assert figures["on_time"] == sum(timezone.localdate(row.completed_at) <= row.due_date for row in done)
    # Elapsed time (in UTC: Python subtracts two times of one zone by their clocks, across a change).
    total = sum(
        (row.completed_at.astimezone(UTC) - row.requested_at.astimezone(UTC) for row in done), timedelta()
    )
    # An average of microseconds: within one of Python's (the databases round it, Python halves to even).
    assert abs(figures["turnaround"] - total / len(done)) <= timedelta(microseconds=1)


def test_the_support_figures_count_completions_on_time_by_the_local_day_needed(zone):
    rows = requests_at_the_edges()
    reader = UserFactory(roles=["leadership"])

    figures = {
        row.speciality: row
        for row in _support(Filters(start=START, end=END), reader, now=local(END + timedelta(days=30), 12))
    }

    for speciality in ("network", "it"):
        mine = [row for row in rows if row.speciality == speciality]
        done = [row for row in mine if row.completed_at]
        assert figures[speciality].requested == len(mine)
        assert figures[speciality].completed == len(done)
        assert figures[speciality].on_time == sum(
            timezone.localdate(row.completed_at) <= row.due_date for row in done
        )
