"""The whole programme at the A/B/C service standards (星级服务计划, seed 001), on SQLite and
PostgreSQL: one programme following the customers' tiers, an A-tier customer visited weekly and a
C-tier one monthly for two months, each visit's summary due within its tier's hours, each support
request answered and completed within its tier's times, a change of tier half-way that changes
only what comes next, and the dispatch queue serving the A customer first.

Everything goes through the real services and the engine; timers fire by moving the clock."""

from datetime import date, datetime, timedelta

import pytest

from onsite.models import Cadence, SupportRequest, Tier, Visit
from onsite.selectors.support import support_queue
from onsite.services.programmes import create_programme
from onsite.services.standards import change_service_standard, change_tier
from onsite.services.support import request_support
from tests.onsite.factories import support_engineer
from tests.onsite.flow import (
    APPROVE,
    PLAIN_SUMMARY,
    RESOURCES,
    at,
    complete,
    current_visit,
    customer_of,
    enrol,
    open_task,
    plan,
    record,
    refreshed,
    stage_review,
)
from workflows.clock import frozen
from workflows.models import HumanTask, ProcessInstance, Timer
from workflows.services.timers import fire_due_timers

pytestmark = pytest.mark.django_db


def make_visit(enrolment, when: datetime) -> ProcessInstance:
    """The enrolment's current visit planned for its scheduled day, prepared and made at `when`:
    its summary is now to write."""
    instance = current_visit(enrolment)
    manager = enrolment.customer.account_manager
    with frozen(when):
        complete(instance, "Task_plan_visit", manager, plan(date=when.date().isoformat()))
        complete(instance, "Task_prepare_resources", manager, RESOURCES)
        complete(instance, "Task_record_visit", manager, record(when))
    return instance


def summarise(instance: ProcessInstance, enrolment, org, when: datetime) -> None:
    """The summary written at `when` and approved; the team leader then takes any stage review the
    visit made due (a review never holds the next visit back, but keeps the story tidy)."""
    with frozen(when):
        complete(instance, "Task_write_summary", enrolment.customer.account_manager, PLAIN_SUMMARY)
        complete(instance, "Task_review_summary", org.leader, APPROVE)
        programme = refreshed(enrolment).instance
        if HumanTask.objects.filter(instance=programme, bpmn_id="Task_stage_review", status="open").exists():
            complete(programme, "Task_stage_review", org.leader, stage_review("continue"))


def visit_and_summarise(enrolment, org, when: datetime) -> ProcessInstance:
    instance = make_visit(enrolment, when)
    summarise(instance, enrolment, org, when + timedelta(hours=5))
    return instance


def schedule(enrolment) -> list[tuple]:
    return [
        (v.scheduled_date, v.cadence, v.service_standard.tier)
        for v in Visit.objects.filter(enrolment=enrolment)
        .select_related("service_standard")
        .order_by("number")
    ]


def summary_due(instance: ProcessInstance) -> datetime:
    """The visit's summary deadline, on which the domain's record, the engine's timer and the
    summary task's due date agree."""
    visit = Visit.objects.get(instance=instance)
    timer = Timer.objects.get(instance=instance, bpmn_id="Event_summary_overdue")
    task = open_task(instance, "Task_write_summary")
    assert visit.summary_due_at == timer.due_at == task.due_at
    return visit.summary_due_at


def fired_at(moment: datetime) -> list[tuple]:
    return sorted((t.instance_id, t.bpmn_id) for t in fire_due_timers(now=moment))


def ask_support(org, customer, *, speciality: str, due: date, description: str) -> SupportRequest:
    request = request_support(
        customer=customer,
        kind=SupportRequest.Kind.FAULT,
        speciality=speciality,
        description=description,
        due_date=due,
        user=org.manager,
    )
    return refreshed(request)


def sla(request: SupportRequest) -> tuple:
    """The terms a request was made with, and the engineer's task's first deadline (the response)."""
    handling = open_task(request.instance, "Task_handle_support")
    return request.respond_by, request.complete_by, request.dispatch_priority, handling.due_at


