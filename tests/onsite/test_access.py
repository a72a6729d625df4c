"""A manager cannot act on another manager's customer through any service; nor can a team leader of
another team, a support engineer or leadership. Every refusal changes nothing."""

from datetime import date

import pytest

from onsite.access import (
    CHANGE,
    READ,
    customer_scope,
    customers_managed_by,
    customers_visible_to,
    manages_customer,
    people_visible_to,
    scoped,
    sees_customer,
    sees_person,
)
from onsite.exceptions import NotPermitted
from onsite.models import Customer, CustomerChange, Enrolment, IncentiveRule, Lead, SupportRequest, Team
from onsite.services.customers import (
    create_customer,
    remove_key_person,
    remove_product,
    save_key_person,
    save_product,
    update_customer,
)
from onsite.services.imports import import_customers
from onsite.services.incentives import request_incentive_review, set_incentive_rule
from onsite.services.leads import create_lead, update_lead
from onsite.services.programmes import create_programme, end_enrolment_early, enrol_customer
from onsite.services.support import request_support
from tests.factories import UserFactory
from tests.onsite.factories import KeyPersonFactory, LeadFactory, ProductHoldingFactory, manager_in
from tests.onsite.flow import (
    FACTORS,
    build_org,
    current_visit,
    customer_of,
    deploy_processes,
    enrol,
    new_programme,
    open_task,
    plan,
)
from workflows.actors import SYSTEM, SystemActor, acting_for
from workflows.exceptions import TaskNotYours
from workflows.models import HumanTask
from workflows.services import claim_task, complete_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    deploy_processes()
    org = build_org()
    customer = customer_of(org, name="滨湖新区政务服务中心")
    enrolment = enrol(org, new_programme(org), customer)
    lead = create_lead(customer=customer, description="云视讯", urgency="medium", user=org.manager)
    other_leader = UserFactory(username="feng", roles=["team_leader"])
    other_team = Team.objects.create(name="政企客户二组", region=org.branch, leader=other_leader)
    return {
        "org": org,
        "customer": customer,
        "enrolment": enrolment,
        "lead": lead,
        "person": KeyPersonFactory(customer=customer),
        "unenrolled": customer_of(org, name="另一个客户"),
        "product": ProductHoldingFactory(customer=customer),
        "outsiders": {
            "another manager in the same team": org.other_manager,
            "a manager of another team": manager_in(other_team, "chu"),
            "the leader of another team": other_leader,
            "a support engineer": org.support["solution"],
            "leadership": org.director,
        },
    }


def attempts(world):
    org, customer, lead = world["org"], world["customer"], world["lead"]
    return {
        "update the customer": lambda u: update_customer(
            customer=customer, values={"monthly_value": "20000"}, user=u
        ),
        "add a key person": lambda u: save_key_person(customer=customer, name="新关键人", values={}, user=u),
        "change a product": lambda u: save_product(
            customer=customer,
            product="视频会议",
            provider="竞争对手A",
            values={"ownership": "competitor"},
            user=u,
        ),
        "remove a key person": lambda u: remove_key_person(person=world["person"], user=u),
        "remove a product": lambda u: remove_product(holding=world["product"], user=u),
        "create a lead": lambda u: create_lead(customer=customer, description="专线", urgency="low", user=u),
        "close a lead": lambda u: update_lead(lead=lead, status="lost", lost_reason="价格", user=u),
        "ask for support": lambda u: request_support(
            customer=customer,
            kind="solution",
            speciality="solution",
            description="方案",
            due_date=date(2026, 12, 31),
            user=u,
        ),
        "add a customer for someone else": lambda u: create_customer(
            values={
                "code": "GC-9",
                "name": "新客户",
                "industry": "finance",
                "region": org.branch,
                "account_manager": org.manager,
            },
            user=u,
        ),
        "import customers": lambda u: import_customers(
            name="c.csv",
            content="客户编码,客户名称,行业,区域\nGC-8,某客户,金融,HF\n".encode(),
            user=u,
            dry_run=False,
        ),
        "create a programme": lambda u: create_programme(
            name="x", region=org.branch, start_date=date(2026, 12, 1), cadence="weekly", user=u
        ),
        "enrol a customer": lambda u: enrol_customer(
            programme=world["enrolment"].programme,
            customer=world["unenrolled"],
            factors=FACTORS["publicity"],
            user=u,
        ),
        "end the programme": lambda u: end_enrolment_early(enrolment=world["enrolment"], reason="x", user=u),
        "change an incentive rule": lambda u: set_incentive_rule(
            event="lead_won", values={"points": 999}, user=u, reason="x"
        ),
        "start the team's incentive review": lambda u: request_incentive_review(
            team=org.team, period=date(2026, 12, 1), user=u
        ),
    }


