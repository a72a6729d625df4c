"""Real-time early warnings (实时预警): what has slipped on a person's customers, most urgent first."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone, translation

from onsite.models import (
    Cadence,
    Enrolment,
    FunnelStage,
    Lead,
    Ownership,
    Programme,
    Stage,
    SupportRequest,
    Urgency,
    Visit,
    VisitSummary,
)
from onsite.selectors.warnings import EarlyWarning, WarningKind, describe, early_warnings
from onsite.services.appraisals import set_appraisal_targets
from onsite.services.thresholds import change_thresholds
from tests.factories import UserFactory
from tests.onsite.factories import (
    CustomerFactory,
    LeadFactory,
    ProductHoldingFactory,
    RegionFactory,
    SupportRequestFactory,
    TeamFactory,
    VisitSummaryFactory,
    manager_in,
    support_engineer,
)
from tests.onsite.threshold_values import set_thresholds
from workflows.actors import SYSTEM
from workflows.models import ProcessModel, ProcessVersion

pytestmark = pytest.mark.django_db

visit_numbers = count(1)


@pytest.fixture(autouse=True)
def targets_out_of_the_way(settings):
    """The process warnings' tests make managers with no leads and no visits this month: keep them
    from also being behind the month's targets (tested on their own, at a fixed date, below)."""
    set_thresholds(TARGET_BEHIND_PERCENT=100)


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def region():
    return RegionFactory()


@pytest.fixture
def team(region):
    return TeamFactory(region=region)


@pytest.fixture
def manager(team):
    return manager_in(team)


@pytest.fixture
def customer(manager, region):
    return CustomerFactory(account_manager=manager, region=region, name="合肥银行")


@pytest.fixture
def programmes(region):
    model = ProcessModel.objects.create(process_id="onsite_programme")
    version = ProcessVersion.objects.create(
        model=model, number=1, checksum="x", spec="{}", serializer_version="1"
    )
    coordinator = UserFactory(roles=["coordinator"])

    def programme(cadence: str) -> Programme:
        return Programme.objects.create(
            name=f"驻点服务 {cadence}",
            region=region,
            start_date=date(2024, 1, 1),
            cadence=cadence,
            process_version=version,
            coordinator=coordinator,
        )

    return {cadence: programme(cadence) for cadence in Cadence.values}


@pytest.fixture
def enrol(programmes, now):
    def make(customer, *, cadence=Cadence.WEEKLY, enrolled_days_ago: float = 0, **fields) -> Enrolment:
        enrolment = Enrolment.objects.create(
            programme=programmes[cadence], customer=customer, stage=Stage.PUBLICITY, **fields
        )
        # enrolled_at is set on creation: move it back in time the only way there is.
        Enrolment.objects.filter(pk=enrolment.pk).update(enrolled_at=now - timedelta(days=enrolled_days_ago))
        enrolment.refresh_from_db()
        return enrolment

    return make


def visit(enrolment, *, status=Visit.Status.CLOSED, visited_at=None, summary_due_at=None) -> Visit:
    return Visit.objects.create(
        enrolment=enrolment,
        customer=enrolment.customer,
        number=next(visit_numbers),
        stage=Stage.PUBLICITY,
        status=status,
        planned_date=timezone.localdate(visited_at) if visited_at else date(2024, 1, 1),
        visited_at=visited_at,
        summary_due_at=summary_due_at,
        account_manager=enrolment.customer.account_manager,
    )


def untouched_lead(customer, *, since: datetime, **fields) -> Lead:
    """A high-urgency lead whose last activity was at `since`."""
    fields = {"urgency": Urgency.HIGH, "description": "云专线扩容", **fields}
    return LeadFactory(customer=customer, created_at=since, last_activity_at=since, **fields)


def submitted(visit: Visit, *, at: datetime, status=VisitSummary.Status.SUBMITTED) -> Visit:
    """`visit` with a summary last submitted at `at`."""
    VisitSummaryFactory(visit=visit, status=status, submissions=1, submitted_at=at)
    return visit


def kinds(warnings: list[EarlyWarning]) -> list[str]:
    return [warning.kind for warning in warnings]


def of_kind(kind: str, *, now, user=SYSTEM) -> list[EarlyWarning]:
    return [warning for warning in early_warnings(user=user, now=now) if warning.kind == kind]


# A customer left unvisited


def test_warns_when_a_weekly_customer_is_not_visited_within_the_cadence_and_grace_days(enrol, customer, now):
    enrolment = enrol(customer, enrolled_days_ago=100)
    last = visit(enrolment, visited_at=now - timedelta(days=10))

    assert of_kind(WarningKind.NO_RECENT_VISIT, now=now) == []

    Visit.objects.filter(pk=last.pk).update(visited_at=now - timedelta(days=10, seconds=1))
    [warning] = of_kind(WarningKind.NO_RECENT_VISIT, now=now)

    assert (warning.customer, warning.related) == (customer, enrolment)
    assert warning.due == now - timedelta(seconds=1)
    assert describe(warning) == "No visit to 合肥银行 for 10 days (weekly programme)."


