"""Incentive rules, exactly-once records, the team leader's review and statements."""

from datetime import date
from decimal import Decimal

import pytest

from onsite.amounts import format_amount
from onsite.exceptions import InvalidInput, NotPermitted, OnsiteError
from onsite.models import IncentiveRecord, IncentiveRule, Lead, Visit, WinBackTarget
from onsite.selectors.incentive_rules import rule_in_force
from onsite.selectors.incentives import incentive_statement, team_statements
from onsite.services.incentives import award, request_incentive_review, set_incentive_rule
from tests.conftest import BPMN_DIR, source
from tests.factories import UserFactory
from tests.onsite.flow import (
    APPROVE,
    PLAIN_SUMMARY,
    RESOURCES,
    REWORK,
    SUPPORT,
    at,
    build_org,
    complete,
    current_visit,
    customer_of,
    deploy_processes,
    enrol,
    new_programme,
    open_task,
    plan,
    record,
    summary,
)
from workflows.actors import SYSTEM
from workflows.clock import frozen
from workflows.events import handle_pending_events
from workflows.exceptions import TaskRejected
from workflows.models import EngineEvent, ProcessInstance
from workflows.selectors import instance_variables
from workflows.services import reassign_task
from workflows.services.deployment import deploy_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return build_org()


def visit_up_to_summary(enrolment, org, summary_data):
    visit = current_visit(enrolment)
    with frozen(at(2026, 12, 1, 9)):
        complete(visit, "Task_plan_visit", org.manager, plan(date="2026-12-01"))
        complete(visit, "Task_prepare_resources", org.manager, RESOURCES)
    with frozen(at(2026, 12, 1, 12)):
        complete(visit, "Task_record_visit", org.manager, record(at(2026, 12, 1, 8)))
    with frozen(at(2026, 12, 1, 18)):
        complete(visit, "Task_write_summary", org.manager, summary_data)
    return visit


def events_of(person) -> list:
    return sorted(IncentiveRecord.objects.filter(person=person).values_list("event", flat=True))


class TestExactlyOnce:
    def test_the_same_event_for_the_same_person_is_recorded_once(self, org):
        customer = customer_of(org)
        first = award(
            "lead_created",
            person=org.manager,
            key="lead:1",
            description="x",
            at=at(2026, 12, 1),
            customer=customer,
        )
        again = award(
            "lead_created",
            person=org.manager,
            key="lead:1",
            description="x",
            at=at(2026, 12, 2),
            customer=customer,
        )
        assert first.pk == again.pk
        assert IncentiveRecord.objects.count() == 1

    def test_a_win_back_that_cannot_start_yet_never_undoes_the_approval_nor_pays_twice(self, org):
        # Everything but the win-back process: the approved summary names a competitor contract
        # ending within 90 days, whose win-back task cannot start until the process is deployed.
        deploy_files(
            user=SYSTEM, files=[source(p) for p in sorted(BPMN_DIR.glob("*.bpmn")) if p.stem != "win_back"]
        )
        customer = customer_of(org)
        enrolment = enrol(org, new_programme(org), customer)
        expiring = summary(
            products=[
                {
                    "product": "视频会议",
                    "provider": "竞争对手A",
                    "ownership": "competitor",
                    "expiry_date": "2027-01-15",
                }
            ],
            leads=[{"description": "机房托管", "urgency": "medium"}],
            resource_needs=[],
        )
        visit = visit_up_to_summary(enrolment, org, expiring)
        with frozen(at(2026, 12, 2, 9)):
            complete(visit, "Task_review_summary", org.leader, APPROVE)

        # The approval stands; what it leads to waits, its failure kept on the engine event.
        visit.refresh_from_db()
        assert visit.status == ProcessInstance.Status.COMPLETED
        assert Visit.objects.get(instance=visit).summary.status == "approved"
        waiting = EngineEvent.objects.get(
            instance=visit, kind=EngineEvent.Kind.TASK_COMPLETED, handled_at=None
        )
        assert "win_back" in waiting.error and waiting.attempts == 1
        assert Lead.objects.filter(follow_up__isnull=True).count() == 1  # its follow-up went with the failure
        assert WinBackTarget.objects.count() == 0

        deploy_files(user=SYSTEM, files=[source(BPMN_DIR / "win_back.bpmn")])
        with frozen(at(2026, 12, 2, 10)):
            handle_pending_events()  # the worker's sweep

        assert events_of(org.manager) == [
            "lead_created",
            "summary_first_pass",
            "summary_on_time",
            "visit_as_planned",
        ]
        assert Lead.objects.filter(follow_up__isnull=False).count() == WinBackTarget.objects.count() == 1

    def test_a_summary_sent_back_earns_its_visit_incentives_once_and_not_the_first_pass(self, org):
        deploy_processes()
        enrolment = enrol(org, new_programme(org), customer_of(org))
        visit = visit_up_to_summary(enrolment, org, PLAIN_SUMMARY)
        with frozen(at(2026, 12, 2, 9)):
            complete(visit, "Task_review_summary", org.leader, REWORK)
        with frozen(at(2026, 12, 5, 9)):  # after the first due time: still on time, it was first in on time
            complete(visit, "Task_write_summary", org.manager, PLAIN_SUMMARY)
            complete(visit, "Task_review_summary", org.leader, APPROVE)

        record_ = Visit.objects.get(instance=visit).summary
        assert (record_.submissions, record_.rework_count, record_.on_time) == (2, 1, True)
        assert events_of(org.manager) == ["summary_on_time", "visit_as_planned"]

    def test_a_late_summary_and_a_late_visit_earn_nothing_for_them(self, org):
        deploy_processes()
        enrolment = enrol(org, new_programme(org), customer_of(org))
        visit = current_visit(enrolment)
        with frozen(at(2026, 12, 1, 9)):
            complete(visit, "Task_plan_visit", org.manager, plan(date="2026-12-01"))
            complete(visit, "Task_prepare_resources", org.manager, RESOURCES)
        with frozen(at(2026, 12, 4, 12)):
            complete(visit, "Task_record_visit", org.manager, record(at(2026, 12, 4, 10)))  # three days late
        with frozen(at(2026, 12, 7, 9)):  # 71 hours after the visit
            complete(visit, "Task_write_summary", org.manager, PLAIN_SUMMARY)
            complete(visit, "Task_review_summary", org.leader, APPROVE)
        assert events_of(org.manager) == ["summary_first_pass"]


