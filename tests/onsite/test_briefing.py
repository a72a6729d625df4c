"""The pre-visit briefing and the industry playbook it carries (seed 001, adapted to telecom)."""

import importlib
import re
from datetime import date, timedelta
from decimal import Decimal

import factory
import pytest
from django.apps import apps
from django.utils import timezone, translation

from onsite.exceptions import NotPermitted
from onsite.models import (
    DecisionRole,
    Enrolment,
    Industry,
    Lead,
    Ownership,
    PlaybookEntry,
    Programme,
    Stage,
    Visit,
    VisitSummary,
)
from onsite.selectors.briefing import customer_briefing, describe, playbook_for
from tests.factories import UserFactory
from tests.onsite.factories import CustomerFactory, KeyPersonFactory, LeadFactory, ProductHoldingFactory
from workflows.actors import SYSTEM
from workflows.models import ProcessModel, ProcessVersion

pytestmark = pytest.mark.django_db

# Every industry a customer can have: seed 001's eight and, in its pattern, the rest.
PLAYBOOK_INDUSTRIES = list(Industry)
CHINESE = re.compile(r"[\u4e00-\u9fff]")
TODAY = date(2025, 3, 1)


class ProcessVersionFactory(factory.django.DjangoModelFactory):
    """A deployed version row only: the briefing never runs a process."""

    class Meta:
        model = ProcessVersion

    model = factory.LazyFunction(
        lambda: ProcessModel.objects.get_or_create(process_id="onsite_programme", name="驻点服务")[0]
    )
    number = factory.Sequence(lambda n: n + 1)
    checksum = "0" * 64
    spec = "{}"
    serializer_version = "test"


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme

    name = factory.Sequence(lambda n: f"驻点服务方案{n}")
    region = factory.SubFactory("tests.onsite.factories.RegionFactory")
    start_date = TODAY - timedelta(days=90)
    process_version = factory.SubFactory(ProcessVersionFactory)
    coordinator = factory.SubFactory(UserFactory, roles=["coordinator"])


def enrol(customer, *, stage=Stage.INFORMATION_GATHERING, status=Enrolment.Status.ACTIVE) -> Enrolment:
    return Enrolment.objects.create(
        programme=ProgrammeFactory(region=customer.region), customer=customer, stage=stage, status=status
    )


def summarised_visit(enrolment, number, *, status, next_goals, approved_days_ago=None) -> VisitSummary:
    visited_at = timezone.now() - timedelta(days=number)
    visit = Visit.objects.create(
        enrolment=enrolment,
        customer=enrolment.customer,
        number=number,
        stage=enrolment.stage,
        status=Visit.Status.CLOSED if status == VisitSummary.Status.APPROVED else Visit.Status.SUMMARISED,
        planned_date=visited_at.date(),
        account_manager=enrolment.customer.account_manager,
        visited_at=visited_at,
    )
    return VisitSummary.objects.create(
        visit=visit,
        status=status,
        informatization_status="OA系统自建，互联网专线为竞争对手提供",
        next_goals=next_goals,
        submissions=1,
        first_submitted_at=visited_at,
        submitted_at=visited_at,
        submitted_by=visit.account_manager,
        on_time=True,
        approved_at=None if approved_days_ago is None else timezone.now() - timedelta(days=approved_days_ago),
    )


@pytest.fixture
def manager():
    return UserFactory(roles=["account_manager"], first_name="伟", last_name="王")


@pytest.fixture
def power_customer(manager):
    return CustomerFactory(industry=Industry.POWER_ENERGY, account_manager=manager, name="国网某市供电公司")


# --- the playbook as loaded by the migration ---------------------------------------------------------


@pytest.mark.parametrize("industry", PLAYBOOK_INDUSTRIES)
def test_migration_loads_needs_and_opportunities_for_every_industry_a_customer_can_have(industry):
    needs = PlaybookEntry.objects.filter(industry=industry, kind=PlaybookEntry.Kind.NEED)
    opportunities = PlaybookEntry.objects.filter(industry=industry, kind=PlaybookEntry.Kind.OPPORTUNITY)

    assert 3 <= needs.count() <= 4
    assert 4 <= opportunities.count() <= 5
    assert list(needs.values_list("seq", flat=True)) == list(range(1, needs.count() + 1))
    assert list(opportunities.values_list("seq", flat=True)) == list(range(1, opportunities.count() + 1))