def test_a_monthly_customer_has_thirty_one_days_and_the_grace_days(enrol, customer, now):
    enrolment = enrol(customer, cadence=Cadence.MONTHLY, enrolled_days_ago=100)
    last = visit(enrolment, visited_at=now - timedelta(days=34))

    assert of_kind(WarningKind.NO_RECENT_VISIT, now=now) == []

    Visit.objects.filter(pk=last.pk).update(visited_at=now - timedelta(days=34, minutes=1))

    assert [w.related for w in of_kind(WarningKind.NO_RECENT_VISIT, now=now)] == [enrolment]


def test_the_grace_days_come_from_the_thresholds(enrol, customer, now, settings):
    set_thresholds(VISIT_GRACE_DAYS=0)
    enrolment = enrol(customer, enrolled_days_ago=100)
    visit(enrolment, visited_at=now - timedelta(days=7, seconds=1))

    assert [w.related for w in of_kind(WarningKind.NO_RECENT_VISIT, now=now)] == [enrolment]


def test_counts_from_the_enrolment_while_the_customer_has_not_been_visited(enrol, customer, now):
    enrolment = enrol(customer, enrolled_days_ago=10)
    visit(enrolment, status=Visit.Status.PLANNED)

    assert of_kind(WarningKind.NO_RECENT_VISIT, now=now) == []

    Enrolment.objects.filter(pk=enrolment.pk).update(enrolled_at=now - timedelta(days=10, seconds=1))
    [warning] = of_kind(WarningKind.NO_RECENT_VISIT, now=now)

    assert describe(warning) == "No visit to 合肥银行 for 10 days (weekly programme)."


def test_no_warning_before_the_programme_itself_has_run_a_cadence_and_the_grace_days(
    enrol, programmes, customer, now
):
    enrolment = enrol(customer, enrolled_days_ago=30)
    programme = programmes[Cadence.WEEKLY]
    programme.start_date = timezone.localdate(now) - timedelta(days=5)
    programme.save()
    assert of_kind(WarningKind.NO_RECENT_VISIT, now=now) == []

    Programme.objects.filter(pk=programme.pk).update(start_date=timezone.localdate(now) - timedelta(days=11))
    assert [w.related for w in of_kind(WarningKind.NO_RECENT_VISIT, now=now)] == [enrolment]


def test_the_latest_visit_made_counts_whichever_programme_it_was_in(enrol, programmes, customer, now):
    old = Enrolment.objects.create(
        programme=programmes[Cadence.MONTHLY],
        customer=customer,
        stage=Stage.PUBLICITY,
        status=Enrolment.Status.COMPLETED,
    )
    enrolment = enrol(customer, enrolled_days_ago=100)
    visit(old, visited_at=now - timedelta(days=2))
    visit(enrolment, visited_at=now - timedelta(days=50))

    assert of_kind(WarningKind.NO_RECENT_VISIT, now=now) == []


def test_a_visit_before_a_new_enrolment_does_not_make_it_overdue_on_its_first_day(
    enrol, programmes, customer, now
):
    old = Enrolment.objects.create(
        programme=programmes[Cadence.MONTHLY],
        customer=customer,
        stage=Stage.PUBLICITY,
        status=Enrolment.Status.COMPLETED,
    )
    visit(old, visited_at=now - timedelta(days=200))
    enrol(customer, enrolled_days_ago=1)

    assert of_kind(WarningKind.NO_RECENT_VISIT, now=now) == []


def test_an_enrolment_that_has_ended_is_not_warned_about(enrol, customer, now):
    enrol(customer, enrolled_days_ago=100, status=Enrolment.Status.ENDED_EARLY)

    assert of_kind(WarningKind.NO_RECENT_VISIT, now=now) == []


# A summary not written


def test_warns_when_a_visited_visit_has_no_summary_after_its_due_time(enrol, customer, now):
    enrolment = enrol(customer)
    made = visit(
        enrolment, status=Visit.Status.VISITED, visited_at=now - timedelta(days=3), summary_due_at=now
    )

    assert of_kind(WarningKind.SUMMARY_OVERDUE, now=now) == []

    Visit.objects.filter(pk=made.pk).update(summary_due_at=now - timedelta(seconds=1))
    [warning] = of_kind(WarningKind.SUMMARY_OVERDUE, now=now)

    visited_on = timezone.localdate(now - timedelta(days=3)).isoformat()
    assert (warning.customer, warning.related, warning.due) == (customer, made, now - timedelta(seconds=1))
    assert describe(warning) == f"The summary of the {visited_on} visit to 合肥银行 is 1 day overdue."


def test_counts_every_started_day_a_summary_is_late(enrol, customer, now):
    visit(
        enrol(customer),
        status=Visit.Status.VISITED,
        visited_at=now,
        summary_due_at=now - timedelta(days=2, hours=1),
    )

    [warning] = of_kind(WarningKind.SUMMARY_OVERDUE, now=now)

    assert describe(warning).endswith("is 3 days overdue.")


