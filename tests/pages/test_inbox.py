"""The task inbox: its tabs and counts for each role, filters, pages, claiming, releasing and
reassigning from the list, the refusals, and the same number of queries whatever the number of
tasks."""

from __future__ import annotations

import re
from datetime import timedelta
from uuid import uuid4

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from onsite.models import Customer, Visit
from tests.onsite.factories import CustomerFactory, TeamFactory, manager_in
from tests.onsite.flow import complete, current_visit, customer_of, enrol, new_programme, open_task, plan
from tests.pages.clients import signed_in
from workflows.models import AuditEvent, HumanTask, ProcessInstance
from workflows.services import release_task

pytestmark = pytest.mark.django_db

INBOX = "/tasks/"


def page(client: Client, query: str = "") -> str:
    response = client.get(INBOX + query)
    assert response.status_code == 200
    return response.content.decode().replace("\xa0", " ")  # (a span of time never wraps: 「2\xa0天」)


def tab_count(html: str, tab: str) -> int:
    found = re.search(rf'data-tab="{tab}">.*?<span class="badge[^"]*">(\d+)</span>', html, re.S)
    assert found, f"no tab {tab}"
    return int(found.group(1))


def task_ids(html: str) -> set[str]:
    return set(re.findall(r'data-task="([0-9a-f-]+)"', html))


@pytest.fixture
def programme(org):
    return new_programme(org)


@pytest.fixture
def planning(org, programme):
    """The manager's first visit to 合肥市数据资源局: its plan to make (a real task of the engine)."""
    customer = customer_of(org, code="HF-001", name="合肥市数据资源局")
    enrolment = enrol(org, programme, customer, stage="information_gathering")
    return open_task(current_visit(enrolment), "Task_plan_visit")


@pytest.fixture
def support_pool(org, programme):
    """A visit's support preparation needing a solutions engineer, given back to the pool."""
    customer = customer_of(org, code="HF-002", name="肥东县人民医院")
    visit = current_visit(enrol(org, programme, customer))
    complete(visit, "Task_plan_visit", org.manager, plan(needs_support=True, speciality="solution"))
    task = open_task(visit, "Task_support_preparation")
    if task.assignee_id is not None:
        release_task(task_id=task.pk, user=task.assignee)
    task.refresh_from_db()
    assert task.assignee_id is None
    return task


# --- tabs and rows ------------------------------------------------------------------------------


def test_a_manager_sees_their_task_with_its_customer_stage_process_and_due_in_chinese(org, planning):
    html = page(signed_in(org.manager))

    assert "我的任务" in html and "待领取" in html and "已逾期" in html and "已完成（30 天）" in html
    assert tab_count(html, "mine") == 1
    assert task_ids(html) == {str(planning.pk)}
    assert "HF-001" in html and "合肥市数据资源局" in html
    assert "信息获取" in html  # the enrolment's stage, in words
    assert "本组" not in html  # no team tab for a manager


def test_the_inbox_switches_to_english(org, planning):
    client = signed_in(org.manager)
    client.post("/i18n/setlang/", {"language": "en", "next": INBOX})

    html = page(client)

    assert "My tasks" in html and "To claim" in html and "information gathering" in html


def test_another_managers_task_is_not_in_the_inbox(org, planning):
    html = page(signed_in(org.other_manager))

    assert tab_count(html, "mine") == 0
    assert str(planning.pk) not in html


def test_a_support_engineer_sees_pool_work_of_their_speciality_only(org, support_pool):
    solution = page(signed_in(org.support["solution"]), "?tab=pool")
    network = page(signed_in(org.support["network"]), "?tab=pool")

    assert task_ids(solution) == {str(support_pool.pk)}
    assert tab_count(solution, "pool") == 1
    assert task_ids(network) == set()
    assert tab_count(network, "pool") == 0


def test_the_overdue_tab_lists_past_due_tasks_in_red(org, planning):
    HumanTask.objects.filter(pk=planning.pk).update(due_at=timezone.now() - timedelta(hours=3))

    html = page(signed_in(org.manager), "?tab=overdue")

    assert tab_count(html, "overdue") == 1
    assert task_ids(html) == {str(planning.pk)}
    assert "已逾期 3" in html and 'class="overdue"' in html


def test_a_due_date_ahead_reads_as_time_left(org, planning):
    HumanTask.objects.filter(pk=planning.pk).update(due_at=timezone.now() + timedelta(days=2, hours=1))

    html = page(signed_in(org.manager))

    assert "2 天后到期" in html
    assert tab_count(html, "overdue") == 0