def snapshot():
    return (
        list(Customer.objects.values_list("pk", "tier", "name")),
        CustomerChange.objects.count(),
        list(Lead.objects.values_list("pk", "status")),
        SupportRequest.objects.count(),
        Enrolment.objects.filter(status="active").count(),
        list(IncentiveRule.objects.filter(active=True).values_list("event", "points")),
        HumanTask.objects.filter(status="open").count(),
    )


def test_no_outsider_can_change_a_customers_records_through_any_service(world):
    before = snapshot()
    for user in world["outsiders"].values():
        for attempt in attempts(world).values():
            with pytest.raises(NotPermitted):
                attempt(user)
    assert snapshot() == before


def test_the_customers_own_manager_team_leader_and_coordinator_may(world):
    org, customer = world["org"], world["customer"]
    update_customer(customer=customer, values={"monthly_value": "20000"}, user=org.manager)
    save_key_person(customer=customer, name="新关键人", values={"title": "科长"}, user=org.leader)
    update_customer(customer=customer, values={"potential": 5}, user=org.coordinator)
    assert list(customer.changes.values_list("actor__username", flat=True).order_by("id"))[-3:] == [
        "qian",
        "li",
        "zhao",
    ]


def test_another_manager_cannot_claim_or_complete_the_customers_tasks(world):
    plan_task = open_task(current_visit(world["enrolment"]), "Task_plan_visit")
    for user in world["outsiders"].values():
        with pytest.raises(TaskNotYours):
            claim_task(task_id=plan_task.pk, user=user)
        with pytest.raises(TaskNotYours):
            complete_task(task_id=plan_task.pk, data=plan(), user=user)
    plan_task.refresh_from_db()
    assert (plan_task.status, plan_task.assignee) == ("open", world["org"].manager)


def test_only_a_coordinator_may_hand_a_customer_to_another_manager(world):
    org, customer = world["org"], world["customer"]
    with pytest.raises(NotPermitted):
        update_customer(customer=customer, values={"account_manager": org.other_manager}, user=org.manager)
    update_customer(customer=customer, values={"account_manager": org.other_manager}, user=org.coordinator)
    assert Customer.objects.get(pk=customer.pk).account_manager == org.other_manager


# --- one rule: the yes/no answer and the list agree, for every kind of person ------------------------


