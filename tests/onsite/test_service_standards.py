"""The A/B/C star service standards (seed 001): kept as versioned data the coordinator changes, and
driving the visit cadence, the summary deadline, the support request's response and completion
times and the dispatch queue. A change of tier or standard changes what comes next only."""

from datetime import date
from pathlib import Path

import pytest

from onsite.exceptions import InvalidInput, NotPermitted
from onsite.models import Cadence, CustomerChange, Industry, ServiceStandard, SupportRequest, Tier, Visit
from onsite.selectors.customers import customer_list, describe, suggest_tier
from onsite.selectors.standards import standard_history, standard_in_effect
from onsite.selectors.support import support_queue
from onsite.services.programmes import create_programme
from onsite.services.standards import change_service_standard, change_tier
from onsite.services.support import request_support
from tests.conftest import BPMN_DIR, source
from tests.factories import UserFactory
from tests.onsite.factories import manager_in, support_engineer
from tests.onsite.flow import (
    APPROVE,
    PLAIN_SUMMARY,
    RESOURCES,
    at,
    build_org,
    complete,
    current_visit,
    customer_of,
    deploy_processes,
    enrol,
    open_task,
    plan,
    record,
    refreshed,
)
from workflows.actors import SYSTEM
from workflows.clock import frozen
from workflows.models import HumanTask, Timer
from workflows.services.deployment import deploy_files
from workflows.services.timers import fire_due_timers

pytestmark = pytest.mark.django_db

DEFAULTS = {
    Tier.A: ("weekly", 48, 2, 24, 50, 1),
    Tier.B: ("biweekly", 48, 4, 72, 25, 2),
    Tier.C: ("monthly", 48, 8, 120, 0, 3),
}


def terms(standard: ServiceStandard) -> tuple:
    return tuple(standard.terms().values())


def tier_programme(org, start: date = date(2026, 11, 2)):
    """A programme whose visits follow each customer's tier (the default), one review a visit."""
    return create_programme(
        name="2026年合肥政企星级驻点",
        region=org.branch,
        start_date=start,
        user=org.coordinator,
        visits_per_review=1,
    )


def make_visit(enrolment, org, when):
    """The enrolment's current visit planned, made at `when` and its summary approved just after."""
    instance = current_visit(enrolment)
    manager = enrolment.customer.account_manager
    with frozen(when):
        complete(instance, "Task_plan_visit", manager, plan(date=when.date().isoformat()))
        complete(instance, "Task_prepare_resources", manager, RESOURCES)
        complete(instance, "Task_record_visit", manager, record(when))
        complete(instance, "Task_write_summary", manager, PLAIN_SUMMARY)
        complete(instance, "Task_review_summary", org.leader, APPROVE)
    return instance


def visits_of(enrolment):
    return list(Visit.objects.filter(enrolment=enrolment).order_by("number"))


# --- the standards as data, with their history ---------------------------------------------------