def test_the_completed_tab_lists_what_the_manager_did_in_the_last_30_days(org, planning):
    complete(planning.instance, "Task_plan_visit", org.manager, plan())
    old = HumanTask.objects.filter(pk=planning.pk).values_list("completed_at", flat=True).get()

    html = page(signed_in(org.manager), "?tab=completed")
    assert task_ids(html) == {str(planning.pk)}
    assert tab_count(html, "completed") == 1

    HumanTask.objects.filter(pk=planning.pk).update(completed_at=old - timedelta(days=31))
    assert tab_count(page(signed_in(org.manager), "?tab=completed"), "completed") == 0


def test_a_team_leader_sees_their_teams_work_with_a_reassign_control(org, planning):
    html = page(signed_in(org.leader), "?tab=team")

    assert "本组任务" in html
    assert tab_count(html, "team") == 1
    assert task_ids(html) == {str(planning.pk)}
    # Candidates: the team's other account managers (the task's role), not the one holding it.
    options = re.findall(r'<option value="(\d+)">', html)
    assert options == [str(org.other_manager.pk)]


def test_a_team_leaders_own_tasks_are_in_my_tasks(org, planning):
    HumanTask.objects.filter(pk=planning.pk).update(assignee=org.leader)

    html = page(signed_in(org.leader))

    assert task_ids(html) == {str(planning.pk)}
    assert tab_count(html, "team") == 0


def test_the_task_name_links_to_the_task_page_once_it_exists(org, planning):
    html = page(signed_in(org.manager))
    try:
        url = reverse("task", args=[planning.pk])
    except NoReverseMatch:
        assert "Task_plan_visit" not in html  # the name, not a link, until the task page is routed
        return
    assert f'href="{url}"' in html


# --- filters and pages --------------------------------------------------------------------------


def test_filters_by_customer_code_or_name_process_stage_and_due_date(org, programme, planning):
    other = open_task(
        current_visit(enrol(org, programme, customer_of(org, code="WH-9", name="芜湖港务"))),
        "Task_plan_visit",
    )
    HumanTask.objects.filter(pk=planning.pk).update(due_at=timezone.now() + timedelta(days=10))
    HumanTask.objects.filter(pk=other.pk).update(due_at=timezone.now() + timedelta(days=1))
    client = signed_in(org.manager)
    both = {str(planning.pk), str(other.pk)}

    assert task_ids(page(client)) == both
    assert task_ids(page(client, "?customer=数据资源")) == {str(planning.pk)}
    assert task_ids(page(client, "?customer=wh-9")) == {str(other.pk)}
    assert task_ids(page(client, f"?process={planning.instance.process_id}")) == both
    assert task_ids(page(client, "?process=nothing")) == both  # not a process: the filter is refused
    assert task_ids(page(client, "?stage=information_gathering")) == {str(planning.pk)}
    assert task_ids(page(client, "?stage=publicity")) == {str(other.pk)}
    in_5_days = (timezone.localdate() + timedelta(days=5)).isoformat()
    assert task_ids(page(client, f"?due_after={in_5_days}")) == {str(planning.pk)}
    assert task_ids(page(client, f"?due_before={in_5_days}")) == {str(other.pk)}
    filtered = page(client, "?customer=数据资源")
    assert tab_count(filtered, "mine") == 1
    assert re.search(r'href="\?customer=[^"]+&amp;tab=pool"', filtered)  # the tabs keep the filters


def test_the_list_is_paginated_25_a_page_keeping_tab_and_filters(org, planning):
    many_tasks(30, like=planning, assignee=org.manager)
    client = signed_in(org.manager)

    first = page(client, "?customer=HF-001")
    second = page(client, "?customer=HF-001&page=2")

    assert len(task_ids(first)) == 25 and len(task_ids(second)) == 6
    assert tab_count(first, "mine") == 31
    assert "?customer=HF-001&amp;page=2" in first
    assert not task_ids(first) & task_ids(second)


def test_pages_list_the_soonest_due_first_and_the_undated_last_oldest_first(org, planning):
    many_tasks(30, like=planning, assignee=org.manager)
    HumanTask.objects.filter(assignee=org.manager, name__endswith="7").update(due_at=None)
    client = signed_in(org.manager)
    expected = sorted(
        HumanTask.objects.filter(assignee=org.manager, status=HumanTask.Status.OPEN),
        key=lambda t: (t.due_at is None, t.due_at or t.created_at, t.created_at, str(t.pk)),
    )

    shown = [
        *re.findall(r'data-task="([0-9a-f-]+)"', page(client)),
        *re.findall(r'data-task="([0-9a-f-]+)"', page(client, "?page=2")),
    ]

    assert [task for task in dict.fromkeys(shown)] == [str(t.pk) for t in expected]
    assert [t.due_at is None for t in expected[-4:]] == [False, True, True, True]


