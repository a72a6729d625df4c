"""Monthly appraisal (绩效考核): indicators measured from the records, targets and weights making a
score with its breakdown, the appraisal process with its history, the team leader's appraisal on
the team's results, and the final score on the incentive statement. Every figure is hand-computed
from the rows the test builds."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onsite.exceptions import InvalidInput, NotPermitted
from onsite.models import (
    Appraisal,
    AppraisalTarget,
    AppraisedRole,
    Enrolment,
    FunnelStage,
    FunnelStageSetting,
    IncentiveRecord,
    IncentiveRule,
    Lead,
    LeadStageMove,
    Programme,
    Stage,
    SupportRequest,
    ThresholdVersion,
    Urgency,
    Visit,
    VisitSummary,
)
from onsite.selectors.appraisal_indicators import INDICATORS, measure, value_of
from onsite.selectors.appraisals import appraisal_record, figures_for, team_appraisal_figures
from onsite.selectors.incentives import incentive_statement
from onsite.services.appraisals import generate_appraisals, set_appraisal_targets
from onsite.services.thresholds import change_thresholds
from tests.factories import UserFactory
from tests.onsite.factories import (
    CustomerFactory,
    LeadFactory,
    LeadStageMoveFactory,
    StaffProfileFactory,
    TeamFactory,
    VisitSummaryFactory,
    manager_in,
    support_engineer,
)
from tests.onsite.flow import open_task, refreshed
from workflows.actors import SYSTEM
from workflows.exceptions import FormValidationError, TaskNotYours, TaskRejected
from workflows.models import HumanTask, ProcessInstance, ProcessModel, ProcessVersion
from workflows.services import complete_task

pytestmark = pytest.mark.django_db

START, END = date(2024, 3, 1), date(2024, 4, 1)
# A month that has ended, for the process: appraisals are generated once their month is over.
OCTOBER = date(2026, 10, 1)
visit_numbers = count(1)


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def values_of(person, codes=tuple(INDICATORS)) -> dict:
    tallies = measure(person_ids=[person.pk], start=START, end=END, codes=codes)[person.pk]
    return {code: value_of(code, tally) for code, tally in tallies.items()}


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
    def make(manager, *, customer=None, scheduled=START, visited_at=None, support_staff=None) -> Visit:
        return Visit.objects.create(
            enrolment=enrolment,
            customer=customer or enrolment.customer,
            number=next(visit_numbers),
            stage=Stage.PUBLICITY,
            status=Visit.Status.VISITED if visited_at else Visit.Status.SCHEDULED,
            scheduled_date=scheduled,
            planned_date=scheduled,
            visited_at=visited_at,
            account_manager=manager,
            support_staff=support_staff,
        )

    return make


@pytest.fixture
def make_summary(make_visit):
    def make(manager, *, submitted: datetime, on_time=True, rework_count=0) -> VisitSummary:
        # Planned and made before the period: it counts for nothing but its summary.
        visit = make_visit(manager, scheduled=START - timedelta(days=30))
        return VisitSummaryFactory(
            visit=visit, submitted_at=submitted, on_time=on_time, rework_count=rework_count
        )

    return make


def won_lead(customer, *, closed: datetime, value: str, win_back=False, status=Lead.Status.WON) -> Lead:
    return LeadFactory(
        customer=customer,
        urgency=Urgency.MEDIUM,
        created_at=local(START - timedelta(days=60)),
        status=status,
        won_value=Decimal(value) if status == Lead.Status.WON else None,
        closed_at=closed,
        win_back=win_back,
    )


def support_done(engineer, *, due: date, completed: datetime) -> SupportRequest:
    return SupportRequest.objects.create(
        customer=CustomerFactory(),
        kind=SupportRequest.Kind.SOLUTION,
        speciality="solution",
        description="方案",
        due_date=due,
        status=SupportRequest.Status.COMPLETED,
        requested_by=UserFactory(roles=["account_manager"]),
        requested_at=local(due - timedelta(days=10)),
        assignee=engineer,
        completed_by=engineer,
        completed_at=completed,
    )


@pytest.fixture
def month_of_work(team, make_visit, make_summary):
    """One account manager's and one support engineer's March 2024, with what falls outside it."""
    manager, other = manager_in(team), manager_in(team)
    engineer = support_engineer("solution", team.region, team)
    owned = [CustomerFactory(account_manager=manager) for _ in range(4)]
    # Visits: made as planned (a day late is within the tolerance), made late, made in February,
    # another manager's; the manager also visits a customer they do not look after.
    make_visit(manager, customer=owned[0], scheduled=date(2024, 3, 5), visited_at=local(date(2024, 3, 6), 10))
    make_visit(
        manager,
        customer=owned[0],
        scheduled=date(2024, 3, 10),
        visited_at=local(date(2024, 3, 15), 10),
        support_staff=engineer,
    )
    make_visit(
        manager,
        customer=owned[1],
        scheduled=date(2024, 3, 20),
        visited_at=local(date(2024, 3, 27), 10),
        support_staff=engineer,
    )
    make_visit(
        manager, customer=owned[2], scheduled=date(2024, 2, 20), visited_at=local(date(2024, 2, 20), 10)
    )
    make_visit(
        manager, customer=CustomerFactory(), scheduled=date(2024, 3, 8), visited_at=local(date(2024, 3, 8))
    )
    make_visit(other, customer=owned[3], scheduled=date(2024, 3, 5), visited_at=local(date(2024, 3, 5), 10))
    # Summaries first submitted in March: 3 on time and 1 late, 1 of them reworked; one in February.
    for day, on_time, rework in ((2, True, 0), (9, True, 1), (16, True, 0), (23, False, 0)):
        make_summary(manager, submitted=local(date(2024, 3, day), 9), on_time=on_time, rework_count=rework)
    make_summary(manager, submitted=local(date(2024, 2, 28), 9), rework_count=2)
    # Leads: two created in March, one in February; won in March 30,000 + 20,000.50 (a win-back);
    # won in April and lost in March count for nothing.
    # (All on the manager's own customers, so their coverage stays 2 of 4.)
    for created in (
        local(date(2024, 3, 3), 9),
        local(date(2024, 3, 31), 23, 59),
        local(date(2024, 2, 29), 9),
    ):
        LeadFactory(customer=owned[2], created_at=created)
    won_lead(owned[2], closed=local(date(2024, 3, 12), 15), value="30000")
    won_lead(owned[3], closed=local(date(2024, 3, 30), 15), value="20000.50", win_back=True)
    won_lead(owned[3], closed=local(date(2024, 4, 1), 0), value="99999")
    won_lead(owned[3], closed=local(date(2024, 3, 20), 15), value="0", status=Lead.Status.LOST)
    # Support: due 10 March done at 17:00 (on time, due 18:00) and at 19:00 (late), due 20 March
    # done on the 12th; one done in February.
    support_done(engineer, due=date(2024, 3, 10), completed=local(date(2024, 3, 10), 17))
    support_done(engineer, due=date(2024, 3, 10), completed=local(date(2024, 3, 10), 19))
    support_done(engineer, due=date(2024, 3, 20), completed=local(date(2024, 3, 12), 9))
    support_done(engineer, due=date(2024, 2, 20), completed=local(date(2024, 2, 20), 9))
    return manager, engineer


# --- the indicators -------------------------------------------------------------------------------


def test_each_account_manager_indicator_is_measured_from_the_months_records(month_of_work):
    manager, _engineer = month_of_work
    assert values_of(manager) == {
        "visits_as_planned": Decimal(2),  # 6 March (a day late: within the tolerance) and 8 March
        "summary_on_time_rate": Decimal("0.7500"),  # 3 of 4
        "rework_rate": Decimal("0.2500"),  # 1 of 4
        "leads_created": Decimal(2),
        "pipeline_value_moved": Decimal("0.00"),  # no lead moved a stage
        "won_value": Decimal("50000.50"),
        "win_backs": Decimal(1),
        "customer_coverage": Decimal("0.5000"),  # owned[0] and owned[1] of 4
        "support_on_time_rate": None,
        "support_completed": Decimal(0),
        "visits_supported": Decimal(0),
    }


def test_each_support_engineer_indicator_is_measured_from_the_months_records(month_of_work):
    _manager, engineer = month_of_work
    values = values_of(engineer, ("support_on_time_rate", "support_completed", "visits_supported"))
    assert values == {
        "support_on_time_rate": Decimal("0.6667"),  # 2 of 3
        "support_completed": Decimal(3),
        "visits_supported": Decimal(2),
    }


def move(lead, from_stage, to_stage, at, value) -> LeadStageMove:
    return LeadStageMoveFactory(
        lead=lead,
        from_stage=from_stage,
        to_stage=to_stage,
        at=at,
        expected_value=None if value is None else Decimal(value),
    )


def test_pipeline_value_moved_is_the_weighted_pipeline_each_owner_added_by_moving_leads_forward(team):
    manager, other = manager_in(team), manager_in(team)
    customer, theirs = CustomerFactory(account_manager=manager), CustomerFactory(account_manager=other)
    # The coordinator rates the solution stage 80% (default 70%); the others keep their defaults:
    # preparation 5, customer profile 10, sales visit 30, pain points 50, entry point 20, won 100.
    FunnelStageSetting.objects.update_or_create(stage=FunnelStage.SOLUTION, defaults={"win_probability": 80})
    big, small, won, unvalued = (LeadFactory(customer=customer) for _ in range(4))
    # 100,000: preparation → profile (+5 points) on 2 March, profile → solution (+70) on 10 March.
    move(big, "", FunnelStage.PREPARATION, local(date(2024, 3, 1), 9), "100000")  # entering: not a move
    move(big, FunnelStage.PREPARATION, FunnelStage.CUSTOMER_PROFILE, local(date(2024, 3, 2), 9), "100000")
    move(big, FunnelStage.CUSTOMER_PROFILE, FunnelStage.SOLUTION, local(date(2024, 3, 10), 9), "100000")
    # 20,000: sales visit → pain points in February (outside), pain points → solution (+30) at the
    # last minute of March.
    move(small, FunnelStage.SALES_VISIT, FunnelStage.PAIN_POINTS, local(date(2024, 2, 28), 9), "20000")
    move(small, FunnelStage.PAIN_POINTS, FunnelStage.SOLUTION, local(date(2024, 3, 31), 23, 59), "20000")
    # Won for 30,000.50 from the solution stage (+20), and a move in April (outside).
    move(won, FunnelStage.SOLUTION, FunnelStage.WON, local(date(2024, 3, 20), 15), "30000.50")
    move(won, FunnelStage.WON, FunnelStage.AFTER_SALE, local(date(2024, 4, 1), 0), "30000.50")
    # A move with no expected value adds nothing.
    move(unvalued, FunnelStage.PREPARATION, FunnelStage.ENTRY_POINT, local(date(2024, 3, 5)), None)
    # The other manager's lead: entry point → sales visit (+10) on 10,000.
    move(
        LeadFactory(customer=theirs),
        FunnelStage.ENTRY_POINT,
        FunnelStage.SALES_VISIT,
        local(date(2024, 3, 7)),
        "10000",
    )
    engineer = support_engineer("solution", team.region, team)

    with CaptureQueriesContext(connection) as queries:
        tallies = measure(
            person_ids=[manager.pk, other.pk, engineer.pk],
            start=START,
            end=END,
            codes=["pipeline_value_moved"],
        )
    assert len(queries) == 2  # the moves, summed per owner and stage pair, and the stage settings
    values = {pk: value_of("pipeline_value_moved", t["pipeline_value_moved"]) for pk, t in tallies.items()}
    # 5% × 100,000 + 70% × 100,000 + 30% × 20,000 + 20% × 30,000.50 = 5,000 + 70,000 + 6,000 + 6,000.10
    assert values == {
        manager.pk: Decimal("87000.10"),
        other.pk: Decimal("1000.00"),  # 10% × 10,000
        engineer.pk: Decimal("0.00"),
    }


# --- targets, weights and the score ---------------------------------------------------------------


MANAGER_TARGETS = [
    {"indicator": "visits_as_planned", "target": 4, "weight": 30},
    {"indicator": "summary_on_time_rate", "target": "0.6", "weight": 20},
    {"indicator": "rework_rate", "target": "0.1", "weight": 10},
    {"indicator": "pipeline_value_moved", "target": 100000, "weight": 20},
    {"indicator": "won_value", "target": 100000, "weight": 20},
]


def test_targets_and_weights_make_the_score_with_its_breakdown(team, month_of_work):
    manager, _engineer = month_of_work
    lead = LeadFactory(customer=CustomerFactory(account_manager=manager), created_at=local(START))
    move(lead, FunnelStage.PREPARATION, FunnelStage.SOLUTION, local(date(2024, 3, 9), 9), "80000")
    set_appraisal_targets(
        team=team, role="account_manager", period=START, targets=MANAGER_TARGETS, user=team.leader
    )
    figures = next(
        f for f in team_appraisal_figures(team=team, period=START, user=team.leader) if f.person == manager
    )
    assert figures.role == AppraisedRole.ACCOUNT_MANAGER
    lines = {line.indicator: line for line in figures.breakdown.lines}
    # Every indicator is measured: the weights make 100. Pipeline moved: preparation (5%) →
    # solution (70%) on 80,000 = 52,000.
    assert [(code, lines[code].attainment, lines[code].points) for code in lines] == [
        ("visits_as_planned", Decimal("0.5000"), Decimal("15.00")),  # 2 / 4 × 30
        ("summary_on_time_rate", Decimal("1.2000"), Decimal("24.00")),  # 0.75 / 0.6 = 1.25, capped
        ("rework_rate", Decimal("0.4000"), Decimal("4.00")),  # 0.1 / 0.25
        ("pipeline_value_moved", Decimal("0.5200"), Decimal("10.40")),  # 52,000 / 100,000
        ("won_value", Decimal("0.5000"), Decimal("10.00")),  # 50,000.50 / 100,000
    ]
    assert lines["pipeline_value_moved"].value == Decimal("52000.00")
    assert lines["won_value"].value == Decimal("50000.50")
    assert (lines["won_value"].target, lines["won_value"].weight) == (Decimal(100000), Decimal(20))
    assert figures.breakdown.score == Decimal("63.40")


def test_a_team_without_its_own_targets_for_the_month_is_measured_against_the_defaults(team, month_of_work):
    _manager, engineer = month_of_work
    figures = next(f for f in figures_for(team=team, period=START) if f.person == engineer)
    defaults = AppraisalTarget.objects.filter(team=None, role="support_staff")
    assert [line.indicator for line in figures.breakdown.lines] == [
        t.indicator for t in defaults.order_by("pk")
    ]
    lines = {line.indicator: line for line in figures.breakdown.lines}
    # Defaults: on time 0.9 (40), completed 6 (30), visits joined 4 (30).
    assert lines["support_on_time_rate"].attainment == Decimal("0.7408")  # 0.6667 / 0.9
    assert lines["support_on_time_rate"].points == Decimal("29.63")
    assert lines["support_completed"].points == Decimal("15.00")  # 3 / 6 × 30
    assert lines["visits_supported"].points == Decimal("15.00")  # 2 / 4 × 30
    assert figures.breakdown.score == Decimal("59.63")


def test_the_team_leader_is_appraised_on_the_teams_pooled_results(team, make_summary):
    first, second = manager_in(team), manager_in(team)
    for on_time in (True, True, True, False):
        make_summary(first, submitted=local(date(2024, 3, 5), 9), on_time=on_time)
    for on_time in (True, False):
        make_summary(second, submitted=local(date(2024, 3, 6), 9), on_time=on_time)
    for _ in range(3):
        LeadFactory(customer=CustomerFactory(account_manager=second), created_at=local(date(2024, 3, 7), 9))
    set_appraisal_targets(
        team=team,
        role="team_leader",
        period=START,
        targets=[
            {"indicator": "summary_on_time_rate", "target": "0.8", "weight": 50},
            {"indicator": "leads_created", "target": 6, "weight": 50},
        ],
        user=team.leader,
    )
    leader = next(f for f in figures_for(team=team, period=START) if f.role == AppraisedRole.TEAM_LEADER)
    assert leader.person == team.leader
    lines = {line.indicator: line for line in leader.breakdown.lines}
    # Pooled, not averaged: 4 of 6 summaries on time (the average of 0.75 and 0.5 would be 0.625).
    assert lines["summary_on_time_rate"].value == Decimal("0.6667")
    assert lines["summary_on_time_rate"].attainment == Decimal("0.8334")  # 0.6667 / 0.8
    assert lines["summary_on_time_rate"].points == Decimal("41.67")
    assert (lines["leads_created"].value, lines["leads_created"].points) == (Decimal(3), Decimal("25.00"))
    assert leader.breakdown.score == Decimal("66.67")


def test_the_figures_take_the_same_number_of_queries_for_a_team_of_one_and_of_ten():
    def queries_for(size: int) -> int:
        team = TeamFactory()
        for i in range(size):
            person = manager_in(team) if i % 2 == 0 else support_engineer("network", team.region, team)
            CustomerFactory(account_manager=person)
            LeadFactory(
                customer=CustomerFactory(account_manager=person), created_at=local(date(2024, 3, 4), 9)
            )
        with CaptureQueriesContext(connection) as queries:
            figures = team_appraisal_figures(team=team, period=START, user=SYSTEM)
        assert len(figures) == size + 1
        return len(queries)

    assert queries_for(1) == queries_for(10)


def test_the_figures_take_the_same_number_of_queries_for_few_and_for_many_records(team, make_visit):
    manager, engineer = manager_in(team), support_engineer("network", team.region, team)
    customer = CustomerFactory(account_manager=manager)

    def add_records(n: int) -> None:
        # Visits made in the month (as planned and late), each with its support, and leads.
        for i in range(n):
            scheduled = START + timedelta(days=i % 20)
            late = timedelta(days=5 * (i % 2))
            make_visit(
                manager,
                customer=customer,
                scheduled=scheduled,
                visited_at=local(scheduled + late, 10),
                support_staff=engineer,
            )
            LeadFactory(customer=customer, created_at=local(scheduled, 9))
            support_done(engineer, due=scheduled, completed=local(scheduled, 9))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            figures_for(team=team, period=START)
        return len(captured)

    add_records(2)
    few = queries()
    add_records(30)
    assert queries() == few


def test_visits_as_planned_use_the_tolerance_in_force_on_the_months_first_day(team, make_visit):
    manager = manager_in(team)
    # Made two days after the cadence's date: outside the default tolerance of one day.
    make_visit(manager, scheduled=date(2024, 3, 5), visited_at=local(date(2024, 3, 7), 10))
    assert values_of(manager, ["visits_as_planned"]) == {"visits_as_planned": Decimal(0)}

    # A change effective today does not reach back to March 2024; one in force on its first day does.
    coordinator = UserFactory(roles=["coordinator"])
    change_thresholds(
        group="warnings",
        values={"VISIT_ON_PLAN_TOLERANCE_DAYS": 3},
        effective_from=timezone.localdate(),
        reason="a softer tolerance",
        user=coordinator,
    )
    assert values_of(manager, ["visits_as_planned"]) == {"visits_as_planned": Decimal(0)}
    values = dict(ThresholdVersion.objects.filter(group="warnings").latest("changed_at").values)
    ThresholdVersion.objects.create(
        group="warnings",
        values={**values, "VISIT_ON_PLAN_TOLERANCE_DAYS": 2},
        effective_from=START,
        reason="x",
        changed_at=timezone.now(),
    )
    assert values_of(manager, ["visits_as_planned"]) == {"visits_as_planned": Decimal(1)}


def test_targets_are_set_by_the_teams_leader_or_a_coordinator_only(team):
    other_leader = TeamFactory().leader
    manager = manager_in(team)
    targets = [{"indicator": "leads_created", "target": 5, "weight": 100}]
    for user in (other_leader, manager):
        with pytest.raises(NotPermitted):
            set_appraisal_targets(team=team, role="account_manager", period=START, targets=targets, user=user)
    with pytest.raises(NotPermitted):
        set_appraisal_targets(
            team=None, role="account_manager", period=None, targets=targets, user=team.leader
        )
    assert not AppraisalTarget.objects.filter(team=team).exists()
    coordinator = UserFactory(roles=["coordinator"])
    set_appraisal_targets(
        team=team, role="account_manager", period=date(2024, 3, 17), targets=targets, user=coordinator
    )
    saved = AppraisalTarget.objects.get(team=team)
    assert (saved.period, saved.indicator, saved.target, saved.weight, saved.set_by) == (
        START,
        "leads_created",
        Decimal(5),
        Decimal(100),
        coordinator,
    )


@pytest.mark.parametrize(
    ("target", "field"),
    [
        ({"indicator": "calls_made", "target": 5, "weight": 10}, "targets.1.indicator"),
        ({"indicator": "won_value", "target": 0, "weight": 10}, "targets.1.target"),
        ({"indicator": "customer_coverage", "target": "1.5", "weight": 10}, "targets.1.target"),
        ({"indicator": "won_value", "target": 1000, "weight": 0}, "targets.1.weight"),
        ({"indicator": "won_value", "target": 1000, "weight": 101}, "targets.1.weight"),
        ({"indicator": "leads_created", "target": 3, "weight": 10}, "targets"),
    ],
)
def test_a_target_set_that_does_not_hold_together_is_refused_and_the_old_one_kept(team, target, field):
    kept = [{"indicator": "leads_created", "target": 4, "weight": 50}]
    set_appraisal_targets(team=team, role="account_manager", period=START, targets=kept, user=team.leader)
    with pytest.raises(InvalidInput) as refused:
        set_appraisal_targets(
            team=team, role="account_manager", period=START, targets=[*kept, target], user=team.leader
        )
    assert field in refused.value.errors
    assert list(AppraisalTarget.objects.filter(team=team).values_list("indicator", "target")) == [
        ("leads_created", Decimal(4))
    ]


# --- the process ----------------------------------------------------------------------------------


@pytest.fixture
def appraised(org):
    """October 2026 appraised for the organisation of `tests.onsite.flow`."""
    return {a.person.username: a for a in generate_appraisals(period=OCTOBER, user=org.coordinator)}


def task_of(appraisal: Appraisal, bpmn_id: str) -> HumanTask:
    return open_task(appraisal.instance, bpmn_id)


def changes_of(appraisal: Appraisal) -> list[tuple]:
    return list(
        appraisal.changes.order_by("at", "pk").values_list("kind", "score_from", "score_to", "reason")
    )


def test_generating_appraises_every_member_and_the_leader_once_and_starts_each_process(org, appraised):
    assert sorted(appraised) == ["li", "qian", "sun", "wu", "zheng"]
    qian, li, sun = appraised["qian"], appraised["li"], appraised["sun"]
    assert (qian.role, qian.status, qian.reviewer) == ("account_manager", "leader_review", org.leader)
    assert (sun.role, sun.status) == ("support_staff", "leader_review")
    # The leader is appraised on the team's results and answers to the coordinator, not to themselves.
    assert (li.role, li.status, li.reviewer) == ("team_leader", "awaiting_response", None)
    assert task_of(qian, "Task_review_appraisal").assignee == org.leader
    assert task_of(li, "Task_respond_appraisal").assignee == org.leader
    assert changes_of(qian) == [("computed", None, qian.computed_score, "")]
    assert qian.lines.count() == AppraisalTarget.objects.filter(team=None, role="account_manager").count()
    # Run again: nobody is appraised twice.
    assert generate_appraisals(period=OCTOBER, user=SYSTEM) == []
    assert Appraisal.objects.count() == 5


def test_generating_is_refused_before_the_month_ends_and_to_anyone_but_a_coordinator(org):
    with pytest.raises(InvalidInput) as refused:
        generate_appraisals(period=timezone.localdate(), user=org.coordinator)
    assert "period" in refused.value.errors
    with pytest.raises(NotPermitted):
        generate_appraisals(period=OCTOBER, user=org.leader)
    assert not Appraisal.objects.exists()
    assert not ProcessInstance.objects.filter(version__model__process_id="appraisal").exists()


def test_the_leader_adjusts_the_score_only_with_a_reason_and_the_person_acknowledges_it(org, appraised):
    qian = appraised["qian"]
    review = task_of(qian, "Task_review_appraisal")
    with pytest.raises(TaskRejected) as refused:
        complete_task(
            task_id=review.pk, data={"leader_comment": "走访扎实", "adjusted_score": 80}, user=org.leader
        )
    assert "adjustment_reason" in refused.value.field_errors
    assert refreshed(qian).score == qian.computed_score and qian.status == "leader_review"
    assert refreshed(review).status == HumanTask.Status.OPEN
    assert changes_of(qian) == [("computed", None, qian.computed_score, "")]

    complete_task(
        task_id=review.pk,
        data={
            "leader_comment": "走访扎实",
            "adjusted_score": 80,
            "adjustment_reason": "协助完成重点客户续约",
        },
        user=org.leader,
    )
    qian.refresh_from_db()
    assert (qian.status, qian.score, qian.leader_comment) == (
        "awaiting_response",
        Decimal("80.00"),
        "走访扎实",
    )
    respond = task_of(qian, "Task_respond_appraisal")
    assert respond.assignee == org.manager
    complete_task(task_id=respond.pk, data={"response": "acknowledge"}, user=org.manager)
    qian.refresh_from_db()
    assert (qian.status, qian.final_score) == ("acknowledged", Decimal("80.00"))
    assert refreshed(qian.instance).status == ProcessInstance.Status.COMPLETED
    assert changes_of(qian) == [
        ("computed", None, qian.computed_score, ""),
        ("adjusted", qian.computed_score, Decimal("80.00"), "协助完成重点客户续约"),
        ("acknowledged", Decimal("80.00"), Decimal("80.00"), ""),
    ]


def test_a_dispute_needs_a_reason_and_goes_to_the_coordinator_who_decides_the_final_score(org, appraised):
    wu = appraised["wu"]
    complete_task(
        task_id=task_of(wu, "Task_review_appraisal").pk, data={"leader_comment": "需加强"}, user=org.leader
    )
    respond = task_of(wu, "Task_respond_appraisal")
    with pytest.raises(FormValidationError):
        complete_task(task_id=respond.pk, data={"response": "dispute"}, user=org.other_manager)
    assert refreshed(wu).status == "awaiting_response"
    complete_task(
        task_id=respond.pk,
        data={"response": "dispute", "dispute_reason": "本月支撑需求多"},
        user=org.other_manager,
    )
    assert (refreshed(wu).status, wu.dispute_reason) == ("disputed", "本月支撑需求多")
    decide = task_of(wu, "Task_decide_dispute")
    assert decide.assignee is None and decide.role.name == "coordinator"
    with pytest.raises(TaskNotYours):
        complete_task(task_id=decide.pk, data={"final_score": 95, "decision_note": "核实"}, user=org.leader)
    with pytest.raises(FormValidationError):
        complete_task(task_id=decide.pk, data={"final_score": 95}, user=org.coordinator)
    with pytest.raises(TaskRejected):
        complete_task(
            task_id=decide.pk, data={"final_score": 500, "decision_note": "核实"}, user=org.coordinator
        )
    assert refreshed(wu).status == "disputed" and wu.final_score is None
    complete_task(
        task_id=decide.pk, data={"final_score": 95, "decision_note": "核实后上调"}, user=org.coordinator
    )
    wu.refresh_from_db()
    assert (wu.status, wu.score, wu.final_score, wu.decision_note) == (
        "decided",
        Decimal("95.00"),
        Decimal("95.00"),
        "核实后上调",
    )
    assert changes_of(wu) == [
        ("computed", None, wu.computed_score, ""),
        ("disputed", wu.computed_score, wu.computed_score, "本月支撑需求多"),
        ("decided", wu.computed_score, Decimal("95.00"), "核实后上调"),
    ]
    history = appraisal_record(appraisal=wu, user=org.other_manager)["history"]
    assert [(h["kind"], h["by_id"]) for h in history] == [
        ("computed", org.coordinator.pk),
        ("disputed", org.other_manager.pk),
        ("decided", org.coordinator.pk),
    ]
    assert refreshed(wu.instance).status == ProcessInstance.Status.COMPLETED


def test_only_the_person_appraised_responds_and_a_refusal_changes_nothing(org, appraised):
    qian = appraised["qian"]
    review = task_of(qian, "Task_review_appraisal")
    with pytest.raises(TaskNotYours):
        complete_task(task_id=review.pk, data={"leader_comment": "自评"}, user=org.manager)
    complete_task(task_id=review.pk, data={"leader_comment": "良好"}, user=org.leader)
    respond = task_of(qian, "Task_respond_appraisal")
    with pytest.raises(TaskNotYours):
        complete_task(task_id=respond.pk, data={"response": "acknowledge"}, user=org.other_manager)
    with pytest.raises(TaskNotYours):
        complete_task(task_id=respond.pk, data={"response": "acknowledge"}, user=org.leader)
    qian.refresh_from_db()
    assert (qian.status, qian.final_score) == ("awaiting_response", None)
    assert changes_of(qian) == [("computed", None, qian.computed_score, "")]


def test_the_final_score_feeds_the_incentive_statement_through_its_band(org, appraised):
    rule = IncentiveRule.objects.get(event="support_completed", active=True)
    for key, amount in (("a", "60"), ("b", "40.50")):
        IncentiveRecord.objects.create(
            person=org.other_manager,
            event="support_completed",
            event_key=key,
            rule=rule,
            points=Decimal(1),
            amount=Decimal(amount),
            period=OCTOBER,
            status=IncentiveRecord.Status.APPROVED,
            description="-",
            created_at=local(date(2026, 10, 9), 9),
        )
    before = incentive_statement(person=org.other_manager, period=OCTOBER, user=org.leader)
    assert (before.amount, before.appraisal_score, before.appraisal_multiplier, before.appraised_amount) == (
        Decimal("100.50"),
        None,
        None,
        None,
    )
    wu = appraised["wu"]
    complete_task(
        task_id=task_of(wu, "Task_review_appraisal").pk,
        data={"leader_comment": "优秀", "adjusted_score": 112, "adjustment_reason": "超额完成续约"},
        user=org.leader,
    )
    # Not final while the person has not responded.
    assert (
        incentive_statement(person=org.other_manager, period=OCTOBER, user=org.leader).appraisal_score is None
    )
    complete_task(
        task_id=task_of(wu, "Task_respond_appraisal").pk,
        data={"response": "acknowledge"},
        user=org.other_manager,
    )
    after = incentive_statement(person=org.other_manager, period=OCTOBER, user=org.leader)
    # 112 reaches the band from 110: × 1.20.
    assert (after.appraisal_score, after.appraisal_multiplier, after.appraised_amount) == (
        Decimal("112.00"),
        Decimal("1.20"),
        Decimal("120.60"),
    )


def test_the_team_leader_acknowledges_or_disputes_their_own_appraisal_before_the_coordinator(org, appraised):
    li = appraised["li"]
    complete_task(
        task_id=task_of(li, "Task_respond_appraisal").pk,
        data={"response": "dispute", "dispute_reason": "组员休假两人"},
        user=org.leader,
    )
    complete_task(
        task_id=task_of(li, "Task_decide_dispute").pk,
        data={"final_score": 70, "decision_note": "按在岗人数折算"},
        user=org.coordinator,
    )
    li.refresh_from_db()
    assert (li.status, li.final_score) == ("decided", Decimal("70.00"))
    assert [kind for kind, *_rest in changes_of(li)] == ["computed", "disputed", "decided"]
    assert not HumanTask.objects.filter(instance=li.instance, bpmn_id="Task_review_appraisal").exists()


def test_an_appraisal_is_read_by_the_person_their_leader_and_coordinators_only(org, appraised):
    qian = appraised["qian"]
    for reader in (org.manager, org.leader, org.coordinator):
        assert appraisal_record(appraisal=qian, user=reader)["lines"]
    with pytest.raises(NotPermitted):
        appraisal_record(appraisal=qian, user=org.other_manager)
    stranger = UserFactory(roles=["team_leader"])
    StaffProfileFactory(user=stranger, team=TeamFactory())
    with pytest.raises(NotPermitted):
        team_appraisal_figures(team=org.team, period=OCTOBER, user=stranger)


def test_a_months_figures_use_the_attainment_cap_in_force_on_its_first_day(team, month_of_work):
    manager, _engineer = month_of_work
    set_appraisal_targets(
        team=team, role="account_manager", period=START, targets=MANAGER_TARGETS, user=team.leader
    )

    def on_time_attainment():
        figures = next(f for f in figures_for(team=team, period=START) if f.person == manager)
        return {line.indicator: line for line in figures.breakdown.lines}["summary_on_time_rate"].attainment

    # A change recorded today (effective from today) does not reach back to March 2024.
    change_thresholds(
        group="appraisal",
        values={"APPRAISAL_ATTAINMENT_CAP_PERCENT": 200},
        effective_from=timezone.localdate(),
        reason="a softer cap",
        user=UserFactory(roles=["coordinator"]),
    )
    assert on_time_attainment() == Decimal("1.2000")  # 1.25, capped at 120 %

    # Values in force from March's first day apply to March, later ones do not.
    for day, cap in ((START, 150), (date(2024, 3, 2), 100), (END, 100)):
        values = {"APPRAISAL_ATTAINMENT_CAP_PERCENT": cap, "SHORT_BOARD_MARGIN_PERCENT": 20}
        ThresholdVersion.objects.create(
            group="appraisal", values=values, effective_from=day, reason="x", changed_at=timezone.now()
        )
    assert on_time_attainment() == Decimal("1.2500")