@pytest.fixture
def people_and_customers():
    """Two teams, every kind of person, and customers of each manager (one inactive) and of none."""
    from django.utils import timezone

    from onsite.models import SupportRequest
    from tests.onsite.factories import CustomerFactory, TeamFactory, support_engineer

    team, other_team = TeamFactory(), TeamFactory()
    manager, teammate, outsider = manager_in(team), manager_in(team), manager_in(other_team)
    departed = manager_in(team, is_active=False)
    engineer = support_engineer("network", team.region, team)
    customers = {
        "manager's": CustomerFactory(account_manager=manager),
        "teammate's": CustomerFactory(account_manager=teammate),
        "other team's": CustomerFactory(account_manager=outsider),
        "departed manager's": CustomerFactory(account_manager=departed),
        "nobody's": CustomerFactory(),
    }
    SupportRequest.objects.create(
        customer=customers["teammate's"],
        kind="solution",
        speciality="network",
        description="专线勘查",
        due_date=date(2026, 12, 31),
        requested_by=teammate,
        requested_at=timezone.now(),
        assignee=engineer,
    )
    # Project teams: a member of the other team's customer's team, one of a lead's team on the
    # departed manager's customer, and one who has left (today: no longer a member).
    from datetime import timedelta

    from onsite.services.project_teams import (
        NewMember,
        add_team_member,
        form_project_team,
        remove_team_member,
    )

    today = timezone.localdate()
    team_member, lead_team_member, former_member = (
        support_engineer("it", team.region),
        support_engineer("it", team.region),
        support_engineer("it", team.region),
    )
    customer_team = form_project_team(
        customer=customers["other team's"],
        user=SYSTEM,
        members=[NewMember(team_member, "engineer")],
        on=today - timedelta(days=5),
    )
    add_team_member(
        team=customer_team,
        person_to_add=former_member,
        role="engineer",
        user=SYSTEM,
        on=today - timedelta(days=5),
    )
    remove_team_member(team=customer_team, person_to_remove=former_member, user=SYSTEM, on=today)
    form_project_team(
        lead=LeadFactory(customer=customers["departed manager's"], owner=teammate),
        user=SYSTEM,
        members=[NewMember(lead_team_member, "engineer")],
        on=today,
    )
    people = {
        "coordinator": UserFactory(roles=["coordinator"]),
        "leadership": UserFactory(roles=["leadership"]),
        "team leader": team.leader,
        "other team's leader": other_team.leader,
        "account manager": manager,
        "departed manager": departed,
        "support engineer on a request": engineer,
        "support engineer": support_engineer("solution", team.region, team),
        "project team member": team_member,
        "lead's project team member": lead_team_member,
        "former project team member": former_member,
        "no role": UserFactory(),
        "inactive coordinator": UserFactory(roles=["coordinator"], is_active=False),
        "superuser": UserFactory(is_superuser=True),
        "system": SYSTEM,
        "acting for the manager": acting_for(manager),
        "nobody": None,
    }
    return people, customers


EVERY = {"manager's", "teammate's", "other team's", "departed manager's", "nobody's"}
# What each person may change, and read, by the rules in onsite/access.py.
CHANGES = {
    "coordinator": EVERY,
    "leadership": set(),
    "team leader": {"manager's", "teammate's", "departed manager's"},
    "other team's leader": {"other team's"},
    "account manager": {"manager's"},
    "departed manager": set(),
    "support engineer on a request": set(),
    "support engineer": set(),
    "project team member": set(),
    "lead's project team member": set(),
    "former project team member": set(),
    "no role": set(),
    "inactive coordinator": set(),
    "superuser": EVERY,
    "system": EVERY,
    "acting for the manager": EVERY,
    "nobody": set(),
}
READS = {
    **CHANGES,
    "leadership": EVERY,
    "support engineer on a request": {"teammate's"},
    "project team member": {"other team's"},
    "lead's project team member": {"departed manager's"},
}


def test_each_persons_customer_checks_answer_exactly_what_their_customer_lists_hold(people_and_customers):
    people, customers = people_and_customers
    for who, user in people.items():
        managed, visible = set(customers_managed_by(user)), set(customers_visible_to(user))
        for name, customer in customers.items():
            assert manages_customer(user, customer) == (customer in managed), (who, name)
            assert sees_customer(user, customer) == (customer in visible), (who, name)
        assert {n for n, c in customers.items() if c in managed} == CHANGES[who], who
        assert {n for n, c in customers.items() if c in visible} == READS[who], who


def test_the_customer_rule_filters_related_rows_the_same_way(people_and_customers):
    people, customers = people_and_customers
    for customer in customers.values():
        LeadFactory(customer=customer, owner=people["coordinator"])
    for who, user in people.items():
        for to in (READ, CHANGE):
            leads = scoped(Lead.objects.all(), customer_scope(user, to=to, through="customer"))
            assert {lead.customer for lead in leads} == set(
                customers_visible_to(user) if to == READ else customers_managed_by(user)
            ), (who, to)


def test_each_persons_people_check_answers_what_their_people_list_holds(people_and_customers):
    people, _ = people_and_customers
    everyone = [user for user in people.values() if user is not None and not isinstance(user, SystemActor)]
    for who, user in people.items():
        visible = set(people_visible_to(user))
        for someone in everyone:
            assert sees_person(user, someone) == (someone in visible), (who, someone)
    team_leader, manager = people["team leader"], people["account manager"]
    assert set(people_visible_to(manager)) == {manager}
    assert manager in set(people_visible_to(team_leader)) and people["account manager"] not in set(
        people_visible_to(people["other team's leader"])
    )
    assert list(people_visible_to(None)) == list(people_visible_to(people["inactive coordinator"])) == []