def test_an_a_tier_customer_is_visited_weekly_and_a_c_tier_one_monthly_each_with_its_slas(org):
    # 1 November. The coordinator publishes the standards' summary deadlines: tier A within a day
    # of the visit, tier C within three days (tier B keeps the seeded 48 hours). Cadences, response
    # and completion times stay as seeded: A weekly, 2 h, 24 h; B fortnightly, 4 h, 72 h; C
    # monthly, 8 h, 120 h.
    with frozen(at(2026, 11, 1, 9)):
        for tier, hours in ((Tier.A, 24), (Tier.C, 72)):
            change_service_standard(
                tier=tier,
                values={"summary_deadline_hours": hours},
                reason="按星级明确总结时限",
                user=org.coordinator,
            )

    # 2 November. One programme whose cadence follows each customer's tier (the default); both
    # customers enrolled; each first visit is on the programme's first day.
    with frozen(at(2026, 11, 2, 9)):
        programme = create_programme(
            name="2026年合肥政企星级驻点",
            region=org.branch,
            start_date=date(2026, 11, 2),
            user=org.coordinator,
        )
        assert programme.cadence == Cadence.BY_TIER
        province = customer_of(org, name="省政务服务中心", tier=Tier.A)
        shop = customer_of(org, name="街角便利店", tier=Tier.C)
        a = enrol(org, programme, province)
        c = enrol(org, programme, shop)
    assert schedule(a) == [(date(2026, 11, 2), "weekly", "A")]
    assert schedule(c) == [(date(2026, 11, 2), "monthly", "C")]

    # The A customer's first visit: its summary is due 24 hours after the visit (tier A), written
    # on time. The next visit is scheduled a week after the visit was made.
    first_a = make_visit(a, at(2026, 11, 2, 10))
    assert summary_due(first_a) == at(2026, 11, 3, 10)
    summarise(first_a, a, org, at(2026, 11, 2, 16))
    assert schedule(a)[-1] == (date(2026, 11, 9), "weekly", "A")

    # The C customer's first visit, a day late: its summary is due 72 hours on (tier C), and the
    # next visit a calendar month after the visit.
    first_c = make_visit(c, at(2026, 11, 3, 10))
    assert summary_due(first_c) == at(2026, 11, 6, 10)
    summarise(first_c, c, org, at(2026, 11, 4, 10))
    assert schedule(c)[-1] == (date(2026, 12, 3), "monthly", "C")

    # 9 November. The A customer's second visit; the manager does not write the summary. Nothing is
    # chased before tier A's 24 hours are up; at the deadline the team leader is asked to act.
    second_a = make_visit(a, at(2026, 11, 9, 10))
    assert summary_due(second_a) == at(2026, 11, 10, 10)
    assert fired_at(at(2026, 11, 10, 9, 59)) == []
    assert fired_at(at(2026, 11, 10, 10, 1)) == [(second_a.pk, "Event_summary_overdue")]
    assert open_task(second_a, "Task_escalate_summary").assignee == org.leader
    with frozen(at(2026, 11, 10, 10, 30)):
        complete(second_a, "Task_escalate_summary", org.leader, {"escalation_action": "reminded"})
    summarise(second_a, a, org, at(2026, 11, 10, 15))
    assert not Visit.objects.get(instance=second_a).summary.on_time

    # 12 November, 08:00. A support request for the C customer that no engineer can take (nobody
    # in IT): tier C's 8 hours to be taken up (the pool task's first deadline), 120 hours to be done
    # (before the 30th asked).
    with frozen(at(2026, 11, 12, 8)):
        shop_request = ask_support(
            org, shop, speciality="it", due=date(2026, 11, 30), description="门店收银系统联网"
        )
    assert shop_request.assignee is None
    assert sla(shop_request) == (at(2026, 11, 12, 16), at(2026, 11, 17, 8), 3, at(2026, 11, 12, 16))
    engineer = support_engineer("it", org.branch, org.team, "feng")  # joins at noon
    # Still not taken up when the response time is over: the team leader gets the escalation.
    assert fired_at(at(2026, 11, 12, 15, 59)) == []
    assert fired_at(at(2026, 11, 12, 16, 1)) == [(shop_request.instance_id, "Event_support_response")]
    assert open_task(shop_request.instance, "Task_escalate_support").assignee == org.leader
    # The team leader hands it to the IT engineer who joined at noon. The follow-up a day later
    # finds it taken up, and its work not due before the 17th: nothing more to chase.
    with frozen(at(2026, 11, 12, 17)):
        complete(
            shop_request.instance,
            "Task_escalate_support",
            org.leader,
            {"escalation_action": "reassigned", "reassign_to": "feng"},
        )
    assert refreshed(shop_request).assignee == engineer
    assert fired_at(at(2026, 11, 13, 17, 1)) == [(shop_request.instance_id, "Event_new_due_date")]
    assert not HumanTask.objects.filter(
        instance=shop_request.instance, bpmn_id="Task_escalate_support", status="open"
    ).exists()

    # 16 November, 09:00. A support request for the A customer, dispatched at once to the network
    # engineer: tier A's 2 hours to take it up, 24 hours to do it (before the 20th asked).
    with frozen(at(2026, 11, 16, 9)):
        province_request = ask_support(
            org, province, speciality="network", due=date(2026, 11, 20), description="政务外网专线中断"
        )
    assert province_request.assignee == org.support["network"]
    assert sla(province_request) == (at(2026, 11, 16, 11), at(2026, 11, 17, 9), 1, at(2026, 11, 16, 11))

    # The dispatch queue serves the A customer's request first, although the C customer's is older
    # and due sooner (the 17th at 08:00 against 09:00): the tier's priority comes before the time.
    assert [r.pk for r in support_queue(user=org.leader)] == [province_request.pk, shop_request.pk]

    # The engineer was named at dispatch: the response time passes with nobody to chase.
    assert fired_at(at(2026, 11, 16, 11, 1)) == [(province_request.instance_id, "Event_support_response")]
    assert not HumanTask.objects.filter(
        instance=province_request.instance, bpmn_id="Task_escalate_support"
    ).exists()
    with frozen(at(2026, 11, 16, 15)):
        complete(
            province_request.instance,
            "Task_handle_support",
            org.support["network"],
            {"support_result": "光缆抢修完成"},
        )
        complete(
            province_request.instance, "Task_confirm_support", org.manager, {"manager_feedback": "已恢复"}
        )
    assert refreshed(province_request).status == SupportRequest.Status.CONFIRMED

    third_a = visit_and_summarise(a, org, at(2026, 11, 16, 10))
    assert Visit.objects.get(instance=third_a).summary_due_at == at(2026, 11, 17, 10)

    # 20 November. The team leader moves the C customer to tier B, with the reason, into its history.
    timers_before = set(Timer.objects.filter(instance=shop_request.instance).values_list("bpmn_id", "due_at"))
    with frozen(at(2026, 11, 20, 9)):
        change_tier(customer=shop, tier=Tier.B, reason="门店扩张为连锁，业务量增长", user=org.leader)
    # What is already there keeps its terms: the visit scheduled for 3 December stays monthly under
    # tier C's standard, the open request its response, completion time, priority and timers.
    assert schedule(c)[-1] == (date(2026, 12, 3), "monthly", "C")
    assert sla(refreshed(shop_request)) == (
        at(2026, 11, 12, 16),
        at(2026, 11, 17, 8),
        3,
        at(2026, 11, 12, 16),
    )
    assert set(Timer.objects.filter(instance=shop_request.instance).values_list("bpmn_id", "due_at")) == (
        timers_before
    )

    # The A customer goes on weekly; every fourth weekly visit brings the stage review.
    visit_and_summarise(a, org, at(2026, 11, 23, 10))
    # 26 November, a week before the C customer's next visit: the programme's timer opens it and
    # the manager's planning task appears then, not a month ahead.
    assert not ProcessInstance.objects.filter(
        parent_id=c.instance_id, status__in=ProcessInstance.ACTIVE_STATUSES
    ).exists()
    assert (c.instance_id, "Event_visit_opens") in fired_at(at(2026, 11, 26, 0, 1))
    assert open_task(current_visit(c), "Task_plan_visit").assignee == org.manager

    visit_and_summarise(a, org, at(2026, 11, 30, 10))

    # 1 December. The next request for the customer now in tier B gets tier B's terms: 4 hours to
    # take up, 72 hours to complete, second in the queue's priority.
    with frozen(at(2026, 12, 1, 9)):
        shop_later = ask_support(
            org, shop, speciality="network", due=date(2026, 12, 15), description="门店宽带提速"
        )
    assert sla(shop_later) == (at(2026, 12, 1, 13), at(2026, 12, 4, 9), 2, at(2026, 12, 1, 13))

    # 3 December. The C customer's second visit was scheduled under tier C: its summary keeps tier
    # C's 72 hours. The visit after it is the first scheduled under tier B: a fortnight on.
    second_c = make_visit(c, at(2026, 12, 3, 10))
    assert summary_due(second_c) == at(2026, 12, 6, 10)
    summarise(second_c, c, org, at(2026, 12, 3, 15))
    assert schedule(c)[-1] == (date(2026, 12, 17), "biweekly", "B")

    visit_and_summarise(a, org, at(2026, 12, 7, 10))
    visit_and_summarise(a, org, at(2026, 12, 14, 10))

    # 10 December, a week before the fortnightly visit: it opens.
    assert (c.instance_id, "Event_visit_opens") in fired_at(at(2026, 12, 10, 0, 1))

    # 17 December. Under tier B the summary is due in 48 hours and the visits come fortnightly.
    third_c = make_visit(c, at(2026, 12, 17, 10))
    assert summary_due(third_c) == at(2026, 12, 19, 10)
    summarise(third_c, c, org, at(2026, 12, 17, 15))

    visit_and_summarise(a, org, at(2026, 12, 21, 10))

    # Two months on: the A customer visited every week, the customer that was in tier C once a
    # month until its change of tier, then every fortnight.
    assert schedule(a) == [(date(2026, 11, 2) + timedelta(weeks=week), "weekly", "A") for week in range(9)]
    assert schedule(c) == [
        (date(2026, 11, 2), "monthly", "C"),
        (date(2026, 12, 3), "monthly", "C"),
        (date(2026, 12, 17), "biweekly", "B"),
        (date(2026, 12, 31), "biweekly", "B"),
    ]

    # The stage review comes about monthly at each visit's cadence: after every fourth weekly
    # visit, after each monthly one, after every second fortnightly one.
    def reviewed_after(enrolment):
        rows = enrolment.assessments.filter(decision="continue").select_related("visit")
        return [row.visit.number for row in rows]

    assert reviewed_after(a) == [4, 8]
    assert reviewed_after(c) == [1, 2]  # visit 3 is the first fortnightly one: none yet
