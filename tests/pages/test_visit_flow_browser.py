"""A visit from plan to approved summary in Chromium, as the manager and the team leader do it:
the plan, the resources, the visit recorded, the summary with two leads and a product — a
validation error fixed, a draft found again after leaving — sent back with a reason, reworked,
approved, and the leads on the manager's board. Then the summary form on a 375 × 812 phone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.onsite.flow import customer_of, enrol, new_programme, visit_made
from workflows.models import HumanTask

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def enrolment(org):
    return enrol(org, new_programme(org), customer_of(org, name="滨湖新区政务服务中心"))


def open_from_inbox(watched, task_name: str) -> None:
    watched.goto("/tasks/")
    watched.page.get_by_role("link", name=task_name).first.click()
    watched.page.wait_for_load_state()


def submit(watched) -> None:
    watched.page.click("button[name=_complete]")
    watched.page.wait_for_load_state()


def sign_out(watched) -> None:
    watched.page.context.clear_cookies()


def fill_summary_except_second_urgency(page) -> None:
    page.fill("[name=informatization_status]", "办公网由我方提供，视频会议使用竞争对手产品")
    page.fill("[name=next_goals]", "两周内提交云视讯替换方案")
    page.click("button[name=_add][value=product_expiries]")
    page.fill("[name='product_expiries.0.product']", "视频会议")
    page.fill("[name='product_expiries.0.provider']", "竞争对手A")
    page.select_option("[name='product_expiries.0.ownership']", "competitor")
    page.fill("[name='product_expiries.0.expiry_date']", "2027-03-31")
    page.click("button[name=_add][value=leads]")
    page.fill("[name='leads.0.description']", "视频会议替换")
    page.select_option("[name='leads.0.urgency']", "high")
    page.click("button[name=_add][value=leads]")
    page.fill("[name='leads.1.description']", "机房托管")
    for part in ("decision_chain", "key_persons", "resource_needs"):
        page.fill(f"[name='none_reasons.{part}']", "无：本次走访未涉及")


def test_a_visit_from_plan_to_approved_summary_and_the_leads_on_the_board(desktop, org, enrolment):
    page = desktop.page
    desktop.sign_in("qian")
    assert "我的任务" in page.content()

    open_from_inbox(desktop, "制定走访计划")
    page.fill("[name=planned_date]", f"{timezone.localdate():%Y-%m-%d}")
    page.fill("[name=objectives]", "了解信息化现状，介绍云视讯")
    submit(desktop)
    open_from_inbox(desktop, "准备走访资源")
    submit(desktop)
    open_from_inbox(desktop, "记录现场服务")
    page.fill("[name=visited_at]", f"{timezone.localtime() - timedelta(hours=2):%Y-%m-%dT%H:%M}")
    page.fill("[name=information_collected]", "现有视频会议系统由竞争对手提供，明年三月到期")
    submit(desktop)

    open_from_inbox(desktop, "填写驻点服务总结")
    fill_summary_except_second_urgency(page)
    submit(desktop)
    errors = page.locator("#form-errors").inner_text()
    assert "第 2 条" in errors and "紧急程度" in errors
    assert page.input_value("[name='leads.1.description']") == "机房托管"
    desktop.screenshot("summary-errors")

    desktop.goto("/tasks/")  # leaves mid-way; the draft keeps everything
    open_from_inbox(desktop, "填写驻点服务总结")
    assert page.input_value("[name='leads.1.description']") == "机房托管"
    page.select_option("[name='leads.1.urgency']", "medium")
    submit(desktop)

    sign_out(desktop)
    desktop.sign_in("li")
    page.locator("main a", has_text="审核驻点服务总结").first.click()
    page.wait_for_load_state()
    desktop.screenshot("summary-review")
    page.select_option("[name=review_decision]", "rework")
    page.fill("[name=review_comment]", "请补充关键人联系方式")
    submit(desktop)

    sign_out(desktop)
    desktop.sign_in("qian")
    open_from_inbox(desktop, "填写驻点服务总结")
    assert page.input_value("[name='leads.0.description']") == "视频会议替换"  # starts from the last one
    page.fill("[name='none_reasons.key_persons']", "")
    page.click("button[name=_add][value=key_persons]")
    page.fill("[name='key_persons.0.name']", "王主任")
    page.fill("[name='key_persons.0.contact']", "0551-12345678")
    submit(desktop)

    sign_out(desktop)
    desktop.sign_in("li")
    page.locator("main a", has_text="审核驻点服务总结").first.click()
    page.wait_for_load_state()
    page.select_option("[name=review_decision]", "approve")
    submit(desktop)

    sign_out(desktop)
    desktop.sign_in("qian")
    desktop.goto("/leads/")
    board = page.locator("main").inner_text()
    assert "视频会议替换" in board and "机房托管" in board
    desktop.screenshot("leads-after-summary")
    assert not HumanTask.objects.filter(bpmn_id="Task_write_summary", status=HumanTask.Status.OPEN).exists()


def test_the_summary_form_on_a_phone(phone, org, enrolment):
    visit_made(enrolment)
    page = phone.page
    phone.sign_in("qian")
    open_from_inbox(phone, "填写驻点服务总结")
    page.click("button[name=_add][value=leads]")

    assert page.locator("[name='leads.0.urgency']").is_visible()
    assert phone.no_horizontal_scroll()
    for button in page.locator("main button:visible:not(.visually-hidden)").all():
        assert button.bounding_box()["height"] >= 44
    phone.screenshot("summary")
