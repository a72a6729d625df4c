"""The heat-map of a version: waiting counts, percentiles of time spent, filters, its one statement,
the drill-down and who may see it."""

import statistics
import uuid
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from console.selectors.heat_map import Period, heat_map, version_by_number, waiting_at
from onsite.models import Team
from tests.factories import UserFactory
from tests.onsite.factories import CustomerFactory, manager_in
from tests.onsite.flow import at, build_org, complete, customer_of, enrol, new_programme, plan, visit_opened
from tests.pages.clients import signed_in
from workflows.clock import frozen
from workflows.models import HumanTask, ProcessInstance, Wait

pytestmark = pytest.mark.django_db

NOVEMBER = Period(at(2026, 11, 1), at(2026, 12, 1))


def visit_version():
    return version_by_number("visit_cycle", 1)


def an_instance(version, key="C-1", status=ProcessInstance.Status.RUNNING, **fields):
    return ProcessInstance.objects.create(
        version=version,
        process_id=version.model.process_id,
        business_key=key,
        status=status,
        state="{}",
        serializer_version="1",
        **fields,
    )


def a_wait(instance, bpmn_id, kind, started, ended=None, task_id=None):
    """The wait the engine records (`workflows.models.Wait`), as its save leaves it."""
    return Wait.objects.create(
        instance=instance,
        version_id=instance.version_id,
        task_id=task_id or uuid.uuid4(),
        bpmn_id=bpmn_id,
        kind=kind,
        started_at=started,
        ended_at=ended,
        seconds=(ended - started).total_seconds() if ended else None,
    )


def a_task(instance, bpmn_id, created, completed=None, assignee=None):
    """A human task row and its wait."""
    task = HumanTask.objects.create(
        id=uuid.uuid4(),
        instance=instance,
        bpmn_id=bpmn_id,
        name=bpmn_id,
        assignee=assignee,
        status=HumanTask.Status.COMPLETED if completed else HumanTask.Status.OPEN,
        completed_at=completed,
    )
    HumanTask.objects.filter(pk=task.pk).update(created_at=created)  # auto_now_add ignores a value
    a_wait(instance, bpmn_id, Wait.Kind.TASK, created, completed, task_id=task.pk)
    return task


def test_waiting_counts_each_unfinished_instance_at_its_task_timer_message_or_failed_element(deployed):
    version = visit_version()
    for n in range(3):
        a_task(an_instance(version, f"C-{n}"), "Task_plan_visit", at(2026, 11, 2))
    reminded = an_instance(version, "C-9")
    a_task(reminded, "Task_write_summary", at(2026, 11, 3))
    a_wait(reminded, "Event_summary_overdue", Wait.Kind.TIMER, at(2026, 11, 3))
    a_wait(
        an_instance(version, "C-10", ProcessInstance.Status.WAITING),
        "Event_awaited",
        Wait.Kind.MESSAGE,
        at(2026, 11, 4),
    )
    an_instance(
        version, "C-11", ProcessInstance.Status.ERROR, error={"bpmn_id": "Gateway_review", "message": "boom"}
    )
    a_task(
        an_instance(version, "C-12", ProcessInstance.Status.COMPLETED),
        "Task_plan_visit",
        at(2026, 11, 1),
        at(2026, 11, 2),
    )

    elements = heat_map(version, period=NOVEMBER).elements

    assert elements["Task_plan_visit"].waiting == 3
    assert elements["Task_write_summary"].waiting == 1
    assert elements["Event_summary_overdue"].waiting == 1
    assert elements["Event_awaited"].waiting == 1
    assert (elements["Gateway_review"].waiting, elements["Gateway_review"].failed) == (1, 1)
    assert elements["Task_plan_visit"].heat == 5
    assert elements["Task_write_summary"].heat == 2  # a third of the busiest, in fifths


def test_median_and_p90_of_task_times_match_percentile_cont_over_the_tasks_completed_in_the_period(deployed):
    version = visit_version()
    hours = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144]
    for n, h in enumerate(hours):
        done = at(2026, 11, 20) + timedelta(minutes=n)
        a_task(an_instance(version, f"C-{n}"), "Task_plan_visit", done - timedelta(hours=h), done)
    # Completed outside the period: not counted.
    a_task(an_instance(version, "C-old"), "Task_plan_visit", at(2026, 9, 1), at(2026, 10, 30))
    a_task(an_instance(version, "C-x"), "Task_review_summary", at(2026, 11, 2), at(2026, 11, 4))

    elements = heat_map(version, period=NOVEMBER).elements

    plan_ = elements["Task_plan_visit"]
    assert plan_.measured == len(hours)
    assert plan_.median == pytest.approx(statistics.median(hours) * 3600, abs=1)
    expected_p90 = statistics.quantiles(hours, n=10, method="inclusive")[-1] * 3600
    assert plan_.p90 == pytest.approx(expected_p90, abs=1)
    assert elements["Task_review_summary"].median == pytest.approx(2 * 86400, abs=1)
    assert plan_.waiting == 0


