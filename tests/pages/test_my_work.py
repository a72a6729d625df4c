"""A person's own pages: the support requests in dispatch order with the task to do, their project
teams, their appraisals with the breakdown and the task to answer, and their incentive statement."""

from datetime import date

import pytest

from onsite.models import SupportRequest
from onsite.services.appraisals import generate_appraisals
from onsite.services.incentives import award, request_incentive_review
from onsite.services.project_teams import NewMember, form_project_team
from onsite.services.support import request_support
from tests.onsite.flow import at, complete, customer_of, survey_requested
from tests.pages.clients import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(org):
    return customer_of(org, name="滨湖新区政务服务中心")


@pytest.fixture
def requested(org, customer):
    return survey_requested(org, customer)


class TestSupportRequests:
    def test_an_engineer_of_the_speciality_sees_the_request_with_its_task(self, org, requested):
        engineer = requested.assignee or org.support["network"]
        page = signed_in(engineer).get("/support/").content.decode()

        assert "机房勘察，评估专线扩容" in page
        assert "滨湖新区政务服务中心" in page
        task = requested.instance.human_tasks.get(status="open")
        assert f"/tasks/{task.pk}/" in page

    def test_the_manager_who_asked_sees_it_without_the_engineers_task(self, org, requested):
        page = signed_in(org.manager).get("/support/").content.decode()

        assert "机房勘察，评估专线扩容" in page
        task = requested.instance.human_tasks.get(status="open")
        assert f"/tasks/{task.pk}/" not in page

    def test_another_manager_sees_nothing_of_it(self, org, requested):
        page = signed_in(org.other_manager).get("/support/").content.decode()

        assert "机房勘察" not in page
        assert "没有待处理的支撑需求" in page

    def test_the_list_reads_in_the_same_number_of_queries_for_one_request_and_for_twelve(
        self, org, customer, requested, django_assert_max_num_queries
    ):
        client = signed_in(org.manager)
        with django_assert_max_num_queries(30) as one:
            client.get("/support/")
        for n in range(11):
            request_support(
                customer=customer,
                kind=SupportRequest.Kind.SURVEY,
                speciality="network",
                description=f"需求{n}",
                due_date=date(2026, 12, 15),
                user=org.manager,
            )
        with django_assert_max_num_queries(30) as twelve:
            client.get("/support/")
        assert len(one.captured_queries) == len(twelve.captured_queries)


class TestProjectTeams:
    def test_a_member_sees_their_teams_with_the_members_and_their_roles(self, org, customer):
        form_project_team(
            customer=customer,
            user=org.manager,
            specialities=["solution"],
            members=[NewMember(org.support["solution"], "solution_expert")],
            on=date(2026, 11, 2),
        )

        page = signed_in(org.support["solution"]).get("/teams/").content.decode()

        assert "滨湖新区政务服务中心" in page
        assert "方案专家" in page or "解决方案专家" in page
        assert signed_in(org.other_manager).get("/teams/").content.decode().count("滨湖新区政务服务中心") == 0


class TestAppraisal:
    def test_the_person_sees_their_score_breakdown_and_no_one_elses(self, org):
        generate_appraisals(period=date(2026, 10, 1), user=org.coordinator)

        page = signed_in(org.manager).get("/appraisal/").content.decode()

        assert "2026-10" in page
        assert "班组长" in page or "与班组长" in page  # with the team leader for review
        assert "<table" in page
        other = signed_in(org.other_manager).get("/appraisal/").content.decode()
        assert other.count("2026-10") == 1  # their own only


class TestIncentives:
    def test_the_statement_of_the_month_asked_for_with_its_lines(self, org):
        for n in range(2):
            award("lead_created", person=org.manager, key=f"lead:{n}", description="x", at=at(2026, 11, 3))
        review = request_incentive_review(team=org.team, period=date(2026, 11, 1), user=org.leader)
        complete(review.instance, "Task_review_incentives", org.leader, {})

        page = signed_in(org.manager).get("/incentives/?period=2026-11").content.decode()

        assert 'value="2026-11"' in page
        assert "营销线索" in page

    def test_a_month_that_is_not_one_shows_this_month(self, org):
        response = signed_in(org.manager).get("/incentives/?period=2026-13")

        assert response.status_code == 200