def test_counts_stop_at_999_and_the_pages_with_them(org, planning):
    many_tasks(1000, like=planning, assignee=org.manager)

    html = page(signed_in(org.manager))

    assert '<span class="badge rounded-pill text-bg-secondary">999+</span>' in html
    assert "page=40" in html and "page=41" not in html


# --- claim, release, reassign -------------------------------------------------------------------


def test_a_support_engineer_claims_a_pool_task_and_comes_back_to_the_same_list(org, support_pool):
    engineer = org.support["solution"]
    client = signed_in(engineer)
    back = "/tasks/?tab=pool&customer=HF"

    response = client.post(f"/tasks/{support_pool.pk}/claim/?next={back.replace('&', '%26')}")

    assert (response.status_code, response.url) == (302, back)
    support_pool.refresh_from_db()
    assert support_pool.assignee_id == engineer.pk
    html = page(client, "?tab=mine")
    assert "你领取了任务" in html
    assert str(support_pool.pk) in task_ids(html)


def test_a_pool_task_claimed_meanwhile_by_someone_else_is_refused_and_changes_nothing(org, support_pool):
    HumanTask.objects.filter(pk=support_pool.pk).update(assignee=org.support["network"])

    response = signed_in(org.support["solution"]).post(
        f"/tasks/{support_pool.pk}/claim/?next=/tasks/%3Ftab%3Dpool", follow=True
    )

    # Back to the list the person acted from, saying why (not a "not allowed" page).
    assert response.redirect_chain == [("/tasks/?tab=pool", 302)]
    assert response.status_code == 200
    assert "该任务已被分配给其他人" in response.content.decode()
    support_pool.refresh_from_db()
    assert support_pool.assignee_id == org.support["network"].pk


def test_a_task_completed_meanwhile_cannot_be_claimed_and_says_so_in_the_list(org, planning):
    complete(planning.instance, "Task_plan_visit", org.manager, plan())
    client = signed_in(org.manager)

    response = client.post(f"/tasks/{planning.pk}/claim/?next=/tasks/%3Ftab%3Dpool", follow=True)

    assert response.redirect_chain[-1][0] == "/tasks/?tab=pool"
    assert "已由" in response.content.decode()  # “already completed by …”


def test_a_manager_releases_their_task_to_the_pool(org, planning):
    client = signed_in(org.manager)

    response = client.post(f"/tasks/{planning.pk}/release/")

    assert (response.status_code, response.url) == (302, INBOX)
    planning.refresh_from_db()
    assert planning.assignee_id is None
    assert AuditEvent.objects.filter(task_id=planning.pk, kind=AuditEvent.Kind.RELEASED).exists()


def test_a_manager_cannot_act_on_another_managers_task(org, planning):
    client = signed_in(org.other_manager)

    for action in ("release", "claim"):
        refused = client.post(f"/tasks/{planning.pk}/{action}/?next=/tasks/", follow=True).content.decode()
        assert "alert-danger" in refused  # told why, on the list
        assert "合肥市数据资源局" not in refused  # nothing of the task's customer
    planning.refresh_from_db()
    assert planning.assignee_id == org.manager.pk


def test_an_unknown_task_is_not_found(org):
    assert signed_in(org.manager).post(f"/tasks/{uuid4()}/claim/").status_code == 404


