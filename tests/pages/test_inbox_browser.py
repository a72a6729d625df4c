"""The inbox in Chromium: a manager finds the task the programme gave them, on a desktop and on a
phone (cards, no horizontal scrolling, buttons large enough to tap); a support engineer claims
work from the pool."""

import pytest

from tests.onsite.flow import complete, current_visit, customer_of, enrol, new_programme, open_task, plan
from workflows.services import release_task

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def visit(org):
    customer = customer_of(org, code="HF-001", name="合肥市数据资源局")
    return current_visit(enrol(org, new_programme(org), customer, stage="information_gathering"))


def test_a_manager_finds_their_task_in_my_tasks_on_desktop_and_phone(org, visit, desktop, phone):
    for watched in (desktop, phone):
        watched.sign_in("qian")
        watched.page.wait_for_url("**/tasks/")  # a manager lands in the inbox
        row = watched.page.locator("tr.inbox-row")
        assert row.count() == 1
        assert "制定走访计划" in row.inner_text() and "合肥市数据资源局" in row.inner_text()
        assert "我的任务" in watched.page.locator(".inbox-tabs .active").inner_text()
        watched.screenshot("inbox")

    assert phone.no_horizontal_scroll()
    release = phone.page.get_by_role("button", name="退回")
    assert release.bounding_box()["height"] >= 44
    # A card: the row is as wide as the screen, not a table cell squeezed beside others.
    assert phone.page.locator("tr.inbox-row").bounding_box()["width"] > 300


def test_a_support_engineer_claims_pool_work_on_a_phone(org, visit, phone):
    complete(visit, "Task_plan_visit", org.manager, plan(needs_support=True, speciality="solution"))
    task = open_task(visit, "Task_support_preparation")
    if task.assignee_id is not None:
        release_task(task_id=task.pk, user=task.assignee)

    phone.sign_in("sun")
    phone.page.wait_for_url("**/tasks/")
    phone.goto("/tasks/?tab=pool")
    claim = phone.page.get_by_role("button", name="领取")
    assert claim.bounding_box()["height"] >= 44
    assert phone.no_horizontal_scroll()
    phone.screenshot("inbox-pool")
    claim.click()

    phone.page.wait_for_load_state()
    assert "你领取了任务" in phone.page.locator(".messages").inner_text()
    assert phone.page.locator("tr.inbox-row").count() == 0  # back on the pool tab, now empty
    phone.goto("/tasks/")
    assert "支撑人员准备" in phone.page.locator("tr.inbox-row").inner_text()
    assert phone.no_horizontal_scroll()


def test_a_team_leader_gives_a_managers_task_to_another_member_of_the_team(org, visit, desktop):
    desktop.sign_in("li")
    desktop.page.wait_for_url("**/desk/")  # a team leader lands in the review queue
    desktop.goto("/tasks/?tab=team")
    desktop.screenshot("inbox-team")

    desktop.page.select_option("select[name=to]", str(org.other_manager.pk))
    desktop.page.get_by_role("button", name="改派").click()

    desktop.page.wait_for_load_state()
    assert "现在交给" in desktop.page.locator(".messages").inner_text()
    assert desktop.page.url.endswith("/tasks/?tab=team")
    assert open_task(visit, "Task_plan_visit").assignee_id == org.other_manager.pk