class TestRules:
    def test_a_new_rule_replaces_the_active_one_and_old_records_keep_theirs(self, org):
        old = award("lead_created", person=org.manager, key="lead:1", description="x", at=at(2026, 12, 1))
        # Made before the award's moment: the rule in force when the event happens is the one used.
        with frozen(at(2026, 11, 20)):
            rule = set_incentive_rule(
                event="lead_created",
                values={"points": Decimal(4), "amount": Decimal(8)},
                user=org.coordinator,
                reason="more for leads",
            )
        new = award(
            "lead_created",
            person=org.manager,
            key="lead:2",
            description="y",
            at=at(2026, 12, 1),
            urgency="low",
        )

        assert rule_in_force("lead_created", at=at(2026, 12, 1)) == rule
        assert (old.rule.points, old.points) == (Decimal(2), Decimal("2.00"))
        assert (new.rule, new.points, new.amount) == (rule, Decimal("4.00"), Decimal("8.00"))

    def test_rules_are_set_by_coordinators_with_sensible_numbers(self, org):
        with pytest.raises(NotPermitted):
            set_incentive_rule(event="lead_won", values={"points": 1}, user=org.leader, reason="x")
        with pytest.raises(InvalidInput) as refused:
            set_incentive_rule(
                event="lead_won", values={"points": -1, "bonus": 3}, user=org.coordinator, reason="x"
            )
        assert set(refused.value.errors) == {"bonus"}
        with pytest.raises(InvalidInput) as refused:
            set_incentive_rule(event="lead_won", values={"points": -1}, user=org.coordinator, reason="x")
        assert refused.value.errors == {"points": ["Must not be negative."]}
        assert IncentiveRule.objects.filter(event="lead_won", active=True).get().points == Decimal(20)

    def test_an_event_without_an_active_rule_records_nothing(self, org):
        IncentiveRule.objects.filter(event="lead_created").update(active=False)
        assert (
            award("lead_created", person=org.manager, key="lead:1", description="x", at=at(2026, 12, 1))
            is None
        )


