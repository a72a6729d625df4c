"""Each role's navigation lists only pages that answer it, and the pages it does not list are closed
to it: a matrix of roles × pages."""

import pytest
from django.test import Client

from onsite.views.navigation import PAGES, navigation_for
from tests.factories import UserFactory
from tests.pages.clients import signed_in

pytestmark = pytest.mark.django_db

DESK = ("/desk/", "/desk/team/", "/desk/warnings/")


@pytest.fixture
def people(org):
    return {
        "account_manager": org.manager,
        "support_staff": org.support["network"],
        "team_leader": org.leader,
        "coordinator": org.coordinator,
        "leadership": org.director,
    }


@pytest.mark.parametrize(
    "role", ["account_manager", "support_staff", "team_leader", "coordinator", "leadership"]
)
def test_every_page_a_role_is_shown_answers_it(people, role):
    user = people[role]
    client = signed_in(user)

    items = navigation_for(user)

    assert items, role
    for item in items:
        assert client.get(item.url).status_code == 200, (role, item.url)


@pytest.mark.parametrize("role", ["account_manager", "team_leader"])
def test_the_pages_in_the_navigation_only_read_and_refuse_a_post(people, role):
    client = signed_in(people[role])

    for item in navigation_for(people[role]):
        assert client.post(item.url).status_code == 405, item.url


@pytest.mark.parametrize("role", ["account_manager", "support_staff"])
def test_the_team_leaders_desk_is_not_shown_to_and_not_found_by_managers_and_support_staff(people, role):
    client = signed_in(people[role])
    shown = {item.url for item in navigation_for(people[role])}

    for url in DESK:
        assert url not in shown
        assert client.get(url).status_code == 404, (role, url)


def test_someone_with_no_role_is_shown_no_page_and_reaches_no_desk(org):
    nobody = UserFactory(username="nobody")

    assert navigation_for(nobody) == []
    client = signed_in(nobody)
    assert client.get("/tasks/").status_code == 200
    for url in DESK:
        assert client.get(url).status_code == 404


def test_every_listed_page_exists():
    assert all(page.url_name for page in PAGES)
    assert len({page.url_name for page in PAGES}) == len(PAGES)


def test_an_anonymous_visitor_is_sent_to_sign_in_from_every_page():
    client = Client()
    for url in (
        "/tasks/",
        "/customers/",
        "/leads/",
        "/visits/",
        "/support/",
        "/teams/",
        "/appraisal/",
        "/incentives/",
        *DESK,
    ):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url
