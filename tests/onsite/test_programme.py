"""The on-site service programme, end to end through the engine's services."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.onsite.programme import (
    APPROVE,
    CUSTOMER,
    RESOURCES,
    REWORK,
    SUMMARY,
    SUPPORT,
    close_visit,
    complete,
    current_visit,
    deploy_programme,
    make_people,
    open_task,
    plan,
    record,
    run_visit,
    stage_review,
    start_programme,
)
from workflows.models import AuditEvent, HumanTask, ProcessInstance
from workflows.selectors import instance_variables
from workflows.services import deliver_message, fire_due_timers

pytestmark = pytest.mark.django_db
Status = ProcessInstance.Status


@pytest.fixture
def people():
    return make_people()


@pytest.fixture
def programme(people):
    deploy_programme()
    return start_programme(people)


def refreshed(instance):
    instance.refresh_from_db()
    return instance


def test_the_diagrams_deploy_without_warnings_once_lanes_map_to_roles():
    deployments = deploy_programme()
    assert [d.version.model.process_id for d in deployments] == ["visit_cycle", "onsite_programme"]
    assert [w for d in deployments for w in d.warnings] == []


def test_enrolling_starts_the_programme_in_publicity_with_its_first_visit(programme, people):
    assert refreshed(programme).status == Status.WAITING  # waiting for its visit
    assert instance_variables(refreshed(programme))["stage"] == "publicity"
    visit = current_visit(programme)
    assert (visit.process_id, visit.business_key, visit.status) == ("visit_cycle", CUSTOMER, Status.RUNNING)
    plan_task = open_task(visit, "Task_plan_visit")
    assert (plan_task.name, plan_task.role.name, plan_task.assignee) == (
        "制定走访计划",
        "account_manager",
        people["manager"],
    )
    assert plan_task.form_file == "visit_plan.schema.json"


def test_the_whole_programme_from_enrolment_to_the_end_of_win_back(programme, people):
    # Visit 1, publicity: support staff requested, summary overdue, sent back once, then approved.
    visit = current_visit(programme)
    complete(visit, "Task_plan_visit", people["manager"], plan(needs_support=True))
    support_task = open_task(visit, "Task_support_preparation")
    assert (support_task.role.name, support_task.assignee) == ("support_staff", people["support"])
    complete(visit, "Task_prepare_resources", people["manager"], RESOURCES)
    complete(visit, "Task_support_preparation", people["support"], SUPPORT)
    visited_at = datetime(2026, 12, 1, 10, 0).astimezone()
    complete(visit, "Task_record_visit", people["manager"], record(visited_at))

    summary = open_task(visit, "Task_write_summary")
    assert summary.due_at == visited_at + timedelta(hours=48)
    assert fire_due_timers(now=visited_at + timedelta(hours=47)) == []
    fired = fire_due_timers(now=visited_at + timedelta(hours=49))
    assert [t.bpmn_id for t in fired] == ["Event_summary_overdue"]
    escalation = open_task(visit, "Task_escalate_summary")
    assert (escalation.role.name, escalation.assignee) == ("team_leader", people["leader"])
    assert open_task(visit, "Task_write_summary").pk == summary.pk  # the summary is still the manager's
    complete(visit, "Task_escalate_summary", people["leader"], {"escalation_action": "reminded"})

    complete(visit, "Task_write_summary", people["manager"], SUMMARY)
    complete(visit, "Task_review_summary", people["leader"], REWORK)
    rework = open_task(visit, "Task_write_summary")
    assert rework.pk != summary.pk
    complete(visit, "Task_write_summary", people["manager"], SUMMARY)
    complete(visit, "Task_review_summary", people["leader"], APPROVE)

    assert refreshed(visit).status == Status.COMPLETED
    report = instance_variables(refreshed(programme))["visit_report"]
    assert report == {
        "visited_at": visited_at.isoformat(),
        "rework_count": 1,
        "informatization_status": SUMMARY["informatization_status"],
        "next_goals": SUMMARY["next_goals"],
        "lead_count": 1,
        "high_urgency_leads": 1,
    }
    review = open_task(programme, "Task_stage_review")
    assert (review.role.name, review.assignee) == ("team_leader", people["leader"])

    # The goal is not met yet: another publicity visit, without support staff this time.
    complete(programme, "Task_stage_review", people["leader"], stage_review("continue"))
    second = current_visit(programme)
    assert second.pk != visit.pk
    assert (
        instance_variables(refreshed(second))["visit_no"] == 2
        and instance_variables(refreshed(second))["stage"] == "publicity"
    )
    run_visit(programme, people, decision="advance")
    assert instance_variables(refreshed(programme))["stage"] == "information_gathering"

    third = current_visit(programme)
    assert instance_variables(refreshed(third))["stage"] == "information_gathering"
    run_visit(programme, people, decision="advance")
    assert instance_variables(refreshed(programme))["stage"] == "win_back"
    run_visit(programme, people, decision="continue")
    run_visit(programme, people, decision="advance")

    programme = refreshed(programme)
    assert programme.status == Status.COMPLETED
    variables = instance_variables(refreshed(programme))
    assert (variables["stage"], variables["visit_no"], variables["ended_early"]) == ("win_back", 5, False)
    visits = ProcessInstance.objects.filter(parent=programme)
    assert visits.count() == 5 and set(visits.values_list("status", flat=True)) == {Status.COMPLETED}
    assert not HumanTask.objects.filter(status=HumanTask.Status.OPEN).exists()


def test_the_coordinator_can_end_the_programme_early(programme, people):
    visit = current_visit(programme)
    complete(visit, "Task_plan_visit", people["manager"], plan())

    deliver_message(
        name="end_programme",
        correlation={"business_key": CUSTOMER},
        payload={"reason": "客户调整驻点安排"},
        user=people["coordinator"],
    )

    programme, visit = refreshed(programme), refreshed(visit)
    assert programme.status == Status.COMPLETED
    variables = instance_variables(refreshed(programme))
    assert variables["ended_early"] is True
    assert variables["end_request"] == {"reason": "客户调整驻点安排"}
    assert visit.status == Status.TERMINATED
    assert set(
        visit.human_tasks.filter(bpmn_id="Task_prepare_resources").values_list("status", flat=True)
    ) == {HumanTask.Status.CANCELLED}
    event = AuditEvent.objects.get(instance=programme, kind="message_delivered")
    assert event.actor == people["coordinator"]


def test_early_end_also_works_while_the_team_leader_is_reviewing_the_stage(programme, people):
    close_visit(programme, people)
    review = open_task(programme, "Task_stage_review")

    deliver_message(
        name="end_programme", correlation={"business_key": CUSTOMER}, payload={"reason": "合同终止"}
    )
    assert refreshed(programme).status == Status.COMPLETED
    review.refresh_from_db()
    assert review.status == HumanTask.Status.CANCELLED


def test_three_hundred_visits_keep_the_programme_running_in_the_right_stage_at_constant_cost(
    programme, people
):
    """A weekly programme runs for years: its state and the cost of a task must not grow with age."""
    sizes, queries = {}, {}
    for number in range(1, 301):
        decision = "advance" if number in (100, 200) else "continue"
        if number in (2, 300):
            close_visit(programme, people)
            with CaptureQueriesContext(connection) as captured:
                complete(programme, "Task_stage_review", people["leader"], stage_review(decision))
            queries[number] = len(captured)
        else:
            run_visit(programme, people, decision=decision)
        if number in (1, 300):
            sizes[number] = len(refreshed(programme).state)

    programme = refreshed(programme)
    assert programme.status == Status.WAITING  # visit 301 is under way
    variables = instance_variables(refreshed(programme))
    assert (variables["stage"], variables["visit_no"]) == ("win_back", 301)
    assert ProcessInstance.objects.filter(parent=programme).count() == 301
    assert sizes[300] <= sizes[1] * 1.1, sizes
    assert queries[300] == queries[2], queries
