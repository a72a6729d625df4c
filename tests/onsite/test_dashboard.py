"""The dashboard's figures (`onsite.selectors.dashboard`) and the lists behind them
(`onsite.selectors.dashboard_lists`) against values worked out by hand from records built in the
test: each count and sum, each filter, each drill-down list, who may read what, and a constant
number of queries."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from onsite.exceptions import InvalidInput, NotPermitted
from onsite.models import (
    Appraisal,
    IncentiveRecord,
    IncentiveRule,
    Industry,
    Lead,
    Programme,
    Tier,
)
from onsite.selectors.dashboard import ENDED, dashboard, filters_from, weeks_of
from onsite.selectors.dashboard_lists import LISTS, drill_count
from onsite.services.incentives import record_payment
from tests.onsite.dashboard_data import PERIOD, TODAY, D, enrolment, read, rows, visit
from tests.onsite.factories import (
    CustomerFactory,
    LeadFactory,
    SupportRequestFactory,
)
from tests.onsite.flow import at

pytestmark = pytest.mark.django_db


def test_customers_per_stage_count_active_enrolments_by_stage_and_the_ended_apart(world):
    board = read(world["org"].director)

    assert board.stages == {"publicity": 1, "information_gathering": 1, "win_back": 1, ENDED: 1}
    assert board.totals["customers"] == 3


def test_stage_changes_are_counted_in_the_week_they_were_made_by_the_stage_entered(world):
    board = read(world["org"].director)

    assert board.weeks == [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 23)]
    assert [week.counts for week in board.transitions] == [
        {"publicity": 0, "information_gathering": 1, "win_back": 0},
        {"publicity": 0, "information_gathering": 0, "win_back": 1},
        {"publicity": 0, "information_gathering": 0, "win_back": 0},
        {"publicity": 1, "information_gathering": 0, "win_back": 0},
    ]


def test_visits_are_planned_in_the_week_of_their_date_and_made_in_the_week_of_the_visit(world):
    board = read(world["org"].director)

    assert [week.counts for week in board.visits] == [
        {"planned": 1, "done": 1},  # A's, planned 11-03 and made 11-04
        {"planned": 1, "done": 0},  # B's planned 11-10 (made the week after)
        {"planned": 0, "done": 1},  # A's 11-17 was cancelled; B's made 11-18
        {"planned": 2, "done": 1},  # C's 11-24 and E's 11-26, E's made
    ]
    assert (board.totals["planned"], board.totals["done"]) == (4, 3)


def test_summaries_first_submitted_in_the_period_give_the_on_time_and_rework_rates(world):
    summaries = read(world["org"].director).summaries

    assert (summaries.total, summaries.on_time, summaries.late, summaries.reworked) == (3, 2, 1, 1)
    assert summaries.on_time_rate == D(2) / 3
    assert summaries.rework_rate == D(1) / 3


def test_each_filter_narrows_the_customers_figures(world):
    org = world["org"]

    by_region = read(org.director, region=str(org.branch.pk))  # the branch with its county: A, B, C
    assert by_region.stages == {"publicity": 0, "information_gathering": 1, "win_back": 1, ENDED: 1}
    county = read(org.director, region=str(org.county.pk))
    assert county.stages == {"publicity": 0, "information_gathering": 1, "win_back": 0, ENDED: 0}
    assert read(org.director, industry=Industry.EDUCATION).totals["customers"] == 1
    assert read(org.director, tier=Tier.A).stages == {
        "publicity": 1,
        "information_gathering": 0,
        "win_back": 1,
        ENDED: 0,
    }
    assert read(org.director, team=str(world["team_two"].pk)).stages == {
        "publicity": 1,
        "information_gathering": 0,
        "win_back": 0,
        ENDED: 0,
    }
    wu = read(org.director, manager=str(org.other_manager.pk))
    assert wu.stages[ENDED] == 1 and wu.totals["customers"] == 0
    assert wu.totals["planned"] == 1 and wu.totals["done"] == 0


def test_the_sales_funnel_counts_the_leads_created_in_the_period_per_stage(sales):
    board = read(sales["org"].director)
    by_stage = {stage.stage: stage for stage in board.funnel}

    assert by_stage["preparation"].count == 1 and by_stage["preparation"].value == D(100000)
    assert (
        by_stage["solution"].count == 1 and by_stage["won"].count == 1 and by_stage["won"].value == D(250000)
    )
    assert by_stage["sales_visit"].lost == 1 and by_stage["sales_visit"].count == 0
    assert by_stage["preparation"].reached == 4  # every lead made in November passed the first stage
    # The weighted pipeline: each open stage's value times its default win probability.
    assert board.weighted_pipeline == sum(
        (s.weighted for s in board.funnel if s.stage in ("preparation", "solution")), D(0)
    )
    assert board.weighted_pipeline > 0


def test_leads_by_urgency_and_the_leads_won_in_the_period_whenever_made(sales):
    board = read(sales["org"].director)

    assert [(u.urgency, u.count, u.open, u.value) for u in board.urgency] == [
        ("high", 2, 2, D(400000)),
        ("medium", 1, 0, D(0)),
        ("low", 1, 0, D(400000)),
    ]
    won = board.won
    assert (won.count, won.value, won.win_backs, won.win_back_value) == (2, D(300000), 1, D(250000))
    assert won.targets == {"open": 0, "pursued": 1, "declined": 0}


def test_the_lists_behind_the_figures_hold_exactly_the_rows_counted(sales):
    director = sales["org"].director

    assert [r["customer__code"] for r in rows("customers", director, {"stage": "win_back"})] == ["GC-A"]
    assert [r["customer__code"] for r in rows("customers", director, {"stage": ENDED})] == ["GC-C"]
    changes = rows("stage_changes", director, {"stage": "information_gathering", "week": "2026-11-05"})
    assert [r["enrolment__customer__code"] for r in changes] == ["GC-B"]
    planned = rows("visits", director, {"kind": "planned", "week": "2026-11-23"})
    assert sorted(r["customer__code"] for r in planned) == ["GC-C", "GC-E"]
    assert [
        r["customer__code"] for r in rows("visits", director, {"kind": "done", "week": "2026-11-16"})
    ] == ["GC-B"]
    assert [r["visit__customer__code"] for r in rows("summaries", director, {"outcome": "reworked"})] == [
        "GC-B"
    ]
    assert len(rows("summaries", director, {"outcome": "on_time"})) == 2
    assert sorted(r["won_value"] for r in rows("leads", director, {"outcome": "won"})) == [
        D(50000),
        D(250000),
    ]
    assert [r["customer__code"] for r in rows("leads", director, {"outcome": "win_back"})] == ["GC-B"]
    assert len(rows("leads", director, {"urgency": "high"})) == 2
    assert [r["stage"] for r in rows("leads", director, {"stage": "solution"})] == ["solution"]
    assert rows("leads", director, {"stage": "sales_visit"}) == []  # lost there: not in the funnel's count


def test_each_list_counts_for_its_pages_the_rows_it_holds(sales):
    director = sales["org"].director
    filters = filters_from(PERIOD, user=director, today=TODAY)
    held_somewhere = set()
    for name in LISTS:
        for narrow in ({}, {"kind": "done"}, {"outcome": "won"}, {"stage": ENDED}):
            try:
                held = len(rows(name, director, narrow))
            except InvalidInput:  # a part that is not one of this list's figures
                continue
            assert drill_count(name, filters=filters, user=director, narrow=narrow) == held, (name, narrow)
            if held:
                held_somewhere.add(name)
    assert held_somewhere == {"customers", "stage_changes", "visits", "summaries", "leads"}


def test_a_part_that_is_not_one_of_the_figures_is_refused_by_field(world):
    with pytest.raises(InvalidInput) as refused:
        rows("visits", world["org"].director, {"kind": "someday", "week": "next week"})

    assert set(refused.value.errors) == {"kind", "week"}


def test_support_requests_by_speciality_with_their_turnaround(world):
    a = world["A"]
    SupportRequestFactory(
        customer=a,
        speciality="network",
        requested_at=at(2026, 11, 3, 9),
        due_date=date(2026, 11, 6),
        completed_at=at(2026, 11, 5, 9),
        status="completed",
    )
    SupportRequestFactory(
        customer=a,
        speciality="network",
        requested_at=at(2026, 11, 10, 9),
        due_date=date(2026, 11, 11),
        completed_at=at(2026, 11, 14, 9),
        status="completed",
    )
    SupportRequestFactory(customer=a, speciality="solution", requested_at=at(2026, 11, 20, 9))
    SupportRequestFactory(
        customer=a, speciality="solution", requested_at=at(2026, 11, 21, 9), status="cancelled"
    )

    support = {row.speciality: row for row in read(world["org"].director).support}

    network = support["network"]
    assert (network.requested, network.completed, network.on_time) == (2, 2, 1)
    assert network.average_days == D("3.0")  # 2 days and 4 days
    assert (
        support["solution"].requested,
        support["solution"].completed,
        support["solution"].average_days,
    ) == (1, 0, None)
    assert [
        r["completed_at"]
        for r in rows("support", world["org"].director, {"speciality": "network", "outcome": "on_time"})
    ] == [at(2026, 11, 5, 9)]


def test_appraisal_scores_per_team_and_incentives_follow_the_person(world):
    org, feng = world["org"], world["feng"]
    for person, team, score, final in (
        (org.manager, org.team, D(80), None),
        (org.other_manager, org.team, D(90), D(70)),
        (feng, world["team_two"], D(60), None),
    ):
        Appraisal.objects.create(
            person=person,
            team=team,
            role="account_manager",
            period=date(2026, 11, 1),
            status="acknowledged",
            computed_score=score,
            score=score,
            final_score=final,
            created_at=at(2026, 12, 1, 9),
        )
    rule = IncentiveRule.objects.filter(event="lead_won").first() or IncentiveRule.objects.create(
        event="lead_won"
    )
    for person, status, amount in (
        (org.manager, "approved", D(500)),
        (org.manager, "pending", D(100)),
        (feng, "approved", D(300)),
    ):
        IncentiveRecord.objects.create(
            person=person,
            event="lead_won",
            event_key=f"{person.pk}-{status}",
            rule=rule,
            points=D(1),
            amount=amount,
            period=date(2026, 11, 1),
            status=status,
            description="-",
            created_at=at(2026, 11, 30, 9),
        )

    # Team two's approved record paid out; team one's not yet.
    record_payment(
        team=world["team_two"], period=date(2026, 11, 1), reference="2026-11 工资", user=org.coordinator
    )

    board = read(org.director)
    assert [(row.team, row.appraisals, row.average) for row in board.appraisal] == [
        ("政企客户一组", 2, D("75.00")),  # 80 and the coordinator's final 70
        ("政企客户二组", 1, D("60.00")),
    ]
    assert {row.status: (row.count, row.amount) for row in board.incentives} == {
        "pending": (1, D(100)),
        "approved": (2, D(800)),
        "rejected": (0, D(0)),
        "paid": (1, D(300)),
    }
    assert [r["payment_reference"] for r in rows("incentives", org.director, {"status": "paid"})] == [
        "2026-11 工资"
    ]
    one = read(org.director, team=str(org.team.pk))
    assert [row.team for row in one.appraisal] == ["政企客户一组"]
    assert {row.status: row.amount for row in one.incentives}["approved"] == D(500)
    assert read(org.director, region=str(world["wuhu"].pk)).incentives[1].amount == D(300)


def test_a_team_leader_reads_only_the_teams_they_lead(world):
    org = world["org"]

    board = read(org.leader)  # no team named: theirs
    assert board.filters.team == org.team
    assert board.stages == {"publicity": 0, "information_gathering": 1, "win_back": 1, ENDED: 1}
    with pytest.raises(NotPermitted):
        read(org.leader, team=str(world["team_two"].pk))
    with pytest.raises(NotPermitted):
        read(org.leader, manager=str(world["feng"].pk))


def test_managers_and_support_staff_have_no_dashboard(world):
    org = world["org"]
    for user in (org.manager, org.support["network"]):
        with pytest.raises(NotPermitted):
            read(user)


def test_a_coordinator_reads_every_team_like_leadership(world):
    org = world["org"]
    assert read(org.coordinator).stages == read(org.director).stages


def test_the_filters_in_the_address_are_checked(world):
    director = world["org"].director
    with pytest.raises(InvalidInput) as refused:
        filters_from(
            {"start": "2026-11-30", "end": "2026-11-01", "tier": "Z", "region": "999999"}, user=director
        )
    assert set(refused.value.errors) == {"end", "tier", "region"}
    with pytest.raises(InvalidInput):
        filters_from({"start": "2020-01-01", "end": "2026-01-01"}, user=director)
    # Read back from its own address, a view is the same view (a bookmark).
    filters = filters_from({**PERIOD, "tier": "A", "team": str(world["team_two"].pk)}, user=director)
    assert filters_from(filters.as_query(), user=director) == filters


def test_the_default_period_is_the_last_twelve_weeks_from_a_monday(world):
    filters = filters_from({}, user=world["org"].director, today=TODAY)

    assert (filters.start, filters.end) == (date(2026, 9, 14), TODAY)
    assert len(weeks_of(filters.start, filters.end)) == 12


def test_the_dashboard_takes_the_same_number_of_queries_whatever_the_data(sales):
    director = sales["org"].director
    filters = filters_from(PERIOD, user=director, today=TODAY)
    with CaptureQueriesContext(connection) as few:
        dashboard(filters=filters, user=director)
    more = CustomerFactory(region=sales["org"].branch, account_manager=sales["org"].manager)
    programme = Programme.objects.get()
    for n in range(20):
        enrolled = enrolment(programme, CustomerFactory(region=sales["org"].county), "publicity")
        visit(
            enrolled, 1, date(2026, 11, 2) + timedelta(days=n), visited=at(2026, 11, 3, 9) + timedelta(days=n)
        )
        LeadFactory(customer=more, created_at=at(2026, 11, 4, 9), urgency="low")
    with CaptureQueriesContext(connection) as many:
        dashboard(filters=filters, user=director)

    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(few.captured_queries) <= 16
    assert Lead.objects.count() == 25