def test_timer_and_message_waits_count_from_when_they_were_armed_to_when_they_ended(deployed):
    version = visit_version()
    instance = an_instance(version)
    a_wait(instance, "Event_escalation_follow_up", Wait.Kind.TIMER, at(2026, 11, 2, 9), at(2026, 11, 5, 9))
    a_wait(instance, "Event_awaited", Wait.Kind.MESSAGE, at(2026, 11, 6, 9), at(2026, 11, 6, 21))

    elements = heat_map(version, period=NOVEMBER).elements

    assert elements["Event_escalation_follow_up"].median == pytest.approx(3 * 86400, abs=1)
    assert elements["Event_awaited"].p90 == pytest.approx(12 * 3600, abs=1)


def test_ended_waits_stay_with_the_version_the_instance_waited_on(deployed):
    version = visit_version()
    instance = an_instance(version)
    a_task(instance, "Task_plan_visit", at(2026, 11, 2), at(2026, 11, 3))
    other = an_instance(version, "C-2")
    Wait.objects.create(
        instance=other,
        version=version_by_number("onsite_programme", 1),
        bpmn_id="Task_plan_visit",
        kind=Wait.Kind.TASK,
        started_at=at(2026, 11, 2),
        ended_at=at(2026, 11, 12),
        seconds=10 * 86400,
    )

    elements = heat_map(version, period=NOVEMBER).elements

    assert (elements["Task_plan_visit"].measured, elements["Task_plan_visit"].median) == (1, 86400)


def test_the_period_chooses_which_completions_count(deployed):
    version = visit_version()
    a_task(an_instance(version, "A"), "Task_plan_visit", at(2026, 10, 1), at(2026, 10, 3))
    a_task(an_instance(version, "B"), "Task_plan_visit", at(2026, 11, 1), at(2026, 11, 11))

    october = heat_map(version, period=Period(at(2026, 10, 1), at(2026, 11, 1))).elements
    november = heat_map(version, period=NOVEMBER).elements

    assert october["Task_plan_visit"].median == pytest.approx(2 * 86400, abs=1)
    assert november["Task_plan_visit"].median == pytest.approx(10 * 86400, abs=1)


def test_visits_started_by_the_engine_are_counted_and_filtered_by_their_customers_team_and_region(deployed):
    org = build_org()
    other_team = Team.objects.create(name="政企客户二组", region=org.branch)
    stranger = manager_in(other_team, "feng")
    ours = [customer_of(org), customer_of(org)]
    theirs = CustomerFactory(region=org.county, account_manager=stranger)
    with frozen(at(2026, 11, 20, 9)):
        programme = new_programme(org, start=date(2026, 12, 1))
        visits = [visit_opened(enrol(org, programme, c)) for c in [*ours, theirs]]
        complete(visits[0], "Task_plan_visit", org.manager, plan(date="2026-12-01"))
    version = visits[0].version

    everyone = heat_map(version, period=NOVEMBER).elements
    team = heat_map(version, period=NOVEMBER, chosen={"team": str(org.team.pk)}).elements
    region = heat_map(version, period=NOVEMBER, chosen={"region": str(org.county.pk)}).elements

    assert everyone["Task_plan_visit"].waiting == 2
    assert everyone["Task_prepare_resources"].waiting == 1
    assert team["Task_plan_visit"].waiting == 1
    assert team["Task_prepare_resources"].waiting == 1
    assert region["Task_plan_visit"].waiting == 1
    assert "Task_prepare_resources" not in region


def test_one_statement_whatever_the_number_of_elements_and_instances(deployed, django_assert_num_queries):
    version = visit_version()
    a_task(an_instance(version), "Task_plan_visit", at(2026, 11, 2))
    with CaptureQueriesContext(connection) as few:
        heat_map(version, period=NOVEMBER)
    # PostgreSQL also sets the transaction's JIT first (in a savepoint in a test).
    assert len(few) == 1 if connection.vendor == "sqlite" else len(few) <= 4

    elements = ["Task_plan_visit", "Task_prepare_resources", "Task_record_visit", "Task_write_summary"]
    for n in range(40):
        instance = an_instance(version, f"K-{n}")
        a_task(instance, elements[n % 4], at(2026, 11, 2), at(2026, 11, 3) if n % 2 else None)
        a_wait(instance, f"Event_{n % 7}", Wait.Kind.TIMER, at(2026, 11, 1), at(2026, 11, 4))
    with django_assert_num_queries(len(few)):
        heat_map(version, period=NOVEMBER, chosen={"team": "1", "region": "1"})
    with django_assert_num_queries(len(few)):
        result = heat_map(version, period=NOVEMBER)
    assert len(result.elements) == 4 + 7


