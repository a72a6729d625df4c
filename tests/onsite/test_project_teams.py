"""Project teams (项目小组): formed for a customer or a lead, led by the account manager, members
joining and leaving with dates; members read the customer only while in the team, get its support
work first, attend its visits, and their contributions earn them a share of a won lead."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from onsite.access import customers_visible_to, manages_project_team, sees_customer
from onsite.assignment import resolve_assignee
from onsite.exceptions import InvalidInput, NotPermitted
from onsite.models import (
    Contribution,
    IncentiveRecord,
    Membership,
    ProjectTeam,
    SupportRequest,
    TeamShareRule,
    Visit,
)
from onsite.selectors.project_teams import describe, project_team_roster
from onsite.services.leads import create_lead, move_lead_stage, win_lead
from onsite.services.project_teams import (
    NewMember,
    add_team_member,
    form_project_team,
    record_solution_work,
    record_visit_attendance,
    remove_team_member,
    set_team_share,
    won_lead_shares,
)
from onsite.services.support import request_support
from tests.factories import UserFactory
from tests.onsite.factories import CustomerFactory, RegionFactory, support_engineer
from tests.onsite.flow import (
    at,
    close_visit,
    complete,
    current_visit,
    customer_of,
    enrol,
    new_programme,
    open_task,
    refreshed,
    visit_made,
)
from workflows.assignment import AssignmentRequest
from workflows.clock import frozen

pytestmark = pytest.mark.django_db
HANDLE = "Task_handle_support"
RESULT = {"support_result": "已完成方案设计", "hours_spent": 4}
TODAY = timezone.localdate()
FORMED = date(2026, 11, 2)


@pytest.fixture
def customer(org):
    return customer_of(org, name="滨湖新区政务服务中心")


@pytest.fixture
def far():
    """Engineers of another branch: the default rule would never choose them for this customer."""
    return RegionFactory(code="LA", name="六安分公司")


@pytest.fixture
def team(org, customer, far):
    """The customer's team: its manager, a network engineer and a solution expert from far away."""
    return form_project_team(
        customer=customer,
        user=org.manager,
        specialities=["network", "solution"],
        members=[
            NewMember(support_engineer("network", far, username="kong"), "engineer"),
            NewMember(support_engineer("solution", far, username="cao"), "solution_expert"),
        ],
        on=FORMED,
    )


def member(team, username):
    return Membership.objects.get(team=team, person__username=username, left_on__isnull=True).person


def spells(team):
    return list(
        Membership.objects.filter(team=team)
        .order_by("person__username", "joined_on")
        .values_list("person__username", "role", "speciality", "joined_on", "left_on")
    )


def nothing_changed(before):
    return (
        ProjectTeam.objects.count(),
        list(Membership.objects.order_by("pk").values()),
        Contribution.objects.count(),
    ) == before


def snapshot():
    return (
        ProjectTeam.objects.count(),
        list(Membership.objects.order_by("pk").values()),
        Contribution.objects.count(),
    )


