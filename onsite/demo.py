"""Demo data for a laptop: one person per role in a Hefei team, four (fictional) group customers
with their key persons and products, and a programme with the first customer enrolled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from onsite.models import Customer, Enrolment, Programme, Region, StaffProfile, Team
from onsite.roles import ACCOUNT_MANAGER, COORDINATOR, LEADERSHIP, SUPPORT_STAFF, TEAM_LEADER
from onsite.services.customers import create_customer, upsert_key_person, upsert_product
from onsite.services.programmes import create_programme, enrol_customer

DEMO_PASSWORD = "onsite-demo"  # noqa: S105 - documented in the README, demo machines only


@dataclass(frozen=True)
class DemoUser:
    username: str
    last_name: str
    first_name: str
    role: str | None
    superuser: bool = False
    speciality: str = ""


DEMO_USERS = (
    DemoUser("admin", "管理员", "", None, superuser=True),
    DemoUser("coordinator", "赵", "协调", COORDINATOR),
    DemoUser("manager", "钱", "经理", ACCOUNT_MANAGER),
    DemoUser("support", "孙", "工", SUPPORT_STAFF, speciality="solution"),
    DemoUser("leader", "李", "班长", TEAM_LEADER),
    DemoUser("director", "周", "总", LEADERSHIP),
)

DEMO_CUSTOMERS = (
    {
        "code": "GC-0001",
        "name": "滨湖新区政务服务中心",
        "industry": "party_government_military",
        "tier": "A",
        "monthly_value": "12000",
        "potential": 4,
        "key_persons": [
            ("王主任", {"title": "主任", "decision_role": "decision_maker", "relationship": "normal"})
        ],
        "products": [
            ("互联网专线", "我方", {"ownership": "ours", "expiry_days": 540}),
            ("视频会议", "竞争对手A", {"ownership": "competitor", "expiry_days": 75}),
        ],
    },
    {
        "code": "GC-0002",
        "name": "江淮城市商业银行",
        "industry": "finance",
        "tier": "A",
        "monthly_value": "85000",
        "potential": 4,
        "key_persons": [("陈行长", {"title": "副行长", "decision_role": "decision_maker"})],
        "products": [("金融专线", "我方", {"ownership": "ours", "expiry_days": 300})],
    },
    {
        "code": "GC-0003",
        "name": "庐州康健医药集团",
        "industry": "healthcare_pharma",
        "tier": "B",
        "monthly_value": "30000",
        "potential": 5,
        "key_persons": [("刘经理", {"title": "信息部经理", "decision_role": "influencer"})],
        "products": [("物联网卡", "竞争对手B", {"ownership": "competitor", "expiry_days": 200})],
    },
    {
        "code": "GC-0004",
        "name": "皖中物流集团",
        "industry": "transport_logistics",
        "tier": "C",
        "monthly_value": "8000",
        "potential": 3,
        "key_persons": [],
        "products": [],
    },
)
DEMO_PROGRAMME = "合肥政企客户驻点服务（演示）"
DEMO_FACTORS = {"economic_development": 4, "informatization_level": 2, "competition": 4, "our_capability": 3}


@transaction.atomic
def seed_demo(log) -> None:
    """Create what is missing; never change what exists (a manager's new password, say)."""
    branch, _ = Region.objects.get_or_create(code="HF", defaults={"name": "合肥分公司"})
    Region.objects.get_or_create(
        code="HF-FD", defaults={"name": "肥东县", "kind": Region.Kind.COUNTY, "parent": branch}
    )
    users = {}
    for demo in DEMO_USERS:
        users[demo.username] = _user(demo, log)
    team, _ = Team.objects.get_or_create(
        region=branch, name="政企客户一组", defaults={"leader": users["leader"]}
    )
    for demo in DEMO_USERS:
        if demo.role in (ACCOUNT_MANAGER, SUPPORT_STAFF, TEAM_LEADER):
            StaffProfile.objects.get_or_create(
                user=users[demo.username],
                defaults={"team": team, "region": branch, "speciality": demo.speciality},
            )
    coordinator = users["coordinator"]
    today = timezone.localdate()
    for values in DEMO_CUSTOMERS:
        if Customer.objects.filter(code=values["code"]).exists():
            continue
        fields = {k: v for k, v in values.items() if k not in ("key_persons", "products")}
        customer = create_customer(
            values={**fields, "region": branch, "account_manager": users["manager"]}, user=coordinator
        )
        for name, person in values["key_persons"]:
            upsert_key_person(customer, name, person, actor=coordinator, source="manual")
        for product, provider, holding in values["products"]:
            expiry = today + timedelta(days=holding["expiry_days"])
            upsert_product(
                customer,
                product,
                provider,
                {"ownership": holding["ownership"], "expiry_date": expiry},
                actor=coordinator,
                source="manual",
            )
        log(f"customer {customer.code} {customer.name}")
    programme = Programme.objects.filter(name=DEMO_PROGRAMME).first() or create_programme(
        name=DEMO_PROGRAMME, region=branch, start_date=today, cadence="weekly", user=coordinator
    )
    first = Customer.objects.get(code=DEMO_CUSTOMERS[0]["code"])
    if Enrolment.objects.filter(customer=first, status=Enrolment.Status.ACTIVE).exists():
        log(f"programme for {first.name} already running")
        return
    enrolment = enrol_customer(programme=programme, customer=first, factors=DEMO_FACTORS, user=coordinator)
    log(f"enrolled {first.name}: programme instance #{enrolment.instance_id} ({enrolment.instance.status})")


def _user(demo: DemoUser, log):
    user, created = get_user_model().objects.get_or_create(
        username=demo.username,
        defaults={
            "last_name": demo.last_name,
            "first_name": demo.first_name,
            "is_staff": True,
            "is_superuser": demo.superuser,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    if demo.role:
        user.groups.add(Group.objects.get(name=demo.role))
    log(f"user {demo.username}{' (new)' if created else ''}")
    return user
