"""My visits: the list (whose, filtered by status, paged, a fixed number of queries) and the week
calendar (each visit on its day, the weeks before and after)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from onsite.models import Visit
from tests.onsite.flow import customer_of, enrol, new_programme
from tests.pages.clients import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme(org):
    return new_programme(org)


@pytest.fixture
def visit(org, programme) -> Visit:
    enrol(org, programme, customer_of(org, code="HF-001", name="合肥供电公司"))
    return Visit.objects.get(customer__code="HF-001")


def test_a_manager_lists_their_visits_in_chinese_and_not_another_managers(org, programme, visit):
    enrol(org, programme, customer_of(org, manager=org.other_manager, name="吴的客户"))

    page = signed_in(org.manager).get("/visits/").content.decode()

    assert "我的走访" in page
    assert "合肥供电公司" in page and visit.get_status_display() in page
    assert "吴的客户" not in page


def test_the_team_leader_lists_the_teams_visits(org, programme, visit):
    enrol(org, programme, customer_of(org, manager=org.other_manager, name="吴的客户"))

    page = signed_in(org.leader).get("/visits/").content.decode()

    assert "合肥供电公司" in page and "吴的客户" in page


def test_a_support_engineer_lists_the_visits_they_join(org, visit):
    engineer = org.support["solution"]
    assert "合肥供电公司" not in signed_in(engineer).get("/visits/").content.decode()

    Visit.objects.filter(pk=visit.pk).update(support_staff=engineer)

    assert "合肥供电公司" in signed_in(engineer).get("/visits/").content.decode()


def test_the_list_filters_by_status_and_shows_an_unknown_one_at_the_field(org, visit):
    client = signed_in(org.manager)

    assert "合肥供电公司" in client.get("/visits/", {"status": visit.status}).content.decode()
    assert "合肥供电公司" not in client.get("/visits/", {"status": "closed"}).content.decode()
    refused = client.get("/visits/", {"status": "nonsense"})
    assert refused.status_code == 200
    assert "未知的走访状态：nonsense。" in refused.content.decode()


def test_the_list_answers_in_the_same_number_of_queries_with_3_and_with_15_visits(org, programme):
    client = signed_in(org.manager)

    def visits_up_to(how_many: int) -> int:
        for number in range(Visit.objects.count(), how_many):
            enrol(org, programme, customer_of(org, code=f"V-{number:03d}"))
        client.get("/visits/")
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/visits/").status_code == 200
        return len(queries)

    assert visits_up_to(3) == visits_up_to(15)


def test_the_week_calendar_puts_a_visit_on_its_planned_day(org, visit):
    client = signed_in(org.manager)
    week = f"{visit.planned_date:%Y-%m-%d}"

    page = client.get("/visits/week/", {"week": week}).content.decode()

    day = page[page.index(f'id="day-{visit.planned_date:%Y-%m-%d}"') :]
    assert "合肥供电公司" in day[: day.index("</section>")]
    next_week = client.get("/visits/week/", {"week": f"{visit.planned_date + timedelta(days=7):%Y-%m-%d}"})
    assert "合肥供电公司" not in next_week.content.decode()


def test_the_week_calendar_starts_on_monday_and_reads_a_malformed_week_as_this_one(org, visit):
    client = signed_in(org.manager)
    monday = visit.planned_date - timedelta(days=visit.planned_date.weekday())

    page = client.get("/visits/week/", {"week": f"{visit.planned_date:%Y-%m-%d}"}).content.decode()
    assert f"{monday:%Y-%m-%d} – {monday + timedelta(days=6):%Y-%m-%d}" in page
    assert "星期一" in page
    assert client.get("/visits/week/", {"week": "not-a-date"}).status_code == 200


def test_another_manager_sees_nothing_of_a_managers_week(org, visit):
    page = signed_in(org.other_manager).get("/visits/week/", {"week": f"{visit.planned_date:%Y-%m-%d}"})

    assert "合肥供电公司" not in page.content.decode()


def test_the_navigation_offers_my_visits_to_managers_and_support_staff(org):
    assert 'href="/visits/"' in signed_in(org.manager).get("/visits/").content.decode()
    assert 'href="/visits/"' in signed_in(org.support["solution"]).get("/visits/").content.decode()
    assert 'href="/visits/"' not in signed_in(org.director).get("/customers/").content.decode()