class TestForming:
    def test_a_customers_team_is_led_by_its_account_manager_with_the_members_named(self, org, customer, team):
        assert (team.customer, team.lead, team.leader, team.name, team.specialities, team.formed_on) == (
            customer,
            None,
            org.manager,
            "滨湖新区政务服务中心",
            ["network", "solution"],
            FORMED,
        )
        assert team.formed_by == org.manager
        assert spells(team) == [
            ("cao", "solution_expert", "solution", FORMED, None),
            ("kong", "engineer", "network", FORMED, None),
            ("qian", "manager", "", FORMED, None),
        ]

    def test_a_leads_team_is_led_by_the_leads_owner(self, org, customer):
        lead = create_lead(customer=customer, description="政务云迁移", urgency="medium", user=org.manager)

        team = form_project_team(lead=lead, user=org.leader, name="政务云项目组")

        assert (team.customer, team.lead, team.leader, team.customer_served) == (
            None,
            lead,
            org.manager,
            customer,
        )
        assert spells(team) == [("qian", "manager", "", TODAY, None)]

    def test_members_join_and_leave_with_dates_and_a_member_who_left_can_rejoin(self, org, team, far):
        wei = support_engineer("network", far, username="wei")
        add_team_member(team=team, person_to_add=wei, role="engineer", user=org.manager, on=date(2026, 11, 5))
        remove_team_member(team=team, person_to_remove=wei, user=org.leader, on=date(2026, 11, 9))
        add_team_member(
            team=team, person_to_add=wei, role="engineer", user=org.coordinator, on=date(2026, 11, 9)
        )

        assert [s for s in spells(team) if s[0] == "wei"] == [
            ("wei", "engineer", "network", date(2026, 11, 5), date(2026, 11, 9)),
            ("wei", "engineer", "network", date(2026, 11, 9), None),
        ]
        first = Membership.objects.get(person=wei, left_on=date(2026, 11, 9))
        assert (first.added_by, first.removed_by) == (org.manager, org.leader)

    def test_the_leading_manager_their_team_leader_and_coordinators_change_the_team_nobody_else(
        self, org, team
    ):
        for allowed in (org.manager, org.leader, org.coordinator):
            assert manages_project_team(allowed, team)
        for refused in (org.other_manager, org.support["solution"], org.director, member(team, "kong")):
            assert not manages_project_team(refused, team)
            before = snapshot()
            with pytest.raises(NotPermitted):
                add_team_member(
                    team=team, person_to_add=org.support["network"], role="engineer", user=refused
                )
            with pytest.raises(NotPermitted):
                remove_team_member(team=team, person_to_remove=member(team, "kong"), user=refused)
            assert nothing_changed(before)

    def test_only_who_looks_after_the_customer_forms_its_team(self, org, customer):
        for refused in (org.other_manager, org.support["solution"], org.director):
            with pytest.raises(NotPermitted):
                form_project_team(customer=customer, user=refused)
        assert not ProjectTeam.objects.exists()

    def test_a_team_is_for_a_customer_or_a_lead_and_one_per_customer(self, org, customer, team):
        lead = create_lead(customer=customer, description="政务云迁移", urgency="medium", user=org.manager)
        before = snapshot()
        with pytest.raises(InvalidInput) as both:
            form_project_team(customer=customer, lead=lead, user=org.manager)
        with pytest.raises(InvalidInput) as neither:
            form_project_team(user=org.manager)
        with pytest.raises(InvalidInput) as again:
            form_project_team(customer=customer, user=org.manager)

        assert set(both.value.errors) == set(neither.value.errors) == {"customer"}
        assert again.value.errors == {"customer": ["It already has a project team; add members to that one."]}
        assert nothing_changed(before)

    def test_bad_members_are_field_errors_and_nothing_of_the_team_is_stored(self, org, customer, far):
        inactive = UserFactory(is_active=False)
        cases = [
            ({"specialities": ["plumbing"]}, "specialities"),
            ({"members": [NewMember(inactive, "engineer", "network")]}, "members.0"),
            ({"members": [NewMember(org.support["network"], "boss")]}, "role"),
            ({"members": [NewMember(UserFactory(), "engineer")]}, "speciality"),
            ({"members": [NewMember(org.other_manager, "manager")]}, "role"),
            (
                {"specialities": ["solution"], "members": [NewMember(org.support["network"], "engineer")]},
                "speciality",
            ),
            ({"leader": org.support["network"]}, "leader"),
            (
                {
                    "members": [
                        NewMember(org.support["network"], "engineer"),
                        NewMember(org.support["network"], "engineer"),
                    ]
                },
                "members.1",
            ),
        ]
        for values, field in cases:
            with pytest.raises(InvalidInput) as refused:
                form_project_team(customer=customer, user=org.manager, **values)
            assert set(refused.value.errors) == {field}, values
        assert not ProjectTeam.objects.exists() and not Membership.objects.exists()

    def test_joining_and_leaving_refusals_change_nothing(self, org, team):
        kong = member(team, "kong")
        before = snapshot()
        refusals = [
            (
                lambda: add_team_member(team=team, person_to_add=kong, role="engineer", user=org.manager),
                "person",
            ),
            (
                lambda: add_team_member(
                    team=team,
                    person_to_add=org.support["network"],
                    role="engineer",
                    user=org.manager,
                    on=date(2026, 11, 1),
                ),
                "joined_on",
            ),
            (lambda: remove_team_member(team=team, person_to_remove=org.manager, user=org.leader), "person"),
            (
                lambda: remove_team_member(team=team, person_to_remove=org.other_manager, user=org.manager),
                "person",
            ),
            (
                lambda: remove_team_member(
                    team=team, person_to_remove=kong, user=org.manager, on=date(2026, 11, 1)
                ),
                "left_on",
            ),
        ]
        for refusal, field in refusals:
            with pytest.raises(InvalidInput) as refused:
                refusal()
            assert set(refused.value.errors) == {field}
        assert nothing_changed(before)

        remove_team_member(team=team, person_to_remove=kong, user=org.manager, on=date(2026, 11, 10))
        with pytest.raises(InvalidInput) as early:
            add_team_member(
                team=team, person_to_add=kong, role="engineer", user=org.manager, on=date(2026, 11, 9)
            )
        assert set(early.value.errors) == {"joined_on"}