class TestStandards:
    def test_each_tier_starts_with_the_seeded_standard(self):
        assert {tier: terms(standard_in_effect(tier)) for tier in Tier.values} == DEFAULTS
        assert ServiceStandard.objects.count() == 3

    def test_a_change_is_a_new_version_from_its_effective_time_with_who_when_what_and_why(self, org):
        old = standard_in_effect(Tier.A)
        with frozen(at(2026, 12, 1, 9)):
            new = change_service_standard(
                tier=Tier.A,
                values={"summary_deadline_hours": 24, "support_response_hours": 1},
                reason="A类客户承诺当天总结",
                effective_from=at(2026, 12, 7, 0),
                user=org.coordinator,
            )

        assert (new.changed_by, new.changed_at, new.reason) == (
            org.coordinator,
            at(2026, 12, 1, 9),
            "A类客户承诺当天总结",
        )
        assert new.changes == {"summary_deadline_hours": [48, 24], "support_response_hours": [2, 1]}
        assert (new.visit_cadence, new.support_completion_hours) == ("weekly", 24)  # the rest carried over
        # Before its effective time the old version still applies; from then on the new one.
        assert standard_in_effect(Tier.A, at=at(2026, 12, 6, 23, 59)) == old
        assert standard_in_effect(Tier.A, at=at(2026, 12, 7, 0)) == new
        assert refreshed(old).summary_deadline_hours == 48  # never edited
        assert [s.pk for s in standard_history(user=org.manager, tier=Tier.A)] == [new.pk, old.pk]

    @pytest.mark.parametrize(
        ("values", "reason", "effective", "field"),
        [
            ({"summary_deadline_hours": 24}, "  ", None, "reason"),
            ({"visit_fortnightly": True}, "调整", None, "visit_fortnightly"),
            ({"support_join_percent": 150}, "调整", None, "support_join_percent"),
            ({"visit_cadence": "daily"}, "调整", None, "visit_cadence"),
            ({"summary_deadline_hours": 0}, "调整", None, "summary_deadline_hours"),
            ({"summary_deadline_hours": 24}, "调整", at(2026, 11, 30, 9), "effective_from"),
            ({"summary_deadline_hours": 48}, "调整", None, "values"),
        ],
        ids=[
            "no reason",
            "unknown term",
            "share above 100",
            "unknown cadence",
            "no hours",
            "past",
            "no change",
        ],
    )
    def test_a_change_the_standard_cannot_hold_is_refused_on_its_field_and_changes_nothing(
        self, org, values, reason, effective, field
    ):
        with frozen(at(2026, 12, 1, 9)), pytest.raises(InvalidInput) as refused:
            change_service_standard(
                tier=Tier.B, values=values, reason=reason, effective_from=effective, user=org.coordinator
            )

        assert field in refused.value.errors
        assert ServiceStandard.objects.count() == 3
        assert terms(standard_in_effect(Tier.B)) == DEFAULTS[Tier.B]

    @pytest.mark.parametrize("who", ["leader", "manager", "director"])
    def test_only_a_coordinator_changes_a_standard(self, org, who):
        with pytest.raises(NotPermitted):
            change_service_standard(
                tier=Tier.C, values={"visit_cadence": "biweekly"}, reason="加密走访", user=getattr(org, who)
            )
        assert ServiceStandard.objects.count() == 3


# --- the tier drives the cadence -----------------------------------------------------------------


def test_a_tier_a_customer_is_visited_weekly_and_a_tier_c_customer_monthly(org):
    programme = tier_programme(org)
    assert programme.cadence == Cadence.BY_TIER
    with frozen(at(2026, 11, 2, 9)):
        a = enrol(org, programme, customer_of(org, name="省政务服务中心", tier=Tier.A))
        c = enrol(org, programme, customer_of(org, name="街角便利店", tier=Tier.C))

    make_visit(a, org, at(2026, 11, 3, 10))
    make_visit(c, org, at(2026, 11, 3, 10))

    assert [(v.scheduled_date, v.cadence) for v in visits_of(a)] == [
        (date(2026, 11, 2), "weekly"),
        (date(2026, 11, 10), "weekly"),
    ]
    assert [(v.scheduled_date, v.cadence) for v in visits_of(c)] == [
        (date(2026, 11, 2), "monthly"),
        (date(2026, 12, 3), "monthly"),
    ]
    # Tier A's standard has a support engineer join half the visits (the 1st, 3rd...), C's none.
    assert [v.support_expected for v in visits_of(a)] == [True, False]
    assert [v.support_expected for v in visits_of(c)] == [False, False]


def test_a_programme_with_its_own_cadence_keeps_it_whatever_the_tier(org):
    programme = create_programme(
        name="月度驻点",
        region=org.branch,
        start_date=date(2026, 11, 2),
        cadence="monthly",
        user=org.coordinator,
    )
    with frozen(at(2026, 11, 2, 9)):
        a = enrol(org, programme, customer_of(org, tier=Tier.A))
    make_visit(a, org, at(2026, 11, 3, 10))
    assert [v.scheduled_date for v in visits_of(a)] == [date(2026, 11, 2), date(2026, 12, 3)]


