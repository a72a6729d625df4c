"""Who acts: a person, the system (`SYSTEM`), or the system carrying out a person's request
(`acting_for`). Nobody (`None`) passes no check."""

import pytest
from django.contrib.auth.models import Permission

from tests.conftest import TEST_BPMN_DIR, source
from tests.factories import UserFactory
from tests.workflows.conftest import APPROVAL_FILES, deploy_approval, open_task
from workflows.actors import SYSTEM, acting_for, person
from workflows.exceptions import NotAllowed
from workflows.models import AuditEvent, ProcessInstance, ProcessVersion
from workflows.services import (
    claim_task,
    complete_task,
    deliver_message,
    deploy,
    resume_instance,
    retry_instance,
    start_instance,
    suspend_instance,
    terminate_instance,
)
from workflows.services.deployment import deploy_files

pytestmark = pytest.mark.django_db


def approval_sources():
    return [source(TEST_BPMN_DIR / name) for name in APPROVAL_FILES]


def with_permission(user, codename):
    user.user_permissions.add(Permission.objects.get(codename=codename))
    return type(user).objects.get(pk=user.pk)  # a fresh object: Django caches permissions per object


@pytest.mark.parametrize(
    "call",
    [
        lambda: deploy(files=approval_sources(), user=None),
        lambda: deploy_files(files=approval_sources(), user=None),
        lambda: start_instance(process_id="approval", user=None),
        lambda: deliver_message(name="anything", correlation={"business_key": "REQ-1"}, user=None),
    ],
    ids=["deploy", "deploy_files", "start_instance", "deliver_message"],
)
def test_nobody_as_the_actor_is_refused_before_anything_happens(call):
    deploy_approval()
    versions, instances = ProcessVersion.objects.count(), ProcessInstance.objects.count()
    with pytest.raises(NotAllowed, match="names no user"):
        call()
    assert (ProcessVersion.objects.count(), ProcessInstance.objects.count()) == (versions, instances)


@pytest.mark.parametrize("control", [suspend_instance, resume_instance, terminate_instance, retry_instance])
def test_the_coordinators_controls_refuse_nobody(approval, control):
    with pytest.raises(NotAllowed):
        control(instance_id=approval.pk, user=None)


def test_nobody_cannot_complete_a_task(approval):
    with pytest.raises(NotAllowed, match="names no user"):
        complete_task(task_id=open_task(approval, "submit").pk, data={}, user=None)
    assert open_task(approval, "submit")


def test_the_services_have_no_default_actor():
    for service in (deploy, deploy_files, start_instance, deliver_message, suspend_instance, complete_task):
        with pytest.raises(TypeError, match="user"):
            service()


def test_deploying_needs_the_deploy_permission():
    user = UserFactory()
    with pytest.raises(NotAllowed, match="deploy"):
        deploy(files=approval_sources(), user=user)
    assert not ProcessVersion.objects.exists()
    deployment = deploy(files=approval_sources(), user=with_permission(user, "deploy_processmodel"))
    assert deployment.version.created_by == user


def test_starting_needs_the_start_permission():
    deploy_approval()
    user = UserFactory()
    with pytest.raises(NotAllowed, match="start"):
        start_instance(process_id="approval", user=user)
    assert not ProcessInstance.objects.exists()
    instance = start_instance(process_id="approval", user=with_permission(user, "start_processinstance"))
    assert instance.started_by == user


def test_coordinators_may_deploy_and_start():
    coordinator = UserFactory(roles=["coordinator"])
    deploy(files=approval_sources(), user=coordinator)
    assert start_instance(process_id="approval", user=coordinator).started_by == coordinator


def test_the_system_acting_for_a_person_passes_the_engines_checks_and_the_audit_names_the_person():
    deploy_approval()
    manager = UserFactory()  # no engine permission: the domain judged the request
    instance = start_instance(process_id="approval", user=acting_for(manager))
    assert instance.started_by == manager
    assert AuditEvent.objects.filter(instance=instance, kind=AuditEvent.Kind.STARTED, actor=manager).exists()


def test_the_system_alone_is_recorded_as_no_person(approval):
    assert approval.started_by is None
    assert person(SYSTEM) is None and person(acting_for(None)) is None


def test_only_a_person_can_claim_a_task(approval):
    with pytest.raises(NotAllowed, match="person"):
        claim_task(task_id=open_task(approval, "submit").pk, user=SYSTEM)


def test_acting_for_an_anonymous_user_records_no_person():
    from django.contrib.auth.models import AnonymousUser

    assert person(acting_for(AnonymousUser())) is None
