"""The task page in Chromium: signing in in Chinese, a validation error fixed, a draft restored after
leaving mid-way, the task completed — on a desktop and on a 375 px phone; a renewal planned."""

from datetime import timedelta

import pytest
from django.utils import timezone

from onsite.models import Ownership, RenewalTarget
from onsite.services.renewals import start_renewal_targets
from tests.onsite.factories import ProductHoldingFactory
from tests.onsite.flow import current_visit, customer_of, enrol, new_programme, open_task
from workflows.models import HumanTask

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def planning(org):
    enrolment = enrol(org, new_programme(org), customer_of(org, name="滨湖新区政务服务中心"))
    return open_task(current_visit(enrolment), "Task_plan_visit")


def test_a_manager_fixes_an_error_leaves_finds_the_draft_and_completes_the_task(desktop, org, planning):
    page = desktop.page
    desktop.sign_in("qian")
    assert "登录" not in page.title()
    desktop.goto(f"/tasks/{planning.pk}/")
    desktop.screenshot("task-plan-visit")

    page.fill("[name=objectives]", "了解信息化现状")
    page.click("button[name=_complete]")  # no date yet: refused at the field
    assert page.locator(".is-invalid").count() >= 1
    assert page.input_value("[name=objectives]") == "了解信息化现状"
    desktop.screenshot("task-plan-visit-errors")

    desktop.goto("/accounts/password/")  # leave mid-way
    desktop.goto(f"/tasks/{planning.pk}/")
    assert page.input_value("[name=objectives]") == "了解信息化现状"
    assert page.get_by_text("已恢复您在").count() == 1

    page.fill("input[name=planned_date]", "2026-12-01")
    page.click("button[name=_complete]")
    page.wait_for_url("**/tasks/")  # done: back in the inbox
    planning.refresh_from_db()
    assert planning.status == HumanTask.Status.COMPLETED
    assert planning.data["planned_date"] == "2026-12-01"


def test_the_task_page_fits_a_phone_and_saves_typing_by_itself(phone, org, planning):
    page = phone.page
    phone.sign_in("qian")
    phone.goto(f"/tasks/{planning.pk}/")

    page.fill("[name=objectives]", "在客户现场填写")
    page.wait_for_selector("#draft-status >> text=自动保存", timeout=10_000)
    assert phone.no_horizontal_scroll()
    phone.screenshot("task-plan-visit")
    box = page.locator("button[name=_complete]").bounding_box()
    assert box["height"] >= 44


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_a_manager_plans_the_renewal_of_a_contract_of_ours_from_its_task_page(request, org, screen):
    browser = request.getfixturevalue(screen)
    customer = customer_of(org, name="江淮城市商业银行")
    ProductHoldingFactory(
        customer=customer,
        product="金融专线",
        provider="我方",
        ownership=Ownership.OURS,
        expiry_date=timezone.localdate() + timedelta(days=60),
    )
    (target,) = start_renewal_targets()
    task = open_task(target.instance, "Task_plan_renewal")
    page = browser.page
    browser.sign_in("qian")

    browser.goto(f"/tasks/{task.pk}/")
    assert page.get_by_text("制定续约方案").count() >= 1
    assert page.get_by_text("江淮城市商业银行").count() >= 1
    browser.screenshot("task-plan-renewal")
    assert browser.no_horizontal_scroll()

    page.locator("[name=decision]").select_option("pursue")
    page.fill("[name=approach]", "续签三年并升级带宽")
    page.click("button[name=_complete]")
    page.wait_for_url("**/tasks/")

    target = RenewalTarget.objects.get(pk=target.pk)
    assert (target.status, target.lead.product) == ("pursued", "金融专线")
