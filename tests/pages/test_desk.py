"""The team leader's desk: the review queue, the team page and the warnings, with the data made
through the services and the engine; who may open which team's desk."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onsite.models import Team
from onsite.selectors.desk import team_warnings
from onsite.selectors.warnings import WarningKind
from tests.factories import UserFactory
from tests.onsite.factories import RegionFactory, StaffProfileFactory, manager_in
from tests.onsite.flow import (
    RESOURCES,
    SUMMARY,
    close_visit,
    complete,
    current_visit,
    customer_of,
    enrol,
    new_programme,
    open_task,
    plan,
    record,
    visit_made,
)
from workflows.models import HumanTask

pytestmark = pytest.mark.django_db

PAGES = ("/desk/", "/desk/team/", "/desk/warnings/")


def summaries_awaiting_review(org, count: int, programme=None, manager=None) -> list:
    """`count` customers of the team's manager, each with a visit made and its summary written: a
    summary review waiting for the team leader each."""
    programme = programme or new_programme(org)
    customers = []
    for _ in range(count):
        customer = customer_of(org, manager)
        visit = visit_made(enrol(org, programme, customer))
        complete(visit, "Task_write_summary", customer.account_manager, SUMMARY)
        customers.append(customer)
    return customers


@pytest.fixture
def other_team(org):
    """A second team in another branch, with its own leader and manager."""
    region = RegionFactory(code="WH", name="芜湖分公司")
    leader = UserFactory(username="feng", roles=["team_leader"])
    team = Team.objects.create(name="政企客户二组", region=region, leader=leader)
    StaffProfileFactory(user=leader, team=team, region=region)
    manager_in(team, "chen")
    return team


def main_of(response) -> str:
    page = response.content.decode()
    return page[page.index('<main id="main"') :]


# --- the review queue ----------------------------------------------------------------------------


def test_a_team_leader_lands_on_the_review_queue(client, org):
    client.force_login(org.leader)

    response = client.get("/")

    assert (response.status_code, response.url) == (302, "/desk/")


def test_a_summary_awaiting_review_is_in_the_queue_with_its_customer_manager_and_due_time(client, org):
    [customer] = summaries_awaiting_review(org, 1)
    task = open_task(current_visit(customer.enrolments.get()), "Task_review_summary")
    client.force_login(org.leader)

    page = main_of(client.get("/desk/"))

    assert "待审核或退回的总结" in page
    assert customer.code in page and customer.name in page
    assert org.manager.get_full_name() in page
    assert task.name in page  # 审核驻点服务总结
    assert timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M") in page
    assert "后到期" in page  # due, not overdue


def test_the_queue_counts_each_group_and_lists_a_stage_review_apart_from_the_summaries(client, org):
    programme = new_programme(org)
    summaries_awaiting_review(org, 2, programme)
    reviewed = customer_of(org, org.other_manager)
    close_visit(enrol(org, programme, reviewed), org)  # approved: the stage review waits
    client.force_login(org.leader)

    response = client.get("/desk/")

    groups = {group.code: group for group in response.context["queue"].groups}
    assert groups["summaries"].count == 2
    [stage_review] = groups["stage_reviews"].items
    assert stage_review.customer_code == reviewed.code
    assert stage_review.manager == org.other_manager
    assert (groups["incentives"].count, groups["escalations"].count, groups["appraisals"].count) == (0, 0, 0)
    assert response.context["queue"].total == 3
    assert "共 3 项任务等待班组长处理。" in main_of(response)


def test_an_overdue_review_is_shown_overdue(client, org):
    [customer] = summaries_awaiting_review(org, 1)
    task = open_task(current_visit(customer.enrolments.get()), "Task_review_summary")
    type(task).objects.filter(pk=task.pk).update(due_at=timezone.now() - timedelta(days=2))
    client.force_login(org.leader)

    response = client.get("/desk/")

    [item] = response.context["queue"].groups[0].items
    assert item.overdue
    page = main_of(response)
    assert "queue-item-overdue" in page and "已逾期" in page


def test_each_queue_item_links_to_its_task_page(client, org):
    summaries_awaiting_review(org, 1)
    client.force_login(org.leader)
    review = HumanTask.objects.get(bpmn_id="Task_review_summary", status=HumanTask.Status.OPEN)

    page = main_of(client.get("/desk/"))

    assert f'href="/tasks/{review.pk}/"' in page


def test_another_teams_tasks_are_not_in_the_queue(client, org, other_team):
    summaries_awaiting_review(org, 1, manager=other_team.members.get(user__username="chen").user)
    client.force_login(org.leader)

    assert client.get("/desk/").context["queue"].total == 0


@pytest.mark.parametrize("count", [3, 60])
def test_the_queue_answers_in_the_same_number_of_queries_whatever_the_number_of_tasks(client, org, count):
    summaries_awaiting_review(org, count)
    client.force_login(org.leader)
    client.get("/desk/")  # the session and the language settle

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/desk/")

    assert response.context["queue"].total == count
    # Session, user, roles, the team choices, the access check, the tasks, their managers.
    assert len(queries) == QUEUE_QUERIES, [q["sql"] for q in queries.captured_queries]


QUEUE_QUERIES = 7


# --- the team page -------------------------------------------------------------------------------


def test_the_team_page_compares_each_manager_with_the_median_and_flags_the_weak(client, org):
    summaries_awaiting_review(org, 2)  # qian made two visits this month, wu none
    client.force_login(org.leader)

    response = client.get("/desk/team/")

    board = response.context["overview"].board
    rows = {row.manager: row for row in board.rows}
    assert rows[org.manager].values["visits_done"] == 2
    assert "visits_done" in rows[org.other_manager].flags
    page = main_of(response)
    assert "短板对比" in page and "最薄弱" in page
    assert org.manager.get_full_name() in page and org.other_manager.get_full_name() in page


def test_the_team_page_shows_the_funnel_and_the_targets_against_actuals(client, org):
    client.force_login(org.leader)

    response = client.get("/desk/team/")

    page = main_of(response)
    assert "销售漏斗" in page and "加权商机" in page and "停滞线索" in page
    assert "销售准备" in page  # the first stage, by its label
    assert "目标与完成情况" in page and "按计划完成走访数" in page
    people = [figures.person for figures in response.context["overview"].figures]
    assert {org.manager, org.other_manager, org.leader} <= set(people)


def test_the_month_is_chosen_with_a_month_picker_and_a_month_past_shows_nothing_of_today(client, org):
    summaries_awaiting_review(org, 1)
    client.force_login(org.leader)

    response = client.get("/desk/team/", {"month": "2025-01"})

    overview = response.context["overview"]
    assert (overview.start.isoformat(), overview.end.isoformat()) == ("2025-01-01", "2025-02-01")
    assert all(row.values["visits_done"] == 0 for row in overview.board.rows)
    assert 'type="month"' in main_of(response) and 'value="2025-01"' in main_of(response)


@pytest.mark.parametrize("more_managers", [0, 4])
def test_the_team_page_answers_in_the_same_number_of_queries_whatever_the_teams_size(
    client, org, more_managers
):
    for _ in range(more_managers):
        manager_in(org.team)
    summaries_awaiting_review(org, 1)
    client.force_login(org.leader)
    client.get("/desk/team/")

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/desk/team/")

    assert len(response.context["overview"].board.rows) == 2 + more_managers
    assert len(queries) == TEAM_PAGE_QUERIES, [q["sql"] for q in queries.captured_queries]


# The session, the user and their roles, the team choices and the access checks, then the short
# board's, the funnel's and the appraisal figures' own, each with the thresholds in force for its date
# (the short board's margin, the funnel's stalled days twice, the appraisal's cap).
TEAM_PAGE_QUERIES = 36


def test_a_month_that_is_not_one_shows_this_month(client, org):
    client.force_login(org.leader)

    response = client.get("/desk/team/", {"month": "2025-13"})

    assert response.context["overview"].start == timezone.localdate().replace(day=1)


# --- the warnings --------------------------------------------------------------------------------


def summary_overdue(org):
    """A visit made ten days ago whose summary is not written: the manager must write it."""
    customer = customer_of(org)
    visit = current_visit(enrol(org, new_programme(org), customer))
    complete(visit, "Task_plan_visit", org.manager, plan())
    complete(visit, "Task_prepare_resources", org.manager, RESOURCES)
    complete(visit, "Task_record_visit", org.manager, record(timezone.now() - timedelta(days=10)))
    return customer, open_task(visit, "Task_write_summary")


def test_a_warning_names_who_must_act_and_the_task_it_waits_on(client, org):
    customer, task = summary_overdue(org)
    client.force_login(org.leader)

    response = client.get("/desk/warnings/")

    [overdue] = [w for w in response.context["warnings"] if w.warning.kind == WarningKind.SUMMARY_OVERDUE]
    assert overdue.warning.person == org.manager
    assert overdue.task_id == task.pk
    page = main_of(response)
    assert "责任人" in page
    assert f"{customer.code} {customer.name}" in page
    assert "总结" in page and "逾期" in page


def warnings_page_queries(client) -> tuple[list, int]:
    """The warnings page's queries (a second request: the first warms what is cached) and how many
    summary-overdue warnings it showed, each linked to its task."""
    client.get("/desk/warnings/")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/desk/warnings/")
    overdue = [w for w in response.context["warnings"] if w.warning.kind == WarningKind.SUMMARY_OVERDUE]
    assert all(w.task_id for w in overdue)
    return [q["sql"] for q in queries.captured_queries], len(overdue)


def test_the_warnings_page_answers_in_the_same_number_of_queries_whatever_the_number_of_warnings(client, org):
    client.force_login(org.leader)
    summary_overdue(org)
    one, warned = warnings_page_queries(client)
    assert warned == 1
    for _ in range(3):
        summary_overdue(org)

    four, warned = warnings_page_queries(client)

    assert warned == 4
    assert len(four) == len(one), four
    # At most; fewer on the first of a month, when no target can be behind yet.
    assert len(one) <= WARNINGS_QUERIES, one


# The session, the user and their roles, the team choices and the access check, the early warnings'
# own (one or two per kind), the team's members and the open tasks of the warned records.
WARNINGS_QUERIES = 24


def test_the_warnings_are_the_teams_only(org, other_team):
    summary_overdue(org)

    theirs = team_warnings(team=other_team, user=org.director)

    assert all(w.warning.customer is None for w in theirs)  # only the other team's targets
    assert all(w.warning.person != org.manager for w in theirs)


# --- who may open which desk ---------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_the_leader_opens_their_own_teams_desk(client, org, path):
    client.force_login(org.leader)

    assert client.get(path).status_code == 200
    assert client.get(path, {"team": org.team.pk}).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_another_teams_leader_gets_404_for_this_team_and_their_own_desk_otherwise(
    client, org, other_team, path
):
    client.force_login(other_team.leader)

    assert client.get(path, {"team": org.team.pk}).status_code == 404
    own = client.get(path)
    assert own.status_code == 200 and own.context["team"] == other_team


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("who", ["manager", "support"])
def test_managers_and_support_staff_get_404(client, org, path, who):
    client.force_login(org.manager if who == "manager" else org.support["solution"])

    assert client.get(path).status_code == 404
    assert client.get(path, {"team": org.team.pk}).status_code == 404


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("who", ["director", "coordinator"])
def test_leadership_and_coordinators_read_any_teams_desk_and_choose_the_team(
    client, org, other_team, path, who
):
    client.force_login(getattr(org, who))

    response = client.get(path, {"team": other_team.pk})

    assert response.status_code == 200 and response.context["team"] == other_team
    page = main_of(response)
    assert 'name="team"' in page and "政企客户一组" in page and "政企客户二组" in page


@pytest.mark.parametrize("path", PAGES)
def test_the_desk_changes_nothing_a_post_is_refused(client, org, path):
    client.force_login(org.director)

    assert client.post(path, {"team": org.team.pk}).status_code == 405


@pytest.mark.parametrize("path", PAGES)
def test_an_unknown_team_is_404(client, org, path):
    client.force_login(org.director)

    assert client.get(path, {"team": 999999}).status_code == 404
    assert client.get(path, {"team": "x"}).status_code == 404


@pytest.mark.parametrize("path", PAGES)
def test_an_anonymous_visitor_is_sent_to_sign_in(client, path):
    response = client.get(path)

    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_the_navigation_shows_the_desk_to_the_leader_and_not_to_a_manager(client, org):
    client.force_login(org.leader)
    leader_nav = client.get("/desk/team/").content.decode()
    client.force_login(org.manager)
    manager_nav = client.get("/accounts/password/").content.decode()

    # One header entry for the desk, marked current on each of its tabs' pages.
    assert 'class="nav-link active" href="/desk/" aria-current="page">工作台' in leader_nav
    assert 'href="/desk/warnings/?team=' in leader_nav  # (its tab)
    assert 'href="/desk/' not in manager_nav


def test_the_desk_is_in_english_on_request(client, org):
    summaries_awaiting_review(org, 1)
    client.force_login(org.leader)
    client.post("/i18n/setlang/", {"language": "en", "next": "/desk/"})

    page = main_of(client.get("/desk/"))

    assert "Summaries to approve or send back" in page and "1 task waits for the team leader." in page