def test_every_playbook_entry_is_written_in_chinese_and_in_english():
    entries = list(PlaybookEntry.objects.filter(industry__in=PLAYBOOK_INDUSTRIES))

    assert len(entries) >= len(Industry) * 7
    for entry in entries:
        assert CHINESE.search(entry.text), entry.text
        assert entry.text_en.strip() and not CHINESE.search(entry.text_en), entry.text_en


def test_opportunities_name_the_products_they_offer_and_needs_name_none():
    for entry in PlaybookEntry.objects.filter(industry__in=PLAYBOOK_INDUSTRIES):
        if entry.kind == PlaybookEntry.Kind.OPPORTUNITY:
            assert entry.products and all(product.strip() for product in entry.products)
        else:
            assert entry.products == []


def test_loading_the_playbook_again_restores_entries_in_place_and_reversing_removes_them():
    migration = importlib.import_module("onsite.migrations.0004_playbook")
    count = PlaybookEntry.objects.count()
    entry = PlaybookEntry.objects.get(industry=Industry.FINANCE, kind=PlaybookEntry.Kind.NEED, seq=1)
    original = entry.text
    PlaybookEntry.objects.filter(pk=entry.pk).update(text="已改动")

    migration.load_playbook(apps, None)

    assert PlaybookEntry.objects.count() == count
    entry.refresh_from_db()
    assert entry.text == original

    migration.remove_playbook(apps, None)

    assert not PlaybookEntry.objects.filter(industry__in=PLAYBOOK_INDUSTRIES).exists()


# --- playbook_for ------------------------------------------------------------------------------------


def test_playbook_for_returns_the_industrys_entries_in_order_in_both_languages():
    playbook = playbook_for(Industry.EDUCATION)

    expected_needs = PlaybookEntry.objects.filter(industry=Industry.EDUCATION, kind="need").order_by("seq")
    assert [n["text"] for n in playbook["needs"]] == [e.text for e in expected_needs]
    assert [n["text_en"] for n in playbook["needs"]] == [e.text_en for e in expected_needs]
    assert all(o["products"] for o in playbook["opportunities"])
    assert set(playbook["needs"][0]) == {"text", "text_en", "products"}


def test_the_described_playbook_is_labelled_in_the_language_active_when_it_is_shown():
    customer = CustomerFactory(industry=Industry.EDUCATION)
    with translation.override("zh-hans"):
        briefing = customer_briefing(customer, user=SYSTEM, today=TODAY)
    playbook = describe(briefing)["playbook"]

    assert [n["label"] for n in playbook["needs"]] == [n["text_en"] for n in playbook["needs"]]
    with translation.override("zh-hans"):
        playbook = describe(briefing)["playbook"]
    assert all(entry["label"] == entry["text"] for entry in playbook["needs"] + playbook["opportunities"])


def test_playbook_for_an_industry_without_entries_is_empty():
    PlaybookEntry.objects.filter(industry=Industry.MANUFACTURING).delete()

    assert playbook_for(Industry.MANUFACTURING) == {"needs": [], "opportunities": []}


# --- customer_briefing -------------------------------------------------------------------------------


def test_briefing_shows_the_customers_basics(power_customer):
    basics = customer_briefing(power_customer, user=SYSTEM, today=TODAY)["customer"]

    assert basics["name"] == "国网某市供电公司"
    assert basics["industry"] == Industry.POWER_ENERGY
    assert basics["tier"] == "B"
    assert basics["account_manager"] == power_customer.account_manager
    assert basics["account_manager_name"] == "伟 王"