# --- the standard's times reach the diagrams' timers ---------------------------------------------


def test_the_summary_deadline_of_the_customers_standard_sets_the_visit_cycles_timer(org):
    with frozen(at(2026, 11, 1, 9)):
        change_service_standard(
            tier=Tier.A, values={"summary_deadline_hours": 24}, reason="A类客户当天总结", user=org.coordinator
        )
        a = enrol(org, tier_programme(org), customer_of(org, tier=Tier.A))
    instance = current_visit(a)
    manager = a.customer.account_manager
    with frozen(at(2026, 11, 3, 10)):
        complete(instance, "Task_plan_visit", manager, plan(date="2026-11-03"))
        complete(instance, "Task_prepare_resources", manager, RESOURCES)
        complete(instance, "Task_record_visit", manager, record(at(2026, 11, 3, 10)))

    timer = Timer.objects.get(instance=instance, bpmn_id="Event_summary_overdue")
    assert timer.due_at == at(2026, 11, 4, 10)  # 24 hours, not the 48 of the other tiers
    assert Visit.objects.get(instance=instance).summary_due_at == at(2026, 11, 4, 10)

    assert fire_due_timers(now=at(2026, 11, 4, 9, 59)) == []
    fired = fire_due_timers(now=at(2026, 11, 4, 10, 1))
    assert [t.bpmn_id for t in fired] == ["Event_summary_overdue"]
    assert open_task(instance, "Task_escalate_summary").assignee == org.leader


class TestSupportTimes:
    def ask(self, org, customer, speciality="network", due=date(2026, 12, 15)):
        return request_support(
            customer=customer,
            kind=SupportRequest.Kind.FAULT,
            speciality=speciality,
            description="专线中断",
            due_date=due,
            user=org.manager,
        )

    def test_the_response_and_completion_times_of_the_tier_set_the_requests_timers(self, org):
        customer = customer_of(org, tier=Tier.A)
        with frozen(at(2026, 12, 1, 9)):
            request = self.ask(org, customer)

        request = refreshed(request)
        assert (request.respond_by, request.complete_by, request.dispatch_priority) == (
            at(2026, 12, 1, 11),  # A: taken up within 2 hours
            at(2026, 12, 2, 9),  # A: done within 24 hours, before the 15th asked
            1,
        )
        timers = Timer.objects.filter(instance=request.instance).order_by("due_at")
        assert [(t.bpmn_id, t.due_at) for t in timers] == [
            ("Event_support_response", at(2026, 12, 1, 11)),
            ("Event_support_overdue", at(2026, 12, 2, 9)),
        ]

        # The engineer was named at dispatch: the response time passes with nothing to chase.
        assert [t.bpmn_id for t in fire_due_timers(now=at(2026, 12, 1, 11, 1))] == ["Event_support_response"]
        assert not HumanTask.objects.filter(
            instance=request.instance, bpmn_id="Task_escalate_support"
        ).exists()
        # Not done within the completion time: the team leader chases it.
        assert [t.bpmn_id for t in fire_due_timers(now=at(2026, 12, 2, 9, 1))] == ["Event_support_overdue"]
        assert open_task(request.instance, "Task_escalate_support").assignee == org.leader

    def test_a_request_nobody_takes_up_within_the_response_time_goes_to_the_team_leader(self, org):
        customer = customer_of(org, tier=Tier.B)
        with frozen(at(2026, 12, 1, 9)):
            request = self.ask(org, customer, speciality="it")  # no IT engineer: left in the pool
        assert refreshed(request).assignee is None

        assert fire_due_timers(now=at(2026, 12, 1, 12, 59)) == []
        fired = fire_due_timers(now=at(2026, 12, 1, 13, 1))  # B: 4 hours

        assert [t.bpmn_id for t in fired] == ["Event_support_response"]
        escalation = open_task(request.instance, "Task_escalate_support")
        assert escalation.assignee == org.leader
        assert open_task(request.instance, "Task_handle_support").assignee is None

    def test_a_reminder_for_a_request_nobody_took_up_asks_the_team_leader_again_while_it_stays_untaken(
        self, org
    ):
        customer = customer_of(org, tier=Tier.C)
        with frozen(at(2026, 12, 1, 9)):
            request = self.ask(org, customer, speciality="it")  # nobody in IT: left in the pool
        fire_due_timers(now=at(2026, 12, 1, 17, 1))  # C: 8 hours to take it up
        with frozen(at(2026, 12, 1, 17, 30)):
            complete(request.instance, "Task_escalate_support", org.leader, {"escalation_action": "reminded"})

        support_engineer("it", org.branch, org.team, "feng")  # joins the next morning
        # A day after the reminder nobody has taken it up still, although its work is not late yet
        # (120 hours): the follow-up checks what the escalation was about, and asks again.
        fired = fire_due_timers(now=at(2026, 12, 2, 17, 31))
        assert [t.bpmn_id for t in fired] == ["Event_new_due_date"]
        assert open_task(request.instance, "Task_escalate_support").assignee == org.leader

        # Once an engineer has it, the next follow-up finds nothing to chase.
        with frozen(at(2026, 12, 2, 18)):
            complete(
                request.instance,
                "Task_escalate_support",
                org.leader,
                {"escalation_action": "reassigned", "reassign_to": "feng"},
            )
        assert [t.bpmn_id for t in fire_due_timers(now=at(2026, 12, 3, 18, 1))] == ["Event_new_due_date"]
        assert not HumanTask.objects.filter(
            instance=request.instance, bpmn_id="Task_escalate_support", status="open"
        ).exists()
        assert open_task(request.instance, "Task_handle_support").assignee.username == "feng"

    def test_the_day_asked_binds_when_it_comes_before_the_completion_time(self, org):
        customer = customer_of(org, tier=Tier.C)
        with frozen(at(2026, 12, 1, 9)):
            request = self.ask(org, customer, due=date(2026, 12, 2))
        assert refreshed(request).complete_by == at(2026, 12, 2, 18)  # not 120 hours on