def test_a_submitted_summary_or_a_visit_not_yet_made_is_not_overdue(enrol, customer, now):
    enrolment = enrol(customer)
    overdue = now - timedelta(days=1)
    for status in (
        Visit.Status.SUMMARISED,
        Visit.Status.CLOSED,
        Visit.Status.PLANNED,
        Visit.Status.CANCELLED,
    ):
        visit(enrolment, status=status, visited_at=now - timedelta(days=2), summary_due_at=overdue)
    visit(enrolment, status=Visit.Status.VISITED, visited_at=now - timedelta(days=2))  # no due time

    assert of_kind(WarningKind.SUMMARY_OVERDUE, now=now) == []


# An urgent lead left alone


def test_warns_when_a_high_urgency_open_lead_has_had_no_activity_for_longer_than_the_threshold(
    customer, now, settings
):
    set_thresholds(LEAD_UNTOUCHED_DAYS=3)
    lead = LeadFactory(
        customer=customer,
        description="云专线扩容",
        urgency=Urgency.HIGH,
        created_at=now - timedelta(days=20),
        last_activity_at=now - timedelta(days=3),
    )

    assert of_kind(WarningKind.LEAD_UNTOUCHED, now=now) == []

    Lead.objects.filter(pk=lead.pk).update(last_activity_at=now - timedelta(days=3, seconds=1))
    [warning] = of_kind(WarningKind.LEAD_UNTOUCHED, now=now)

    assert (warning.customer, warning.related, warning.due) == (customer, lead, now - timedelta(seconds=1))
    assert describe(warning) == "The urgent lead “云专线扩容” at 合肥银行 has had no follow-up for 3 days."


def test_a_lead_being_followed_up_is_still_warned_about_when_left_alone(customer, now):
    untouched_lead(customer, since=now - timedelta(days=30), status=Lead.Status.FOLLOWING)

    assert len(of_kind(WarningKind.LEAD_UNTOUCHED, now=now)) == 1


def test_a_less_urgent_or_closed_lead_is_not_warned_about(customer, now):
    untouched_lead(customer, since=now - timedelta(days=30), urgency=Urgency.MEDIUM)
    untouched_lead(customer, since=now - timedelta(days=30), urgency=Urgency.LOW)
    untouched_lead(
        customer, since=now - timedelta(days=30), status=Lead.Status.WON, won_value=Decimal(1), closed_at=now
    )
    untouched_lead(customer, since=now - timedelta(days=30), status=Lead.Status.LOST, closed_at=now)

    assert of_kind(WarningKind.LEAD_UNTOUCHED, now=now) == []


# A competitor's contract about to expire


def test_warns_about_a_competitor_contract_expiring_within_the_win_back_window(customer, now, settings):
    set_thresholds(WIN_BACK_WINDOW_DAYS=30)
    today = timezone.localdate(now)
    product = ProductHoldingFactory(
        customer=customer, product="专线", provider="电信", expiry_date=today + timedelta(days=30)
    )
    ProductHoldingFactory(customer=customer, expiry_date=today + timedelta(days=31))
    ProductHoldingFactory(customer=customer, expiry_date=today - timedelta(days=1))
    ProductHoldingFactory(customer=customer, expiry_date=today + timedelta(days=5), ownership=Ownership.OURS)

    [warning] = of_kind(WarningKind.CONTRACT_EXPIRING, now=now)

    assert (warning.customer, warning.related, warning.due) == (customer, product, product.expiry_date)
    expiry = product.expiry_date.isoformat()
    assert describe(warning) == f"The 电信 contract for 专线 at 合肥银行 ends in 30 days ({expiry})."


def test_a_contract_expiring_today_says_so(customer, now):
    ProductHoldingFactory(
        customer=customer, product="专线", provider="电信", expiry_date=timezone.localdate(now)
    )

    [warning] = of_kind(WarningKind.CONTRACT_EXPIRING, now=now)

    assert describe(warning) == "The 电信 contract for 专线 at 合肥银行 ends today."


# Data, worded by whoever shows it


def test_a_warning_is_data_and_is_worded_in_the_language_of_whoever_describes_it(customer, now):
    ProductHoldingFactory(
        customer=customer, product="专线", provider="电信", expiry_date=timezone.localdate(now)
    )
    with translation.override("en"):
        [warning] = of_kind(WarningKind.CONTRACT_EXPIRING, now=now)

    assert warning.params == {
        "product": "专线",
        "provider": "电信",
        "date": timezone.localdate(now),
        "days": 0,
    }
    assert all(isinstance(v, int | str | date) for v in warning.params.values())
    with translation.override("zh-hans"):
        assert describe(warning) == "合肥银行 的专线（电信）合同今天到期。"
    assert describe(warning) == "The 电信 contract for 专线 at 合肥银行 ends today."


