"""A model's page, a version's page and the differences between two versions in Chromium: the
diagrams drawn by the viewer (with the differences marked), on a desktop and on a phone, with no
console error (the fixtures fail the test on any)."""

import pytest

from tests.onsite.flow import new_programme

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def diagram_ready(watched, selector: str = ".console-diagram") -> None:
    watched.page.wait_for_selector(f"{selector}.is-ready", timeout=15000)


def test_a_version_page_draws_its_diagram_and_lists_its_files(desktop, coordinator, field_check):
    desktop.sign_in(coordinator.username)

    desktop.goto("/console/models/field_check/v2/")
    diagram_ready(desktop)
    desktop.screenshot("console-version")

    page = desktop.page
    assert page.locator("h1").inner_text().startswith("现场检查，第 2 版")
    for element in ("plan", "visit", "review"):
        assert page.locator(f'.console-diagram [data-element-id="{element}"]').count() == 1
    assert page.locator(".version-files tbody tr").count() == 4
    assert page.locator(".status-counts").inner_text().strip() == "运行中 1"


def test_a_version_page_fits_a_phone(phone, coordinator, field_check):
    phone.sign_in(coordinator.username)

    phone.goto("/console/models/field_check/v1/")
    diagram_ready(phone)
    phone.screenshot("console-version")

    assert phone.no_horizontal_scroll()


def test_the_differences_are_marked_on_both_diagrams_and_listed(desktop, coordinator, field_check):
    desktop.sign_in(coordinator.username)

    desktop.goto("/console/models/field_check/v2/")
    desktop.page.get_by_role("link", name="与上一版本比较").click()
    diagram_ready(desktop, "#old-diagram")
    diagram_ready(desktop, "#new-diagram")
    desktop.screenshot("console-version-diff")

    page = desktop.page
    assert page.locator('#old-diagram .djs-element.diff-removed[data-element-id="confirm"]').count() == 1
    assert page.locator('#new-diagram .djs-element.diff-added[data-element-id="review"]').count() == 1
    assert page.locator('#new-diagram .djs-element.diff-changed[data-element-id="visit"]').count() == 1
    assert page.locator('tr[data-change="added"]').inner_text().split("\t")[1:3] == [
        "主管审核 review",
        "用户任务",
    ]


def test_the_differences_fit_a_phone_and_another_pair_can_be_chosen(phone, coordinator, field_check):
    phone.sign_in(coordinator.username)

    phone.goto("/console/models/field_check/diff/")
    diagram_ready(phone, "#new-diagram")
    phone.screenshot("console-version-diff")
    assert phone.no_horizontal_scroll()

    phone.page.select_option("#diff-from", "2")
    phone.page.select_option("#diff-to", "1")
    phone.page.get_by_role("button", name="比较").click()
    diagram_ready(phone, "#new-diagram")

    assert phone.page.url.endswith("/console/models/field_check/diff/?from=2&to=1")
    assert phone.page.locator('#new-diagram .djs-element.diff-added[data-element-id="confirm"]').count() == 1


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_model_page_lists_its_versions(request, viewport, coordinator, field_check):
    watched = request.getfixturevalue(viewport)
    watched.sign_in(coordinator.username)

    watched.goto("/console/")
    watched.page.get_by_role("link", name="现场检查").click()
    watched.screenshot("console-model")

    assert watched.page.locator(".model-versions tbody tr").count() == 2
    assert watched.no_horizontal_scroll()


def test_the_programme_process_shows_its_pinned_programme_and_draws_its_diagram(desktop, org):
    programme = new_programme(org)
    desktop.sign_in(org.coordinator.username)

    desktop.goto("/console/models/onsite_programme/")
    desktop.screenshot("console-model-pinned")
    assert programme.name in desktop.page.locator('tr[data-version="1"]').inner_text()

    desktop.page.get_by_role("link", name="v1", exact=True).click()
    diagram_ready(desktop)
    desktop.screenshot("console-version-programme")
    assert programme.name in desktop.page.locator(".pinned-group").inner_text()