class TestReadingTheCustomer:
    def test_a_member_reads_the_customer_while_in_the_team_and_not_after_leaving(self, org, customer, far):
        engineer = support_engineer("engineering", far, username="wei")
        team = form_project_team(customer=customer, user=org.manager, on=TODAY - timedelta(days=10))
        assert not sees_customer(engineer, customer)

        add_team_member(
            team=team, person_to_add=engineer, role="engineer", user=org.manager, on=TODAY - timedelta(days=3)
        )
        assert sees_customer(engineer, customer) and customer in customers_visible_to(engineer)

        # Leaving later: still a member today.
        remove_team_member(
            team=team, person_to_remove=engineer, user=org.manager, on=TODAY + timedelta(days=5)
        )
        assert sees_customer(engineer, customer) and customer in customers_visible_to(engineer)

    def test_a_member_who_left_today_or_joins_later_reads_nothing(self, org, customer, far):
        left, coming = support_engineer("network", far), support_engineer("it", far)
        team = form_project_team(customer=customer, user=org.manager, on=TODAY - timedelta(days=10))
        add_team_member(
            team=team, person_to_add=left, role="engineer", user=org.manager, on=TODAY - timedelta(days=3)
        )
        add_team_member(
            team=team, person_to_add=coming, role="engineer", user=org.manager, on=TODAY + timedelta(days=1)
        )
        remove_team_member(team=team, person_to_remove=left, user=org.manager, on=TODAY)

        for outside in (left, coming):
            assert not sees_customer(outside, customer)
            assert customer not in customers_visible_to(outside)

    def test_a_lead_teams_member_reads_the_leads_customer(self, org, customer, far):
        lead = create_lead(customer=customer, description="政务云迁移", urgency="medium", user=org.manager)
        engineer = support_engineer("it", far)
        form_project_team(
            lead=lead,
            user=org.manager,
            members=[NewMember(engineer, "engineer")],
            on=TODAY - timedelta(days=1),
        )

        assert sees_customer(engineer, customer)
        assert list(customers_visible_to(engineer)) == [customer]


class TestSupportWorkGoesToTheTeam:
    def test_a_support_request_goes_to_the_team_member_of_that_speciality_before_the_nearest_engineer(
        self, org, customer, team
    ):
        with frozen(at(2026, 12, 1, 9)):
            request = ask(org, customer, "network")

        kong = member(team, "kong")
        assert refreshed(request).assignee == kong
        assert open_task(request.instance, HANDLE).assignee == kong

    def test_without_a_team_member_of_that_speciality_todays_rule_applies(self, org, customer, team):
        with frozen(at(2026, 12, 1, 9)):
            request = ask(org, customer, "engineering")
            solution = ask(org, CustomerFactory(region=org.branch, account_manager=org.manager), "solution")

        # Nobody of engineering anywhere: the pool; another customer's work: the nearest engineer.
        assert open_task(request.instance, HANDLE).assignee is None
        assert refreshed(solution).assignee == org.support["solution"]

    def test_a_member_who_left_gets_no_more_of_the_teams_work(self, org, customer, team):
        remove_team_member(
            team=team, person_to_remove=member(team, "kong"), user=org.manager, on=date(2026, 11, 20)
        )
        with frozen(at(2026, 12, 1, 9)):
            request = ask(org, customer, "network")

        assert refreshed(request).assignee == org.support["network"]

    def test_a_leads_own_team_comes_before_the_customers(self, org, customer, team, far):
        lead = create_lead(customer=customer, description="政务云迁移", urgency="medium", user=org.manager)
        lou = support_engineer("network", far, username="lou")
        form_project_team(lead=lead, user=org.manager, members=[NewMember(lou, "engineer")], on=FORMED)

        with frozen(at(2026, 12, 1, 9)):
            for_lead = ask(org, customer, "network", lead=lead)
            for_customer = ask(org, customer, "network")

        assert (refreshed(for_lead).assignee, refreshed(for_customer).assignee) == (lou, member(team, "kong"))

    def test_work_dispatched_to_nobody_is_resolved_to_a_member_of_a_team_formed_since(self, org, far):
        hospital = customer_of(org, name="肥西县人民医院")
        with frozen(at(2026, 12, 1, 9)):
            request = ask(org, hospital, "it")
        assert refreshed(request).assignee is None
        ma = support_engineer("it", far, username="ma")
        form_project_team(customer=hospital, user=org.manager, members=[NewMember(ma, "engineer")], on=FORMED)

        task = AssignmentRequest(
            instance=None, lane="支撑人员", bpmn_id=HANDLE, data={"support_request_id": request.pk}
        )
        assert resolve_assignee(task) == ma

    def test_a_visit_needing_support_is_prepared_and_attended_by_the_team_member(self, org, customer, team):
        enrolment = enrol(org, new_programme(org), customer)
        visit = close_visit(enrolment, org, needs_support=True)

        cao = member(team, "cao")
        record = Visit.objects.get(instance=visit)
        assert record.support_staff == cao
        assert set(Contribution.objects.filter(visit=record).values_list("person__username", "kind")) == {
            ("cao", "visit_prepared"),
            ("cao", "visit_attended"),
        }