# --- a change of tier changes what comes next only -----------------------------------------------


class TestChangingTheTier:
    def test_a_new_tier_sets_the_next_visit_and_the_next_request_never_the_ones_already_there(self, org):
        customer = customer_of(org, tier=Tier.C)
        with frozen(at(2026, 11, 2, 9)):
            enrolment = enrol(org, tier_programme(org), customer)
            earlier = request_support(
                customer=customer,
                kind=SupportRequest.Kind.FAULT,
                speciality="network",
                description="专线中断",
                due_date=date(2026, 12, 15),
                user=org.manager,
            )
        first = visits_of(enrolment)[0]
        earlier_timers = set(Timer.objects.filter(instance=earlier.instance).values_list("bpmn_id", "due_at"))

        with frozen(at(2026, 11, 2, 10)):
            change_tier(customer=customer, tier=Tier.A, reason="升级为省级重点客户", user=org.leader)

        # What already happened keeps its terms.
        again = refreshed(first)
        assert (again.scheduled_date, again.cadence, again.service_standard.tier) == (
            date(2026, 11, 2),
            "monthly",
            "C",
        )
        assert refreshed(earlier).respond_by == at(2026, 11, 2, 17)  # C's 8 hours
        assert (
            set(Timer.objects.filter(instance=earlier.instance).values_list("bpmn_id", "due_at"))
            == earlier_timers
        )
        # What comes next follows tier A.
        make_visit(enrolment, org, at(2026, 11, 3, 10))
        assert [(v.scheduled_date, v.cadence) for v in visits_of(enrolment)][1] == (
            date(2026, 11, 10),
            "weekly",
        )
        with frozen(at(2026, 11, 4, 9)):
            later = request_support(
                customer=customer,
                kind=SupportRequest.Kind.FAULT,
                speciality="network",
                description="专线抖动",
                due_date=date(2026, 12, 15),
                user=org.manager,
            )
        assert (refreshed(later).respond_by, refreshed(later).dispatch_priority) == (at(2026, 11, 4, 11), 1)

        change = CustomerChange.objects.get(customer=customer, changes__has_key="tier")
        assert (change.changes, change.reason, change.actor) == (
            {"tier": ["C", "A"]},
            "升级为省级重点客户",
            org.leader,
        )

    def test_a_coordinator_may_change_the_tier_too(self, org):
        customer = customer_of(org, tier=Tier.B)
        change_tier(customer=customer, tier=Tier.C, reason="业务量下降", user=org.coordinator)
        assert refreshed(customer).tier == Tier.C

    @pytest.mark.parametrize("who", ["manager", "director", "outsider"])
    def test_only_a_coordinator_or_the_customers_team_leader_changes_the_tier(self, org, who):
        customer = customer_of(org, tier=Tier.B)
        # An outsider: a team leader, but not of the team whose manager looks after the customer.
        user = UserFactory(roles=["team_leader"]) if who == "outsider" else getattr(org, who)
        with pytest.raises(NotPermitted):
            change_tier(customer=customer, tier=Tier.A, reason="升级", user=user)
        assert refreshed(customer).tier == Tier.B
        assert not CustomerChange.objects.filter(customer=customer).exists()

    @pytest.mark.parametrize(
        ("tier", "reason", "field"),
        [("A", "", "reason"), ("S", "升级", "tier"), ("B", "保持", "tier")],
        ids=["no reason", "unknown tier", "same tier"],
    )
    def test_a_tier_change_without_a_reason_or_to_no_new_tier_is_refused_and_changes_nothing(
        self, org, tier, reason, field
    ):
        customer = customer_of(org, tier=Tier.B)
        with pytest.raises(InvalidInput) as refused:
            change_tier(customer=customer, tier=tier, reason=reason, user=org.leader)
        assert field in refused.value.errors
        assert refreshed(customer).tier == Tier.B
        assert not CustomerChange.objects.filter(customer=customer).exists()


