"""A person's own pages in Chromium, on a desktop and a 375 px phone: support requests, project
teams, appraisal, incentives — readable, no sideways scrolling, tap targets of 44 px."""

from datetime import date

import pytest

from onsite.services.appraisals import generate_appraisals
from onsite.services.project_teams import NewMember, form_project_team
from tests.onsite.flow import customer_of, survey_requested

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PAGES = {"support": "/support/", "teams": "/teams/", "appraisal": "/appraisal/", "incentives": "/incentives/"}


@pytest.fixture
def work(org):
    customer = customer_of(org, name="滨湖新区政务服务中心")
    survey_requested(org, customer)
    form_project_team(
        customer=customer,
        user=org.manager,
        specialities=["solution"],
        members=[NewMember(org.support["solution"], "solution_expert")],
        on=date(2026, 11, 2),
    )
    generate_appraisals(period=date(2026, 10, 1), user=org.coordinator)
    return org


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_managers_own_pages_read_well_on_a_desktop_and_a_phone(request, viewport, work):
    watched = request.getfixturevalue(viewport)
    watched.sign_in("qian")
    for name, path in PAGES.items():
        watched.goto(path)
        assert watched.page.locator("h1").count() == 1, path
        assert watched.no_horizontal_scroll(), path
        watched.screenshot(f"my-{name}")
    watched.goto("/support/")
    assert "机房勘察" in watched.page.locator("main").inner_text()
