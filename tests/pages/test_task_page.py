"""The task page: the form from the task's JSON Schema, completed through the engine, errors at
their fields with everything typed kept, drafts, rows added without JavaScript, a task done by
someone else, and who may see and work it."""

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.onsite.flow import (
    REWORK,
    SUMMARY,
    complete,
    current_visit,
    customer_of,
    enrol,
    new_programme,
    open_task,
    plan,
    survey_requested,
    visit_made,
)
from tests.pages.clients import signed_in
from workflows.models import HumanTask, TaskDraft

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(org):
    return customer_of(org, name="滨湖新区政务服务中心")


@pytest.fixture
def planning(org, customer):
    """The first visit's planning task, the manager's."""
    enrolment = enrol(org, new_programme(org), customer)
    return open_task(current_visit(enrolment), "Task_plan_visit")


def url(task) -> str:
    return f"/tasks/{task.pk}/"


PLAN = {
    "planned_date": "2026-12-01",
    "objectives": "了解信息化现状，介绍云视讯与政务云",
    "contacts_to_meet.0": "王主任",
    "needs_support": "on",
    "needs_support.present": "1",
}


def test_the_form_is_rendered_from_the_tasks_schema_in_chinese_with_the_customer(org, planning):
    page = signed_in(org.manager).get(url(planning)).content.decode()

    assert "制定走访计划" in page
    assert 'name="planned_date"' in page and 'type="date"' in page
    assert "滨湖新区政务服务中心" in page
    assert "提交" in page and "保存草稿" in page


def test_submitting_a_valid_form_completes_the_task_through_the_engine(org, planning):
    client = signed_in(org.manager)

    response = client.post(url(planning), {**plan_post(), "_complete": "1"})

    assert response.status_code == 302
    planning.refresh_from_db()
    assert (planning.status, planning.completed_by) == (HumanTask.Status.COMPLETED, org.manager)
    assert planning.data["objectives"] == "了解信息化现状，介绍云视讯与政务云"


def test_errors_appear_at_their_fields_and_everything_typed_is_kept(org, planning):
    client = signed_in(org.manager)
    typed = {**plan_post(), "objectives": "", "planned_date": "不是日期"}

    response = client.post(url(planning), {**typed, "_complete": "1"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "is-invalid" in page
    assert 'value="不是日期"' in page  # typed text redisplayed
    assert "王主任" in page
    planning.refresh_from_db()
    assert planning.status == HumanTask.Status.OPEN
    # Nothing typed is lost even if the manager leaves now: it is their draft.
    assert TaskDraft.objects.get(task=planning, user=org.manager).data["contacts_to_meet"] == ["王主任"]


def test_a_draft_is_saved_by_the_button_and_restored_when_the_task_is_reopened(org, planning):
    client = signed_in(org.manager)

    saved = client.post(url(planning), {"objectives": "半截总结", "_save_draft": "1"})
    assert saved.status_code == 302

    page = client.get(url(planning)).content.decode()
    assert "半截总结" in page
    assert "草稿" in page


def test_typing_is_saved_automatically_by_htmx(org, planning):
    client = signed_in(org.manager)

    response = client.post(
        f"/tasks/{planning.pk}/draft/", {"objectives": "自动保存的内容"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "自动保存" in response.content.decode()
    assert TaskDraft.objects.get(task=planning, user=org.manager).data["objectives"] == "自动保存的内容"


def test_completing_removes_the_draft(org, planning):
    client = signed_in(org.manager)
    client.post(url(planning), {"objectives": "草稿", "_save_draft": "1"})

    client.post(url(planning), {**plan_post(), "_complete": "1"})

    assert not TaskDraft.objects.filter(task=planning).exists()


def test_a_row_is_added_and_removed_by_a_plain_submit(org, planning):
    client = signed_in(org.manager)

    added = client.post(url(planning), {**plan_post(), "_add": "contacts_to_meet"})
    page = added.content.decode()
    assert added.status_code == 200
    assert 'name="contacts_to_meet.1"' in page
    removed = client.post(
        url(planning), {**plan_post(), "contacts_to_meet.1": "", "_remove": "contacts_to_meet.0"}
    )
    assert "王主任" not in removed.content.decode()
    planning.refresh_from_db()
    assert planning.status == HumanTask.Status.OPEN


def test_a_task_completed_meanwhile_says_by_whom_and_when_and_changes_nothing(org, planning):
    client = signed_in(org.manager)
    client.post(url(planning), {**plan_post(), "_complete": "1"})
    planning.refresh_from_db()
    done = (planning.completed_at, planning.data)

    second = client.post(
        url(planning), {**plan_post(), "objectives": "第二次点击", "_complete": "1"}, follow=True
    )

    page = second.content.decode()
    assert "已完成" in page or "已由" in page
    planning.refresh_from_db()
    assert (planning.completed_at, planning.data) == done


def test_another_managers_task_is_not_found_and_leadership_reads_without_acting(org, planning):
    assert signed_in(org.other_manager).get(url(planning)).status_code == 404
    assert signed_in(UserFactory(username="nobody")).get(url(planning)).status_code == 404

    director = signed_in(org.director)
    assert director.get(url(planning)).status_code == 200
    assert "提交" not in director.get(url(planning)).content.decode()
    assert director.post(url(planning), {**plan_post(), "_complete": "1"}).status_code == 403
    planning.refresh_from_db()
    assert planning.status == HumanTask.Status.OPEN


def test_an_unknown_task_is_not_found(org):
    client = signed_in(org.manager)

    assert client.get("/tasks/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_the_form_needs_the_csrf_token(org, planning):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.manager)

    assert client.post(url(planning), {**plan_post(), "_complete": "1"}).status_code == 403


def plan_post() -> dict:
    data = plan()
    return {
        "planned_date": data["planned_date"],
        "objectives": data["objectives"],
        "contacts_to_meet.0": data["contacts_to_meet"][0],
    }


def test_a_support_task_shows_the_request_and_what_the_manager_needs(org, customer):
    requested = survey_requested(org, customer)
    task = requested.instance.human_tasks.get(status="open")
    engineer = requested.assignee or org.support["network"]

    page = signed_in(engineer).get(url(task)).content.decode()

    assert "支撑需求" in page
    assert "机房勘察，评估专线扩容" in page


def test_a_step_done_again_starts_from_what_was_submitted_last_time(org, customer):
    visit = visit_made(enrol(org, new_programme(org), customer))
    complete(visit, "Task_write_summary", org.manager, SUMMARY)
    complete(visit, "Task_review_summary", org.leader, REWORK)
    rework = open_task(visit, "Task_write_summary")

    page = signed_in(org.manager).get(url(rework)).content.decode()

    assert "视频会议替换" in page  # the first submission's lead, ready to be corrected


def test_the_fields_come_in_the_order_the_forms_author_wrote_them(org, planning):
    page = signed_in(org.manager).get(url(planning)).content.decode()

    positions = [
        page.index(f'name="{name}')
        for name in ("planned_date", "objectives", "needs_support", "support_request")
    ]
    assert positions == sorted(positions)