class TestReview:
    @pytest.fixture
    def pending(self, org):
        deploy_processes()
        return [
            award(
                "lead_created",
                person=org.manager,
                key=f"lead:{n}",
                description=f"线索{n}",
                at=at(2026, 12, 3),
            )
            for n in range(3)
        ] + [
            award(
                "support_completed",
                person=org.support["solution"],
                key="support:1",
                description="支撑",
                at=at(2026, 12, 9),
            )
        ]

    def test_the_team_leader_rejects_some_records_with_reasons_and_approves_the_rest(self, org, pending):
        review = request_incentive_review(team=org.team, period=date(2026, 12, 1), user=org.leader)
        task = open_task(review.instance, "Task_review_incentives")
        assert task.assignee == org.leader
        complete(
            review.instance,
            "Task_review_incentives",
            org.leader,
            {
                "rejections": [{"record_id": pending[0].pk, "reason": "重复录入"}],
                "review_note": "其余属实",
            },
        )

        statuses = {r.pk: (r.status, r.decision_note, r.decided_by) for r in IncentiveRecord.objects.all()}
        assert statuses[pending[0].pk] == ("rejected", "重复录入", org.leader)
        assert statuses[pending[1].pk] == statuses[pending[2].pk] == ("approved", "其余属实", org.leader)
        assert statuses[pending[3].pk][0] == "approved"
        assert review.instance.__class__.objects.get(pk=review.instance_id).status == "completed"
        manager, engineer = (
            incentive_statement(person=org.manager, period=date(2026, 12, 1), user=org.manager),
            incentive_statement(person=org.support["solution"], period=date(2026, 12, 1), user=org.leader),
        )
        assert (manager.points, manager.rejected, manager.pending) == (Decimal("4.00"), 1, 0)
        assert (engineer.points, engineer.amount) == (Decimal("5.00"), Decimal("50.00"))
        assert [
            s.person for s in team_statements(team=org.team, period=date(2026, 12, 1), user=org.leader)
        ] == sorted(
            [org.leader, org.manager, org.other_manager, org.support["solution"], org.support["network"]],
            key=lambda u: u.username,
        )

    def test_a_record_outside_the_review_is_refused_and_the_task_stays_open(self, org, pending):
        review = request_incentive_review(team=org.team, period=date(2026, 12, 1), user=org.leader)
        with pytest.raises(TaskRejected, match=r"^以下记录不在本次审核中 \(not in this review\): 999999$"):
            complete(
                review.instance,
                "Task_review_incentives",
                org.leader,
                {
                    "rejections": [{"record_id": 999999, "reason": "不存在"}],
                },
            )
        assert open_task(review.instance, "Task_review_incentives").assignee == org.leader
        assert set(IncentiveRecord.objects.values_list("status", flat=True)) == {"pending"}

    def test_a_review_needs_pending_records_and_the_teams_leader(self, org, pending):
        with pytest.raises(OnsiteError, match="no pending incentive records for 2026-11"):
            request_incentive_review(team=org.team, period=date(2026, 11, 1), user=org.leader)
        with pytest.raises(NotPermitted):
            request_incentive_review(team=org.team, period=date(2026, 12, 1), user=org.manager)
        first = request_incentive_review(team=org.team, period=date(2026, 12, 1), user=org.coordinator)
        # Records already in a review are not reviewed twice.
        with pytest.raises(OnsiteError, match="no pending incentive records"):
            request_incentive_review(team=org.team, period=date(2026, 12, 1), user=org.leader)
        assert first.records.count() == 4


class TestFigures:
    def test_statements_and_reviews_print_money_and_points_with_two_decimals(self, org):
        deploy_processes()
        with frozen(at(2026, 11, 20)):
            set_incentive_rule(
                event="lead_created",
                values={"points": Decimal("1.1"), "amount": Decimal("73.7")},
                user=org.coordinator,
                reason="rounding",
            )
        for n in range(2):
            award("lead_created", person=org.manager, key=f"lead:{n}", description="x", at=at(2026, 12, 3))
        review = request_incentive_review(team=org.team, period=date(2026, 12, 1), user=org.leader)
        assert {k: instance_variables(review.instance)["review"][k] for k in ("points", "amount")} == {
            "points": "2.20",
            "amount": "147.40",
        }
        complete(review.instance, "Task_review_incentives", org.leader, {})

        statement = incentive_statement(person=org.manager, period=date(2026, 12, 1), user=org.manager)

        (line,) = statement.lines
        printed = [str(v) for v in (line.points, line.amount, statement.points, statement.amount)]
        assert printed == ["2.20", "147.40", "2.20", "147.40"]
        assert [format_amount(v) for v in (statement.amount, Decimal("147.400000000000"))] == ["147.40"] * 2


class TestPeriods:
    def test_a_visits_records_fall_in_the_month_of_the_visit_not_of_the_approval(self, org):
        deploy_processes()
        enrolment = enrol(org, new_programme(org), customer_of(org))
        visit = current_visit(enrolment)
        with frozen(at(2026, 11, 30, 9)):
            complete(visit, "Task_plan_visit", org.manager, plan(date="2026-11-30"))
            complete(visit, "Task_prepare_resources", org.manager, RESOURCES)
            complete(visit, "Task_record_visit", org.manager, record(at(2026, 11, 30, 8)))
        with frozen(at(2026, 11, 30, 20)):
            complete(visit, "Task_write_summary", org.manager, PLAIN_SUMMARY)
        with frozen(at(2026, 12, 2, 9)):
            complete(visit, "Task_review_summary", org.leader, APPROVE)

        periods = dict(IncentiveRecord.objects.filter(person=org.manager).values_list("event", "period"))
        assert periods == {
            "visit_as_planned": date(2026, 11, 1),
            "summary_on_time": date(2026, 11, 1),
            "summary_first_pass": date(2026, 11, 1),
        }


