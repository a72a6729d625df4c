"""Short-board comparison (短板对比): each account manager of a team against the team median."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone

from onsite.exceptions import InvalidInput, NotPermitted
from onsite.models import Enrolment, Lead, Programme, Stage, Urgency, Visit, VisitSummary
from onsite.selectors.short_board import INDICATOR_LABELS, INDICATORS, LOWER_IS_BETTER, short_board
from tests.factories import UserFactory
from tests.onsite.factories import (
    CustomerFactory,
    LeadFactory,
    StaffProfileFactory,
    TeamFactory,
    VisitSummaryFactory,
    manager_in,
)
from tests.onsite.threshold_values import set_thresholds
from workflows.actors import SYSTEM
from workflows.models import ProcessModel, ProcessVersion

pytestmark = pytest.mark.django_db

START, END = date(2024, 3, 1), date(2024, 4, 1)
LAST_DAY = END - timedelta(days=1)
visit_numbers = count(1)


def local(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute, second)))


def board_for(team, user=SYSTEM):
    return short_board(team=team, start=START, end=END, user=user)


def row_of(board, manager):
    return next(row for row in board.rows if row.manager == manager)


@pytest.fixture
def team():
    return TeamFactory()


@pytest.fixture
def enrolment(team):
    model = ProcessModel.objects.create(process_id="onsite_programme")
    version = ProcessVersion.objects.create(
        model=model, number=1, checksum="x", spec="{}", serializer_version="1"
    )
    programme = Programme.objects.create(
        name="驻点服务",
        region=team.region,
        start_date=date(2024, 1, 1),
        process_version=version,
        coordinator=UserFactory(roles=["coordinator"]),
    )
    return Enrolment.objects.create(
        programme=programme, customer=CustomerFactory(region=team.region), stage=Stage.PUBLICITY
    )


@pytest.fixture
def make_visit(enrolment):
    def make(manager, *, planned: date = START, status=Visit.Status.SCHEDULED, visited_at=None) -> Visit:
        return Visit.objects.create(
            enrolment=enrolment,
            customer=enrolment.customer,
            number=next(visit_numbers),
            stage=Stage.PUBLICITY,
            status=status,
            planned_date=planned,
            visited_at=visited_at,
            account_manager=manager,
        )

    return make


@pytest.fixture
def make_summary(make_visit):
    def make(manager, *, submitted: datetime | None = None, on_time=True, rework_count=0) -> VisitSummary:
        # The visit was planned before the period, so it counts for nothing but its summary.
        visit = make_visit(manager, planned=START - timedelta(days=30), status=Visit.Status.SUMMARISED)
        submitted = submitted or local(START, 10)
        return VisitSummaryFactory(
            visit=visit, submitted_at=submitted, on_time=on_time, rework_count=rework_count
        )

    return make


def lead(manager, *, created: datetime | None = None, **fields) -> Lead:
    customer = CustomerFactory(account_manager=manager)
    created = created or local(START, 10)
    return LeadFactory(customer=customer, urgency=Urgency.MEDIUM, created_at=created, **fields)


def won_lead(manager, *, closed: datetime, win_back=False) -> Lead:
    # Created before the period, so it counts only as won.
    return lead(
        manager,
        created=local(START - timedelta(days=60)),
        status=Lead.Status.WON,
        won_value=Decimal("1000"),
        closed_at=closed,
        win_back=win_back,
    )


# Counting each indicator


def test_counts_visits_planned_from_the_first_day_to_before_the_end_day_except_cancelled(team, make_visit):
    manager = manager_in(team)
    make_visit(manager, planned=START)
    make_visit(manager, planned=LAST_DAY)
    make_visit(manager, planned=START - timedelta(days=1))
    make_visit(manager, planned=END)
    make_visit(manager, planned=START + timedelta(days=3), status=Visit.Status.CANCELLED)
    make_visit(manager_in(team), planned=START)

    assert row_of(board_for(team), manager).values["visits_planned"] == 2


def test_counts_visits_made_by_local_visit_time_within_the_period(team, make_visit):
    manager = manager_in(team)
    make_visit(manager, planned=START - timedelta(days=5), visited_at=local(START))
    make_visit(manager, planned=LAST_DAY, visited_at=local(LAST_DAY, 23, 59, 59))
    make_visit(manager, planned=START - timedelta(days=5), visited_at=local(START) - timedelta(seconds=1))
    make_visit(manager, planned=LAST_DAY, visited_at=local(END))
    make_visit(manager, planned=START + timedelta(days=2))

    values = row_of(board_for(team), manager).values
    assert (values["visits_planned"], values["visits_done"]) == (3, 2)
    assert values["visit_completion_rate"] == Decimal(2) / Decimal(3)


def test_completion_rate_is_none_when_no_visit_was_planned_in_the_period(team, make_visit):
    manager = manager_in(team)
    make_visit(manager, planned=START - timedelta(days=5), visited_at=local(START, 9))

    values = row_of(board_for(team), manager).values
    assert (values["visits_planned"], values["visits_done"], values["visit_completion_rate"]) == (0, 1, None)


def test_summary_rates_count_the_summaries_first_submitted_in_the_period(team, make_summary):
    manager = manager_in(team)
    make_summary(manager, submitted=local(START), on_time=True)
    make_summary(manager, submitted=local(LAST_DAY, 23, 59), on_time=False, rework_count=2)
    make_summary(manager, submitted=local(START, 12), on_time=True, rework_count=1)
    make_summary(manager, submitted=local(START, 13), on_time=True)
    make_summary(manager, submitted=local(END), on_time=False, rework_count=1)
    make_summary(manager, submitted=local(START) - timedelta(seconds=1), on_time=False)
    make_summary(manager_in(team), on_time=False, rework_count=3)

    values = row_of(board_for(team), manager).values
    assert values["summary_on_time_rate"] == Decimal("0.75")
    assert values["rework_rate"] == Decimal("0.5")
    assert (values["visits_planned"], values["visits_done"]) == (0, 0)


def test_summary_rates_are_none_without_summaries_in_the_period(team):
    manager = manager_in(team)

    values = row_of(board_for(team), manager).values
    assert (values["summary_on_time_rate"], values["rework_rate"]) == (None, None)


def test_counts_leads_created_won_and_won_back_by_the_manager_in_the_period(team):
    manager = manager_in(team)
    lead(manager, created=local(START))
    lead(manager, created=local(LAST_DAY, 23, 59))
    lead(manager, created=local(END))
    lead(manager, created=local(START) - timedelta(seconds=1))
    won_lead(manager, closed=local(START))
    won_lead(manager, closed=local(LAST_DAY, 18), win_back=True)
    won_lead(manager, closed=local(END), win_back=True)
    lead(manager, status=Lead.Status.LOST, closed_at=local(START, 12))
    lead(manager_in(team))

    values = row_of(board_for(team), manager).values
    # The lost lead was created in the period: it counts as created, not won.
    assert (values["leads_created"], values["leads_won"], values["win_backs"]) == (3, 2, 1)


def test_a_lead_created_and_won_in_the_period_counts_as_both(team):
    manager = manager_in(team)
    lead(manager, status=Lead.Status.WON, won_value=Decimal(1), closed_at=local(START, 15), win_back=True)

    values = row_of(board_for(team), manager).values
    assert (values["leads_created"], values["leads_won"], values["win_backs"]) == (1, 1, 1)


def test_compares_only_the_account_managers_of_the_team(team):
    second = manager_in(team, last_name="Wang", first_name="B")
    first = manager_in(team, last_name="Wang", first_name="A")
    manager_in(TeamFactory())
    StaffProfileFactory(user=UserFactory(roles=["support_staff"]), team=team)
    UserFactory(roles=["account_manager"])  # no team at all
    manager_in(team, is_active=False)  # left the company

    board = board_for(team)

    assert [row.manager for row in board.rows] == [first, second]
    assert board.indicators == list(INDICATORS)
    assert (board.team, board.start, board.end) == (team, START, END)


def test_every_indicator_has_a_label_and_rework_alone_is_better_lower():
    assert set(INDICATOR_LABELS) == set(INDICATORS)
    assert str(INDICATOR_LABELS["rework_rate"]) == "rework rate"
    assert set(LOWER_IS_BETTER) == {"rework_rate"}


def test_a_team_without_managers_has_no_rows_and_no_medians(team):
    board = board_for(team)

    assert board.rows == []
    assert set(board.medians.values()) == {None}


@pytest.mark.parametrize("start, end", [(END, START), (START, START)])
def test_a_period_that_ends_before_it_starts_is_refused_on_both_dates(team, start, end):
    with pytest.raises(InvalidInput) as refused:
        short_board(team=team, start=start, end=end, user=SYSTEM)

    assert set(refused.value.field_errors) == {"start", "end"}
    assert "must end after it starts" in refused.value.field_errors["end"][0]


@pytest.mark.parametrize(
    "values, fields",
    [
        ({"start": "2024-03-01"}, {"start"}),
        ({"end": None}, {"end"}),
        ({"team": None}, {"team"}),
        ({"start": local(START)}, {"start"}),
        ({"start": "x", "end": 3, "team": "t"}, {"start", "end", "team"}),
    ],
)
def test_a_period_or_team_that_is_not_one_is_refused_with_field_errors(team, values, fields):
    with pytest.raises(InvalidInput) as refused:
        short_board(**{"team": team, "start": START, "end": END, "user": SYSTEM, **values})

    assert set(refused.value.field_errors) == fields


# Who reads it


def test_the_leader_leadership_and_coordinators_read_every_row_and_a_manager_only_their_own(team):
    first, second = manager_in(team, last_name="A"), manager_in(team, last_name="B")
    lead(first)
    for reader in (team.leader, UserFactory(roles=["leadership"]), UserFactory(roles=["coordinator"])):
        assert [row.manager for row in board_for(team, reader).rows] == [first, second]

    board = board_for(team, second)

    assert [row.manager for row in board.rows] == [second]
    # Compared with the whole team all the same: the median of 1 and 0 leads.
    assert board.medians["leads_created"] == Decimal("0.5")


def test_a_manager_or_leader_of_another_team_and_nobody_may_not_read_the_board(team):
    manager_in(team)
    other = TeamFactory()
    for outsider in (manager_in(other), other.leader, UserFactory(roles=["support_staff"]), None):
        with pytest.raises(NotPermitted):
            board_for(team, outsider)


# Medians


def test_median_of_counts_is_the_middle_manager_or_the_mean_of_the_two_middle_ones(team):
    managers = [manager_in(team) for _ in range(3)]
    for manager, leads in zip(managers, (1, 2, 6), strict=True):
        for _ in range(leads):
            lead(manager)

    assert board_for(team).medians["leads_created"] == 2

    fourth = manager_in(team)
    for _ in range(5):
        lead(fourth)

    assert board_for(team).medians["leads_created"] == Decimal("3.5")
    assert board_for(team).medians["leads_won"] == 0


def test_median_of_a_rate_leaves_out_managers_without_a_denominator(team, make_summary):
    managers = [manager_in(team) for _ in range(3)]
    make_summary(managers[0], on_time=True)
    make_summary(managers[1], on_time=False)

    board = board_for(team)

    assert [row_of(board, m).values["summary_on_time_rate"] for m in managers] == [1, 0, None]
    assert board.medians["summary_on_time_rate"] == Decimal("0.5")
    assert board.medians["visit_completion_rate"] is None


# Flags and the weakest indicator


def test_flags_a_count_at_least_the_margin_below_the_median_and_not_one_just_short_of_it(team, settings):
    set_thresholds(SHORT_BOARD_MARGIN_PERCENT=25)
    steady, behind, also_steady = (manager_in(team) for _ in range(3))
    for manager, leads in ((steady, 4), (behind, 3), (also_steady, 4)):
        for _ in range(leads):
            lead(manager)
    lead(manager_in(team))  # median of 1, 3, 4, 4 is 3.5

    board = board_for(team)

    # 3 is 1/7 below 3.5: under the 25% margin.
    assert "leads_created" not in row_of(board, behind).flags

    set_thresholds(SHORT_BOARD_MARGIN_PERCENT=14)
    board = board_for(team)

    assert "leads_created" in row_of(board, behind).flags
    assert "leads_created" not in row_of(board, steady).flags


def test_flags_exactly_the_margin_below_the_median(team, settings):
    set_thresholds(SHORT_BOARD_MARGIN_PERCENT=50)
    first, second, behind = (manager_in(team) for _ in range(3))
    for manager, leads in ((first, 2), (second, 2), (behind, 1)):
        for _ in range(leads):
            lead(manager)

    board = board_for(team)

    assert row_of(board, behind).flags == {"leads_created"}
    assert row_of(board, behind).weakest == "leads_created"
    assert (row_of(board, first).flags, row_of(board, first).weakest) == (set(), None)

    set_thresholds(SHORT_BOARD_MARGIN_PERCENT=51)

    assert row_of(board_for(team), behind).flags == set()


def test_flags_a_completion_rate_exactly_the_margin_below_the_median(team, make_visit):
    # 20% of a median of 1/2 is 1/10: 2 of 5 is flagged exactly at the default margin.
    first, second, behind = (manager_in(team) for _ in range(3))
    for manager, planned, done in ((first, 2, 1), (second, 4, 2), (behind, 5, 2)):
        for n in range(planned):
            make_visit(manager, planned=START, visited_at=local(START, 9) if n < done else None)

    board = board_for(team)

    assert board.medians["visit_completion_rate"] == Decimal("0.5")
    assert "visit_completion_rate" in row_of(board, behind).flags


def test_flags_a_rework_rate_above_the_median_because_lower_is_better(team, make_summary):
    low, middle, high = (manager_in(team) for _ in range(3))
    for manager, reworked in ((low, 0), (middle, 1), (high, 2)):
        for n in range(2):
            make_summary(manager, rework_count=1 if n < reworked else 0)

    board = board_for(team)

    assert board.medians["rework_rate"] == Decimal("0.5")
    assert row_of(board, high).flags == {"rework_rate"}
    assert row_of(board, high).weakest == "rework_rate"
    assert row_of(board, low).flags == set()


def test_any_rework_is_flagged_when_the_team_median_is_none_at_all(team, make_summary):
    first, second, reworked = (manager_in(team) for _ in range(3))
    make_summary(first)
    make_summary(second)
    make_summary(reworked)
    make_summary(reworked)
    make_summary(reworked, rework_count=1)

    board = board_for(team)

    assert board.medians["rework_rate"] == 0
    assert row_of(board, reworked).flags == {"rework_rate"}
    assert row_of(board, first).flags == set()


def test_a_rate_without_a_denominator_is_never_flagged(team, make_summary):
    first, second, silent = (manager_in(team) for _ in range(3))
    make_summary(first, rework_count=1)
    make_summary(second, rework_count=1)

    row = row_of(board_for(team), silent)

    assert row.values["rework_rate"] is None and row.values["summary_on_time_rate"] is None
    assert row.flags == set() and row.weakest is None


def test_no_count_is_flagged_when_the_median_is_zero(team):
    first = manager_in(team)
    manager_in(team)
    manager_in(team)
    lead(first)

    board = board_for(team)

    assert board.medians["leads_created"] == 0
    assert all(row.flags == set() for row in board.rows)


def test_the_weakest_indicator_is_the_flagged_one_furthest_behind_the_median(team):
    first, second, behind = (manager_in(team) for _ in range(3))
    for manager in (first, second):
        for _ in range(4):
            lead(manager)
        won_lead(manager, closed=local(START, 10))
        won_lead(manager, closed=local(START, 11))
    lead(behind)
    lead(behind)  # half the median's leads created
    won_lead(behind, closed=local(START, 10))  # 1 of 2 won: also half behind, but leads_created comes first

    row = row_of(board_for(team), behind)

    assert row.flags == {"leads_created", "leads_won"}
    assert row.weakest == "leads_created"

    Lead.objects.filter(owner=behind, status=Lead.Status.WON).delete()  # none won: 100% behind

    row = row_of(board_for(team), behind)

    assert row.flags == {"leads_created", "leads_won"}
    assert row.weakest == "leads_won"


def test_rework_against_a_median_of_none_is_the_weakest_indicator(team, make_summary):
    first, second, behind = (manager_in(team) for _ in range(3))
    for manager in (first, second):
        make_summary(manager)
        lead(manager)
        lead(manager)
    make_summary(behind, rework_count=1)

    row = row_of(board_for(team), behind)

    assert row.flags == {"rework_rate", "leads_created"}
    assert row.weakest == "rework_rate"


# Queries


def test_the_number_of_queries_does_not_grow_with_the_team(
    team, make_visit, make_summary, django_assert_max_num_queries
):
    def add_manager_with_work():
        manager = manager_in(team)
        make_visit(manager, planned=START, visited_at=local(START, 9))
        make_summary(manager, rework_count=1)
        lead(manager)
        won_lead(manager, closed=local(START, 12), win_back=True)

    # Four queries, and one for the margin in force in the period.
    for _ in range(2):
        add_manager_with_work()
    with django_assert_max_num_queries(5):
        assert len(board_for(team).rows) == 2

    for _ in range(8):
        add_manager_with_work()
    with django_assert_max_num_queries(5):
        board = board_for(team)
    assert len(board.rows) == 10
    assert all(row.values["win_backs"] == 1 for row in board.rows)
