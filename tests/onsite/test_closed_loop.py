"""Issue 3's whole loop, on SQLite and PostgreSQL: screen → enrol → publicity visit → summary →
leads, support request, products, incentives → team-leader approval → stage change → information
gathering → win-back task from an expiring competitor contract → lead won → statement totals."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from onsite.models import (
    CustomerChange,
    IncentiveRecord,
    Industry,
    KeyPerson,
    Lead,
    ProductHolding,
    SupportRequest,
    Visit,
    WinBackTarget,
)
from onsite.selectors.incentives import incentive_statement
from onsite.selectors.screening import ScreeningCriteria, describe, screen_customers
from onsite.services.incentives import request_incentive_review
from onsite.services.leads import move_lead_stage, update_lead
from onsite.services.programmes import enrol_customer
from onsite.services.winback import start_win_back_targets
from tests.onsite.flow import (
    APPROVE,
    FACTORS,
    RESOURCES,
    SUMMARY,
    SUPPORT,
    at,
    complete,
    current_visit,
    customer_of,
    new_programme,
    open_task,
    plan,
    record,
    refreshed,
    run_visit,
    stage_review,
)
from workflows.clock import frozen
from workflows.models import HumanTask, ProcessInstance

pytestmark = pytest.mark.django_db


def records_of(person, period: str) -> list:
    year, month = map(int, period.split("-"))
    rows = IncentiveRecord.objects.filter(person=person, period=date(year, month, 1)).select_related("lead")
    return sorted(
        (r.event, r.lead.description if r.lead else None, r.points, r.amount, r.status) for r in rows
    )


def test_screen_enrol_visit_summarise_approve_advance_win_back_and_pay(org):
    government = customer_of(
        org,
        name="滨湖新区政务服务中心",
        industry=Industry.PARTY_GOVERNMENT_MILITARY,
        monthly_value=5000,
        potential=2,
    )
    bank = customer_of(
        org, name="江淮城市商业银行", industry=Industry.FINANCE, monthly_value=80000, potential=4
    )
    customer_of(
        org,
        org.other_manager,
        name="庐州康健医药集团",
        industry=Industry.HEALTHCARE_PHARMA,
        monthly_value=30000,
        potential=5,
    )
    customer_of(org, name="街角便利店", industry=Industry.RETAIL, monthly_value=800, potential=1)

    # Screening: party and government customers are always in; the rest by score.
    screened = screen_customers(
        ScreeningCriteria(region=org.branch, min_score=Decimal(50)), user=org.coordinator
    )
    assert [s.customer.name for s in screened] == [
        "江淮城市商业银行",
        "庐州康健医药集团",
        "滨湖新区政务服务中心",
    ]
    assert screened[2].always_in and screened[2].score < 50

    programme = new_programme(org)
    pilot = {s.customer.pk: s for s in screened}
    enrolment = enrol_customer(
        programme=programme,
        customer=government,
        factors=FACTORS["publicity"],
        user=org.coordinator,
        screening_score=pilot[government.pk].score,
        screening_reason=" ".join(describe(reason) for reason in pilot[government.pk].reasons),
    )
    bank_enrolment = enrol_customer(
        programme=programme, customer=bank, factors=FACTORS["information_gathering"], user=org.coordinator
    )
    assert (enrolment.stage, bank_enrolment.stage) == ("publicity", "information_gathering")

    # Publicity visit 1, with a solutions engineer; summary on time, approved first time.
    visit = current_visit(enrolment)
    with frozen(at(2026, 11, 30, 9)):
        complete(visit, "Task_plan_visit", org.manager, plan(needs_support=True, date="2026-12-01"))
        complete(visit, "Task_prepare_resources", org.manager, RESOURCES)
        complete(visit, "Task_support_preparation", org.support["solution"], SUPPORT)
    with frozen(at(2026, 12, 1, 12)):
        complete(visit, "Task_record_visit", org.manager, record(at(2026, 12, 1, 10)))
    with frozen(at(2026, 12, 1, 17)):
        complete(visit, "Task_write_summary", org.manager, SUMMARY)
    with frozen(at(2026, 12, 2, 9)):
        complete(visit, "Task_review_summary", org.leader, APPROVE)

    made = Visit.objects.get(instance=visit)
    assert (made.status, made.summary.status, made.summary.on_time) == ("closed", "approved", True)
    government.refresh_from_db()
    assert government.informatization_status == SUMMARY["informatization_status"]
    assert set(
        ProductHolding.objects.filter(customer=government).values_list("product", "ownership", "expiry_date")
    ) == {
        ("视频会议", "competitor", date(2027, 3, 31)),
        ("互联网专线", "ours", date(2028, 6, 30)),
    }
    persons = {p.name: p for p in KeyPerson.objects.filter(customer=government)}
    assert (persons["王主任"].decision_role, persons["王主任"].department) == ("decision_maker", "中心办公室")
    assert (persons["张科长"].decision_role, persons["张科长"].contact) == ("influencer", "0551-12345678")
    history = CustomerChange.objects.filter(customer=government, source="summary")
    assert set(history.values_list("visit", "actor")) == {(made.pk, org.manager.pk)}
    assert history.filter(entity="product", action="created").count() == 2

    urgent, medium = Lead.objects.filter(customer=government).order_by("pk")
    assert (urgent.urgency, urgent.win_back, urgent.owner, urgent.source_visit) == (
        "high",
        True,
        org.manager,
        made,
    )
    # Every lead is followed up, the urgent one within days and the medium one within a week.
    follow_up = open_task(urgent.follow_up, "Task_follow_up_lead")
    later = open_task(medium.follow_up, "Task_follow_up_lead")
    assert follow_up.assignee == later.assignee == org.manager
    assert later.due_at - follow_up.due_at == timedelta(days=4)

    request = SupportRequest.objects.get(customer=government)
    assert (request.status, request.assignee, request.source_visit) == (
        "dispatched",
        org.support["solution"],
        made,
    )
    handling = open_task(request.instance, "Task_handle_support")
    assert handling.assignee == org.support["solution"]
    # Tier B's standard: taken up within 4 hours (the task's first deadline) and completed within
    # 72 hours of the request, before the day asked.
    assert handling.due_at == request.respond_by == request.requested_at + timedelta(hours=4)
    assert request.complete_by == request.requested_at + timedelta(hours=72) < at(2026, 12, 15, 18)
    assert not WinBackTarget.objects.exists()  # the competitor's contract ends beyond the 90-day window

    # The engineer answers, the manager sees the answer and confirms it.
    with frozen(at(2026, 12, 10, 16)):
        complete(
            request.instance,
            "Task_handle_support",
            org.support["solution"],
            {"support_result": "方案已提交客户"},
        )
    confirm = open_task(request.instance, "Task_confirm_support")
    assert confirm.assignee == org.manager
    assert (
        confirm.instance.human_tasks.get(bpmn_id="Task_handle_support").data["support_result"]
        == "方案已提交客户"
    )
    with frozen(at(2026, 12, 11, 9)):
        complete(request.instance, "Task_confirm_support", org.manager, {"manager_feedback": "客户认可"})
    assert refreshed(request).status == "confirmed"

    # The team leader judges publicity done: the stage moves in the BPMN and is mirrored here.
    with frozen(at(2026, 12, 2, 10)):
        complete(refreshed(enrolment).instance, "Task_stage_review", org.leader, stage_review("advance"))
    enrolment.refresh_from_db()
    assert enrolment.stage == "information_gathering"
    change = enrolment.stage_changes.last()
    assert (change.from_stage, change.to_stage, change.actor, change.reason) == (
        "publicity",
        "information_gathering",
        org.leader,
        "客户信任度提升",
    )
    with frozen(at(2026, 12, 9, 10)):
        second = run_visit(enrolment, org, visited_at=at(2026, 12, 8, 10))
    assert Visit.objects.get(instance=second).stage == "information_gathering"

    # January: the competitor's video conferencing contract is now within 90 days of its end.
    assert start_win_back_targets(today=date(2027, 1, 5)) != []
    assert start_win_back_targets(today=date(2027, 1, 6)) == []  # once per product and expiry date
    target = WinBackTarget.objects.get()
    assert (target.product.product, target.expiry_date, target.account_manager) == (
        "视频会议",
        date(2027, 3, 31),
        org.manager,
    )
    with frozen(at(2027, 1, 6, 9)):
        complete(
            target.instance,
            "Task_plan_win_back",
            org.manager,
            {
                "decision": "pursue",
                "approach": "以云视讯替换到期的视频会议系统",
                "our_product": "云视讯",
                "estimated_value": 150000,
                "urgency": "high",
            },
        )
    target.refresh_from_db()
    win_back = target.lead
    assert (target.status, win_back.win_back, win_back.displaces) == ("pursued", True, target.product)

    # The win-back lead reaches the solution stage and is won in its follow-up tasks; the summary's
    # urgent lead is moved along the funnel and won from its page.
    with frozen(at(2027, 1, 15, 10)):
        complete(
            win_back.follow_up,
            "Task_follow_up_lead",
            org.manager,
            {"lead_outcome": "following", "follow_up_note": "提交替换方案", "stage": "solution"},
        )
    with frozen(at(2027, 1, 20, 15)):
        complete(
            win_back.follow_up,
            "Task_follow_up_lead",
            org.manager,
            {"lead_outcome": "won", "follow_up_note": "签约", "won_value": 150000},
        )
    move_lead_stage(lead=urgent, stage="solution", user=org.manager, at=at(2027, 1, 16, 10))
    update_lead(lead=urgent, status="won", won_value=120000, user=org.manager, at=at(2027, 1, 21, 10))
    assert refreshed(win_back).status == refreshed(urgent).status == "won"
    # Each won lead's follow-up asks for its after-sale follow-up (销售后), which records the product.
    assert open_task(urgent.follow_up, "Task_after_sale").assignee == org.manager
    with frozen(at(2027, 1, 28, 10)):
        complete(
            urgent.follow_up,
            "Task_after_sale",
            org.manager,
            {"after_sale_note": "回访使用情况，客户满意", "contract_expiry_date": "2030-01-20"},
        )
    assert refreshed(urgent).stage == "after_sale"
    assert refreshed(urgent.follow_up).status == ProcessInstance.Status.COMPLETED
    assert not HumanTask.objects.filter(instance=urgent.follow_up, status="open").exists()
    assert ProductHolding.objects.get(customer=government, product=urgent.product).expiry_date == date(
        2030, 1, 20
    )

    # December's records: the team leader rejects one and approves the rest.
    december = request_incentive_review(team=org.team, period=date(2026, 12, 1), user=org.leader)
    review_task = open_task(december.instance, "Task_review_incentives")
    assert review_task.assignee == org.leader
    rejected = IncentiveRecord.objects.get(event="lead_created", lead=medium)
    with frozen(at(2027, 1, 3, 9)):
        complete(
            december.instance,
            "Task_review_incentives",
            org.leader,
            {"rejections": [{"record_id": rejected.pk, "reason": "线索描述不完整"}]},
        )
    january = request_incentive_review(team=org.team, period=date(2027, 1, 1), user=org.leader)
    with frozen(at(2027, 2, 1, 9)):
        complete(january.instance, "Task_review_incentives", org.leader, {})

    assert records_of(org.manager, "2026-12") == [
        # Visit 1: made on its planned day, summary on time and approved first time, two leads.
        ("lead_created", "机房托管", Decimal("2.40"), Decimal("0.00"), "rejected"),  # 2 × 1.2 (medium)
        ("lead_created", "视频会议替换", Decimal("3.00"), Decimal("0.00"), "approved"),  # 2 × 1.5 (high)
        ("summary_first_pass", None, Decimal("3.00"), Decimal("10.00"), "approved"),
        ("summary_first_pass", None, Decimal("3.00"), Decimal("10.00"), "approved"),
        ("summary_on_time", None, Decimal("3.00"), Decimal("10.00"), "approved"),
        ("summary_on_time", None, Decimal("3.00"), Decimal("10.00"), "approved"),
        # Visit 2: the manager re-planned it for 12-01 but made it on 12-08, the date the weekly
        # cadence set: as planned (the cadence's date counts, not the manager's own).
        ("visit_as_planned", None, Decimal("5.00"), Decimal("20.00"), "approved"),
        ("visit_as_planned", None, Decimal("5.00"), Decimal("20.00"), "approved"),
    ]
    december_statement = incentive_statement(person=org.manager, period=date(2026, 12, 1), user=org.manager)
    assert (december_statement.points, december_statement.amount, december_statement.rejected) == (
        Decimal("25.00"),
        Decimal("80.00"),
        1,
    )
    january_statement = incentive_statement(person=org.manager, period=date(2027, 1, 1), user=org.manager)
    # A lead won: 20 points × 1.5 (high) + 2 per 10,000 CNY, and 200 CNY × 1.5 + 0.5 % of the value:
    # 150,000 CNY → 60 points, 1,050 CNY; 120,000 CNY → 54 points, 900 CNY.
    assert {line.event: (line.count, line.points, line.amount) for line in january_statement.lines} == {
        "lead_created": (1, Decimal("3.00"), Decimal("0.00")),
        "lead_won": (2, Decimal("114.00"), Decimal("1950.00")),
    }
    assert (january_statement.points, january_statement.amount) == (Decimal("117.00"), Decimal("1950.00"))
    # The engineer: the support request and the visit attended in December (the visit prepared in
    # November, in November's period, still waits for that month's review), and a share of the
    # urgent lead it helped win.
    engineer = org.support["solution"]
    assert [
        (line.event, line.points, line.amount)
        for line in incentive_statement(person=engineer, period=date(2026, 12, 1), user=org.leader).lines
    ] == [
        ("support_completed", Decimal("5.00"), Decimal("50.00")),
        ("visit_support_attended", Decimal("3.00"), Decimal("30.00")),
    ]
    prepared = IncentiveRecord.objects.get(person=engineer, event="visit_support_prepared")
    assert (prepared.period, prepared.status) == (date(2026, 11, 1), "pending")
    assert [
        (line.event, line.points, line.amount)
        for line in incentive_statement(person=engineer, period=date(2027, 1, 1), user=org.leader).lines
    ] == [("lead_contribution", Decimal("5.00"), Decimal("100.00"))]