def test_a_no_visit_warning_carries_the_cadence_code_not_its_label(enrol, customer, now):
    enrol(customer, enrolled_days_ago=100)
    with translation.override("zh-hans"):
        [warning] = of_kind(WarningKind.NO_RECENT_VISIT, now=now)

    assert warning.params == {"days": 100, "cadence": Cadence.WEEKLY}
    assert describe(warning) == "No visit to 合肥银行 for 100 days (weekly programme)."


# Who sees what


@pytest.fixture
def everyones_customers(team, manager, region, now):
    """A warning on the manager's customer, a teammate's, another team's and one without a manager."""
    teammate = manager_in(team)
    outsider = manager_in(TeamFactory(region=region))
    customers = {
        "own": CustomerFactory(account_manager=manager, name="own"),
        "teammate": CustomerFactory(account_manager=teammate, name="teammate"),
        "other team": CustomerFactory(account_manager=outsider, name="other team"),
    }
    unmanaged = CustomerFactory(name="unmanaged")
    for customer in customers.values():
        untouched_lead(customer, since=now - timedelta(days=30))
    untouched_lead(unmanaged, since=now - timedelta(days=30), owner=outsider)
    return {**customers, "unmanaged": unmanaged}


def names(warnings: list[EarlyWarning]) -> set[str]:
    return {warning.customer.name for warning in warnings}


def test_an_account_manager_sees_only_their_own_customers(everyones_customers, manager, now):
    assert names(early_warnings(user=manager, now=now)) == {"own"}


def test_a_team_leader_sees_the_customers_of_their_teams_managers(everyones_customers, team, now):
    assert names(early_warnings(user=team.leader, now=now)) == {"own", "teammate"}


def test_a_team_leader_who_also_manages_customers_sees_both(everyones_customers, team, now):
    team.leader.groups.add(Group.objects.get(name="account_manager"))
    untouched_lead(
        CustomerFactory(account_manager=team.leader, name="led own"), since=now - timedelta(days=30)
    )

    assert names(early_warnings(user=team.leader, now=now)) == {"own", "teammate", "led own"}


@pytest.mark.parametrize("roles", [["leadership"], ["coordinator"]])
def test_leadership_and_coordinators_see_every_customer(everyones_customers, now, roles):
    assert names(early_warnings(user=UserFactory(roles=roles), now=now)) == set(everyones_customers)


def test_a_superuser_and_the_system_see_every_customer(everyones_customers, now):
    superuser = UserFactory(is_superuser=True)

    assert names(early_warnings(user=superuser, now=now)) == set(everyones_customers)
    assert names(early_warnings(user=SYSTEM, now=now)) == set(everyones_customers)


def test_support_staff_and_people_without_a_role_see_nothing(everyones_customers, now):
    assert early_warnings(user=UserFactory(roles=["support_staff"]), now=now) == []
    assert early_warnings(user=UserFactory(), now=now) == []


def test_a_deactivated_manager_sees_nothing(everyones_customers, manager, now):
    manager.is_active = False
    manager.save()

    assert early_warnings(user=manager, now=now) == []


# Order and cost


def test_the_longest_overdue_comes_first_and_expiring_contracts_after_every_overdue_warning(
    enrol, customer, now, settings
):
    set_thresholds(LEAD_UNTOUCHED_DAYS=7, VISIT_GRACE_DAYS=3)
    today = timezone.localdate(now)
    soon = ProductHoldingFactory(customer=customer, expiry_date=today + timedelta(days=3))
    later = ProductHoldingFactory(customer=customer, expiry_date=today + timedelta(days=60))
    lead = untouched_lead(customer, since=now - timedelta(days=9))  # due 2 days ago
    enrolment = enrol(customer, enrolled_days_ago=15)  # due 5 days ago
    made = visit(
        enrolment, status=Visit.Status.VISITED, visited_at=None, summary_due_at=now - timedelta(hours=1)
    )

    warnings = early_warnings(user=SYSTEM, now=now)

    assert [w.related for w in warnings] == [enrolment, lead, made, soon, later]
    assert kinds(warnings) == [
        WarningKind.NO_RECENT_VISIT,
        WarningKind.LEAD_UNTOUCHED,
        WarningKind.SUMMARY_OVERDUE,
        WarningKind.CONTRACT_EXPIRING,
        WarningKind.CONTRACT_EXPIRING,
    ]