# --- the dispatch queue --------------------------------------------------------------------------


def test_the_dispatch_queue_serves_higher_tiers_first_then_the_soonest_due(org):
    def ask(name, tier, due):
        customer = customer_of(org, name=name, tier=tier)
        return request_support(
            customer=customer,
            kind=SupportRequest.Kind.SURVEY,
            speciality="network",
            description=name,
            due_date=due,
            user=org.manager,
        )

    with frozen(at(2026, 12, 1, 9)):
        c_soon = ask("C-明天", Tier.C, date(2026, 12, 2))
        b_later = ask("B-下周", Tier.B, date(2026, 12, 8))
        a_later = ask("A-下周", Tier.A, date(2026, 12, 8))
        a_soon = ask("A-明天", Tier.A, date(2026, 12, 2))
        b_soon = ask("B-后天", Tier.B, date(2026, 12, 3))

    queue = [r.pk for r in support_queue(user=org.leader)]
    # Due: both A at the 2nd 9:00 (24 hours; the day asked breaks the tie), B-后天 the 3rd 18:00,
    # B-下周 the 4th 9:00 (72 hours), C-明天 the 2nd 18:00 - soonest of all, but tier C.
    assert queue == [a_soon.pk, a_later.pk, b_soon.pk, b_later.pk, c_soon.pk]
    assert [r.pk for r in support_queue(user=org.support["network"])] == queue  # all dispatched to zheng
    other = manager_in(org.team)
    assert list(support_queue(user=other)) == []


# --- the tier suggested beside the current one, and the list by tier -----------------------------


