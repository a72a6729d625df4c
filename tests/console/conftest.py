"""Fixtures of the console's tests: the people of each role (the domain's roles carry the engine
permissions the console checks) and the on-site diagrams deployed."""

from pathlib import Path

import pytest

from tests.conftest import source, text_source
from tests.factories import UserFactory
from tests.onsite.flow import build_org, deploy_processes
from workflows.actors import SYSTEM
from workflows.services import deploy, start_instance, terminate_instance


@pytest.fixture
def coordinator():
    return UserFactory(username="zhao", roles=["coordinator"])


@pytest.fixture
def director():
    return UserFactory(username="zhou", roles=["leadership"])


@pytest.fixture
def manager():
    return UserFactory(username="qian", roles=["account_manager"])


@pytest.fixture
def deployed():
    deploy_processes()


@pytest.fixture
def org():
    """The organisation of `tests.onsite.flow` (a programme needs one), the on-site diagrams deployed."""
    deploy_processes()
    return build_org()


FIELD_CHECK = Path(__file__).resolve().parent / "bpmn"


def field_check_files(version: str, *, diagram: str | None = None) -> list:
    """The small `field_check` process as deployed in version "v1" or "v2" (tests/console/bpmn/):
    v2 renames `plan`, removes `confirm` (and its form), moves `visit`'s due date from 5 to 7 days
    and changes its form, and adds `review` (with a new form). `diagram`: another text of its BPMN."""
    folder = FIELD_CHECK / version
    bpmn = source(folder / "field_check.bpmn")
    if diagram is not None:
        bpmn = text_source(bpmn.name, diagram)
    return [bpmn, *(source(p) for p in sorted(folder.glob("*.json")))]


def diagram_text(version: str) -> str:
    return (FIELD_CHECK / version / "field_check.bpmn").read_text(encoding="utf-8")


@pytest.fixture
def field_check(coordinator):
    """Both versions of `field_check`: v1 deployed by the coordinator, v2 by the system, with two
    instances started on v1 (one of them terminated) and one on v2."""
    first = deploy(user=coordinator, files=field_check_files("v1")).version
    second = deploy(user=SYSTEM, files=field_check_files("v2")).version
    ended = start_instance(process_id="field_check", version=1, user=SYSTEM, business_key="C-1")
    terminate_instance(instance_id=ended.pk, user=SYSTEM, reason="test")
    start_instance(process_id="field_check", version=1, user=SYSTEM, business_key="C-2")
    start_instance(process_id="field_check", user=SYSTEM, business_key="C-3")
    return first, second