def test_the_number_of_queries_does_not_grow_with_the_warnings(
    enrol, team, region, django_assert_max_num_queries, settings
):
    set_thresholds(TARGET_BEHIND_PERCENT=20)
    # Day 16 of November: every new manager, with nothing done, is behind each default target.
    now = timezone.make_aware(datetime(2026, 11, 16, 10))

    def customer_with_every_warning():
        customer = CustomerFactory(account_manager=manager_in(team), region=region)
        enrolment = enrol(customer, enrolled_days_ago=60)
        visit(
            enrolment,
            status=Visit.Status.VISITED,
            visited_at=now - timedelta(days=40),
            summary_due_at=now - timedelta(days=39),
        )
        untouched_lead(customer, since=now - timedelta(days=30))
        LeadFactory(customer=customer, created_at=now - timedelta(days=45))  # stalled at preparation
        ProductHoldingFactory(customer=customer, expiry_date=timezone.localdate(now) + timedelta(days=10))
        ProductHoldingFactory(
            customer=customer,
            ownership=Ownership.OURS,
            expiry_date=timezone.localdate(now) + timedelta(days=20),
        )
        visit(enrolment, status=Visit.Status.SCHEDULED)
        submitted(visit(enrolment, status=Visit.Status.SUMMARISED), at=now - timedelta(days=5))
        overdue = timezone.localdate(now) - timedelta(days=3)
        SupportRequestFactory(customer=customer, due_date=overdue)
        SupportRequestFactory(
            customer=customer, due_date=overdue, status=SupportRequest.Status.DISPATCHED, assignee=engineer
        )

    engineer = support_engineer("network", region, team)
    customer_with_every_warning()
    # Per customer one of each kind but two support requests (one dispatched, one not) and, for
    # the targets, one per indicator for its manager; the team's three besides.
    per_customer = len(WarningKind.values) + 1 + 2
    # One query per process kind and for the stalled leads, two to name who acts, the reader's
    # roles, the thresholds in force; for the targets: the managers, the targets, five for the
    # indicators' sources (the short board's three, the visits made, the values won) and the
    # as-planned tolerance in force on the month's first day (the appraisal's, read once).
    queries = (len(WarningKind.values) - 1) + 2 + 1 + 1 + 8
    with django_assert_max_num_queries(queries):
        warnings = early_warnings(user=team.leader, now=now)
        assert sorted(set(kinds(warnings))) == sorted(WarningKind.values)
        assert len(warnings) == per_customer + 3

    for _ in range(5):
        customer_with_every_warning()
    leader = type(team.leader).objects.get(pk=team.leader.pk)  # a fresh request: roles not cached
    with django_assert_max_num_queries(queries):
        warnings = early_warnings(user=leader, now=now)
        assert len(warnings) == 6 * per_customer + 3
        assert all(describe(w) and (w.customer is None or w.customer.name) and w.person for w in warnings)


def test_a_customer_waiting_for_the_leaders_review_of_a_summary_is_not_blamed_on_the_manager(
    enrol, customer, manager, team, now
):
    # The manager visited and summarised; the next visit waits for the team leader's approval.
    enrolment = enrol(customer, enrolled_days_ago=100)
    visit(enrolment, status=Visit.Status.SUMMARISED, visited_at=now - timedelta(days=12))

    assert of_kind(WarningKind.NO_RECENT_VISIT, now=now, user=manager) == []
    [warning] = of_kind(WarningKind.NO_RECENT_VISIT, now=now, user=team.leader)
    assert (warning.related, warning.responsible) == (enrolment, "team_leader")
    [warning] = of_kind(WarningKind.NO_RECENT_VISIT, now=now)  # the system sees it too
    assert warning.responsible == "team_leader"


def test_a_customer_not_visited_with_nothing_waiting_for_the_leader_is_the_managers(
    enrol, customer, manager, now
):
    enrolment = enrol(customer, enrolled_days_ago=100)
    visit(enrolment, visited_at=now - timedelta(days=12))
    visit(enrolment, status=Visit.Status.PLANNED)

    [warning] = of_kind(WarningKind.NO_RECENT_VISIT, now=now, user=manager)
    assert (warning.related, warning.responsible) == (enrolment, "account_manager")


# A visit not planned or not made on its date


def test_warns_when_a_scheduled_visit_has_no_plan_by_its_date(enrol, customer, manager, now):
    enrolment = enrol(customer, enrolled_days_ago=30)
    today = timezone.localdate(now)
    due_today = Visit.objects.create(
        enrolment=enrolment,
        customer=customer,
        number=next(visit_numbers),
        stage=Stage.PUBLICITY,
        status=Visit.Status.SCHEDULED,
        planned_date=today,
        account_manager=manager,
    )
    assert of_kind(WarningKind.VISIT_PLAN_OVERDUE, now=now) == []

    Visit.objects.filter(pk=due_today.pk).update(planned_date=today - timedelta(days=2))
    [warning] = of_kind(WarningKind.VISIT_PLAN_OVERDUE, now=now)
    assert (warning.related, warning.params["days"], warning.params["planned"]) == (due_today, 2, False)
    assert (warning.responsible, warning.person) == ("account_manager", manager)


