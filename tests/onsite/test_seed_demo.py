"""`manage.py seed_demo`: demo users, one per role, and a programme for the first demo customer."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from onsite.demo import DEMO_PASSWORD, DEMO_USERS
from tests.onsite.programme import CUSTOMER, current_visit, deploy_programme, open_task
from workflows.models import ProcessInstance

pytestmark = pytest.mark.django_db

User = get_user_model()


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def deployed():
    deploy_programme()


def programmes():
    return ProcessInstance.objects.filter(process_id="onsite_programme")


def test_creates_every_demo_user_in_its_role_group_with_the_demo_password(deployed):
    seed()

    for demo in DEMO_USERS:
        user = User.objects.get(username=demo.username)
        assert list(user.groups.values_list("name", flat=True)) == ([demo.role] if demo.role else [])
        assert (user.is_staff, user.is_superuser) == (True, demo.superuser)
        assert user.check_password(DEMO_PASSWORD)
    assert User.objects.get(is_superuser=True).username == "admin"


def test_starts_one_programme_for_the_first_customer_with_the_plan_task_for_the_manager(deployed):
    output = seed()

    programme = programmes().get()
    assert (programme.business_key, programme.status) == (CUSTOMER, ProcessInstance.Status.WAITING)
    assert programme.started_by.username == "coordinator"
    assert f"started programme #{programme.pk}" in output
    visit = current_visit(programme)
    assert visit.status == ProcessInstance.Status.RUNNING
    assert open_task(visit, "Task_plan_visit").assignee.username == "manager"


def test_running_it_twice_changes_nothing(deployed):
    seed()
    users = dict(User.objects.values_list("username", "pk"))
    manager = User.objects.get(username="manager")
    manager.set_password("changed-by-the-manager")
    manager.save()

    output = seed()

    assert dict(User.objects.values_list("username", "pk")) == users
    assert User.objects.get(username="manager").check_password("changed-by-the-manager")
    assert programmes().count() == 1
    assert ProcessInstance.objects.filter(process_id="visit_cycle").count() == 1
    assert "already running" in output


def test_without_the_diagrams_deployed_it_fails_cleanly_and_creates_no_users():
    with pytest.raises(CommandError, match="onsite_programme"):
        seed()
    assert not User.objects.exists()
