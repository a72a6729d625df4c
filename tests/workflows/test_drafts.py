"""Drafts of task forms: kept as typed for whoever may work the task while it is open, replaced by
the next save, removed when the task is completed."""

import pytest

from tests.workflows.conftest import open_task
from workflows.actors import SYSTEM
from workflows.exceptions import InvalidData, NotFound, TaskNotReady, TaskNotYours
from workflows.models import TaskDraft
from workflows.services import claim_task, complete_task, discard_draft, save_draft

pytestmark = pytest.mark.django_db


def drafts():
    return list(TaskDraft.objects.order_by("pk").values_list("user__username", "data"))


def test_a_draft_is_kept_as_typed_even_when_not_valid_yet_and_replaced_by_the_next_save(approval, people):
    submit = open_task(approval, "submit")

    save_draft(task_id=submit.pk, user=people["alice"], data={"amount": "五百", "reason": ""})
    save_draft(task_id=submit.pk, user=people["alice"], data={"amount": 500})

    assert drafts() == [("alice", {"amount": 500})]


def test_each_person_who_may_work_a_pool_task_keeps_their_own_draft(approval, people):
    submit = open_task(approval, "submit")
    complete_task(task_id=submit.pk, data={"amount": 500, "reason": "laptop"}, user=people["alice"])
    review = open_task(approval, "review")

    save_draft(task_id=review.pk, user=people["bob"], data={"approved": True})
    save_draft(task_id=review.pk, user=people["carol"], data={"approved": False})

    assert sorted(drafts()) == [("bob", {"approved": True}), ("carol", {"approved": False})]


def test_completing_the_task_removes_its_drafts(approval, people):
    submit = open_task(approval, "submit")
    save_draft(task_id=submit.pk, user=people["alice"], data={"amount": 5})

    complete_task(task_id=submit.pk, data={"amount": 500, "reason": "laptop"}, user=people["alice"])

    assert drafts() == []


def test_a_refused_completion_keeps_the_draft(approval, people):
    submit = open_task(approval, "submit")
    save_draft(task_id=submit.pk, user=people["alice"], data={"amount": 5})

    with pytest.raises(Exception):  # noqa: B017 - whichever refusal; the point is what stays
        complete_task(task_id=submit.pk, data={"amount": "not a number"}, user=people["alice"])

    assert drafts() == [("alice", {"amount": 5})]


def test_only_who_may_work_an_open_task_saves_a_draft(approval, people):
    submit = open_task(approval, "submit")

    with pytest.raises(TaskNotYours):
        save_draft(task_id=submit.pk, user=people["mallory"], data={"amount": 1})
    with pytest.raises(TaskNotYours):
        save_draft(task_id=submit.pk, user=SYSTEM, data={"amount": 1})
    claim_task(task_id=submit.pk, user=people["alice"])
    complete_task(task_id=submit.pk, data={"amount": 500, "reason": "laptop"}, user=people["alice"])
    with pytest.raises(TaskNotReady):
        save_draft(task_id=submit.pk, user=people["alice"], data={"amount": 1})
    with pytest.raises(NotFound):
        save_draft(task_id="00000000-0000-0000-0000-000000000000", user=people["alice"], data={})

    assert drafts() == []


def test_a_draft_beyond_the_engines_data_limits_or_not_a_set_of_fields_is_refused(approval, people, settings):
    submit = open_task(approval, "submit")
    settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_STRING_LENGTH": 10}

    with pytest.raises(InvalidData):
        save_draft(task_id=submit.pk, user=people["alice"], data={"reason": "x" * 11})
    with pytest.raises(InvalidData):
        save_draft(task_id=submit.pk, user=people["alice"], data=["amount"])

    assert drafts() == []


def test_discarding_forgets_only_that_persons_draft(approval, people):
    submit = open_task(approval, "submit")
    complete_task(task_id=submit.pk, data={"amount": 500, "reason": "laptop"}, user=people["alice"])
    review = open_task(approval, "review")
    save_draft(task_id=review.pk, user=people["bob"], data={"approved": True})
    save_draft(task_id=review.pk, user=people["carol"], data={"approved": False})

    discard_draft(task_id=review.pk, user=people["bob"])

    assert drafts() == [("carol", {"approved": False})]