def test_warns_when_a_planned_visit_is_not_made_within_the_as_planned_tolerance(
    enrol, customer, now, settings
):
    set_thresholds(VISIT_ON_PLAN_TOLERANCE_DAYS=1)
    enrolment = enrol(customer, enrolled_days_ago=30)
    today = timezone.localdate(now)
    within = visit(enrolment, status=Visit.Status.PLANNED)
    Visit.objects.filter(pk=within.pk).update(planned_date=today - timedelta(days=1))
    late = visit(enrolment, status=Visit.Status.PLANNED)
    Visit.objects.filter(pk=late.pk).update(planned_date=today - timedelta(days=4))

    [warning] = of_kind(WarningKind.VISIT_PLAN_OVERDUE, now=now)
    assert (warning.related, warning.params["days"], warning.params["planned"]) == (late, 3, True)
    with translation.override("zh-hans"):
        assert "尚未进行" in describe(warning)


def test_a_visit_made_or_cancelled_is_not_a_late_plan(enrol, customer, now):
    enrolment = enrol(customer, enrolled_days_ago=30)
    visit(enrolment, status=Visit.Status.VISITED, visited_at=now - timedelta(days=10))
    visit(enrolment, status=Visit.Status.CANCELLED)
    visit(enrolment, status=Visit.Status.CLOSED)
    assert of_kind(WarningKind.VISIT_PLAN_OVERDUE, now=now) == []


# A summary waiting for the team leader's review


def test_a_summary_not_reviewed_within_the_review_days_is_the_team_leaders_to_act_on(
    enrol, customer, team, now, settings
):
    set_thresholds(REVIEW_DUE_DAYS=2)
    enrolment = enrol(customer, enrolled_days_ago=30)
    submitted(visit(enrolment, status=Visit.Status.SUMMARISED), at=now - timedelta(days=1))
    waiting = submitted(visit(enrolment, status=Visit.Status.SUMMARISED), at=now - timedelta(days=3, hours=1))

    [warning] = of_kind(WarningKind.REVIEW_OVERDUE, now=now)
    assert (warning.related, warning.params["days"]) == (waiting, 2)
    assert (warning.responsible, warning.person) == ("team_leader", team.leader)


def test_a_summary_sent_back_for_rework_waits_for_the_manager_not_for_the_review(enrol, customer, now):
    enrolment = enrol(customer, enrolled_days_ago=30)
    submitted(
        visit(enrolment, status=Visit.Status.SUMMARISED),
        at=now - timedelta(days=9),
        status=VisitSummary.Status.REWORK,
    )
    assert of_kind(WarningKind.REVIEW_OVERDUE, now=now) == []


def test_a_team_without_a_leader_names_nobody_for_the_review(enrol, customer, team, now):
    team.leader = None
    team.save()
    enrolment = enrol(customer, enrolled_days_ago=30)
    submitted(visit(enrolment, status=Visit.Status.SUMMARISED), at=now - timedelta(days=9))
    [warning] = of_kind(WarningKind.REVIEW_OVERDUE, now=now)
    assert (warning.responsible, warning.person) == ("team_leader", None)


# A support request past the date it was needed


def test_a_late_support_request_is_the_engineers_once_dispatched_and_the_team_leaders_before(
    customer, team, region, now
):
    engineer = support_engineer("network", region, team)
    today = timezone.localdate(now)
    waiting = SupportRequestFactory(customer=customer, due_date=today - timedelta(days=2))
    dispatched = SupportRequestFactory(
        customer=customer,
        due_date=today - timedelta(days=1),
        status=SupportRequest.Status.DISPATCHED,
        assignee=engineer,
    )
    SupportRequestFactory(customer=customer, due_date=today)  # due today: not late yet

    warnings = {w.related: w for w in of_kind(WarningKind.SUPPORT_OVERDUE, now=now)}
    assert set(warnings) == {waiting, dispatched}
    assert (warnings[waiting].responsible, warnings[waiting].person) == ("team_leader", team.leader)
    assert (warnings[dispatched].responsible, warnings[dispatched].person) == ("support_staff", engineer)
    assert warnings[dispatched].params == {
        "kind": "survey",
        "date": today - timedelta(days=1),
        "days": 1,
        "dispatched": True,
    }
    with translation.override("zh-hans"):
        assert "尚未派单" in describe(warnings[waiting])


def test_support_done_and_waiting_for_the_managers_confirmation_is_not_late(customer, now):
    long_ago = timezone.localdate(now) - timedelta(days=20)
    for status in (
        SupportRequest.Status.COMPLETED,
        SupportRequest.Status.CONFIRMED,
        SupportRequest.Status.CANCELLED,
    ):
        SupportRequestFactory(customer=customer, due_date=long_ago, status=status)
    assert of_kind(WarningKind.SUPPORT_OVERDUE, now=now) == []


def test_an_account_manager_sees_late_support_only_for_their_own_customers(customer, manager, team, now):
    long_ago = timezone.localdate(now) - timedelta(days=5)
    mine = SupportRequestFactory(customer=customer, due_date=long_ago)
    SupportRequestFactory(customer=CustomerFactory(account_manager=manager_in(team)), due_date=long_ago)
    assert [w.related for w in of_kind(WarningKind.SUPPORT_OVERDUE, now=now, user=manager)] == [mine]


# Our own contracts up for renewal (retention)


