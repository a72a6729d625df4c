"""Moving running instances to another version of their process (`workflows.services.migration`):
the safety rule on the engine's own approval process, and what a move keeps."""

import pytest
from django.db import transaction

from tests.conftest import TEST_BPMN_DIR, source, text_source
from tests.workflows.conftest import open_task
from workflows import runtime
from workflows.actors import SYSTEM
from workflows.exceptions import InstanceNotActive, MigrationRefused
from workflows.models import HumanTask, ProcessInstance
from workflows.services import complete_task, deploy, terminate_instance
from workflows.services.migration import migrate_instance, plan_migration

pytestmark = pytest.mark.django_db

FORMS = ("request.schema.json", "review.schema.json")


def approval_text() -> str:
    return (TEST_BPMN_DIR / "approval.bpmn").read_text(encoding="utf-8")


def deploy_approval_text(text: str):
    files = [text_source("approval.bpmn", text), *(source(TEST_BPMN_DIR / name) for name in FORMS)]
    return deploy(user=SYSTEM, files=files).version


def submitted(approval, people):
    task = open_task(approval, "submit")
    complete_task(task_id=task.pk, data={"reason": "新电脑一台", "amount": 800}, user=people["alice"])
    return task


def test_a_changed_ready_task_moves_in_place_with_its_new_name_and_keeps_its_person(approval, people):
    task = open_task(approval, "submit")
    target = deploy_approval_text(
        approval_text().replace('name="Submit request"', 'name="Submit the request"')
    )

    migrate_instance(instance_id=approval.pk, to_version=target, user=SYSTEM)

    moved = open_task(approval, "submit")
    assert (moved.pk, moved.name, moved.role, moved.assignee) == (
        task.pk,
        "Submit the request",
        task.role,
        task.assignee,
    )
    submitted(approval, people)
    review = open_task(approval, "review")
    complete_task(task_id=review.pk, data={"approved": True}, user=people["bob"])
    approval.refresh_from_db()
    assert (approval.status, approval.version) == (ProcessInstance.Status.COMPLETED, target)


def test_a_finished_task_whose_kind_changed_stops_the_move(approval, people):
    submitted(approval, people)
    text = approval_text().replace('<bpmn:userTask id="submit"', '<bpmn:manualTask id="submit"', 1)
    text = text.replace(
        '</bpmn:userTask>\n    <bpmn:userTask id="review"',
        '</bpmn:manualTask>\n    <bpmn:userTask id="review"',
        1,
    )
    target = deploy_approval_text(text)

    [check] = plan_migration(from_version=approval.version, to_version=target, user=SYSTEM).checks

    assert check.reasons == ["'Submit request' (finished) was changed in the new version (typename)."]
    assert check.waiting == [("review", "Review request")]


def test_the_move_rechecks_under_the_lock_and_a_concurrent_save_loses_nothing(approval, people):
    target = deploy_approval_text(approval_text().replace('name="Review request"', 'name="Review it"'))
    stale = ProcessInstance.objects.get(pk=approval.pk)
    submitted(approval, people)  # saved after the dry run read the instance

    migrate_instance(instance_id=approval.pk, to_version=target, user=SYSTEM)

    # The move read the instance afresh under the lock: the submission is kept, on the new version.
    approval.refresh_from_db()
    assert approval.revision > stale.revision
    assert open_task(approval, "review").name == "Review it"
    assert HumanTask.objects.get(instance=approval, bpmn_id="submit").status == HumanTask.Status.COMPLETED


def test_a_save_from_a_session_opened_before_the_move_is_refused(approval, people):
    target = deploy_approval_text(approval_text().replace('name="Review request"', 'name="Review it"'))
    with transaction.atomic():
        session = runtime.open_session(ProcessInstance.objects.get(pk=approval.pk), actor=SYSTEM)
    migrate_instance(instance_id=approval.pk, to_version=target, user=SYSTEM)

    from workflows.exceptions import ConcurrentUpdate

    with pytest.raises(ConcurrentUpdate), transaction.atomic():
        runtime.save(session)


def test_an_ended_instance_cannot_move(approval, people):
    target = deploy_approval_text(approval_text().replace('name="Review request"', 'name="Review it"'))
    terminate_instance(instance_id=approval.pk, user=SYSTEM)

    assert plan_migration(from_version=approval.version, to_version=target, user=SYSTEM).checks == []
    with pytest.raises(InstanceNotActive):
        migrate_instance(instance_id=approval.pk, to_version=target, user=SYSTEM)
    with pytest.raises(MigrationRefused):
        migrate_instance(instance_id=approval.pk, to_version=approval.version, user=SYSTEM)
