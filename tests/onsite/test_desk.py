"""The team leader's desk as data (`onsite.selectors.desk`): which tasks are the team's and how they
are grouped, and who may open which team's desk (`onsite.access.desk_team_scope`)."""

from datetime import date

import pytest

from onsite.access import check_desk_read, desk_teams
from onsite.exceptions import NotPermitted
from onsite.models import Team
from onsite.selectors.desk import chosen_team, desk_team_choices, review_queue
from onsite.services.appraisals import generate_appraisals
from onsite.services.incentives import award, request_incentive_review
from tests.factories import UserFactory
from tests.onsite.factories import RegionFactory, StaffProfileFactory, manager_in
from tests.onsite.flow import at, build_org, deploy_processes
from workflows.actors import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    deploy_processes()
    return build_org()


@pytest.fixture
def other_team(org):
    region = RegionFactory(code="WH", name="芜湖分公司")
    leader = UserFactory(username="feng", roles=["team_leader"])
    team = Team.objects.create(name="政企客户二组", region=region, leader=leader)
    StaffProfileFactory(user=leader, team=team, region=region)
    manager_in(team, "chen")
    return team


def test_the_appraisals_and_the_incentive_review_of_the_team_are_in_their_groups(org, other_team):
    generate_appraisals(period=date(2026, 10, 1), user=org.coordinator)
    award("lead_created", person=org.manager, key="lead:1", description="线索", at=at(2026, 12, 3))
    request_incentive_review(team=org.team, period=date(2026, 12, 1), user=org.leader)

    queue = review_queue(team=org.team, user=org.leader)

    groups = {group.code: group for group in queue.groups}
    appraised = {item.manager.username for item in groups["appraisals"].items}
    assert appraised == {"qian", "wu", "sun", "zheng"}  # not the leader's own, nor the other team's
    [incentives] = groups["incentives"].items
    assert (incentives.manager, incentives.customer_code, incentives.customer_name) == (None, "", "")
    theirs = review_queue(team=other_team, user=SYSTEM)
    assert [item.manager.username for group in theirs.groups for item in group.items] == ["chen"]


def test_the_groups_come_in_a_fixed_order_with_no_other_group_when_empty(org):
    codes = [group.code for group in review_queue(team=org.team, user=org.leader).groups]

    assert codes == ["summaries", "incentives", "stage_reviews", "escalations", "appraisals"]


def test_the_desk_is_the_leaders_own_team_and_every_team_for_coordinators_and_leadership(org, other_team):
    assert list(desk_teams(org.leader)) == [org.team]
    assert set(desk_teams(org.director)) == {org.team, other_team}
    assert set(desk_teams(org.coordinator)) == {org.team, other_team}
    assert list(desk_teams(org.manager)) == []
    assert list(desk_teams(org.support["solution"])) == []


@pytest.mark.parametrize("who", ["manager", "other_manager"])
def test_a_member_of_the_team_may_read_its_board_but_not_open_its_desk(org, who):
    with pytest.raises(NotPermitted):
        check_desk_read(getattr(org, who), org.team)


def test_a_deactivated_leader_opens_no_desk(org):
    org.leader.is_active = False
    org.leader.save()

    assert list(desk_teams(org.leader)) == []


def test_the_team_asked_for_must_be_among_the_choices_and_the_first_is_the_default(org, other_team):
    choices = desk_team_choices(org.director)

    assert chosen_team(user=org.director, team_id=None, choices=choices) == choices[0]
    assert chosen_team(user=org.director, team_id=str(other_team.pk), choices=choices) == other_team
    with pytest.raises(NotPermitted):
        chosen_team(user=org.leader, team_id=other_team.pk, choices=desk_team_choices(org.leader))
    with pytest.raises(NotPermitted):
        chosen_team(user=org.manager, team_id=None, choices=desk_team_choices(org.manager))