def test_warns_about_our_own_contract_expiring_within_the_renewal_window(customer, manager, now, settings):
    set_thresholds(RENEWAL_WINDOW_DAYS=60)
    today = timezone.localdate(now)
    ours = ProductHoldingFactory(
        customer=customer,
        ownership=Ownership.OURS,
        provider="中国电信",
        expiry_date=today + timedelta(days=30),
    )
    ProductHoldingFactory(customer=customer, ownership=Ownership.OURS, expiry_date=today + timedelta(days=61))
    ProductHoldingFactory(customer=customer, ownership=Ownership.OURS, expiry_date=today - timedelta(days=1))
    ProductHoldingFactory(customer=customer, expiry_date=today + timedelta(days=30))  # a competitor's

    [warning] = of_kind(WarningKind.RENEWAL_DUE, now=now)
    assert (warning.related, warning.params["days"], warning.person) == (ours, 30, manager)
    with translation.override("zh-hans"):
        assert "续约" in describe(warning)


def test_our_contract_ending_today_says_so(customer, now):
    ProductHoldingFactory(customer=customer, ownership=Ownership.OURS, expiry_date=timezone.localdate(now))
    [warning] = of_kind(WarningKind.RENEWAL_DUE, now=now)
    assert describe(warning).endswith("ends today: renew it.")


# Behind the month's target, pro rata to the days elapsed

# 16 November 2026: 15 whole days of a 30-day month have passed.
NOVEMBER_16 = datetime(2026, 11, 16, 10)


@pytest.fixture
def behind_by_20_percent(settings):
    set_thresholds(TARGET_BEHIND_PERCENT=20)
    return timezone.make_aware(NOVEMBER_16)


def leads_created(manager, *days: int) -> None:
    customer = CustomerFactory(account_manager=manager)
    for day in days:
        LeadFactory(customer=customer, created_at=timezone.make_aware(datetime(2026, 11, day, 9)))


def lead_won(manager, value: str, day: int) -> None:
    LeadFactory(
        customer=CustomerFactory(account_manager=manager),
        created_at=timezone.make_aware(datetime(2026, 10, 1, 9)),
        status=Lead.Status.WON,
        won_value=Decimal(value),
        closed_at=timezone.make_aware(datetime(2026, 11, day, 15)),
    )


def behind(now, user=SYSTEM) -> dict:
    return {
        (w.related, w.params["indicator"]): (
            w.params["expected"],
            w.params["actual"],
            w.person,
            w.responsible,
        )
        for w in of_kind(WarningKind.TARGET_BEHIND, now=now, user=user)
    }


@pytest.fixture
def november_targets(team):
    """The team's own November targets: 10 leads and 100,000 CNY won a manager; 20 leads and
    100,000 CNY for the team (its leader's)."""
    november = date(2026, 11, 1)
    set_appraisal_targets(
        team=team,
        role="account_manager",
        period=november,
        targets=[
            {"indicator": "leads_created", "target": 10, "weight": 50},
            {"indicator": "won_value", "target": 100000, "weight": 50},
        ],
        user=team.leader,
    )
    set_appraisal_targets(
        team=team,
        role="team_leader",
        period=november,
        targets=[
            {"indicator": "leads_created", "target": 20, "weight": 50},
            {"indicator": "won_value", "target": 100000, "weight": 50},
        ],
        user=team.leader,
    )


def test_a_manager_and_a_team_behind_the_target_pro_rata_to_the_days_elapsed_are_warned(
    behind_by_20_percent, team, november_targets
):
    now = behind_by_20_percent
    slow, steady = manager_in(team, first_name="李慢", last_name=""), manager_in(team)
    # Leads, target 10: expected by now 10 × 15 / 30 = 5, warned under 5 × 0.8 = 4.
    leads_created(slow, 1, 8, 15, 16)  # three in the 15 days; today's counts from tomorrow
    leads_created(steady, 2, 3, 4, 5)  # four: not under 4
    LeadFactory(
        customer=CustomerFactory(account_manager=slow), created_at=now - timedelta(days=20)
    )  # October
    # Value won, target 100,000: expected 50,000, warned under 40,000.
    lead_won(slow, "30000", 3)
    lead_won(steady, "40000", 10)

    assert behind(now) == {
        (slow, "leads_created"): (Decimal("5.0"), Decimal(3), slow, "account_manager"),
        (slow, "won_value"): (Decimal("50000.00"), Decimal("30000.00"), slow, "account_manager"),
        # The team (its leader's targets), pooled: 7 leads against 20 × 15 / 30 = 10, under 8.
        (team, "leads_created"): (Decimal("10.0"), Decimal(7), team.leader, "team_leader"),
        # 70,000 won against 50,000 expected: on track.
    }
    with translation.override("zh-hans"):
        sentences = sorted(describe(w) for w in of_kind(WarningKind.TARGET_BEHIND, now=now))
    assert sentences == sorted(
        [
            "李慢本月“新增营销线索数”进度落后：30 天已过 15 天，完成 3，按进度应达 5（目标 10）。",
            "李慢本月“成交金额（元）”进度落后：30 天已过 15 天，完成 30,000，按进度应达 50,000（目标 100,000）。",
            f"班组“{team.name}”本月“新增营销线索数”进度落后：30 天已过 15 天，完成 7，按进度应达 10（目标 20）。",
        ]
    )


