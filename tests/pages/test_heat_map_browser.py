"""The heat-map in Chromium: a coordinator sees the visits the test left waiting as counts on the
diagram's elements, coloured, and opens the list of those waiting at one by clicking it."""

import pytest

from tests.onsite.flow import complete, current_visit, customer_of, enrol, new_programme, plan

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

HEAT_MAP = "/console/models/visit_cycle/v1/heat-map/"


@pytest.fixture
def visits(org):
    programme = new_programme(org)
    customers = [customer_of(org, code=f"HF-00{n}", name=f"合肥客户{n}") for n in range(1, 4)]
    visits = [current_visit(enrol(org, programme, c)) for c in customers]
    complete(visits[0], "Task_plan_visit", org.manager, plan())
    return visits


def overlay_text(watched, element_id: str) -> str:
    return watched.page.locator(f'.djs-overlays[data-container-id="{element_id}"]').inner_text()


def test_the_heat_map_shows_the_waiting_visits_on_the_diagram_on_desktop_and_phone(visits, desktop, phone):
    for watched in (desktop, phone):
        watched.sign_in("zhao")
        watched.goto(HEAT_MAP)
        watched.page.wait_for_selector(".console-diagram.is-ready")

        assert overlay_text(watched, "Task_plan_visit").startswith("等待 2")
        assert overlay_text(watched, "Task_prepare_resources").startswith("等待 1")
        planning = watched.page.locator('g.djs-element[data-element-id="Task_plan_visit"]')
        assert "heat-5" in planning.get_attribute("class")
        preparing = watched.page.locator('g.djs-element[data-element-id="Task_prepare_resources"]')
        assert "heat-3" in preparing.get_attribute("class")
        assert "制定走访计划" in watched.page.locator("table.heat-table").inner_text()
        watched.screenshot("console-heat-map")
    assert phone.no_horizontal_scroll()


def test_clicking_an_element_lists_the_visits_waiting_there(visits, desktop, phone):
    desktop.sign_in("zhao")
    desktop.goto(HEAT_MAP)
    desktop.page.wait_for_selector(".console-diagram.is-ready")
    desktop.page.locator('g.djs-element[data-element-id="Task_plan_visit"]').click()
    desktop.page.wait_for_url("**/heat-map/Task_plan_visit/**")

    rows = desktop.page.locator("main table tbody tr")
    assert rows.count() == 2
    assert {"HF-002", "HF-003"} <= set(rows.all_inner_texts()[0].split() + rows.all_inner_texts()[1].split())
    desktop.screenshot("console-heat-map-element")
    phone.sign_in("zhao")
    phone.goto(HEAT_MAP + "Task_plan_visit/")
    assert phone.no_horizontal_scroll()
    phone.screenshot("console-heat-map-element")
