"""In Chromium: a coordinator opens a programme, screens customers, ticks two into the pilot group,
scores their factors, sees the stages suggested, enrols them and finds them on the programme page
and their enrolment pages; every page on a desktop and on a 375 px phone, with no sideways
scrolling there. Screenshots of every page go to screenshots/."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from onsite.models import Enrolment, Industry
from tests.onsite.flow import FACTORS, customer_of, enrol, new_programme

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def pilot(org):
    """A running programme, and three customers of its branch to screen."""
    programme = new_programme(org)
    customers = [
        customer_of(
            org,
            code="HF-001",
            name="合肥科技银行",
            industry=Industry.FINANCE,
            monthly_value=Decimal("90000"),
            potential=5,
        ),
        customer_of(
            org,
            code="HF-002",
            name="合肥市第一人民医院",
            industry=Industry.HEALTHCARE_PHARMA,
            monthly_value=Decimal("50000"),
            potential=4,
            manager=org.other_manager,
        ),
        customer_of(
            org,
            code="HF-003",
            name="合肥百货",
            industry=Industry.RETAIL,
            monthly_value=Decimal("2000"),
            potential=1,
        ),
    ]
    return programme, customers


def score(page, customer, stage: str) -> None:
    for name, value in FACTORS[stage].items():
        page.select_option(f"select[name='{customer.pk}-{name}']", str(value))


def test_a_coordinator_screens_ticks_two_customers_enrols_them_and_finds_them_on_the_programme(
    desktop, org, pilot
):
    programme, (bank, hospital, _shop) = pilot
    page = desktop.page
    desktop.sign_in("zhao")

    desktop.goto("/programmes/")
    assert page.locator("h1").inner_text() == "驻点服务方案"
    desktop.screenshot("programmes")
    page.get_by_role("link", name=programme.name).click()
    page.wait_for_url(f"**/programmes/{programme.pk}/")
    desktop.screenshot("programme-empty")

    page.get_by_role("link", name="筛选并入选客户").click()
    page.wait_for_url("**/programmes/screening/**")
    rows = page.locator(".screened-row")
    assert rows.first.get_attribute("data-customer") == "HF-001"
    assert "发展潜力" in rows.first.inner_text()
    desktop.screenshot("screening")

    # The header's box ticks every customer on the page, and clears them again.
    page.check("[data-check-all]")
    assert page.locator("input[name=customer]:checked").count() == 3
    page.uncheck("[data-check-all]")
    assert page.locator("input[name=customer]:checked").count() == 0
    page.check(f"#pick-{bank.pk}")
    page.check(f"#pick-{hospital.pk}")
    page.locator(".pilot-form button[type=submit]").click()
    page.wait_for_url("**/programmes/enrol/**")
    assert page.locator(".enrol-candidate").count() == 2

    score(page, bank, "win_back")
    score(page, hospital, "publicity")
    page.click("button[name=action][value=preview]")
    page.wait_for_load_state()
    assert "策反" in page.locator(f"#candidate-{bank.pk} .stage-suggestion").inner_text()
    assert "服务宣传" in page.locator(f"#candidate-{hospital.pk} .stage-suggestion").inner_text()
    desktop.screenshot("enrol")

    page.click("button[name=action][value=enrol]")
    page.wait_for_url(f"**/programmes/{programme.pk}/")
    table = page.locator("table.enrolments").inner_text()
    assert "合肥科技银行" in table and "合肥市第一人民医院" in table
    assert page.locator(".alert-success").count() == 1
    desktop.screenshot("programme")
    assert dict(Enrolment.objects.values_list("customer__code", "stage")) == {
        "HF-001": "win_back",
        "HF-002": "publicity",
    }

    page.get_by_role("link", name="合肥科技银行").click()
    page.wait_for_url("**/programmes/enrolments/*/")
    assert page.locator("table.stage-history tbody tr").count() == 1
    desktop.screenshot("enrolment")


def test_the_suggestion_follows_the_factors_and_an_override_without_reason_is_refused_at_its_field(
    desktop, org, pilot
):
    programme, (bank, _hospital, _shop) = pilot
    page = desktop.page
    desktop.sign_in("zhao")
    desktop.goto(f"/programmes/enrol/?programme={programme.pk}&customer={bank.pk}")
    score(page, bank, "publicity")
    # The suggestion follows the factors as they are chosen (htmx), before any button is pressed.
    expect(page.locator(f"#suggestion-{bank.pk}")).to_contain_text("服务宣传")
    page.select_option(f"select[name='{bank.pk}-stage']", "win_back")

    page.click("button[name=action][value=enrol]")
    page.wait_for_load_state()

    assert page.locator(f"textarea[name='{bank.pk}-reason'].is-invalid").count() == 1
    desktop.screenshot("enrol-refused")
    assert not Enrolment.objects.exists()

    desktop.goto("/programmes/new/")
    desktop.screenshot("programme-new")


def test_every_programme_page_fits_a_phone(phone, org, pilot):
    programme, (bank, hospital, _shop) = pilot
    enrolment = enrol(org, programme, bank, "win_back")
    page = phone.page
    phone.sign_in("zhao")

    for name, path in (
        ("programmes", "/programmes/"),
        ("programme", f"/programmes/{programme.pk}/"),
        ("enrolment", f"/programmes/enrolments/{enrolment.pk}/"),
        ("screening", f"/programmes/screening/?programme={programme.pk}"),
        ("enrol", f"/programmes/enrol/?programme={programme.pk}&customer={hospital.pk}"),
        ("programme-new", "/programmes/new/"),
    ):
        phone.goto(path)
        assert page.locator("h1").count() == 1, path
        assert phone.no_horizontal_scroll(), path
        phone.screenshot(name)