def test_briefing_carries_the_playbook_of_the_customers_own_industry(power_customer):
    playbook = customer_briefing(power_customer, user=SYSTEM, today=TODAY)["playbook"]

    power = PlaybookEntry.objects.filter(industry=Industry.POWER_ENERGY)
    assert [n["text"] for n in playbook["needs"]] == list(
        power.filter(kind="need").order_by("seq").values_list("text", flat=True)
    )
    assert [o["text"] for o in playbook["opportunities"]] == list(
        power.filter(kind="opportunity").order_by("seq").values_list("text", flat=True)
    )
    assert playbook == playbook_for(Industry.POWER_ENERGY) != playbook_for(Industry.FINANCE)


def test_briefing_of_a_customer_in_an_industry_without_playbook_has_empty_lists():
    PlaybookEntry.objects.filter(industry=Industry.OTHER).delete()
    customer = CustomerFactory(industry=Industry.OTHER)

    assert customer_briefing(customer, user=SYSTEM, today=TODAY)["playbook"] == {
        "needs": [],
        "opportunities": [],
    }


def test_briefing_shows_the_stage_of_the_active_enrolment_only(power_customer):
    assert customer_briefing(power_customer, user=SYSTEM, today=TODAY)["stage"] is None

    enrol(power_customer, stage=Stage.PUBLICITY, status=Enrolment.Status.COMPLETED)
    assert customer_briefing(power_customer, user=SYSTEM, today=TODAY)["stage"] is None

    enrol(power_customer, stage=Stage.WIN_BACK)
    stage = customer_briefing(power_customer, user=SYSTEM, today=TODAY)["stage"]
    assert stage["stage"] == Stage.WIN_BACK
    assert describe(customer_briefing(power_customer, user=SYSTEM, today=TODAY))["stage"]["label"] == (
        "targeted win-back"
    )


def test_briefing_orders_key_persons_by_their_role_in_the_decision_chain(power_customer):
    for name, role in [
        ("赵门卫", DecisionRole.GATEKEEPER),
        ("钱用户", DecisionRole.USER),
        ("孙未定", ""),
        ("李影响", DecisionRole.INFLUENCER),
        ("周决策", DecisionRole.DECISION_MAKER),
        ("吴决策", DecisionRole.DECISION_MAKER),
    ]:
        KeyPersonFactory(customer=power_customer, name=name, decision_role=role)

    persons = customer_briefing(power_customer, user=SYSTEM, today=TODAY)["key_persons"]

    assert [p["decision_role"] for p in persons] == [
        DecisionRole.DECISION_MAKER,
        DecisionRole.DECISION_MAKER,
        DecisionRole.INFLUENCER,
        DecisionRole.USER,
        DecisionRole.GATEKEEPER,
        "",
    ]
    described = describe(customer_briefing(power_customer, user=SYSTEM, today=TODAY))["key_persons"]
    assert described[0]["decision_role_label"] == "decision maker"
    assert described[-1]["decision_role_label"] == ""


def test_briefing_lists_only_products_expiring_within_180_days_and_flags_competitors(power_customer):
    ProductHoldingFactory(
        customer=power_customer, product="已到期专线", expiry_date=TODAY - timedelta(days=1)
    )
    ProductHoldingFactory(
        customer=power_customer,
        product="视频监控",
        provider="竞争对手A",
        expiry_date=TODAY + timedelta(days=10),
    )
    ProductHoldingFactory(
        customer=power_customer,
        product="物联网卡",
        provider="本公司",
        ownership=Ownership.OURS,
        expiry_date=TODAY + timedelta(days=180),
    )
    ProductHoldingFactory(
        customer=power_customer, product="远期合同", expiry_date=TODAY + timedelta(days=181)
    )
    ProductHoldingFactory(customer=power_customer, product="无到期日", expiry_date=None)
    ProductHoldingFactory(product="别家客户的产品", expiry_date=TODAY + timedelta(days=5))

    products = customer_briefing(power_customer, user=SYSTEM, today=TODAY)["expiring_products"]

    assert [(p["product"], p["competitor"], p["days_left"]) for p in products] == [
        ("视频监控", True, 10),
        ("物联网卡", False, 180),
    ]