class TestContributions:
    @pytest.fixture
    def made(self, org, customer, far):
        """A visit made today, for a team formed yesterday."""
        team = form_project_team(
            customer=customer,
            user=org.manager,
            members=[
                NewMember(support_engineer("network", far, username="kong"), "engineer"),
                NewMember(support_engineer("it", far, username="ma"), "engineer"),
            ],
            on=TODAY - timedelta(days=1),
        )
        enrolment = enrol(org, new_programme(org, start=TODAY - timedelta(days=1)), customer)
        instance = visit_made(enrolment)
        return team, Visit.objects.get(instance=instance)

    def test_members_who_went_along_on_a_visit_are_credited_and_rewarded(self, org, made):
        team, visit = made
        kong, ma = member(team, "kong"), member(team, "ma")

        record_visit_attendance(visit=visit, attendees=[kong, ma], user=org.manager)
        record_visit_attendance(visit=visit, attendees=[kong], user=org.manager)  # again: once

        rows = Contribution.objects.filter(visit=visit).order_by("person__username")
        assert [(c.person.username, c.kind, c.at, c.team, c.recorded_by) for c in rows] == [
            ("kong", "visit_attended", visit.visited_at, team, org.manager),
            ("ma", "visit_attended", visit.visited_at, team, org.manager),
        ]
        assert sorted(
            IncentiveRecord.objects.filter(event="visit_support_attended", visit=visit).values_list(
                "person__username", flat=True
            )
        ) == ["kong", "ma"]

    def test_only_members_on_the_day_attend_and_only_made_visits_and_refusals_change_nothing(self, org, made):
        team, visit = made
        before = (snapshot(), IncentiveRecord.objects.count())
        with pytest.raises(InvalidInput) as outsider:
            record_visit_attendance(
                visit=visit, attendees=[member(team, "kong"), org.support["network"]], user=org.manager
            )
        with pytest.raises(NotPermitted):
            record_visit_attendance(visit=visit, attendees=[member(team, "kong")], user=org.other_manager)
        elsewhere = enrol(org, new_programme(org), customer_of(org, name="另一个客户"))
        not_made = Visit.objects.get(instance=current_visit(elsewhere))
        with pytest.raises(InvalidInput) as early:
            record_visit_attendance(visit=not_made, attendees=[member(team, "kong")], user=org.manager)
        assert early.value.errors == {"attendees": ["Record who attended once the visit has been made."]}
        assert set(outsider.value.errors) == {"attendees"}
        assert (snapshot(), IncentiveRecord.objects.count()) == before

    def test_a_completed_support_request_and_solution_work_are_the_members_contributions(
        self, org, customer, team
    ):
        with frozen(at(2026, 12, 1, 9)):
            request = ask(org, customer, "solution", kind=SupportRequest.Kind.SOLUTION)
        cao = member(team, "cao")
        with frozen(at(2026, 12, 3, 15)):
            complete(request.instance, HANDLE, cao, RESULT)
        work = record_solution_work(
            team=team, who=cao, note="编写政务云迁移方案", hours="6", at=at(2026, 12, 4, 10), user=cao
        )

        assert list(
            Contribution.objects.filter(team=team)
            .order_by("at")
            .values_list("person__username", "kind", "at", "hours")
        ) == [
            ("cao", "solution_work", at(2026, 12, 3, 15), Decimal("4.0")),
            ("cao", "solution_work", at(2026, 12, 4, 10), Decimal("6.0")),
        ]
        assert (work.note, work.recorded_by) == ("编写政务云迁移方案", cao)

    def test_solution_work_is_recorded_only_for_a_member_by_them_or_the_teams_managers(self, org, team):
        before = snapshot()
        with pytest.raises(NotPermitted):
            record_solution_work(
                team=team,
                who=member(team, "cao"),
                note="方案",
                hours=1,
                at=at(2026, 12, 4),
                user=member(team, "kong"),
            )
        with pytest.raises(InvalidInput) as refused:
            record_solution_work(
                team=team,
                who=org.support["network"],
                note=" ",
                hours="-1",
                at=at(2026, 12, 4),
                user=org.manager,
            )
        assert set(refused.value.errors) == {"person", "note", "hours"}
        assert nothing_changed(before)