def test_the_drill_down_lists_the_instances_waiting_there_longest_first(deployed):
    version = visit_version()
    manager = UserFactory(username="qian", first_name="钱", last_name="多多")
    late = an_instance(version, "LATE")
    a_task(late, "Task_plan_visit", at(2026, 11, 2), assignee=manager)
    a_task(an_instance(version, "EARLY"), "Task_plan_visit", at(2026, 11, 1))
    a_task(an_instance(version, "ELSEWHERE"), "Task_record_visit", at(2026, 11, 1))
    a_task(an_instance(version, "DONE"), "Task_plan_visit", at(2026, 10, 1), at(2026, 10, 2))

    rows = waiting_at(version, "Task_plan_visit")

    assert [(r.business_key, r.kind, r.assignee) for r in rows] == [
        ("EARLY", "task", ""),
        ("LATE", "task", "钱 多多"),
    ]
    assert rows[1].instance_id == late.pk


def test_the_drill_down_lists_the_instances_in_error_at_the_element(deployed):
    version = visit_version()
    failed = an_instance(
        version,
        "FAILED",
        ProcessInstance.Status.ERROR,
        error={"message": "boom", "bpmn_id": "Task_plan_visit", "task_name": "plan", "line": None},
    )
    an_instance(
        version, "FAILED-ELSEWHERE", ProcessInstance.Status.ERROR, error={"bpmn_id": "Task_record_visit"}
    )

    rows = waiting_at(version, "Task_plan_visit")

    assert [(r.instance_id, r.kind) for r in rows] == [(failed.pk, "error")]


# --- the pages -------------------------------------------------------------------------------------


def page_url(*element):
    name = "console:heatmap_element" if element else "console:heatmap"
    return reverse(name, args=["visit_cycle", 1, *element])


def test_coordinators_see_the_figures_in_the_diagram_and_the_table(coordinator, deployed):
    version = visit_version()
    for n in range(3):
        a_task(an_instance(version, f"C-{n}"), "Task_plan_visit", at(2026, 11, 2))

    response = signed_in(coordinator).get(page_url(), {"from": "2026-11-01", "to": "2026-11-30"})

    assert response.status_code == 200
    assert response.context["overlays"]["Task_plan_visit"][0]["text"].startswith("等待 3")
    assert response.context["markers"]["Task_plan_visit"] == ["heat-5"]
    assert "制定走访计划" in response.content.decode()


def test_the_page_takes_a_constant_number_of_queries(coordinator, deployed, django_assert_num_queries):
    version = visit_version()
    client = signed_in(coordinator)
    client.get(page_url())
    a_task(an_instance(version, "C-0"), "Task_plan_visit", at(2026, 11, 2))
    with CaptureQueriesContext(connection) as few:
        assert client.get(page_url()).status_code == 200
    for n in range(1, 30):
        a_task(
            an_instance(version, f"C-{n}"),
            f"Task_{n % 5}",
            at(2026, 11, 2),
            at(2026, 11, 3) if n % 2 else None,
        )
    with django_assert_num_queries(len(few)):
        assert client.get(page_url()).status_code == 200
    assert len(few) <= 14  # sign-in, version, diagram, facet choices, the figures (and savepoints)


def test_a_bad_period_is_refused_in_the_form(coordinator, deployed):
    response = signed_in(coordinator).get(page_url(), {"from": "2026-12-01", "to": "2026-11-01"})

    assert response.status_code == 200
    assert response.context["form"].errors


def test_leadership_reads_the_heat_map_and_its_drill_down(director, deployed):
    version = visit_version()
    instance = an_instance(version, "C-7")
    a_task(instance, "Task_plan_visit", at(2026, 11, 2))
    client = signed_in(director)

    assert client.get(page_url()).status_code == 200
    response = client.get(page_url("Task_plan_visit"))
    assert response.status_code == 200
    assert "C-7" in response.content.decode()


def test_the_heat_map_does_not_exist_for_account_managers_nor_for_unknown_versions(
    manager, coordinator, deployed
):
    assert signed_in(manager).get(page_url()).status_code == 404
    assert signed_in(manager).get(page_url("Task_plan_visit")).status_code == 404
    assert signed_in(coordinator).get(reverse("console:heatmap", args=["visit_cycle", 9])).status_code == 404
