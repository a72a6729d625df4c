"""The one lock order (process family first, then domain rows), proved on PostgreSQL: the two paths of
every pair that meet on a family and a row run at the same moment in threads, many rounds over.
Neither may end in a deadlock or any other raw database error, each either succeeds or is refused,
and nothing either of them did is lost. SQLite serialises writers (BEGIN IMMEDIATE), so these pairs
cannot meet there."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta
from functools import partial

import pytest
from django.db import connection
from django.utils import timezone

from onsite.exceptions import OnsiteError
from onsite.models import (
    CustomerChange,
    Enrolment,
    IncentiveRecord,
    IncentiveRule,
    Lead,
    LeadActivity,
    LeadStageMove,
    ProductHolding,
    SupportRequest,
    Visit,
)
from onsite.services.leads import create_lead, move_lead_stage, record_after_sale, update_lead
from onsite.services.programmes import end_enrolment_early
from onsite.services.support import request_support
from onsite.services.winback import start_win_back_targets
from tests.onsite.factories import ProductHoldingFactory
from tests.onsite.flow import (
    APPROVE,
    PLAIN_SUMMARY,
    RESOURCES,
    complete,
    current_visit,
    customer_of,
    enrol,
    new_programme,
    open_task,
    plan,
    record,
    refreshed,
    summary,
)
from workflows import runtime
from workflows.models import HumanTask, ProcessInstance
from workflows.refusals import Refusal
from workflows.services import complete_task

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SQLite serialises writers"),
]
ROUNDS = 25
SUPPORT_RESULT = {"support_result": "已完成机房勘察，建议专线扩容至200M", "hours_spent": 3.5}
FOLLOW_UP = "Task_follow_up_lead"


@pytest.fixture
def slow_engine(monkeypatch):
    """Hold each engine run open a moment, so that the other path arrives while it holds its locks."""
    real = runtime.advance

    def advance_slowly(session):
        time.sleep(0.05)
        real(session)

    monkeypatch.setattr(runtime, "advance", advance_slowly)


def race(*calls) -> list:
    """Run the calls at once, each after a small random delay so the rounds try different
    interleavings; each outcome is "done" or the exception raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            time.sleep(random.uniform(0, 0.03))
            call()
            outcomes[index] = "done"
        except Exception as exc:  # judged by the caller
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def assert_done_or_refused(outcomes: list) -> None:
    """No deadlock, no raw database error: each path either did its work or was refused."""
    raw = [o for o in outcomes if o != "done" and not isinstance(o, Refusal)]
    assert raw == [], raw


def high_lead(org, customer) -> Lead:
    """At the solution stage: the only one a lead is won from."""
    return at_solution(
        org,
        create_lead(
            customer=customer, description="视频会议替换", product="云视讯", urgency="high", user=org.manager
        ),
    )


def at_solution(org, lead: Lead) -> Lead:
    return move_lead_stage(lead=lead, stage="solution", user=org.manager)


def assert_followed_up_to_the_end(lead: Lead) -> None:
    """The follow-up never outlives its lead: a lost lead's has ended, a won one's waits for the
    after-sale follow-up, once."""
    instance = refreshed(lead.follow_up)
    if lead.status == "lost":
        assert instance.status == ProcessInstance.Status.COMPLETED
    else:
        assert instance.status == ProcessInstance.Status.RUNNING
        assert HumanTask.objects.filter(instance=instance, status="open").count() == 1
        open_task(instance, "Task_after_sale")


def follow_up(outcome: str, **values) -> dict:
    return {"lead_outcome": outcome, "follow_up_note": "已与信息科张科长沟通替换方案", **values}


def test_closing_a_lead_while_its_follow_up_task_is_completed_never_deadlocks(org, slow_engine):
    customer = customer_of(org)
    for round_ in range(ROUNDS):
        lead = high_lead(org, customer)
        task = open_task(lead.follow_up, FOLLOW_UP)
        task_outcome = ["following", "won", "lost"][round_ % 3]
        data = follow_up(task_outcome, won_value=90000, lost_reason="预算取消")

        outcomes = race(
            partial(update_lead, lead=lead, status="won", user=org.manager, won_value=150000),
            partial(complete_task, task_id=task.pk, data=data, user=org.manager),
        )

        assert_done_or_refused(outcomes)
        lead = refreshed(lead)
        closed_by_manager, follow_up_done = (o == "done" for o in outcomes)
        # Nothing lost: each path that succeeded left its activity, and the lead ended closed.
        activities = list(LeadActivity.objects.filter(lead=lead).values_list("status_to", flat=True))
        assert activities.count("won") + activities.count("lost") == 1
        assert lead.status in ("won", "lost")
        if closed_by_manager:
            assert lead.won_value == 150000
        if follow_up_done:
            assert LeadActivity.objects.filter(lead=lead, note=data["follow_up_note"]).exists()
        assert closed_by_manager or follow_up_done
        assert_followed_up_to_the_end(lead)