class TestSharesOfAWonLead:
    """lead_won (migration 0003): 20 points and 200 CNY, times the urgency weight (medium 1.2), plus
    2 points per 10,000 CNY and 0.5% of the value. A medium lead won at 100,000 CNY is worth
    20 × 1.2 + 2 × 10 = 44 points and 200 × 1.2 + 0.005 × 100,000 = 740 CNY in all."""

    def win(self, org, customer, team, *, contributors):
        with frozen(at(2026, 11, 3, 9)):
            lead = create_lead(
                customer=customer,
                description="政务云迁移",
                urgency="medium",
                user=org.manager,
                at=at(2026, 11, 3, 9),
            )
        for n, username in enumerate(contributors):
            record_solution_work(
                team=team,
                who=member(team, username),
                note="方案",
                hours=2,
                at=at(2026, 11, 10 + n),
                user=org.manager,
            )
        lead = move_lead_stage(lead=lead, stage="solution", user=org.manager, at=at(2026, 11, 20, 15))
        win_lead(lead=lead, won_value=100000, user=org.manager, at=at(2026, 11, 20, 16))
        return lead

    def records(self, lead):
        return {
            r.person.username: (r.points, r.amount, r.share)
            for r in IncentiveRecord.objects.filter(event="lead_won", lead=lead).select_related("person")
        }

    def test_every_contributing_member_earns_their_roles_share(self, org, customer, team, far):
        wei = support_engineer("network", far, username="wei")
        add_team_member(team=team, person_to_add=wei, role="engineer", user=org.manager, on=FORMED)
        support_engineer("network", far, username="idle")
        add_team_member(
            team=team, person_to_add=member_by_name("idle"), role="engineer", user=org.manager, on=FORMED
        )

        lead = self.win(org, customer, team, contributors=["kong", "wei", "cao"])

        # Manager 0.5; the two engineers 0.3 between them; the expert 0.2. The idle engineer: nothing.
        assert self.records(lead) == {
            "qian": (Decimal("22.00"), Decimal("370.00"), Decimal("0.500000")),
            "kong": (Decimal("6.60"), Decimal("111.00"), Decimal("0.150000")),
            "wei": (Decimal("6.60"), Decimal("111.00"), Decimal("0.150000")),
            "cao": (Decimal("8.80"), Decimal("148.00"), Decimal("0.200000")),
        }

    def test_the_shares_of_the_roles_present_are_scaled_to_the_whole(self, org, customer, team):
        lead = self.win(org, customer, team, contributors=["kong"])

        # Manager 0.5 and engineer 0.3 of 0.8: 0.625 and 0.375.
        assert self.records(lead) == {
            "qian": (Decimal("27.50"), Decimal("462.50"), Decimal("0.625000")),
            "kong": (Decimal("16.50"), Decimal("277.50"), Decimal("0.375000")),
        }

    def test_shares_follow_the_rule_the_coordinator_sets(self, org, customer, team):
        set_team_share(role="engineer", share="0.5", user=org.coordinator)

        lead = self.win(org, customer, team, contributors=["kong"])

        # 0.5 and 0.5 of 1.0.
        assert self.records(lead) == {
            "qian": (Decimal("22.00"), Decimal("370.00"), Decimal("0.500000")),
            "kong": (Decimal("22.00"), Decimal("370.00"), Decimal("0.500000")),
        }
        assert TeamShareRule.objects.filter(role="engineer").count() == 2

    def test_a_member_who_left_before_the_win_has_no_share(self, org, customer, team):
        kong = member(team, "kong")
        with frozen(at(2026, 11, 3, 9)):
            lead = create_lead(
                customer=customer,
                description="政务云迁移",
                urgency="medium",
                user=org.manager,
                at=at(2026, 11, 3, 9),
            )
        record_solution_work(team=team, who=kong, note="方案", hours=2, at=at(2026, 11, 10), user=org.manager)
        remove_team_member(team=team, person_to_remove=kong, user=org.manager, on=date(2026, 11, 15))

        assert [(s.person, s.role, s.share) for s in won_lead_shares(lead, at=at(2026, 11, 20))] == [
            (org.manager, "manager", Decimal(1))
        ]

    def test_a_lead_without_a_team_pays_its_owner_as_before(self, org):
        lonely = customer_of(org, name="没有项目小组的客户")
        lead = create_lead(customer=lonely, description="专线", urgency="medium", user=org.manager)

        lead = move_lead_stage(lead=lead, stage="solution", user=org.manager)
        win_lead(lead=lead, won_value=100000, user=org.manager)

        assert self.records(lead) == {"qian": (Decimal("44.00"), Decimal("740.00"), None)}
        assert IncentiveRecord.objects.get(event="lead_won", lead=lead).description.startswith("Lead won")

    def test_share_rules_are_set_by_coordinators_between_0_and_1(self, org):
        before = list(TeamShareRule.objects.values())
        with pytest.raises(NotPermitted):
            set_team_share(role="engineer", share="0.4", user=org.leader)
        for role, share, field in (
            ("engineer", "1.5", "share"),
            ("engineer", "x", "share"),
            ("boss", "0.1", "role"),
        ):
            with pytest.raises(InvalidInput) as refused:
                set_team_share(role=role, share=share, user=org.coordinator)
            assert set(refused.value.errors) == {field}
        assert list(TeamShareRule.objects.values()) == before
        assert dict(TeamShareRule.objects.filter(active=True).values_list("role", "share")) == {
            "manager": Decimal("0.5"),
            "engineer": Decimal("0.3"),
            "solution_expert": Decimal("0.2"),
        }


