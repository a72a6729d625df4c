"""Fixtures shared by the engine tests: a two-lane approval process and the people who work it."""

import pytest
from django.contrib.auth.models import Group

from tests.conftest import TEST_BPMN_DIR, source
from tests.factories import UserFactory
from workflows.actors import SYSTEM
from workflows.models import HumanTask, LaneRole
from workflows.services import deploy, start_instance

APPROVAL_FILES = ("approval.bpmn", "request.schema.json", "review.schema.json")


def nested(levels: int, leaf=1) -> list:
    """`leaf` inside `levels` lists: data deeper than the engine's bounds allow."""
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


@pytest.fixture
def roles():
    requesters, reviewers = Group.objects.create(name="requesters"), Group.objects.create(name="reviewers")
    LaneRole.objects.create(lane="Requester", role=requesters)
    LaneRole.objects.create(lane="Reviewer", role=reviewers)
    return requesters, reviewers


@pytest.fixture
def people(roles):
    requesters, reviewers = roles
    alice = UserFactory(username="alice")
    alice.groups.add(requesters)
    bob = UserFactory(username="bob", first_name="建国", last_name="王")
    carol = UserFactory(username="carol")
    bob.groups.add(reviewers)
    carol.groups.add(reviewers)
    return {"alice": alice, "bob": bob, "carol": carol, "mallory": UserFactory(username="mallory")}


def deploy_approval():
    deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / name) for name in APPROVAL_FILES])


@pytest.fixture
def approval(people):
    deploy_approval()
    return start_instance(user=SYSTEM, process_id="approval", business_key="REQ-1")


def open_task(instance, bpmn_id):
    return instance.human_tasks.get(bpmn_id=bpmn_id, status=HumanTask.Status.OPEN)
