"""The on-site service programme, end to end through the domain's services and the engine."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onsite.exceptions import InvalidInput
from onsite.models import Enrolment, StageChange, Visit
from onsite.services.programmes import create_programme, end_enrolment_early
from tests.onsite.flow import (
    APPROVE,
    PLAIN_SUMMARY,
    RESOURCES,
    REWORK,
    SUPPORT,
    close_visit,
    complete,
    current_visit,
    customer_of,
    deploy_processes,
    enrol,
    new_programme,
    open_task,
    plan,
    record,
    refreshed,
    run_visit,
    stage_review,
)
from workflows.models import AuditEvent, HumanTask, ProcessInstance
from workflows.selectors import instance_variables
from workflows.services import fire_due_timers

pytestmark = pytest.mark.django_db
Status = ProcessInstance.Status


@pytest.fixture
def enrolment(org):
    return enrol(org, new_programme(org), customer_of(org, name="滨湖新区政务服务中心"))


def test_the_diagrams_deploy_without_warnings_once_lanes_map_to_roles():
    deployments = deploy_processes()
    assert sorted(d.version.model.process_id for d in deployments) == [
        "appraisal",
        "incentive_review",
        "lead_follow_up",
        "onsite_programme",
        "renewal",
        "support_request",
        "visit_cycle",
        "win_back",
    ]
    assert [w for d in deployments for w in d.warnings] == []


def test_enrolling_starts_the_programme_with_its_first_visit_for_the_customers_own_manager(org, enrolment):
    programme = refreshed(enrolment).instance
    assert programme.status == Status.WAITING  # waiting for its visit
    assert instance_variables(programme)["stage"] == "publicity"
    visit = current_visit(enrolment)
    assert (visit.process_id, visit.business_key, visit.status) == (
        "visit_cycle",
        enrolment.customer.code,
        Status.RUNNING,
    )
    plan_task = open_task(visit, "Task_plan_visit")
    assert (plan_task.name, plan_task.role.name, plan_task.assignee) == (
        "制定走访计划",
        "account_manager",
        org.manager,
    )
    assert plan_task.form_file == "visit_plan.schema.json"
    scheduled = Visit.objects.get(enrolment=enrolment)
    assert (scheduled.number, scheduled.status, scheduled.instance, scheduled.account_manager) == (
        1,
        Visit.Status.SCHEDULED,
        visit,
        org.manager,
    )


def test_the_whole_programme_from_enrolment_to_the_end_of_win_back(org, enrolment):
    # Visit 1, publicity: support staff requested, summary overdue, sent back once, then approved.
    visit = current_visit(enrolment)
    complete(visit, "Task_plan_visit", org.manager, plan(needs_support=True))
    support_task = open_task(visit, "Task_support_preparation")
    assert (support_task.role.name, support_task.assignee) == ("support_staff", org.support["solution"])
    complete(visit, "Task_prepare_resources", org.manager, RESOURCES)
    complete(visit, "Task_support_preparation", org.support["solution"], SUPPORT)
    visited_at = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)  # recorded once made
    complete(visit, "Task_record_visit", org.manager, record(visited_at))

    summary = open_task(visit, "Task_write_summary")
    assert summary.due_at == visited_at + timedelta(hours=48)
    assert fire_due_timers(now=visited_at + timedelta(hours=47)) == []
    fired = fire_due_timers(now=visited_at + timedelta(hours=49))
    assert [t.bpmn_id for t in fired] == ["Event_summary_overdue"]
    escalation = open_task(visit, "Task_escalate_summary")
    assert (escalation.role.name, escalation.assignee) == ("team_leader", org.leader)
    assert open_task(visit, "Task_write_summary").pk == summary.pk  # the summary is still the manager's
    complete(visit, "Task_escalate_summary", org.leader, {"escalation_action": "reminded"})

    complete(visit, "Task_write_summary", org.manager, PLAIN_SUMMARY)
    complete(visit, "Task_review_summary", org.leader, REWORK)
    rework = open_task(visit, "Task_write_summary")
    assert rework.pk != summary.pk
    complete(visit, "Task_write_summary", org.manager, PLAIN_SUMMARY)
    complete(visit, "Task_review_summary", org.leader, APPROVE)

    assert refreshed(visit).status == Status.COMPLETED
    report = instance_variables(refreshed(enrolment).instance)["visit_report"]
    first = Visit.objects.get(enrolment=enrolment, number=1)
    assert report == {
        "visit_id": first.pk,
        "visited_at": visited_at.isoformat(),
        "rework_count": 1,
        "informatization_status": PLAIN_SUMMARY["informatization_status"],
        "next_goals": PLAIN_SUMMARY["next_goals"],
        "lead_count": 0,
        "high_urgency_leads": 0,
    }
    assert (first.status, first.support_staff, first.summary.rework_count) == (
        Visit.Status.CLOSED,
        org.support["solution"],
        1,
    )
    review = open_task(refreshed(enrolment).instance, "Task_stage_review")
    assert (review.role.name, review.assignee) == ("team_leader", org.leader)
    # The next visit does not wait for the team leader: it is under way beside the review.
    second = current_visit(enrolment)
    assert second.pk != visit.pk
    assert Visit.objects.get(instance=second).number == 2
    assert open_task(second, "Task_plan_visit").assignee == org.manager

    # The goal is not met yet: another publicity visit, without support staff this time.
    complete(refreshed(enrolment).instance, "Task_stage_review", org.leader, stage_review("continue"))
    run_visit(enrolment, org, decision="advance")
    assert refreshed(enrolment).stage == "information_gathering"

    third = Visit.objects.get(instance=current_visit(enrolment))
    assert (third.number, third.stage) == (3, "information_gathering")
    run_visit(enrolment, org, decision="advance")
    assert refreshed(enrolment).stage == "win_back"
    run_visit(enrolment, org, decision="continue")
    run_visit(enrolment, org, decision="advance")

    enrolment = refreshed(enrolment)
    assert (enrolment.status, enrolment.stage) == (Enrolment.Status.COMPLETED, "win_back")
    assert enrolment.instance.status == Status.COMPLETED
    assert list(enrolment.stage_changes.values_list("from_stage", "to_stage", "actor")) == [
        ("", "publicity", org.coordinator.pk),
        ("publicity", "information_gathering", org.leader.pk),
        ("information_gathering", "win_back", org.leader.pk),
    ]
    assert enrolment.assessments.count() == 1 + 5  # enrolment, then each stage review
    assert enrolment.visits.filter(status=Visit.Status.CLOSED).count() == 5
    # The sixth visit, scheduled beside the last review and not made, ends with the programme.
    assert enrolment.visits.get(number=6).status == Visit.Status.CANCELLED
    visits = ProcessInstance.objects.filter(parent=enrolment.instance).order_by("pk")
    assert list(visits.values_list("status", flat=True)) == [Status.COMPLETED] * 5 + [Status.TERMINATED]
    assert not HumanTask.objects.filter(status=HumanTask.Status.OPEN).exists()


def test_the_coordinator_can_end_the_programme_early(org, enrolment):
    visit = current_visit(enrolment)
    complete(visit, "Task_plan_visit", org.manager, plan())

    end_enrolment_early(enrolment=enrolment, reason="客户调整驻点安排", user=org.coordinator)

    enrolment, visit = refreshed(enrolment), refreshed(visit)
    assert (enrolment.status, enrolment.end_reason) == (Enrolment.Status.ENDED_EARLY, "客户调整驻点安排")
    assert enrolment.instance.status == Status.COMPLETED
    assert visit.status == Status.TERMINATED
    assert Visit.objects.get(instance=visit).status == Visit.Status.CANCELLED
    assert set(
        visit.human_tasks.filter(bpmn_id="Task_prepare_resources").values_list("status", flat=True)
    ) == {HumanTask.Status.CANCELLED}
    event = AuditEvent.objects.get(instance=enrolment.instance, kind="message_delivered")
    assert event.actor == org.coordinator


def test_early_end_also_works_while_the_team_leader_is_reviewing_the_stage(org, enrolment):
    close_visit(enrolment, org)
    review = open_task(refreshed(enrolment).instance, "Task_stage_review")

    end_enrolment_early(enrolment=enrolment, reason="合同终止", user=org.coordinator)

    assert refreshed(enrolment).status == Enrolment.Status.ENDED_EARLY
    assert refreshed(review).status == HumanTask.Status.CANCELLED
    assert Visit.objects.get(enrolment=enrolment, number=1).status == Visit.Status.CLOSED  # made stays made
    assert Visit.objects.get(enrolment=enrolment, number=2).status == Visit.Status.CANCELLED


@pytest.mark.slow
def test_three_hundred_visits_keep_the_programme_running_in_the_right_stage_at_constant_cost(org, enrolment):
    """A weekly programme runs for years: its state and the cost of a task must not grow with age."""
    sizes, queries = {}, {}
    for number in range(1, 301):
        decision = "advance" if number in (100, 200) else "continue"
        if number in (2, 300):
            close_visit(enrolment, org)
            with CaptureQueriesContext(connection) as captured:
                complete(
                    refreshed(enrolment).instance, "Task_stage_review", org.leader, stage_review(decision)
                )
            queries[number] = len(captured)
        else:
            run_visit(enrolment, org, decision=decision)
        if number in (1, 300):
            sizes[number] = len(refreshed(enrolment).instance.state)

    enrolment = refreshed(enrolment)
    assert enrolment.instance.status == Status.WAITING  # visit 301 is under way
    assert (enrolment.stage, enrolment.visits.count()) == ("win_back", 301)
    assert StageChange.objects.filter(enrolment=enrolment).count() == 3
    assert ProcessInstance.objects.filter(parent=enrolment.instance).count() == 301
    assert sizes[300] <= sizes[1] * 1.1, sizes
    assert queries[300] == queries[2], queries


def test_the_stage_review_comes_at_the_programmes_rhythm_and_never_holds_up_a_visit(org):
    enrolment = enrol(org, new_programme(org, visits_per_review=3), customer_of(org))
    programme = refreshed(enrolment).instance

    for number in (1, 2):
        close_visit(enrolment, org)
        assert not HumanTask.objects.filter(instance=programme, bpmn_id="Task_stage_review").exists()
        assert Visit.objects.get(instance=current_visit(enrolment)).number == number + 1
    close_visit(enrolment, org)  # the third: a review is due
    review = open_task(programme, "Task_stage_review")
    # The leader has not reviewed yet; visits four and five go ahead regardless.
    close_visit(enrolment, org)
    close_visit(enrolment, org)
    assert Visit.objects.get(instance=current_visit(enrolment)).number == 6
    assert HumanTask.objects.filter(instance=programme, bpmn_id="Task_stage_review").count() == 1

    complete(programme, "Task_stage_review", org.leader, stage_review("advance"))
    enrolment = refreshed(enrolment)
    assert enrolment.stage == "information_gathering"
    assert enrolment.assessments.get(decision="advance").visit.number == 5  # the latest visit closed
    # Visit six, scheduled but not made, is the new stage's.
    assert Visit.objects.get(instance=current_visit(enrolment)).stage == "information_gathering"
    assert review.pk != open_task(current_visit(enrolment), "Task_plan_visit").pk


@pytest.mark.parametrize(("cadence", "expected"), [("weekly", 4), ("monthly", 1)])
def test_by_default_the_stage_is_reviewed_about_once_a_month(org, cadence, expected):
    programme = create_programme(
        name="驻点", region=org.branch, start_date=date(2026, 11, 2), cadence=cadence, user=org.coordinator
    )

    assert programme.visits_per_review == expected


@pytest.mark.parametrize("value", [0, 53])
def test_a_review_rhythm_outside_one_to_fifty_two_visits_is_refused(org, value):
    with pytest.raises(InvalidInput) as caught:
        new_programme(org, visits_per_review=value)

    assert list(caught.value.field_errors) == ["visits_per_review"]
