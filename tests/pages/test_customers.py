"""My customers: the list (tier, suggested tier, stage, next visit, open leads; filters, search,
pages; a fixed number of queries), the customer page with every record, its change history and the
briefing, and who may read which."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onsite.models import Customer, DecisionRole, Industry, Ownership, SupportRequest, Tier, Urgency
from onsite.services.customers import save_key_person, save_product, update_customer
from onsite.services.leads import create_lead
from onsite.services.standards import change_tier
from tests.factories import UserFactory
from tests.onsite.factories import SupportRequestFactory, TeamFactory, manager_in
from tests.onsite.flow import customer_of, enrol, new_programme
from tests.pages.clients import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def power(org):
    """Qian's power company: enrolled, two key persons, a competitor's contract ending soon, an
    open lead, an open support request and a tier changed by the team leader."""
    customer = customer_of(
        org, code="HF-001", name="合肥供电公司", industry=Industry.POWER_ENERGY, tier=Tier.B
    )
    enrol(org, new_programme(org), customer)
    save_key_person(
        customer=customer,
        name="王总",
        values={"title": "总经理", "decision_role": DecisionRole.DECISION_MAKER},
        user=org.manager,
    )
    save_key_person(
        customer=customer,
        name="李工",
        values={"title": "信息中心主任", "decision_role": DecisionRole.INFLUENCER},
        user=org.manager,
    )
    today = timezone.localdate()
    save_product(
        customer=customer,
        product="专线100M",
        provider="电信",
        values={"ownership": Ownership.COMPETITOR, "expiry_date": today + timedelta(days=30)},
        user=org.manager,
    )
    save_product(
        customer=customer,
        product="云视讯",
        provider="移动",
        values={"ownership": Ownership.OURS, "expiry_date": today + timedelta(days=400)},
        user=org.manager,
    )
    create_lead(
        customer=customer,
        description="机房监控改造",
        urgency=Urgency.HIGH,
        estimated_value="50000",
        user=org.manager,
    )
    SupportRequestFactory(
        customer=customer, description="勘察变电站机房", status=SupportRequest.Status.REQUESTED
    )
    change_tier(customer=customer, tier=Tier.A, reason="年度收入大幅增长", user=org.leader)
    update_customer(customer=customer, values={"informatization_status": "已建成调度系统"}, user=org.manager)
    return customer


# --- the list -------------------------------------------------------------------------------------


def test_a_manager_lists_their_customers_with_tier_stage_next_visit_and_open_leads_in_chinese(org, power):
    customer_of(org, manager=org.other_manager, name="吴的客户")

    page = signed_in(org.manager).get("/customers/").content.decode()

    assert "我的客户" in page
    assert "合肥供电公司" in page and "HF-001" in page
    assert "吴的客户" not in page
    assert "宣传" in page  # the programme stage, in Chinese
    assert "未入组" not in page


def test_the_list_shows_the_suggested_tier_when_it_differs(org):
    # A small customer placed in tier A by hand: its figures suggest less.
    customer_of(org, name="小客户", tier=Tier.A, monthly_value=0, potential=1)

    page = signed_in(org.manager).get("/customers/").content.decode()

    assert "建议" in page


def test_the_list_filters_by_tier_and_stage_and_searches_code_or_name(org, power):
    customer_of(org, code="HF-002", name="合肥银行", tier=Tier.C)
    client = signed_in(org.manager)

    assert "合肥银行" not in client.get("/customers/", {"tier": "A"}).content.decode()
    assert "合肥供电公司" in client.get("/customers/", {"tier": "A"}).content.decode()
    assert "合肥银行" not in client.get("/customers/", {"stage": "publicity"}).content.decode()
    assert "合肥供电公司" in client.get("/customers/", {"q": "供电"}).content.decode()
    assert "合肥供电公司" not in client.get("/customers/", {"q": "hf-002"}).content.decode()
    assert "合肥银行" in client.get("/customers/", {"q": "hf-002"}).content.decode()


def test_an_unknown_tier_in_the_filter_is_shown_at_the_field_not_a_crash(org, power):
    response = signed_in(org.manager).get("/customers/", {"tier": "Z"})

    assert response.status_code == 200
    assert "未知的服务等级：Z。" in response.content.decode()


def test_the_team_leader_lists_the_teams_customers_and_leadership_all_with_a_region_filter(org, power):
    customer_of(org, manager=org.other_manager, name="吴的客户")
    outsider = manager_in(TeamFactory(), "feng")
    customer_of(org, manager=outsider, name="别组客户")

    leader_page = signed_in(org.leader).get("/customers/").content.decode()
    director_page = signed_in(org.director).get("/customers/").content.decode()

    assert "合肥供电公司" in leader_page and "吴的客户" in leader_page and "别组客户" not in leader_page
    assert "别组客户" in director_page and 'name="region"' in director_page
    assert 'name="region"' not in leader_page
    county_only = signed_in(org.director).get("/customers/", {"region": org.county.pk}).content.decode()
    assert "合肥供电公司" not in county_only


def test_the_list_is_paginated(org):
    for number in range(30):
        customer_of(org, code=f"P-{number:03d}")
    client = signed_in(org.manager)

    first = client.get("/customers/").content.decode()
    second = client.get("/customers/", {"page": 2}).content.decode()

    assert "P-000" in first and "P-029" not in first
    assert "P-029" in second
    assert "第 2 页" in second


def test_the_list_answers_in_the_same_number_of_queries_with_3_and_with_60_customers(org):
    programme = new_programme(org)
    client = signed_in(org.manager)

    def customers_up_to(how_many: int) -> int:
        for number in range(Customer.objects.count(), how_many):
            customer = customer_of(org, code=f"Q-{number:03d}")
            if number % 2:
                enrol(org, programme, customer)
                create_lead(customer=customer, description="线索", urgency=Urgency.LOW, user=org.manager)
        client.get("/customers/")  # sessions, translations and caches warmed
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/customers/").status_code == 200
        return len(queries)

    assert customers_up_to(3) == customers_up_to(60)


# --- the customer page ----------------------------------------------------------------------------


def test_the_customer_page_shows_every_record_and_the_change_history(org, power):
    page = signed_in(org.manager).get(f"/customers/{power.pk}/").content.decode()

    for text in [
        "合肥供电公司",
        "王总",
        "李工",
        "决策者",  # the decision chain
        "专线100M",
        "云视讯",
        "机房监控改造",
        "勘察变电站机房",
        "年度收入大幅增长",  # the tier's history, with its reason
        "已建成调度系统",
        "变更记录",
    ]:
        assert text in page, text
    assert "competitor-expiring" in page  # the competitor's contract ending soon is highlighted
    history = page[page.index('class="table table-sm table-cards table-cards-flat change-history"') :]
    assert "决策链角色: — → 决策者" in history  # codes in the reader's words, not "decision_maker"
    assert "decision_maker" not in page and "competitor<" not in page


def test_the_customer_page_carries_the_briefing(org, power):
    page = signed_in(org.manager).get(f"/customers/{power.pk}/").content.decode()

    briefing = page[page.index('class="briefing') :]
    assert "即将到期的产品" in briefing and "专线100M" in briefing
    assert "竞争对手" in briefing
    assert "机房监控改造" in briefing
    assert "勘察变电站机房" in briefing
    assert "王总" in briefing


def test_the_customer_page_answers_in_a_bounded_number_of_queries(org, power):
    client = signed_in(org.manager)
    client.get(f"/customers/{power.pk}/")

    with CaptureQueriesContext(connection) as queries:
        client.get(f"/customers/{power.pk}/")

    assert len(queries) <= 40, [q["sql"] for q in queries]


# --- who may read which ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("manager", 200), ("other_manager", 404), ("leader", 200), ("coordinator", 200), ("director", 200)],
)
def test_who_may_open_a_customer_page(org, power, who, status):
    assert signed_in(getattr(org, who)).get(f"/customers/{power.pk}/").status_code == status


def test_a_manager_of_another_team_gets_404_and_never_the_data(org, power):
    stranger = UserFactory(username="feng", roles=["account_manager"])

    response = signed_in(stranger).get(f"/customers/{power.pk}/")

    assert response.status_code == 404
    assert "合肥供电公司" not in response.content.decode()


def test_a_customer_that_does_not_exist_is_404(org):
    assert signed_in(org.manager).get("/customers/999999/").status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in(org, power):
    response = Client().get(f"/customers/{power.pk}/")

    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_navigation_offers_my_customers_to_managers_leaders_and_leadership_not_support(org):
    assert "我的客户" in signed_in(org.manager).get("/customers/").content.decode()
    assert "我的客户" in signed_in(org.director).get("/customers/").content.decode()
    support_page = signed_in(org.support["solution"]).get("/customers/").content.decode()
    assert 'href="/customers/">' not in support_page


def test_the_pages_speak_english_on_request(org, power):
    client = signed_in(org.manager)
    client.post("/i18n/setlang/", {"language": "en", "next": "/customers/"})

    assert "My customers" in client.get("/customers/").content.decode()
    assert "Change history" in client.get(f"/customers/{power.pk}/").content.decode()
