"""The dashboard's pages: who may open them, the filters in the address, the lists behind the
figures with each row's page, the downloads, and a constant number of queries; with a visit run
through the services and the engine."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onsite.models import Team, Visit
from tests.factories import UserFactory
from tests.onsite.factories import CustomerFactory, LeadFactory, RegionFactory, manager_in
from tests.onsite.flow import close_visit, customer_of, enrol, new_programme
from tests.pages.clients import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def made(org):
    """A customer of qian's enrolled and visited once (the summary approved), two leads of theirs
    (one with text a spreadsheet would run), and a customer of another team's manager."""
    customer = customer_of(org, name="滨湖政务中心")
    enrolled = enrol(org, new_programme(org), customer)
    close_visit(enrolled, org, visited_at=timezone.now() - timedelta(hours=2))
    lead = LeadFactory(
        customer=customer, description='=HYPERLINK("http://x")专线扩容', estimated_value=Decimal(120000)
    )
    LeadFactory(customer=customer, urgency="high", description="云视讯")
    other_team = Team.objects.create(
        name="政企客户二组",
        region=RegionFactory(code="WH", name="芜湖分公司"),
        leader=UserFactory(username="he", roles=["team_leader"]),
    )
    stranger = CustomerFactory(account_manager=manager_in(other_team, "feng"), region=other_team.region)
    return {"customer": customer, "lead": lead, "other_team": other_team, "stranger": stranger}


def test_leadership_and_coordinators_open_the_dashboard_and_managers_get_404(org, made):
    for user in (org.director, org.coordinator, org.leader):
        response = signed_in(user).get("/dashboard/")
        assert response.status_code == 200, user
        assert (
            "客户阶段分布" in response.content.decode() or "Customers per stage" in response.content.decode()
        )
    for user in (org.manager, org.support["network"]):
        assert signed_in(user).get("/dashboard/").status_code == 404
        assert signed_in(user).get("/dashboard/leads/").status_code == 404


def test_the_dashboard_shows_the_visit_made_through_the_services(org, made):
    page = signed_in(org.director).get("/dashboard/").content.decode()

    assert 'class="fs-4 tile-visits">1 / 1<' in page  # made / planned
    assert 'class="fs-4 tile-on-time">100%<' in page
    assert 'id="dashboard-charts"' in page


def test_a_team_leader_asking_for_another_team_gets_404(org, made):
    leader = signed_in(org.leader)

    assert leader.get(f"/dashboard/?team={made['other_team'].pk}").status_code == 404
    assert leader.get(f"/dashboard/leads/?team={made['other_team'].pk}").status_code == 404
    page = leader.get("/dashboard/").content.decode()
    assert made["other_team"].name not in page  # not even offered


def test_the_filters_live_in_the_address_and_come_back_selected(org, made):
    url = f"/dashboard/?start=2026-01-05&end=2026-03-29&region={org.branch.pk}&tier=A&industry=finance"
    page = signed_in(org.director).get(url).content.decode()

    assert 'value="2026-01-05"' in page and 'value="2026-03-29"' in page
    assert f'<option value="{org.branch.pk}" selected>' in page
    assert '<option value="A" selected>' in page
    # Every drill-down link carries the same filters.
    assert f"/dashboard/leads/?start=2026-01-05&amp;end=2026-03-29&amp;region={org.branch.pk}" in page


def test_filters_that_are_not_ones_are_shown_as_errors_not_a_crash(org, made):
    response = signed_in(org.director).get("/dashboard/?start=2026-13-01&tier=Q")

    assert response.status_code == 400
    page = response.content.decode()
    assert "alert-danger" in page and 'id="dashboard-charts"' not in page


def test_a_drill_down_lists_the_rows_and_each_lead_opens_its_page(org, made):
    director = signed_in(org.director)
    page = director.get("/dashboard/leads/?urgency=high").content.decode()

    assert "云视讯" in page and "专线扩容" not in page
    listed = director.get("/dashboard/leads/").content.decode()
    assert f'href="/leads/{made["lead"].pk}/"' in listed
    lead_page = director.get(f"/leads/{made['lead'].pk}/")
    assert lead_page.status_code == 200
    assert "滨湖政务中心" in lead_page.content.decode()


def test_the_visits_and_summaries_lists_open_the_visits_page(org, made):
    director = signed_in(org.director)
    visit = Visit.objects.get(customer=made["customer"], status=Visit.Status.CLOSED)

    visits = director.get("/dashboard/visits/?kind=done").content.decode()
    summaries = director.get("/dashboard/summaries/").content.decode()
    assert "滨湖政务中心" in visits
    assert f'href="/visits/{visit.pk}/"' in visits and f'href="/visits/{visit.pk}/"' in summaries
    assert director.get(f"/visits/{visit.pk}/").status_code == 200


def test_a_lead_of_another_team_does_not_exist_for_its_leader(org, made):
    stranger_lead = LeadFactory(customer=made["stranger"])

    assert signed_in(org.leader).get(f"/leads/{stranger_lead.pk}/").status_code == 404
    assert signed_in(org.manager).get(f"/leads/{stranger_lead.pk}/").status_code == 404
    assert signed_in(org.director).get(f"/leads/{stranger_lead.pk}/").status_code == 200


def test_a_list_downloads_as_csv_with_the_chinese_readable_and_formulas_neutralised(org, made):
    response = signed_in(org.director).get("/dashboard/leads/?format=csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(table) == 3  # the header and two leads
    assert any(cell.startswith("'=HYPERLINK") for row in table for cell in row)
    assert "滨湖政务中心" in text


def test_a_list_downloads_as_excel_with_numbers_as_numbers(org, made):
    response = signed_in(org.director).get("/dashboard/leads/?format=xlsx")

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    header, rows = values[0], values[1:]
    assert len(rows) == 2
    expected = header.index("预计金额（元）")
    assert sorted(row[expected] for row in rows if row[expected] is not None) == [120000]
    assert any(str(cell).startswith("'=HYPERLINK") for row in rows for cell in row if cell)


def test_an_unknown_list_is_404(org, made):
    assert signed_in(org.director).get("/dashboard/passwords/").status_code == 404


def test_the_dashboard_page_takes_the_same_number_of_queries_whatever_the_data(org, made):
    director = signed_in(org.director)
    director.get("/dashboard/")  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        director.get("/dashboard/")
    for _ in range(15):
        LeadFactory(customer=made["customer"], urgency="low")
        LeadFactory(customer=made["stranger"], urgency="medium")
    with CaptureQueriesContext(connection) as many:
        director.get("/dashboard/")

    assert len(many.captured_queries) == len(few.captured_queries)


def test_leadership_signs_in_to_the_dashboard(org):
    response = signed_in(org.director).get("/", follow=True)

    assert response.redirect_chain[-1][0] == "/dashboard/"
