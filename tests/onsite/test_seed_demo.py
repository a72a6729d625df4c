"""`manage.py seed_demo`: the demo organisation, customers and one running programme."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from onsite.demo import DEMO_CUSTOMERS, DEMO_PASSWORD, DEMO_USERS
from onsite.models import Customer, Enrolment, ProductHolding, StaffProfile
from tests.onsite.flow import current_visit, deploy_processes, open_task
from workflows.models import ProcessInstance

pytestmark = pytest.mark.django_db

User = get_user_model()


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def deployed():
    deploy_processes()


def test_creates_every_demo_user_in_its_role_group_with_the_demo_password(deployed):
    seed()

    for demo in DEMO_USERS:
        user = User.objects.get(username=demo.username)
        assert list(user.groups.values_list("name", flat=True)) == ([demo.role] if demo.role else [])
        assert (user.is_staff, user.is_superuser) == (True, demo.superuser)
        assert user.check_password(DEMO_PASSWORD)
    assert User.objects.get(is_superuser=True).username == "admin"
    assert StaffProfile.objects.get(user__username="support").speciality == "solution"
    assert StaffProfile.objects.get(user__username="manager").team.leader.username == "leader"


def test_creates_the_customers_with_their_manager_key_persons_and_products(deployed):
    seed()

    assert sorted(Customer.objects.values_list("code", flat=True)) == [c["code"] for c in DEMO_CUSTOMERS]
    first = Customer.objects.get(code="GC-0001")
    assert first.account_manager.username == "manager"
    assert first.key_persons.get().name == "王主任"
    assert ProductHolding.objects.filter(customer=first, ownership="competitor").count() == 1
    assert first.changes.filter(action="created", entity="customer").exists()


def test_enrols_the_first_customer_with_the_plan_task_for_its_manager(deployed):
    output = seed()

    enrolment = Enrolment.objects.get()
    assert (enrolment.customer.code, enrolment.stage) == ("GC-0001", "publicity")
    programme = enrolment.instance
    assert (programme.business_key, programme.status) == ("GC-0001", ProcessInstance.Status.WAITING)
    assert programme.started_by.username == "coordinator"
    assert f"programme instance #{programme.pk}" in output
    assert open_task(current_visit(enrolment), "Task_plan_visit").assignee.username == "manager"


def test_running_it_twice_changes_nothing(deployed):
    seed()
    users = dict(User.objects.values_list("username", "pk"))
    manager = User.objects.get(username="manager")
    manager.set_password("changed-by-the-manager")
    manager.save()

    output = seed()

    assert dict(User.objects.values_list("username", "pk")) == users
    assert User.objects.get(username="manager").check_password("changed-by-the-manager")
    assert Customer.objects.count() == len(DEMO_CUSTOMERS)
    assert Enrolment.objects.count() == 1
    assert ProcessInstance.objects.filter(process_id="visit_cycle").count() == 1
    assert "already running" in output


def test_without_the_diagrams_deployed_it_fails_cleanly_and_creates_nothing():
    with pytest.raises(CommandError, match="onsite_programme"):
        seed()
    assert not User.objects.exists()
    assert not Customer.objects.exists()