class TestSuggestion:
    @pytest.fixture
    def customers(self, org):
        return {
            "gov": customer_of(
                org,
                name="市政府",
                industry=Industry.PARTY_GOVERNMENT_MILITARY,
                monthly_value=100,
                potential=1,
                tier=Tier.C,
            ),
            "bank": customer_of(
                org, name="城商行", industry=Industry.FINANCE, monthly_value=90000, potential=5, tier=Tier.B
            ),
            "factory": customer_of(
                org,
                name="机械厂",
                industry=Industry.MANUFACTURING,
                monthly_value=20000,
                potential=3,
                tier=Tier.B,
            ),
            "shop": customer_of(
                org,
                org.other_manager,
                name="便利店",
                industry=Industry.RETAIL,
                monthly_value=500,
                potential=1,
                tier=Tier.A,
            ),
        }

    def test_the_suggestion_follows_industry_value_and_potential(self, org, customers):
        # Hand-computed with the screening's weights (industry 0.2, value 0.5, potential 0.3), value
        # as the share of the four customers below: bank 100, factory 66.67, shop 33.33, gov 0.
        bank = suggest_tier(customers["bank"], user=org.coordinator)
        assert (bank.tier, float(bank.score)) == (
            Tier.A,
            pytest.approx(0.2 * 90 + 0.5 * 100 + 0.3 * 100, abs=0.01),
        )
        factory = suggest_tier(customers["factory"], user=org.coordinator)
        assert (factory.tier, float(factory.score)) == (
            Tier.B,
            pytest.approx(0.2 * 70 + 0.5 * 200 / 3 + 0.3 * 50, abs=0.01),
        )
        shop = suggest_tier(customers["shop"], user=org.coordinator)
        assert (shop.tier, float(shop.score)) == (Tier.C, pytest.approx(0.2 * 60 + 0.5 * 100 / 3, abs=0.01))
        gov = suggest_tier(customers["gov"], user=org.coordinator)
        assert gov.tier == Tier.A  # party, government and military: A whatever the score
        assert gov.reasons[0].kind == "always_in"
        assert describe(bank.reasons[-1]) == "Combined score 98.00 of 100: tier A (A from 70, B from 40)."
        assert all(describe(r) for s in (bank, factory, shop, gov) for r in s.reasons)

    def test_the_customer_list_shows_the_suggestion_beside_the_tier_and_filters_by_tier(self, org, customers):
        rows = customer_list(user=org.coordinator)
        assert [(r.customer.name, r.tier, r.suggestion.tier, r.differs) for r in rows] == [
            (c.name, c.tier, expected, c.tier != expected)
            for c, expected in sorted(
                [
                    (customers["gov"], "A"),
                    (customers["bank"], "A"),
                    (customers["factory"], "B"),
                    (customers["shop"], "C"),
                ],
                key=lambda pair: pair[0].code,
            )
        ]
        assert {r.customer.name for r in customer_list(user=org.coordinator, tiers=("B",))} == {
            "城商行",
            "机械厂",
        }
        # The reader's scope: a manager lists only their own customers, and the suggestion does not
        # depend on who reads.
        mine = customer_list(user=org.manager, tiers=("A", "B", "C"))
        assert {r.customer.name for r in mine} == {"市政府", "城商行", "机械厂"}
        assert {r.customer.name: r.suggestion for r in mine}["城商行"] == suggest_tier(
            customers["bank"], user=org.leader
        )

    def test_an_unknown_tier_filter_is_refused_and_an_unreadable_customer_is_not_suggested(
        self, org, customers
    ):
        with pytest.raises(InvalidInput) as refused:
            customer_list(user=org.coordinator, tiers=("S",))
        assert list(refused.value.errors) == ["tiers"]
        with pytest.raises(NotPermitted):
            suggest_tier(customers["shop"], user=org.manager)


# --- instances of the diagrams from before the standards keep running ---------------------------

BEFORE = Path(__file__).resolve().parent / "bpmn"