def test_two_managers_closing_one_lead_at_once_close_it_once(org, slow_engine):
    customer = customer_of(org)
    for _ in range(ROUNDS):
        lead = high_lead(org, customer)

        outcomes = race(
            partial(update_lead, lead=lead, status="won", user=org.manager, won_value=150000),
            partial(update_lead, lead=lead, status="lost", user=org.manager, lost_reason="预算取消"),
        )

        assert_done_or_refused(outcomes)
        assert outcomes.count("done") == 1
        lead = refreshed(lead)
        assert lead.status == ("won" if outcomes[0] == "done" else "lost")
        assert_followed_up_to_the_end(lead)


def test_recording_the_after_sale_while_its_task_is_completed_records_it_once(org, slow_engine):
    customer = customer_of(org)
    for round_ in range(ROUNDS):
        lead = high_lead(org, customer)
        update_lead(lead=lead, status="won", user=org.manager, won_value=150000)
        task = open_task(lead.follow_up, "Task_after_sale")
        product = f"云视讯{round_}"
        Lead.objects.filter(pk=lead.pk).update(product=product)
        data = {"after_sale_note": "回访客户", "contract_expiry_date": "2030-01-31"}

        outcomes = race(
            partial(complete_task, task_id=task.pk, data=data, user=org.manager),
            partial(record_after_sale, lead=lead, user=org.leader, expiry_date="2030-01-31"),
        )

        assert_done_or_refused(outcomes)
        assert outcomes.count("done") == 1
        assert refreshed(lead).stage == "after_sale"
        assert LeadStageMove.objects.filter(lead=lead, to_stage="after_sale").count() == 1
        holding = ProductHolding.objects.get(customer=customer, product=product)
        changes = CustomerChange.objects.filter(entity="product", entity_id=holding.pk, source="after_sale")
        assert changes.count() == 1
        assert refreshed(lead.follow_up).status == ProcessInstance.Status.COMPLETED


def test_two_enrolments_of_one_customer_at_once_make_one_and_refuse_the_other(org, slow_engine):
    programmes = [new_programme(org), new_programme(org)]
    for round_ in range(ROUNDS):
        customer = customer_of(org)
        # Same programme in even rounds, two programmes in odd ones: each constraint is met.
        first, second = (programmes[0], programmes[round_ % 2])

        outcomes = race(partial(enrol, org, first, customer), partial(enrol, org, second, customer))

        assert_done_or_refused(outcomes)
        assert outcomes.count("done") == 1
        assert isinstance(next(o for o in outcomes if o != "done"), OnsiteError)
        enrolment = Enrolment.objects.get(customer=customer)
        assert enrolment.status == Enrolment.Status.ACTIVE
        assert ProcessInstance.objects.filter(business_key=customer.code, parent=None).count() == 1


PURSUE = {
    "decision": "pursue",
    "approach": "以云视讯替换竞争对手视频会议，首年八折",
    "our_product": "云视讯",
    "urgency": "high",
}


def test_two_pursuits_of_one_competitor_product_at_once_make_one_lead(org, slow_engine):
    today = timezone.localdate()
    for _ in range(ROUNDS):
        customer = customer_of(org)
        product = ProductHoldingFactory(customer=customer, expiry_date=today + timedelta(days=30))
        targets = start_win_back_targets(customer=customer, today=today)
        # Renewed with the competitor meanwhile: a second target for the same product.
        ProductHolding.objects.filter(pk=product.pk).update(expiry_date=today + timedelta(days=60))
        targets += start_win_back_targets(customer=customer, today=today)
        tasks = [open_task(target.instance, "Task_plan_win_back") for target in targets]

        outcomes = race(
            *(partial(complete_task, task_id=task.pk, data=PURSUE, user=org.manager) for task in tasks)
        )

        assert outcomes == ["done", "done"]
        (lead,) = Lead.objects.filter(displaces=product)
        assert [refreshed(t).lead for t in targets] == [lead, lead]
        assert [refreshed(t).instance.status for t in targets] == ["completed", "completed"]
        assert (
            ProcessInstance.objects.filter(process_id="lead_follow_up", business_key=customer.code).count()
            == 1
        )


