"""Who may work which task is one rule: `can_work_on` answers yes exactly for the tasks that
`tasks_workable_by` selects, and the inbox lists exactly the open ones among them."""

import pytest

from tests.factories import UserFactory
from tests.workflows.conftest import deploy_approval, open_task
from workflows.access import can_work_on, tasks_workable_by
from workflows.actors import SYSTEM, acting_for
from workflows.exceptions import TaskNotYours
from workflows.models import HumanTask
from workflows.selectors import inbox
from workflows.services import claim_task, start_instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks(people, roles):
    """Open tasks of every kind: unassigned in each role, assigned to someone, in no role; and one
    completed task."""
    requesters, reviewers = roles
    deploy_approval()
    made = {}
    for name in ("requesters' pool", "alice's", "bob's", "reviewers' pool", "no role", "completed"):
        instance = start_instance(user=SYSTEM, process_id="approval", business_key=name)
        made[name] = open_task(instance, "submit")
    changes = {
        "requesters' pool": {"role": requesters, "assignee": None},
        "alice's": {"assignee": people["alice"]},
        "bob's": {"role": requesters, "assignee": people["bob"]},
        "reviewers' pool": {"role": reviewers, "assignee": None},
        "no role": {"role": None, "assignee": None},
        "completed": {"role": requesters, "assignee": None, "status": HumanTask.Status.COMPLETED},
    }
    for name, values in changes.items():
        HumanTask.objects.filter(pk=made[name].pk).update(**values)
    return {name: HumanTask.objects.get(pk=task.pk) for name, task in made.items()}


ANY_STATUS = {"requesters' pool", "alice's", "bob's", "reviewers' pool", "no role", "completed"}
WORKS = {
    "alice": {"requesters' pool", "alice's", "completed"},
    "bob": {"bob's", "reviewers' pool"},
    "carol": {"reviewers' pool"},
    "mallory": set(),
    "inactive member": set(),
    "superuser": {"requesters' pool", "reviewers' pool", "no role", "completed"},
    "system": ANY_STATUS,
    "acting for alice": ANY_STATUS,
    "nobody": set(),
}


@pytest.fixture
def workers(people, roles):
    requesters, _ = roles
    inactive = UserFactory(is_active=False)
    inactive.groups.add(requesters)
    return {
        **people,
        "inactive member": inactive,
        "superuser": UserFactory(is_superuser=True),
        "system": SYSTEM,
        "acting for alice": acting_for(people["alice"]),
        "nobody": None,
    }


def test_the_yes_no_answer_and_the_filter_agree_for_everyone(tasks, workers):
    for who, user in workers.items():
        selected = set(HumanTask.objects.filter(tasks_workable_by(user)).values_list("pk", flat=True))
        for name, task in tasks.items():
            assert can_work_on(user, task) == (task.pk in selected), (who, name)
        assert {name for name, task in tasks.items() if task.pk in selected} == WORKS[who], who


def test_the_inbox_lists_exactly_the_open_tasks_each_person_may_work(tasks, workers):
    for who, user in workers.items():
        listed = {task.pk for task in inbox(user)}
        assert listed == {tasks[name].pk for name in WORKS[who] - {"completed"}}, who


def test_an_inactive_member_of_a_role_has_an_empty_inbox(tasks, workers):
    assert inbox(workers["inactive member"]) == []


def test_a_superuser_takes_someone_elses_task_only_by_reassigning_it(tasks, workers):
    with pytest.raises(TaskNotYours):
        claim_task(task_id=tasks["alice's"].pk, user=workers["superuser"])
    assert HumanTask.objects.get(pk=tasks["alice's"].pk).assignee == workers["alice"]