def member_by_name(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def ask(org, customer, speciality, **values) -> SupportRequest:
    return request_support(
        customer=customer,
        kind=values.pop("kind", SupportRequest.Kind.SURVEY),
        speciality=speciality,
        description="机房勘察，评估专线扩容",
        due_date=date(2026, 12, 15),
        user=org.manager,
        **values,
    )


class TestRoster:
    def test_the_roster_lists_every_spell_and_the_contributions_per_kind_for_who_reads_the_customer(
        self, org, customer, team, far
    ):
        kong = member(team, "kong")
        remove_team_member(team=team, person_to_remove=kong, user=org.manager, on=date(2026, 11, 9))
        add_team_member(
            team=team, person_to_add=kong, role="engineer", user=org.manager, on=date(2026, 11, 20)
        )
        record_solution_work(team=team, who=kong, note="方案", hours=2, at=at(2026, 11, 21), user=kong)
        record_solution_work(team=team, who=kong, note="评审", hours="1.5", at=at(2026, 11, 22), user=kong)

        roster = project_team_roster(team=team, user=org.leader, on=date(2026, 11, 25))

        assert [
            (m["username"], m["role"], m["joined_on"], m["left_on"], m["active"]) for m in roster["members"]
        ] == [
            ("qian", "manager", FORMED, None, True),
            ("kong", "engineer", FORMED, date(2026, 11, 9), False),
            ("cao", "solution_expert", FORMED, None, True),
            ("kong", "engineer", date(2026, 11, 20), None, True),
        ]
        assert roster["contributions"] == [
            {"person_id": kong.pk, "kind": "solution_work", "count": 2, "hours": Decimal("3.5")}
        ]
        assert (roster["customer_id"], roster["leader_id"]) == (customer.pk, org.manager.pk)
        assert describe("solution_expert") == "solution expert"
        with pytest.raises(NotPermitted):
            project_team_roster(team=team, user=org.other_manager)