def visit_waiting_for_review(org, programme, customer, summary_data):
    enrolment = enrol(org, programme, customer)
    visit = current_visit(enrolment)
    manager = customer.account_manager
    complete(visit, "Task_plan_visit", manager, plan(date=timezone.localdate().isoformat()))
    complete(visit, "Task_prepare_resources", manager, RESOURCES)
    complete(visit, "Task_record_visit", manager, record(timezone.now()))
    complete(visit, "Task_write_summary", manager, summary_data)
    return enrolment, visit, open_task(visit, "Task_review_summary")


def test_approving_a_summary_while_the_programme_is_ended_early_never_deadlocks(org, slow_engine):
    programme = new_programme(org, start=timezone.localdate())
    for _ in range(ROUNDS):
        enrolment, visit, review = visit_waiting_for_review(org, programme, customer_of(org), PLAIN_SUMMARY)

        outcomes = race(
            partial(complete_task, task_id=review.pk, data=APPROVE, user=org.leader),
            partial(end_enrolment_early, enrolment=enrolment, reason="客户撤点", user=org.coordinator),
        )

        assert_done_or_refused(outcomes)
        approved, ended = (o == "done" for o in outcomes)
        assert ended  # the programme can always be ended; the approval may come too late
        assert refreshed(enrolment).status == Enrolment.Status.ENDED_EARLY
        visit_row = Visit.objects.get(instance=visit)
        assert visit_row.status == (Visit.Status.CLOSED if approved else Visit.Status.CANCELLED)


def test_approving_a_summary_while_its_products_win_back_is_won_loses_neither(org, slow_engine):
    programme = new_programme(org, start=timezone.localdate())
    expiry = timezone.localdate() + timedelta(days=300)
    reported = {"product": "视频会议", "provider": "竞争对手A", "ownership": "competitor"}
    summary_data = summary(
        leads=[], resource_needs=[], products=[{**reported, "expiry_date": expiry.isoformat()}]
    )
    for _ in range(ROUNDS):
        customer = customer_of(org)
        product = ProductHoldingFactory(
            customer=customer, product="视频会议", provider="竞争对手A", expiry_date=expiry
        )
        lead = create_lead(
            customer=customer, description="策反视频会议", urgency="high", displaces=product, user=org.manager
        )
        at_solution(org, lead)
        _, visit, review = visit_waiting_for_review(org, programme, customer, summary_data)

        outcomes = race(
            partial(complete_task, task_id=review.pk, data=APPROVE, user=org.leader),
            partial(update_lead, lead=lead, status="won", user=org.manager, won_value=80000),
        )

        assert outcomes == ["done", "done"]
        assert Visit.objects.get(instance=visit).status == Visit.Status.CLOSED
        assert refreshed(lead).status == "won"
        # Each write built on the other's: the start date the win set survives whichever came last.
        product = refreshed(product)
        assert product.start_date == timezone.localdate()
        changes = product.customer.changes.filter(entity="product", entity_id=product.pk)
        assert changes.filter(source="won_lead").count() == 1


def test_confirming_a_support_request_while_its_lead_is_won_never_deadlocks(org, slow_engine):
    customer = customer_of(org)
    for _ in range(ROUNDS):
        lead = at_solution(
            org, create_lead(customer=customer, description="专线扩容", urgency="high", user=org.manager)
        )
        request = request_support(
            customer=customer,
            kind=SupportRequest.Kind.SURVEY,
            speciality="network",
            description="机房勘察，评估专线扩容",
            due_date=timezone.localdate() + timedelta(days=14),
            user=org.manager,
            lead=lead,
        )
        complete(request.instance, "Task_handle_support", org.support["network"], SUPPORT_RESULT)
        confirm = open_task(request.instance, "Task_confirm_support")

        outcomes = race(
            partial(complete_task, task_id=confirm.pk, data={"manager_feedback": "收到"}, user=org.manager),
            partial(update_lead, lead=lead, status="won", user=org.manager, won_value=80000),
        )

        assert outcomes == ["done", "done"]
        assert refreshed(request).status == SupportRequest.Status.CONFIRMED
        assert refreshed(lead).status == "won"
        # The engineer who completed the lead's request shares in the win.
        assert IncentiveRecord.objects.filter(lead=lead, person=org.support["network"]).exists() or (
            not IncentiveRule.objects.filter(event="lead_contribution", active=True).exists()
        )
