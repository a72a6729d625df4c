"""`check_files`: the modeler's "validate" makes deploy's checks and stores nothing."""

import pytest

from tests.conftest import TEST_BPMN_DIR, source
from tests.factories import UserFactory
from tests.workflows.diagrams import source as text
from workflows.documents import DeploymentError
from workflows.exceptions import NotAllowed
from workflows.models import AuditEvent, DeployedFile, ProcessModel, ProcessVersion
from workflows.services.deployment import check_files, deploy_files

pytestmark = pytest.mark.django_db


def approval_files():
    return [
        source(TEST_BPMN_DIR / "approval.bpmn"),
        source(TEST_BPMN_DIR / "request.schema.json"),
        source(TEST_BPMN_DIR / "review.schema.json"),
    ]


def counts():
    return [m.objects.count() for m in (ProcessModel, ProcessVersion, DeployedFile, AuditEvent)]


def test_checking_deployable_files_stores_nothing_and_returns_the_warnings():
    before = counts()

    warnings = check_files(files=approval_files(), user=UserFactory(roles=["coordinator"]))

    assert isinstance(warnings, list)
    assert counts() == before


def test_checking_names_the_same_problems_as_deploying():
    coordinator = UserFactory(roles=["coordinator"])
    xml = (TEST_BPMN_DIR / "approval.bpmn").read_text(encoding="utf-8")
    flow = xml.index('targetRef="')
    broken = xml[:flow] + 'targetRef="Nowhere_' + xml[flow + len('targetRef="') :]
    files = [text("approval.bpmn", broken), *approval_files()[1:]]

    with pytest.raises(DeploymentError) as checked:
        check_files(files=files, user=coordinator)
    with pytest.raises(DeploymentError) as deployed:
        deploy_files(files=files, user=coordinator)

    assert checked.value.problems == deployed.value.problems
    assert "Nowhere_" in str(checked.value)
    assert all(p.element for p in checked.value.problems)
    assert ProcessVersion.objects.count() == 0


def test_checking_refuses_people_who_may_not_deploy():
    with pytest.raises(NotAllowed):
        check_files(files=approval_files(), user=UserFactory(roles=["leadership"]))
