"""The instance monitor in Chromium: a coordinator finds a customer's waiting visit in the search,
opens it and sees the task it waits for marked on the diagram; the incidents list. Desktop and
phone screenshots."""

import pytest

from tests.console.test_instances import failing, lead_of, visit_of
from tests.onsite.flow import build_org, customer_of, deploy_processes, enrol, new_programme

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ACTIVE = '.djs-element.active[data-element-id="Task_plan_visit"]'


@pytest.fixture
def org():
    deploy_processes()
    return build_org()


@pytest.fixture
def visit(org):
    customer = customer_of(org, code="HF-001", name="滨湖新区政务服务中心")
    enrolment = enrol(org, new_programme(org), customer)
    lead_of(org, customer)
    return visit_of(enrolment)


def test_a_coordinator_finds_a_waiting_visit_and_sees_its_task_marked(desktop, org, visit):
    page = desktop.page
    desktop.sign_in("zhao")
    desktop.goto("/console/instances/?business_key=HF-001")
    assert page.locator(".instance-table tbody tr").count() == 3  # the programme, its visit, the lead
    desktop.screenshot("console-instances")

    page.click(f'a[href="/console/instances/{visit.pk}/"]')
    page.wait_for_selector(ACTIVE)

    assert page.locator(".djs-element.done").count() >= 1  # the start, the visit's registration
    assert page.locator(".djs-element.failed").count() == 0
    assert "制定走访计划" in page.locator("#tasks-title + table").inner_text()
    desktop.screenshot("console-instance")


def test_the_instance_page_and_the_search_fit_a_phone(phone, org, visit):
    page = phone.page
    phone.sign_in("zhao")
    phone.goto("/console/instances/")
    assert phone.no_horizontal_scroll()
    phone.screenshot("console-instances")

    phone.goto(f"/console/instances/{visit.pk}/")
    page.wait_for_selector(ACTIVE)
    assert phone.no_horizontal_scroll()
    phone.screenshot("console-instance")


def test_the_incidents_list_the_instance_in_error(desktop, phone, org):
    instance = failing()
    for watched in (desktop, phone):
        watched.sign_in("zhao")
        watched.goto("/console/incidents/")
        assert f"#{instance.pk}" in watched.page.locator(".instance-table").inner_text()
        assert watched.no_horizontal_scroll()
        watched.screenshot("console-incidents")


def test_a_programme_in_error_shows_its_error_first_and_the_failed_call_marked(desktop, phone, org, visit):
    from workflows.services import terminate_instance

    terminate_instance(instance_id=visit.pk, user=org.coordinator, reason="误操作")
    for watched in (desktop, phone):
        watched.sign_in("zhao")
        watched.goto(f"/console/instances/{visit.parent_id}/")
        watched.page.wait_for_selector('.djs-element.failed[data-element-id="CallActivity_visit"]')
        assert watched.page.locator("#retry-reason").is_visible()
        assert watched.no_horizontal_scroll()
        watched.screenshot("console-instance-error")