def test_instances_started_on_the_diagrams_before_the_standards_keep_their_terms_and_finish():
    """Running instances of the earlier versions (a hard-coded 48-hour summary deadline, no response
    timer) keep working under the new domain; what starts after the new versions are deployed
    follows the standard."""
    earlier = {"visit_cycle.bpmn", "support_request.bpmn"}
    deploy_files(
        user=SYSTEM,
        files=[source(p) for p in sorted(BPMN_DIR.glob("*.bpmn")) if p.name not in earlier]
        + [source(BEFORE / f"{name[:-5]}_before_standards.bpmn", name=name) for name in sorted(earlier)],
    )
    org = build_org()
    customer = customer_of(org, tier=Tier.A)
    with frozen(at(2026, 11, 2, 9)):
        change_service_standard(
            tier=Tier.A, values={"summary_deadline_hours": 24}, reason="A类客户当天总结", user=org.coordinator
        )
        enrolment = enrol(org, tier_programme(org), customer)
        request = request_support(
            customer=customer,
            kind=SupportRequest.Kind.FAULT,
            speciality="network",
            description="专线中断",
            due_date=date(2026, 11, 20),
            user=org.manager,
        )
    old_visit = current_visit(enrolment)
    with frozen(at(2026, 11, 3, 10)):
        complete(old_visit, "Task_plan_visit", org.manager, plan(date="2026-11-03"))
        complete(old_visit, "Task_prepare_resources", org.manager, RESOURCES)
        complete(old_visit, "Task_record_visit", org.manager, record(at(2026, 11, 3, 10)))

    deploy_processes()  # the versions with the standards' data

    # The earlier visit cycle keeps its 48 hours; the earlier support request has no response timer
    # and is chased at the completion time its dispatch gave (A: 24 hours).
    assert Timer.objects.get(instance=old_visit, bpmn_id="Event_summary_overdue").due_at == at(
        2026, 11, 5, 10
    )
    assert list(Timer.objects.filter(instance=request.instance).values_list("bpmn_id", "due_at")) == [
        ("Event_support_overdue", at(2026, 11, 3, 9))
    ]
    fired = fire_due_timers(now=at(2026, 11, 3, 9, 1))
    assert [t.bpmn_id for t in fired] == ["Event_support_overdue"]
    assert open_task(request.instance, "Task_escalate_support").assignee == org.leader
    complete(request.instance, "Task_escalate_support", org.leader, {"escalation_action": "reminded"})
    complete(request.instance, "Task_handle_support", org.support["network"], {"support_result": "已修复"})
    complete(request.instance, "Task_confirm_support", org.manager, {"manager_feedback": "已恢复"})
    assert refreshed(request).status == SupportRequest.Status.CONFIRMED

    with frozen(at(2026, 11, 3, 15)):
        complete(old_visit, "Task_write_summary", org.manager, PLAIN_SUMMARY)
        complete(old_visit, "Task_review_summary", org.leader, APPROVE)
    # The next visit runs the new version, with tier A's 24 hours.
    new_visit = current_visit(enrolment)
    assert new_visit.version.number == 2
    with frozen(at(2026, 11, 10, 10)):
        complete(new_visit, "Task_plan_visit", org.manager, plan(date="2026-11-10"))
        complete(new_visit, "Task_prepare_resources", org.manager, RESOURCES)
        complete(new_visit, "Task_record_visit", org.manager, record(at(2026, 11, 10, 10)))
    assert Timer.objects.get(instance=new_visit, bpmn_id="Event_summary_overdue").due_at == at(
        2026, 11, 11, 10
    )


def test_a_response_time_longer_than_the_completion_time_is_refused():
    with pytest.raises(InvalidInput) as refused:
        change_service_standard(
            tier=Tier.A,
            values={"support_response_hours": 30},
            reason="slower",
            user=UserFactory(roles=["coordinator"]),
        )
    assert refused.value.errors == {
        "support_response_hours": ["The response time cannot be longer than the completion time (24 hours)."]
    }
    assert ServiceStandard.objects.filter(tier=Tier.A).count() == 1