def test_without_its_own_targets_a_team_is_held_to_the_default_targets(behind_by_20_percent, team):
    now = behind_by_20_percent
    manager = manager_in(team)
    leads_created(manager, 2, 3)  # default 4 leads: 4 × 15 / 30 = 2 expected, warned under 1.6
    lead_won(manager, "20000", 3)  # default 50,000: 25,000 expected, warned under 20,000: not under

    warned = behind(now, user=manager)
    # Visits as planned (default 8): none made, 4 expected.
    assert warned == {
        (manager, "visits_as_planned"): (Decimal("4.0"), Decimal(0), manager, "account_manager")
    }


def test_nothing_is_expected_on_the_first_of_the_month(settings, team, november_targets):
    set_thresholds(TARGET_BEHIND_PERCENT=20)
    manager_in(team)

    assert behind(timezone.make_aware(datetime(2026, 11, 1, 18))) == {}


def test_targets_are_seen_by_the_manager_their_team_leader_and_everyones_readers(
    behind_by_20_percent, team, region, november_targets
):
    now = behind_by_20_percent
    manager, teammate = manager_in(team), manager_in(team)
    other_team = TeamFactory(region=region)
    outsider = manager_in(other_team)
    everyone = {
        (manager, "leads_created"),
        (manager, "won_value"),
        (teammate, "leads_created"),
        (teammate, "won_value"),
        (team, "leads_created"),
        (team, "won_value"),
    }

    assert set(behind(now, user=manager)) == {(manager, "leads_created"), (manager, "won_value")}
    assert set(behind(now, user=team.leader)) == everyone
    # The other team on the defaults: leads, value won and visits, for its manager and the team.
    theirs = {(who, code) for who in (outsider, other_team) for code in ("leads_created", "won_value")}
    theirs |= {(outsider, "visits_as_planned"), (other_team, "visits_as_planned")}
    assert set(behind(now, user=other_team.leader)) == theirs
    for reader in (UserFactory(roles=["coordinator"]), UserFactory(roles=["leadership"]), SYSTEM):
        assert set(behind(now, user=reader)) == everyone | theirs
    assert behind(now, user=support_engineer("network", region, team)) == {}


# A lead stalled in a funnel stage


def test_each_lead_stalled_in_its_stage_is_a_warning_for_its_owner(customer, manager, team, now, settings):
    set_thresholds(FUNNEL_STALLED_DAYS=30)
    colleague = manager_in(team)
    stalled = LeadFactory(
        customer=customer,
        owner=colleague,  # the owner acts, not the customer's account manager
        description="专线扩容",
        stage=FunnelStage.PAIN_POINTS,
        stage_entered_at=now - timedelta(days=31, hours=1),
    )
    LeadFactory(customer=customer, stage_entered_at=now - timedelta(days=30))  # not longer than 30 days
    LeadFactory(
        customer=customer, status=Lead.Status.LOST, stage_entered_at=now - timedelta(days=90)
    )  # closed: not stalled

    [warning] = of_kind(WarningKind.LEAD_STALLED, now=now)
    assert (warning.related, warning.customer, warning.person, warning.responsible) == (
        stalled,
        customer,
        colleague,
        "account_manager",
    )
    assert warning.params == {"lead": "专线扩容", "stage": "pain_points", "days": 31}
    assert warning.due == stalled.stage_entered_at + timedelta(days=30)
    with translation.override("zh-hans"):
        assert describe(warning) == "合肥银行的线索“专线扩容”已在“发展痛点”阶段停滞 31 天。"
    # Only the readers of the customer see it.
    assert of_kind(WarningKind.LEAD_STALLED, now=now, user=manager) == [warning]
    assert of_kind(WarningKind.LEAD_STALLED, now=now, user=UserFactory(roles=["support_staff"])) == []

    set_thresholds(FUNNEL_STALLED_DAYS=40)
    assert of_kind(WarningKind.LEAD_STALLED, now=now) == []


def test_a_threshold_changed_from_next_week_leaves_todays_warnings_as_they_are(customer, now):
    set_thresholds(LEAD_UNTOUCHED_DAYS=7)
    untouched_lead(customer, since=now - timedelta(days=5))
    change_thresholds(
        group="warnings",
        values={"LEAD_UNTOUCHED_DAYS": 3},
        effective_from=timezone.localdate(now) + timedelta(days=7),
        reason="chase urgent leads sooner",
        user=UserFactory(roles=["coordinator"]),
    )

    assert of_kind(WarningKind.LEAD_UNTOUCHED, now=now) == []
    assert len(of_kind(WarningKind.LEAD_UNTOUCHED, now=now + timedelta(days=7))) == 1
