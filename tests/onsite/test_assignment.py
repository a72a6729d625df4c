"""Who gets an on-site task: the person of the role the engine gives the task. The lane → role
mapping has one source, the engine's `LaneRole` table (seeded from `onsite.roles`): remapping a lane
there moves both the task's role and its assignee."""

import pytest
from django.contrib.auth.models import Group

from onsite.assignment import resolve_assignee
from onsite.roles import ROLES
from onsite.services.leads import create_lead
from tests.onsite.flow import customer_of, open_task
from workflows.assignment import AssignmentRequest
from workflows.models import LaneRole

pytestmark = pytest.mark.django_db
FOLLOW_UP = "Task_follow_up_lead"


def follow_up_task(org):
    lead = create_lead(
        customer=customer_of(org), description="视频会议替换", urgency="high", user=org.manager
    )
    return open_task(lead.follow_up, FOLLOW_UP)


def test_every_lane_the_roles_name_is_seeded_into_the_engines_mapping():
    mapped = dict(LaneRole.objects.values_list("lane", "role__name"))
    assert mapped == {lane: role.code for role in ROLES for lane in role.lanes}


def test_a_task_in_the_account_managers_lane_goes_to_the_customers_own_manager(org):
    task = follow_up_task(org)

    assert (task.role.name, task.assignee) == ("account_manager", org.manager)


def test_a_lane_remapped_in_the_admin_moves_both_the_tasks_role_and_its_assignee(org):
    LaneRole.objects.filter(lane="客户经理").update(role=Group.objects.get(name="team_leader"))

    task = follow_up_task(org)

    # The team leader's lane rules now apply: the manager's own team leader gets it.
    assert (task.role.name, task.assignee) == ("team_leader", org.leader)


def test_a_lane_whose_mapping_was_removed_goes_to_the_coordinators_pool_and_to_no_manager(org):
    LaneRole.objects.filter(lane="客户经理").delete()

    task = follow_up_task(org)

    # No programme in the lead's data names a coordinator, so the task waits in the pool.
    assert (task.role.name, task.assignee) == ("coordinator", None)


def test_a_task_whose_data_names_no_record_is_resolved_without_a_query(django_assert_num_queries):
    request = AssignmentRequest(
        instance=None,
        lane="客户经理",
        bpmn_id="Task_plan_visit",
        data={"customer_name": "某局", "visit_no": 1},
    )
    with django_assert_num_queries(0):
        assert resolve_assignee(request) is None


def test_the_customers_manager_is_found_with_the_role_and_one_query_per_record_named(
    org, django_assert_num_queries
):
    customer = customer_of(org)
    request = AssignmentRequest(
        instance=None, lane="客户经理", bpmn_id="Task_plan_visit", data={"customer_id": customer.pk}
    )
    with django_assert_num_queries(2):  # the role, then the customer with its manager
        assert resolve_assignee(request) == org.manager