class TestSupportStaff:
    def test_the_engineer_who_prepares_and_attends_a_visit_earns_both_records(self, org):
        deploy_processes()
        enrolment = enrol(org, new_programme(org), customer_of(org))
        visit = current_visit(enrolment)
        engineer = org.support["solution"]
        with frozen(at(2026, 11, 27, 9)):
            complete(visit, "Task_plan_visit", org.manager, plan(needs_support=True, date="2026-12-01"))
            complete(visit, "Task_prepare_resources", org.manager, RESOURCES)
        with frozen(at(2026, 11, 28, 16)):
            complete(visit, "Task_support_preparation", engineer, {**SUPPORT, "will_attend": True})
        with frozen(at(2026, 12, 1, 9)):
            complete(visit, "Task_record_visit", org.manager, record(at(2026, 12, 1, 8)))

        records = {
            r.event: (r.person, r.period, r.points, r.amount, r.visit_id)
            for r in IncentiveRecord.objects.filter(person=engineer)
        }
        visit_id = Visit.objects.get(instance=visit).pk
        assert records == {
            "visit_support_prepared": (
                engineer,
                date(2026, 11, 1),
                Decimal("3.00"),
                Decimal("20.00"),
                visit_id,
            ),
            "visit_support_attended": (
                engineer,
                date(2026, 12, 1),
                Decimal("3.00"),
                Decimal("30.00"),
                visit_id,
            ),
        }

    def test_an_engineer_who_only_prepares_earns_the_preparation_and_pool_work_credits_who_did_it(self, org):
        deploy_processes()
        enrolment = enrol(org, new_programme(org), customer_of(org))
        visit = current_visit(enrolment)
        # Nobody of that speciality: the preparation waits in the pool until the leader assigns it.
        with frozen(at(2026, 12, 1, 8)):
            complete(
                visit, "Task_plan_visit", org.manager, plan(needs_support=True, speciality="engineering")
            )
            complete(visit, "Task_prepare_resources", org.manager, RESOURCES)
        preparation = open_task(visit, "Task_support_preparation")
        assert preparation.assignee is None
        reassign_task(task_id=preparation.pk, to_user=org.support["network"], user=org.leader)
        with frozen(at(2026, 12, 1, 9)):
            complete(
                visit, "Task_support_preparation", org.support["network"], {**SUPPORT, "will_attend": False}
            )
            complete(visit, "Task_record_visit", org.manager, record(at(2026, 12, 1, 8)))

        assert events_of(org.support["network"]) == ["visit_support_prepared"]
        assert events_of(org.support["solution"]) == []

    def test_a_visit_without_support_earns_support_staff_nothing(self, org):
        deploy_processes()
        enrolment = enrol(org, new_programme(org), customer_of(org))
        visit_up_to_summary(enrolment, org, PLAIN_SUMMARY)

        assert not IncentiveRecord.objects.filter(event__startswith="visit_support").exists()


class TestStatementReaders:
    PERIOD = date(2026, 12, 1)

    def test_a_person_reads_their_own_statement_and_their_leader_every_members(self, org):
        for reader in (org.manager, org.leader, org.coordinator, org.director, SYSTEM):
            assert (
                incentive_statement(person=org.manager, period=self.PERIOD, user=reader).person == org.manager
            )

        for outsider in (org.other_manager, org.support["solution"], None):
            with pytest.raises(NotPermitted):
                incentive_statement(person=org.manager, period=self.PERIOD, user=outsider)

    def test_a_member_reading_the_team_statements_gets_their_own_line_only(self, org):
        everyone = team_statements(team=org.team, period=self.PERIOD, user=org.leader)
        mine = team_statements(team=org.team, period=self.PERIOD, user=org.manager)

        assert len(everyone) == 5
        assert [s.person for s in mine] == [org.manager]

    def test_someone_outside_the_team_may_not_read_its_statements(self, org):
        for outsider in (UserFactory(roles=["team_leader"]), UserFactory(roles=["account_manager"]), None):
            with pytest.raises(NotPermitted):
                team_statements(team=org.team, period=self.PERIOD, user=outsider)

    @pytest.mark.parametrize("period", ["2026-12", None, 202612])
    def test_a_period_that_is_not_a_date_is_refused_on_its_field(self, org, period):
        with pytest.raises(InvalidInput) as refused:
            incentive_statement(person=org.manager, period=period, user=org.manager)

        assert set(refused.value.field_errors) == {"period"}
