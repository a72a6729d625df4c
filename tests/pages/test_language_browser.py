"""Switching the language in Chromium: the header's button turns every page English and back."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from onsite.models import Customer, Team
from onsite.services.appraisals import generate_appraisals
from onsite.views.navigation import navigation_for
from tests.onsite.flow import customer_of, enrol, new_programme, open_task, survey_requested, visit_made
from workflows.models import HumanTask, ProcessModel

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_manager_switches_to_english_and_back(desktop, org):
    page = desktop.page
    desktop.sign_in("qian")
    assert page.get_by_role("link", name="我的客户").count() == 1

    page.click("form.language-switch button[value=en]")
    page.wait_for_load_state()
    assert page.url.endswith("/tasks/")  # the same page, in English
    assert page.get_by_role("link", name="My customers").count() == 1
    assert page.locator("html").get_attribute("lang") == "en"
    desktop.screenshot("inbox-english")

    desktop.goto("/customers/")
    assert "My customers" in page.locator("h1").inner_text()

    page.click("form.language-switch button[value=zh-hans]")
    page.wait_for_load_state()
    assert page.get_by_role("link", name="我的客户").count() == 1


# Chinese in the page's own words (not the data it shows, not the switch back to 中文).
CHINESE_CHROME = """(data) => {
  const cjk = /[\\u4e00-\\u9fff]/;
  const chrome = document.querySelectorAll(
    "nav a, nav button:not(.language-switch button), h1, h2, h3, th, label, legend, main button, .nav-tabs a"
  );
  const words = e => data.reduce((text, value) => text.split(value).join(""), e.innerText.trim());
  return [...chrome].map(words).filter(t => cjk.test(t));
}"""


@pytest.fixture
def work(org):
    """A customer whose visit waits for its summary, a support request, a month's appraisals."""
    customer = customer_of(org, name="滨湖新区政务服务中心")
    summary = open_task(visit_made(enrol(org, new_programme(org), customer)), "Task_write_summary")
    survey_requested(org, customer)
    generate_appraisals(period=date(2026, 10, 1), user=org.coordinator)
    return customer, summary


@pytest.mark.parametrize("username", ["qian", "li"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_every_page_of_a_role_reads_in_english_and_fits(request, org, work, username, viewport):
    customer, summary = work
    watched = request.getfixturevalue(viewport)
    page = watched.page
    user = {"qian": org.manager, "li": org.leader}[username]
    # A long name, the longest the header keeps on one line with the rest.
    user.first_name, user.last_name = "Christopher", "Montgomery-Richardson"
    user.save(update_fields=["first_name", "last_name"])
    watched.sign_in(username)
    page.click("form.language-switch button[value=en]")
    page.wait_for_load_state()
    pages = {item.url.strip("/").replace("/", "-"): item.url for item in navigation_for(user)}
    data = sorted(_data_names(), key=len, reverse=True)
    pages["customer"] = f"/customers/{customer.pk}/"
    if username == "qian":
        pages["summary"] = f"/tasks/{summary.pk}/"
    else:  # the desk's other tabs
        pages |= {"desk-team": "/desk/team/", "desk-warnings": "/desk/warnings/"}

    for name, path in pages.items():
        watched.goto(path)
        assert page.locator("html").get_attribute("lang") == "en", path
        assert page.evaluate(CHINESE_CHROME, data) == [], path
        assert watched.no_horizontal_scroll(), path
        if viewport == "desktop":
            # The header keeps to one line: its links never wrap onto a second row.
            assert page.locator("nav.navbar").bounding_box()["height"] < 70, path
        watched.screenshot(f"english-{username}-{name}")


def _data_names() -> set[str]:
    """The names records carry (people, teams, customers; tasks and processes as their diagrams
    name them, in the coordinator's words): data, not the page's own words."""
    people = {u.get_full_name() for u in get_user_model().objects.all()}
    return {
        name
        for name in (
            *people,
            *Team.objects.values_list("name", flat=True),
            *Customer.objects.values_list("name", flat=True),
            *HumanTask.objects.values_list("name", flat=True),
            *ProcessModel.objects.values_list("name", flat=True),
        )
        if name
    }
