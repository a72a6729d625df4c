"""Incentive rules, exactly-once records, the team leader's review and statements."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from onsite.exceptions import InvalidInput, NotPermitted, OnsiteError
from onsite.models import IncentiveRecord, IncentiveRule, Lead, ProductHolding, Visit, WinBackTarget
from onsite.selectors.incentives import incentive_statement, team_statements
from onsite.services.incentives import award, request_incentive_review, set_incentive_rule
from tests.conftest import BPMN_DIR, source
from tests.onsite.flow import (
    APPROVE,
    PLAIN_SUMMARY,
    RESOURCES,
    REWORK,
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
from workflows.clock import frozen
from workflows.exceptions import TaskRejected
from workflows.models import ProcessInstance
from workflows.services import retry_instance
from workflows.services.deployment import deploy_files

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def org():
    return build_org()


def visit_up_to_summary(enrolment, org, summary_data):
    visit = current_visit(enrolment)
    with frozen(at(2026, 12, 1, 9)):
        complete(visit, "Task_plan_visit", org.manager, plan(date="2026-12-01"))
        complete(visit, "Task_prepare_resources", org.manager, RESOURCES)
    with frozen(at(2026, 12, 1, 12)):
        complete(visit, "Task_record_visit", org.manager, record(at(2026, 12, 1, 10)))
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

    def test_a_retried_approval_records_the_visits_incentives_once(self, org):
        # Everything but the win-back process: approving a summary that names a competitor contract
        # ending within 90 days cannot start its win-back task, so the approval's service task fails.
        deploy_files(files=[source(p) for p in sorted(BPMN_DIR.glob("*.bpmn")) if p.stem != "win_back"])
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

        visit.refresh_from_db()
        assert visit.status == ProcessInstance.Status.ERROR
        assert "win_back" in visit.error["message"]
        # The failed attempt left nothing behind: records made before the failure went with it.
        assert IncentiveRecord.objects.count() == 0
        assert not Lead.objects.exists() and not ProductHolding.objects.exists()
        assert Visit.objects.get(instance=visit).summary.status == "submitted"

        deploy_files(files=[source(BPMN_DIR / "win_back.bpmn")])
        with frozen(at(2026, 12, 2, 10)):
            retry_instance(instance_id=visit.pk, user=org.coordinator)

        visit.refresh_from_db()
        assert visit.status == ProcessInstance.Status.COMPLETED
        assert events_of(org.manager) == [
            "lead_created",
            "summary_first_pass",
            "summary_on_time",
            "visit_as_planned",
        ]
        assert Lead.objects.count() == WinBackTarget.objects.count() == 1

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
        rule = set_incentive_rule(
            event="lead_created", values={"points": Decimal(4), "amount": Decimal(8)}, user=org.coordinator
        )
        new = award(
            "lead_created",
            person=org.manager,
            key="lead:2",
            description="y",
            at=at(2026, 12, 1),
            urgency="low",
        )

        assert IncentiveRule.objects.filter(event="lead_created", active=True).get() == rule
        assert (old.rule.points, old.points) == (Decimal(2), Decimal("2.00"))
        assert (new.rule, new.points, new.amount) == (rule, Decimal("4.00"), Decimal("8.00"))

    def test_rules_are_set_by_coordinators_with_sensible_numbers(self, org):
        with pytest.raises(NotPermitted):
            set_incentive_rule(event="lead_won", values={"points": 1}, user=org.leader)
        with pytest.raises(InvalidInput) as refused:
            set_incentive_rule(event="lead_won", values={"points": -1, "bonus": 3}, user=org.coordinator)
        assert set(refused.value.errors) == {"bonus"}
        with pytest.raises(InvalidInput) as refused:
            set_incentive_rule(event="lead_won", values={"points": -1}, user=org.coordinator)
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
            incentive_statement(person=org.manager, period=date(2026, 12, 1)),
            incentive_statement(person=org.support["solution"], period=date(2026, 12, 1)),
        )
        assert (manager.points, manager.rejected, manager.pending) == (Decimal("4.00"), 1, 0)
        assert (engineer.points, engineer.amount) == (Decimal("5.00"), Decimal("50.00"))
        assert [s.person for s in team_statements(team=org.team, period=date(2026, 12, 1))] == sorted(
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
