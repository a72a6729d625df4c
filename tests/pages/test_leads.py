"""My leads as a funnel board: the open leads in a column per stage with their customer, value,
urgency and days in the stage; moving one forward, losing one with a reason (and refused without
one, at the field, nothing changed); the closed ones below; who may see and act on which."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onsite.models import FunnelStage, Lead, LeadStageMove, Urgency
from onsite.services.leads import create_lead, lose_lead
from tests.factories import UserFactory
from tests.onsite.flow import customer_of
from tests.pages.clients import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(org):
    return customer_of(org, code="HF-001", name="合肥供电公司")


@pytest.fixture
def lead(org, customer):
    made = create_lead(
        customer=customer,
        description="机房监控改造",
        urgency=Urgency.HIGH,
        estimated_value="50000",
        user=org.manager,
        at=timezone.now() - timedelta(days=3),
    )
    return made


def refreshed(lead: Lead) -> Lead:
    return Lead.objects.get(pk=lead.pk)


# --- the board ------------------------------------------------------------------------------------


def test_the_board_shows_each_open_lead_in_its_stages_column_with_customer_value_urgency_and_days(org, lead):
    page = signed_in(org.manager).get("/leads/").content.decode()

    assert "我的线索" in page
    column = page[page.index('id="stage-preparation"') : page.index('id="stage-customer_profile"')]
    assert "机房监控改造" in column
    assert "合肥供电公司" in column
    assert "50000" in column
    assert "高" in column
    assert "3 天" in column


def test_the_move_form_offers_only_later_stages(org, lead):
    page = signed_in(org.manager).get("/leads/").content.decode()

    select = page[page.index(f'id="move-{lead.pk}-stage"') :]
    select = select[: select.index("</select>")]
    assert 'value="preparation"' not in select
    assert 'value="customer_profile"' in select and 'value="solution"' in select
    assert 'value="won"' not in select


def test_another_managers_leads_are_not_on_the_board(org, lead):
    other = customer_of(org, manager=org.other_manager, name="吴的客户")
    create_lead(customer=other, description="吴的线索", urgency=Urgency.LOW, user=org.other_manager)

    page = signed_in(org.manager).get("/leads/").content.decode()

    assert "机房监控改造" in page and "吴的线索" not in page


def test_closed_leads_are_listed_in_a_collapsed_section_below(org, lead):
    lose_lead(lead=lead, reason="客户预算取消", user=org.manager)

    page = signed_in(org.manager).get("/leads/").content.decode()

    closed = page[page.index('class="mt-4 closed-leads"') :]
    assert "机房监控改造" in closed and "客户预算取消" in closed
    assert "<details" in page[page.index("closed-leads") - 40 : page.index("closed-leads")]


def test_the_board_answers_in_the_same_number_of_queries_however_many_leads(org, customer):
    client = signed_in(org.manager)

    def leads_up_to(how_many: int) -> int:
        for number in range(Lead.objects.count(), how_many):
            create_lead(customer=customer, description=f"线索{number}", urgency=Urgency.LOW, user=org.manager)
        client.get("/leads/")
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/leads/").status_code == 200
        return len(queries)

    assert leads_up_to(3) == leads_up_to(40)


# --- moving and losing ----------------------------------------------------------------------------


def test_a_manager_moves_a_lead_forward(org, lead):
    response = signed_in(org.manager).post(
        f"/leads/{lead.pk}/move/", {"stage": FunnelStage.ENTRY_POINT, "note": "找到信息中心主任"}
    )

    assert (response.status_code, response.url) == (302, "/leads/")
    moved = refreshed(lead)
    assert (moved.stage, moved.status) == (FunnelStage.ENTRY_POINT, Lead.Status.FOLLOWING)
    assert LeadStageMove.objects.filter(
        lead=lead, to_stage=FunnelStage.ENTRY_POINT, note="找到信息中心主任"
    ).exists()


def test_moving_a_lead_backwards_is_refused_at_the_stage_field_with_the_note_kept(org, lead):
    client = signed_in(org.manager)
    client.post(f"/leads/{lead.pk}/move/", {"stage": FunnelStage.PAIN_POINTS})

    response = client.post(f"/leads/{lead.pk}/move/", {"stage": FunnelStage.ENTRY_POINT, "note": "我的备注"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "线索在销售漏斗中只能向前推进" in page
    assert "我的备注" in page
    assert refreshed(lead).stage == FunnelStage.PAIN_POINTS


def test_a_manager_records_a_lead_lost_with_a_reason(org, lead):
    response = signed_in(org.manager).post(f"/leads/{lead.pk}/lose/", {"lost_reason": "客户预算取消"})

    assert response.status_code == 302
    lost = refreshed(lead)
    assert (lost.status, lost.lost_reason, lost.stage) == (
        Lead.Status.LOST,
        "客户预算取消",
        FunnelStage.PREPARATION,
    )


def test_losing_a_lead_without_a_reason_is_refused_at_the_field_and_changes_nothing(org, lead):
    response = signed_in(org.manager).post(f"/leads/{lead.pk}/lose/", {"lost_reason": "  ", "note": "没谈成"})

    assert response.status_code == 200
    page = response.content.decode()
    form = page[page.index(f'action="/leads/{lead.pk}/lose/"') :]
    form = form[: form.index("</form>")]
    reason = form[form.index('name="lost_reason"') - 200 :]
    assert "is-invalid" in reason[:250]
    assert '<div class="invalid-feedback">请说明丢单原因。</div>' in form
    assert "没谈成" in form  # the note typed is kept
    assert '<details class="lead-action mt-1" open>' in page
    assert refreshed(lead).status == Lead.Status.NEW


def test_the_actions_need_the_csrf_token(org, lead):
    strict = signed_in(org.manager, enforce_csrf_checks=True)

    assert strict.post(f"/leads/{lead.pk}/move/", {"stage": FunnelStage.ENTRY_POINT}).status_code == 403
    assert strict.post(f"/leads/{lead.pk}/lose/", {"lost_reason": "x"}).status_code == 403
    assert refreshed(lead).status == Lead.Status.NEW


def test_the_actions_answer_only_to_post(org, lead):
    assert signed_in(org.manager).get(f"/leads/{lead.pk}/move/").status_code == 405


# --- who may act on which -------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["move", "lose"])
def test_another_managers_lead_is_404_on_any_action_and_unchanged(org, lead, action):
    data = {"stage": FunnelStage.ENTRY_POINT, "lost_reason": "x"}

    assert signed_in(org.other_manager).post(f"/leads/{lead.pk}/{action}/", data).status_code == 404
    assert (
        signed_in(UserFactory(roles=["account_manager"]))
        .post(f"/leads/{lead.pk}/{action}/", data)
        .status_code
        == 404
    )
    assert refreshed(lead).status == Lead.Status.NEW


def test_the_team_leader_sees_the_teams_leads_and_may_move_them(org, lead):
    client = signed_in(org.leader)

    assert "机房监控改造" in client.get("/leads/").content.decode()
    assert client.post(f"/leads/{lead.pk}/move/", {"stage": FunnelStage.SALES_VISIT}).status_code == 302
    assert refreshed(lead).stage == FunnelStage.SALES_VISIT


def test_leadership_reads_the_leads_without_action_buttons_and_a_post_is_403(org, lead):
    client = signed_in(org.director)

    page = client.get("/leads/").content.decode()
    assert "机房监控改造" in page
    assert f"/leads/{lead.pk}/move/" not in page and f"/leads/{lead.pk}/lose/" not in page
    assert client.post(f"/leads/{lead.pk}/move/", {"stage": FunnelStage.ENTRY_POINT}).status_code == 403
    assert client.post(f"/leads/{lead.pk}/lose/", {"lost_reason": "x"}).status_code == 403
    assert refreshed(lead).status == Lead.Status.NEW


def test_the_navigation_offers_my_leads_to_managers(org, lead):
    assert 'href="/leads/"' in signed_in(org.manager).get("/customers/").content.decode()


def test_a_lead_at_the_solution_stage_is_recorded_won_with_its_value(org, lead):
    client = signed_in(org.manager)
    client.post(f"/leads/{lead.pk}/move/", {"stage": FunnelStage.SOLUTION})
    page = client.get("/leads/").content.decode()
    assert f"/leads/{lead.pk}/win/" in page and f'id="move-{lead.pk}-stage"' not in page

    refused = client.post(f"/leads/{lead.pk}/win/", {"won_value": "", "note": "签约"})
    assert refused.status_code == 200
    assert "请填写成交金额。" in refused.content.decode()
    assert refreshed(lead).status == Lead.Status.FOLLOWING

    assert client.post(f"/leads/{lead.pk}/win/", {"won_value": "48000"}).status_code == 302
    won = refreshed(lead)
    assert (won.status, won.stage, str(won.won_value)) == (Lead.Status.WON, FunnelStage.WON, "48000.00")


def test_winning_before_the_solution_stage_is_refused_with_the_reason_on_the_card(org, lead):
    response = signed_in(org.manager).post(f"/leads/{lead.pk}/win/", {"won_value": "48000"})

    assert response.status_code == 200
    card = response.content.decode()
    card = card[card.index(f'id="lead-{lead.pk}"') :]
    assert 'role="alert"' in card[: card.index("</article>")]
    assert refreshed(lead).status == Lead.Status.NEW