def test_a_team_leader_reassigns_a_task_to_a_member_of_their_team(org, planning):
    client = signed_in(org.leader)

    response = client.post(
        f"/tasks/{planning.pk}/reassign/?next=/tasks/%3Ftab%3Dteam", {"to": org.other_manager.pk}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/tasks/?tab=team"
    assert "现在交给" in response.content.decode()
    planning.refresh_from_db()
    assert planning.assignee_id == org.other_manager.pk


def test_a_team_leader_cannot_give_a_task_to_someone_outside_their_team(org, planning):
    stranger = manager_in(TeamFactory(region=org.branch))

    response = signed_in(org.leader).post(f"/tasks/{planning.pk}/reassign/", {"to": stranger.pk})

    assert response.status_code == 403
    planning.refresh_from_db()
    assert planning.assignee_id == org.manager.pk


def test_a_manager_cannot_reassign(org, planning):
    response = signed_in(org.manager).post(f"/tasks/{planning.pk}/reassign/", {"to": org.other_manager.pk})

    assert response.status_code == 403
    planning.refresh_from_db()
    assert planning.assignee_id == org.manager.pk
    assert "Reassign" not in page(signed_in(org.manager)) and "改派" not in page(signed_in(org.manager))


def test_the_actions_need_the_csrf_token(org, planning):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(org.manager)

    for action in ("claim", "release", "reassign"):
        assert strict.post(f"/tasks/{planning.pk}/{action}/").status_code == 403
    planning.refresh_from_db()
    assert planning.assignee_id == org.manager.pk


def test_the_actions_answer_only_a_post(org, planning):
    client = signed_in(org.manager)

    for action in ("claim", "release", "reassign"):
        assert client.get(f"/tasks/{planning.pk}/{action}/?next=/tasks/").status_code == 405


def test_a_refused_action_without_next_goes_back_to_the_page_it_came_from(org, planning):
    client = signed_in(org.other_manager)

    response = client.post(f"/tasks/{planning.pk}/release/", HTTP_REFERER="http://testserver/tasks/?tab=pool")

    assert response.status_code == 302 and response.url == "http://testserver/tasks/?tab=pool"


def test_next_leads_only_back_into_this_site(org, planning):
    response = signed_in(org.manager).post(f"/tasks/{planning.pk}/release/?next=https://evil.example/")

    assert response.url == INBOX


def test_the_inbox_needs_a_signed_in_person(client):
    response = client.get(INBOX)

    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


# --- the same queries whatever the number of tasks ----------------------------------------------


def many_tasks(count: int, *, like: HumanTask, assignee=None, role=None, customers: int = 1, **values):
    """`count` open tasks like `like` (valid rows: the same process version and state), spread over
    `customers` instances of that many customers, bulk-created."""
    source = ProcessInstance.objects.get(pk=like.instance_id)
    instances = [source]
    if customers > 1:
        region = Customer.objects.get(code=source.business_key).region
        codes = [c.code for c in CustomerFactory.create_batch(customers - 1, region=region)]
        instances += ProcessInstance.objects.bulk_create(
            [
                ProcessInstance(
                    version_id=source.version_id,
                    process_id=source.process_id,
                    business_key=code,
                    status=source.status,
                    state=source.state,
                    serializer_version=source.serializer_version,
                )
                for code in codes
            ]
        )
    now = timezone.now()
    HumanTask.objects.bulk_create(
        [
            HumanTask(
                id=uuid4(),
                instance=instances[i % len(instances)],
                bpmn_id=like.bpmn_id,
                name=f"{like.name} {i}",
                lane=like.lane,
                role=role or like.role,
                assignee=assignee,
                due_at=now + timedelta(hours=i - count // 2),
                **values,
            )
            for i in range(count)
        ]
    )


def queries_for(client: Client, query: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(INBOX + query).status_code == 200
    return len(captured.captured_queries)


def test_each_tab_costs_the_same_queries_with_5_and_with_500_tasks(org, planning, support_pool):
    support_role = Group.objects.get(name="support_staff")
    views = [
        (org.manager, "?tab=mine"),
        (org.manager, "?tab=overdue"),
        (org.manager, "?tab=completed"),
        (org.manager, "?tab=mine&customer=HF&stage=information_gathering"),
        (org.support["solution"], "?tab=pool"),
        (org.support["solution"], "?tab=overdue"),
        (org.leader, "?tab=team"),
        (org.leader, "?tab=mine"),
    ]

    def build(count: int) -> None:
        many_tasks(count, like=planning, assignee=org.manager, customers=min(count, 20))
        many_tasks(count, like=planning, assignee=org.leader)
        many_tasks(count, like=support_pool, role=support_role, customers=min(count, 20))
        many_tasks(
            count,
            like=planning,
            status=HumanTask.Status.COMPLETED,
            completed_by=org.manager,
            completed_at=timezone.now() - timedelta(days=1),
        )

    build(5)
    few = {view: queries_for(signed_in(view[0]), view[1]) for view in views}
    build(495)
    many = {view: queries_for(signed_in(view[0]), view[1]) for view in views}

    assert many == few
    html = page(signed_in(org.support["solution"]), "?tab=pool")
    assert len(task_ids(html)) == 25 and tab_count(html, "pool") == 501
    assert Visit.objects.exists()
