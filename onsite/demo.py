"""Demo data for a laptop: one person per role in a Hefei team, four (fictional) group customers
with their key persons and products, and a programme with the first customer enrolled."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Case, When
from django.utils import timezone
from django.utils.translation import gettext as _

from onsite.exceptions import OnsiteError
from onsite.models import Customer, Enrolment, Programme, Region, StaffProfile, Team
from onsite.roles import ACCOUNT_MANAGER, COORDINATOR, LEADERSHIP, ROLES, SUPPORT_STAFF, TEAM_LEADER
from onsite.services.customers import create_customer, upsert_key_person, upsert_product
from onsite.services.programmes import PROGRAMME_PROCESS, create_programme, enrol_customer
from workflows.exceptions import WorkflowError
from workflows.models import LaneRole, ProcessInstance
from workflows.services import latest_version

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
        "products": [("金融专线", "我方", {"ownership": "ours", "expiry_days": 60})],
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
def seed_demo(*, log: Callable[[str], None], warn: Callable[[str], None]) -> None:
    """Create what is missing; never change what exists (a manager's new password, say).

    Safe from any state a user can leave the demo in: the programme ended, terminated or in
    error, visits done, demo rows deleted, newer diagrams deployed. What it cannot set up again
    it reports through `warn` and leaves as it is. Refuses (OnsiteError, nothing created) only
    when the diagrams are not deployed.
    """
    try:
        latest_version(PROGRAMME_PROCESS)
    except WorkflowError as exc:
        raise OnsiteError(
            _("%(error)s Deploy the diagrams first: manage.py deploy_bpmn bpmn/*.bpmn") % {"error": exc}
        ) from None
    branch, _created = Region.objects.get_or_create(code="HF", defaults={"name": "合肥分公司"})
    Region.objects.get_or_create(
        code="HF-FD", defaults={"name": "肥东县", "kind": Region.Kind.COUNTY, "parent": branch}
    )
    users = {}
    for demo in DEMO_USERS:
        users[demo.username] = _user(demo, log)
    team, _created = Team.objects.get_or_create(
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
        log(_("customer %(code)s %(name)s") % {"code": customer.code, "name": customer.name})
    programme = Programme.objects.filter(name=DEMO_PROGRAMME).order_by("pk").first()
    if programme is None:
        # Visits at each customer's tier's cadence (the A/B/C service standards); a programme made
        # by an earlier demo keeps the cadence it was given.
        programme = create_programme(name=DEMO_PROGRAMME, region=branch, start_date=today, user=coordinator)
    _enrol_first_customer(programme, coordinator, log=log, warn=warn)


def _enrol_first_customer(
    programme: Programme, coordinator: Any, *, log: Callable[[str], None], warn: Callable[[str], None]
) -> None:
    """Enrol the first demo customer once; afterwards, say where its programme stands."""
    first = Customer.objects.get(code=DEMO_CUSTOMERS[0]["code"])
    enrolment = (
        Enrolment.objects.filter(customer=first)
        .select_related("programme", "instance")
        .order_by(
            # Its enrolment in the demo programme, else the one running elsewhere.
            Case(When(programme=programme, then=0), default=1),
            Case(When(status=Enrolment.Status.ACTIVE, then=0), default=1),
            "-enrolled_at",
        )
        .first()
    )
    if enrolment is not None and (
        enrolment.programme_id == programme.pk or enrolment.status == Enrolment.Status.ACTIVE
    ):
        _report(enrolment, log=log, warn=warn)
        return
    try:
        with transaction.atomic():
            enrolment = enrol_customer(
                programme=programme, customer=first, factors=DEMO_FACTORS, user=coordinator
            )
    except OnsiteError as exc:
        warn(
            _("The demo programme for %(customer)s was not started: %(error)s")
            % {"customer": first.name, "error": exc}
        )
        return
    log(
        _("enrolled %(customer)s: programme instance #%(instance)s (%(status)s)")
        % {
            "customer": first.name,
            "instance": enrolment.instance_id,
            "status": enrolment.instance.get_status_display(),
        }
    )


def _report(enrolment: Enrolment, *, log: Callable[[str], None], warn: Callable[[str], None]) -> None:
    values = {
        "customer": enrolment.customer.name,
        "programme": enrolment.programme.name,
        "status": enrolment.get_status_display(),
    }
    instance = enrolment.instance
    if enrolment.status != Enrolment.Status.ACTIVE:
        log(
            _(
                "The programme for %(customer)s in %(programme)s has ended (%(status)s); it is left as it "
                "is. For a fresh demo, start from an empty database (by default: delete db.sqlite3 and "
                "run make run)."
            )
            % values
        )
    elif instance is None or instance.status in ProcessInstance.ACTIVE_STATUSES:
        log(_("programme for %(customer)s in %(programme)s already running") % values)
    else:
        values.update(instance=instance.pk, state=instance.get_status_display())
        message = _(
            "The programme instance #%(instance)s for %(customer)s is %(state)s; it is left as it is "
            "(the engine's admin pages can retry, resume or terminate it)."
        )
        warn(message % values)
        if instance.status == ProcessInstance.Status.ERROR and instance.error:
            warn("  " + str(instance.error.get("message", "")))


def _user(demo: DemoUser, log: Callable[[str], None]) -> Any:
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
        user.groups.add(_role(demo.role))
    if created:
        log(_("user %(username)s (new)") % {"username": demo.username})
    else:
        log(_("user %(username)s") % {"username": demo.username})
    return user


def _role(code: str) -> Group:
    """The role's group, set up again (permissions, lanes) if someone deleted it."""
    group, created = Group.objects.get_or_create(name=code)
    if created:
        role = next(r for r in ROLES if r.code == code)
        for dotted in role.permissions:
            app_label, codename = dotted.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        for lane in role.lanes:
            LaneRole.objects.get_or_create(lane=lane, defaults={"role": group})
    return group