def test_briefing_lists_open_leads_most_urgent_first_and_leaves_closed_ones_out(power_customer):
    LeadFactory(customer=power_customer, description="低：会议室云视讯", urgency="low")
    LeadFactory(customer=power_customer, description="高：5G切片专网试点", urgency="high", status="following")
    LeadFactory(customer=power_customer, description="已赢：行业短信", status="won", won_value=Decimal(12000))
    LeadFactory(customer=power_customer, description="已输：IDC托管", status="lost")

    leads = customer_briefing(power_customer, user=SYSTEM, today=TODAY)["open_leads"]

    assert [lead["description"] for lead in leads] == ["高：5G切片专网试点", "低：会议室云视讯"]
    assert {lead["status"] for lead in leads} <= set(Lead.OPEN_STATUSES)


def test_briefing_shows_the_next_goals_of_the_last_approved_summary(power_customer):
    assert customer_briefing(power_customer, user=SYSTEM, today=TODAY)["last_summary"] is None

    enrolment = enrol(power_customer)
    summarised_visit(enrolment, 1, status="approved", next_goals="约见信息中心主任", approved_days_ago=20)
    summarised_visit(enrolment, 2, status="approved", next_goals="提交配网5G切片方案", approved_days_ago=5)
    summarised_visit(enrolment, 3, status="rework", next_goals="尚未审核通过的目标")

    summary = customer_briefing(power_customer, user=SYSTEM, today=TODAY)["last_summary"]

    assert summary["next_goals"] == "提交配网5G切片方案"
    assert summary["visit_number"] == 2


def test_briefing_reads_a_fully_populated_customer_in_a_bounded_number_of_queries(
    power_customer, manager, django_assert_max_num_queries
):
    enrolment = enrol(power_customer)
    for number in range(1, 4):
        summarised_visit(
            enrolment, number, status="approved", next_goals=f"目标{number}", approved_days_ago=number
        )
    for role in DecisionRole.values * 3:
        KeyPersonFactory(customer=power_customer, decision_role=role)
    for days in range(0, 200, 20):
        ProductHoldingFactory(customer=power_customer, expiry_date=TODAY + timedelta(days=days))
    for urgency in ["high", "medium", "low"] * 3:
        LeadFactory(customer=power_customer, urgency=urgency, owner=UserFactory())
    customer = type(power_customer).objects.get(pk=power_customer.pk)
    manager = type(manager).objects.get(pk=manager.pk)  # a fresh request: roles not cached

    # the reader's roles and access, account manager, stage, key persons, products, leads, last
    # summary, playbook, open support requests, visits
    with django_assert_max_num_queries(11):
        briefing = customer_briefing(customer, user=manager, today=TODAY)
        [lead["owner"].username for lead in briefing["open_leads"]]

    assert len(briefing["key_persons"]) == 12
    assert len(briefing["open_leads"]) == 9
    assert briefing["playbook"]["needs"]


# --- who may read it ---------------------------------------------------------------------------------


def test_the_briefing_is_refused_to_someone_who_may_not_read_the_customer(power_customer):
    for outsider in (
        UserFactory(roles=["account_manager"]),
        UserFactory(roles=["support_staff"]),
        UserFactory(roles=["team_leader"]),
        None,
    ):
        with pytest.raises(NotPermitted):
            customer_briefing(power_customer, user=outsider, today=TODAY)


def test_the_manager_leadership_and_the_support_engineer_named_on_a_visit_may_read_the_briefing(
    power_customer, manager
):
    engineer = UserFactory(roles=["support_staff"])
    visit = Visit.objects.create(
        enrolment=enrol(power_customer),
        customer=power_customer,
        number=1,
        stage=Stage.INFORMATION_GATHERING,
        planned_date=TODAY,
        account_manager=manager,
        support_staff=engineer,
    )
    for reader in (manager, UserFactory(roles=["leadership"]), visit.support_staff):
        assert (
            customer_briefing(power_customer, user=reader, today=TODAY)["customer"]["name"]
            == "国网某市供电公司"
        )
