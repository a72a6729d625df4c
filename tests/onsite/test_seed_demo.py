"""`manage.py seed_demo`: the demo organisation, customers and one running programme."""

import io
from datetime import date
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from onsite import tasks
from onsite.demo import DEMO_CUSTOMERS, DEMO_FACTORS, DEMO_PASSWORD, DEMO_USERS
from onsite.models import (
    Customer,
    Enrolment,
    ProductHolding,
    Programme,
    Region,
    RenewalTarget,
    StaffProfile,
    Team,
)
from onsite.services.programmes import create_programme, end_enrolment_early, enrol_customer
from tests.conftest import BPMN_DIR, text_source
from tests.onsite.flow import close_visit, current_visit, deploy_processes, open_task, refreshed, run_stage
from workflows.actors import SYSTEM
from workflows.models import ProcessInstance
from workflows.services import deploy, suspend_instance, terminate_instance

pytestmark = pytest.mark.django_db

User = get_user_model()


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", "--language", "en", stdout=out)
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


def test_without_the_diagrams_deployed_it_fails_cleanly_naming_the_cause_and_creates_nothing():
    with pytest.raises(
        CommandError, match=r"No process .onsite_programme. is deployed\. Deploy the diagrams first"
    ):
        seed()
    assert not User.objects.exists()
    assert not Customer.objects.exists()


# --- any state a user can leave the demo in --------------------------------------------------------


def demo_rows() -> dict:
    """How many rows of each kind the demo has: a second run must not add to them."""
    return {
        "users": User.objects.count(),
        "customers": Customer.objects.count(),
        "products": ProductHolding.objects.count(),
        "programmes": Programme.objects.count(),
        "enrolments": Enrolment.objects.count(),
        "instances": ProcessInstance.objects.count(),
        "teams": Team.objects.count(),
        "profiles": StaffProfile.objects.count(),
    }


def demo_enrolment() -> Enrolment:
    return Enrolment.objects.get(customer__code="GC-0001")


def coordinator():
    return User.objects.get(username="coordinator")


def test_after_the_demo_programme_ended_early_it_succeeds_and_says_so(deployed):
    seed()
    end_enrolment_early(enrolment=demo_enrolment(), reason="客户暂停合作", user=coordinator())
    before = demo_rows()

    output = seed()

    assert demo_rows() == before
    assert demo_enrolment().status == Enrolment.Status.ENDED_EARLY
    assert "has ended" in output
    assert "Deploy the diagrams" not in output


def test_after_the_demo_programme_completed_every_stage_it_succeeds(deployed):
    seed()
    enrolment = demo_enrolment()
    org = SimpleNamespace(leader=User.objects.get(username="leader"))
    for _stage in range(3):
        run_stage(enrolment, org, decision="advance")
    assert refreshed(enrolment).status == Enrolment.Status.COMPLETED
    before = demo_rows()

    output = seed()

    assert demo_rows() == before
    assert "has ended" in output


def test_with_the_programme_instance_terminated_it_succeeds_and_names_the_state(deployed):
    seed()
    instance = demo_enrolment().instance
    terminate_instance(instance_id=instance.pk, user=coordinator(), reason="演示结束")
    before = demo_rows()

    output = seed()

    assert demo_rows() == before
    assert f"#{instance.pk}" in output and "terminated" in output


def test_with_the_programme_instance_in_error_it_succeeds_and_quotes_the_error(deployed):
    seed()
    enrolment = demo_enrolment()
    # Terminating the visit a programme waits for puts the programme in error.
    terminate_instance(instance_id=current_visit(enrolment).pk, user=coordinator(), reason="误操作")
    assert refreshed(enrolment.instance).status == ProcessInstance.Status.ERROR
    before = demo_rows()

    output = seed()

    assert demo_rows() == before
    assert f"#{enrolment.instance_id}" in output and "error" in output


def test_with_the_programme_instance_suspended_it_succeeds(deployed):
    seed()
    instance = demo_enrolment().instance
    suspend_instance(instance_id=instance.pk, user=coordinator(), reason="暂停")

    output = seed()

    assert "suspended" in output
    assert Enrolment.objects.count() == 1


def test_after_visits_were_made_it_changes_nothing(deployed):
    seed()
    enrolment = demo_enrolment()
    close_visit(enrolment, SimpleNamespace(leader=User.objects.get(username="leader")))
    before = demo_rows()

    output = seed()

    assert demo_rows() == before
    assert "already running" in output


def test_demo_rows_deleted_are_created_again_and_nothing_is_duplicated(deployed):
    seed()
    User.objects.get(username="director").delete()
    Customer.objects.get(code="GC-0004").delete()
    Group.objects.get(name="leadership").delete()

    seed()

    director = User.objects.get(username="director")
    assert list(director.groups.values_list("name", flat=True)) == ["leadership"]
    assert Group.objects.get(name="leadership").permissions.exists()
    assert sorted(Customer.objects.values_list("code", flat=True)) == [c["code"] for c in DEMO_CUSTOMERS]
    assert Enrolment.objects.count() == 1
    before = demo_rows()
    seed()
    assert demo_rows() == before


def test_a_newer_programme_diagram_deployed_changes_nothing_for_the_running_demo(deployed):
    seed()
    newer = (
        (BPMN_DIR / "onsite_programme.bpmn")
        .read_text(encoding="utf-8")
        .replace('name="驻点服务方案"', 'name="驻点服务方案（新版）"')
    )
    deploy(user=SYSTEM, files=[text_source("onsite_programme.bpmn", newer)])
    before = demo_rows()

    output = seed()

    assert demo_rows() == before
    assert "already running" in output


def test_a_demo_customer_moved_to_another_programme_is_not_enrolled_again(deployed):
    seed()
    end_enrolment_early(enrolment=demo_enrolment(), reason="转入其他方案", user=coordinator())
    other = create_programme(
        name="另一个驻点方案",
        region=Region.objects.get(code="HF"),
        start_date=date.today(),
        cadence="monthly",
        user=coordinator(),
    )
    enrol_customer(
        programme=other,
        customer=Customer.objects.get(code="GC-0001"),
        factors=DEMO_FACTORS,
        user=coordinator(),
    )
    before = demo_rows()

    output = seed()

    assert demo_rows() == before
    assert "has ended" in output


def test_the_win_back_starts_made_by_make_run_are_not_repeated(deployed):
    seed()
    out = io.StringIO()
    call_command("start_win_back_targets", "--language", "en", stdout=out)
    assert "1 win-back task started." in out.getvalue()
    seed()
    out = io.StringIO()
    call_command("start_win_back_targets", "--language", "en", stdout=out)
    assert "0 win-back tasks started." in out.getvalue()


def test_seed_demo_speaks_chinese_by_default():
    # Without the diagrams: the refusal quotes the engine's message, which the catalog translates.
    with pytest.raises(CommandError) as caught:
        call_command("seed_demo", stdout=io.StringIO())
    assert "onsite_programme" in str(caught.value)
    assert "No process" not in str(caught.value)


def test_seed_demo_speaks_english_when_asked():
    with pytest.raises(CommandError, match="No process 'onsite_programme' is deployed"):
        call_command("seed_demo", "--language", "en", stdout=io.StringIO())


def test_the_demos_own_contract_up_for_renewal_gets_its_task_from_the_daily_job(deployed):
    seed()

    assert tasks.start_renewal_targets() == 1
    target = RenewalTarget.objects.get()
    assert (target.customer.code, target.product.product, target.account_manager.username) == (
        "GC-0002",
        "金融专线",
        "manager",
    )
