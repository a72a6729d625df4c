"""In Chromium: a manager signs in, opens 我的客户, a customer's page and the leads board, and moves
a lead forward; each page on a desktop and on a 375 px phone, with no sideways scrolling there.
Screenshots of every page go to screenshots/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from onsite.models import DecisionRole, FunnelStage, Industry, Lead, Ownership, Tier, Urgency, Visit
from onsite.services.customers import save_key_person, save_product
from onsite.services.leads import create_lead
from tests.browser import PASSWORD
from tests.onsite.flow import customer_of, enrol, new_programme

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def customer(org):
    customer = customer_of(
        org, code="HF-001", name="合肥供电公司", industry=Industry.POWER_ENERGY, tier=Tier.A
    )
    enrol(org, new_programme(org), customer)
    save_key_person(
        customer=customer,
        name="王总",
        values={"title": "总经理", "decision_role": DecisionRole.DECISION_MAKER},
        user=org.manager,
    )
    save_product(
        customer=customer,
        product="专线100M",
        provider="电信",
        values={"ownership": Ownership.COMPETITOR, "expiry_date": timezone.localdate() + timedelta(days=30)},
        user=org.manager,
    )
    customer_of(org, code="HF-002", name="合肥市第一人民医院", industry=Industry.HEALTHCARE_PHARMA)
    return customer


@pytest.fixture
def lead(org, customer):
    return create_lead(
        customer=customer,
        description="机房动环监控改造",
        urgency=Urgency.HIGH,
        estimated_value="50000",
        user=org.manager,
    )


def sign_in(watched, username: str, next_path: str) -> None:
    watched.goto(f"/accounts/login/?next={next_path}")
    watched.page.fill("input[name=username]", username)
    watched.page.fill("input[name=password]", PASSWORD)
    watched.page.click("main button[type=submit]")
    watched.page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_a_manager_opens_their_customers_a_customer_and_moves_a_lead_on_the_board(desktop, org, lead):
    page = desktop.page
    sign_in(desktop, "qian", "/customers/")
    assert page.locator("h1").inner_text() == "我的客户"
    assert page.get_by_role("link", name="我的客户").count() == 1
    desktop.screenshot("customers")

    page.get_by_role("link", name="合肥供电公司").click()
    page.wait_for_url("**/customers/*/")
    assert "王总" in page.locator(".briefing").inner_text()
    assert page.locator(".competitor-expiring").count() == 1
    desktop.screenshot("customer")

    page.get_by_role("link", name="我的线索").click()
    page.wait_for_url("**/leads/")
    card = page.locator(f"#lead-{lead.pk}")
    assert "机房动环监控改造" in card.inner_text()
    desktop.screenshot("leads")

    card.get_by_text("推进", exact=True).first.click()
    card.locator("select[name=stage]").select_option(FunnelStage.SALES_VISIT.value)
    card.locator("textarea[name=note]").first.fill("约好下周拜访信息中心")
    card.get_by_role("button", name="推进").click()
    page.wait_for_url("**/leads/")

    assert "线索已推进到" in page.locator(".messages").inner_text()
    assert (
        "机房动环监控改造"
        in page.locator(f"#stage-{FunnelStage.SALES_VISIT.value}").locator("..").inner_text()
    )
    assert Lead.objects.get(pk=lead.pk).stage == FunnelStage.SALES_VISIT
    desktop.screenshot("leads-moved")


def test_on_a_phone_the_pages_fit_the_screen_and_losing_needs_a_reason(phone, org, lead, customer):
    page = phone.page
    sign_in(phone, "qian", "/customers/")
    assert phone.no_horizontal_scroll()
    phone.screenshot("customers")

    phone.goto(f"/customers/{customer.pk}/")
    assert phone.no_horizontal_scroll()
    phone.screenshot("customer")

    phone.goto("/leads/")
    assert phone.no_horizontal_scroll()
    card = page.locator(f"#lead-{lead.pk}")
    card.get_by_text("丢失", exact=True).click()
    for button in card.get_by_role("button").all():
        if button.is_visible():
            assert button.bounding_box()["height"] >= 44
    assert phone.no_horizontal_scroll()
    phone.screenshot("leads")


def test_a_manager_opens_my_visits_and_the_week_calendar(desktop, org, customer):
    opens_my_visits_and_the_week(desktop, customer)


def test_on_a_phone_my_visits_and_the_week_fit_the_screen(phone, org, customer):
    opens_my_visits_and_the_week(phone, customer)


def opens_my_visits_and_the_week(watched, customer) -> None:
    page = watched.page
    visit = Visit.objects.get(customer=customer)
    sign_in(watched, "qian", "/visits/")
    assert "合肥供电公司" in page.locator("table.visit-list").inner_text()
    assert watched.no_horizontal_scroll()
    watched.screenshot("visits")

    page.get_by_role("link", name="周历").click()
    page.wait_for_url("**/visits/week/")
    if visit.planned_date != timezone.localdate():
        watched.goto(f"/visits/week/?week={visit.planned_date:%Y-%m-%d}")
    day = page.locator(f"#day-{visit.planned_date:%Y-%m-%d}").locator("..")
    assert "合肥供电公司" in day.inner_text()
    assert watched.no_horizontal_scroll()
    watched.screenshot("visit-week")
