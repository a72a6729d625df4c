"""Win-back (策反): a competitor's contract expiring within the window (90 days unless configured)
starts a plan task for the customer's account manager, once per product and expiry date; the plan
either pursues the win-back (a lead displacing the competitor's product) or records why not."""

import threading
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from onsite.exceptions import InvalidInput, OnsiteError
from onsite.models import Lead, Ownership, ProductHolding, Visit, WinBackTarget
from onsite.selectors.warnings import early_warnings
from onsite.services.customers import save_product, update_customer
from onsite.services.leads import create_lead, move_lead_stage, update_lead
from onsite.services.winback import record_win_back_plan, start_win_back_targets
from tests.onsite.factories import ProductHoldingFactory
from tests.onsite.flow import (
    at,
    build_org,
    close_visit,
    complete,
    customer_of,
    deploy_processes,
    enrol,
    new_programme,
    open_task,
    refreshed,
    summary,
)
from tests.onsite.threshold_values import set_thresholds
from workflows import runtime
from workflows.actors import SYSTEM
from workflows.clock import frozen
from workflows.exceptions import TaskNotYours
from workflows.forms import FormValidationError
from workflows.models import HumanTask, ProcessInstance
from workflows.selectors import instance_variables
from workflows.services import complete_task

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 1)
PLAN_TASK = "Task_plan_win_back"


def in_days(days: int) -> date:
    return TODAY + timedelta(days=days)


def competitor(customer, product: str, expiry: date | None, **values) -> ProductHolding:
    return ProductHoldingFactory(customer=customer, product=product, expiry_date=expiry, **values)


def start(today: date = TODAY, **kwargs) -> list[WinBackTarget]:
    with frozen(at(today.year, today.month, today.day, 9)):
        return start_win_back_targets(today=today, **kwargs)


def targeted() -> list[tuple[str, date]]:
    return list(WinBackTarget.objects.order_by("expiry_date").values_list("product__product", "expiry_date"))


def win_back_instances():
    return ProcessInstance.objects.filter(process_id="win_back")


PURSUE = {
    "decision": "pursue",
    "approach": "以云视讯替换竞争对手视频会议，首年八折",
    "our_product": "云视讯",
    "estimated_value": 120000,
    "urgency": "high",
}
DECLINE = {"decision": "decline", "decline_reason": "客户刚与竞争对手续签三年，暂无机会"}


class TestTargeting:
    def test_a_competitor_contract_expiring_in_the_window_starts_a_plan_task_for_the_customers_manager(
        self, org
    ):
        customer = customer_of(org, name="江淮城市商业银行")
        product = competitor(customer, "视频会议", in_days(45), provider="竞争对手A")

        (target,) = start()

        target = refreshed(target)
        assert (target.customer, target.product, target.expiry_date) == (customer, product, in_days(45))
        assert (target.account_manager, target.status, target.lead, target.decided_at) == (
            org.manager,
            "open",
            None,
            None,
        )
        assert (target.instance.process_id, target.instance.business_key, target.instance.status) == (
            "win_back",
            customer.code,
            "running",
        )
        task = open_task(target.instance, PLAN_TASK)
        assert (task.assignee, task.form_file, task.due_at) == (
            org.manager,
            "win_back_plan.schema.json",
            at(2026, 12, 8, 9),  # a week to plan it
        )
        variables = instance_variables(target.instance)
        assert {
            k: variables[k] for k in ("target_id", "customer_id", "competitor_product", "expiry_date")
        } == {
            "target_id": target.pk,
            "customer_id": customer.pk,
            "competitor_product": "视频会议",
            "expiry_date": "2027-01-15",
        }
        assert (variables["customer_name"], variables["competitor"]) == ("江淮城市商业银行", "竞争对手A")

    def test_the_window_is_90_days_by_default_counting_both_ends(self, org, settings):
        customer = customer_of(org)
        competitor(customer, "today", in_days(0))
        competitor(customer, "in 90 days", in_days(90))
        competitor(customer, "in 91 days", in_days(91))

        start()

        assert targeted() == [("today", in_days(0)), ("in 90 days", in_days(90))]
        assert win_back_instances().count() == 2

    def test_a_window_configured_in_settings_decides_what_is_targeted(self, org, settings):
        customer = customer_of(org)
        competitor(customer, "in 30 days", in_days(30))
        competitor(customer, "in 31 days", in_days(31))
        competitor(customer, "in 100 days", in_days(100))

        set_thresholds(WIN_BACK_WINDOW_DAYS=30)
        start()
        assert targeted() == [("in 30 days", in_days(30))]

        set_thresholds(WIN_BACK_WINDOW_DAYS=120)
        start()
        assert targeted() == [
            ("in 30 days", in_days(30)),
            ("in 31 days", in_days(31)),
            ("in 100 days", in_days(100)),
        ]

    def test_a_window_given_by_the_caller_overrides_the_setting(self, org, settings):
        set_thresholds(WIN_BACK_WINDOW_DAYS=90)
        customer = customer_of(org)
        competitor(customer, "in 10 days", in_days(10))
        competitor(customer, "in 11 days", in_days(11))

        assert [t.product.product for t in start(window_days=10)] == ["in 10 days"]

    def test_a_contract_outside_the_window_starts_nothing(self, org):
        competitor(customer_of(org), "视频会议", in_days(91))

        assert start() == []
        assert not WinBackTarget.objects.exists()
        assert not win_back_instances().exists()
        assert not HumanTask.objects.filter(bpmn_id=PLAN_TASK).exists()

    def test_expired_contracts_and_contracts_without_an_expiry_date_are_not_targeted(self, org):
        customer = customer_of(org)
        competitor(customer, "ended yesterday", in_days(-1))
        competitor(customer, "ended last year", date(2025, 12, 1))
        competitor(customer, "no expiry known", None)

        assert start() == []
        assert not WinBackTarget.objects.exists()
        assert not win_back_instances().exists()

    def test_our_own_products_never_start_a_win_back_task(self, org):
        customer = customer_of(org)
        competitor(customer, "互联网专线", in_days(1), provider="我方", ownership=Ownership.OURS)
        competitor(customer, "政务云", in_days(60), provider="我方", ownership=Ownership.OURS)

        assert start() == []
        assert not WinBackTarget.objects.exists()
        assert not win_back_instances().exists()

    def test_same_product_and_expiry_starts_one_win_back_task_however_often_it_runs(self, org):
        customer = customer_of(org)
        product = competitor(customer, "视频会议", in_days(45))

        first = start()
        again = [start(), start(), start(in_days(1)), start(in_days(30))]

        assert len(first) == 1 and again == [[], [], [], []]
        assert list(WinBackTarget.objects.values_list("product", "expiry_date")) == [
            (product.pk, in_days(45))
        ]
        assert win_back_instances().count() == 1
        assert HumanTask.objects.filter(bpmn_id=PLAN_TASK, status="open").count() == 1

    def test_a_renewed_expiry_date_on_the_same_product_makes_a_new_target(self, org):
        customer = customer_of(org)
        product = competitor(customer, "视频会议", in_days(45), provider="竞争对手A")
        (first,) = start()

        # The competitor renewed for a month: the manager records the new date.
        save_product(
            customer=customer,
            product="视频会议",
            provider="竞争对手A",
            values={"expiry_date": in_days(75)},
            user=org.manager,
        )
        (second,) = start()
        assert start() == []

        assert second.pk != first.pk and second.instance != first.instance
        assert list(WinBackTarget.objects.order_by("expiry_date").values_list("product", "expiry_date")) == [
            (product.pk, in_days(45)),
            (product.pk, in_days(75)),
        ]
        assert win_back_instances().count() == 2
        assert open_task(second.instance, PLAN_TASK).assignee == org.manager
        assert refreshed(first).status == "open"  # the earlier target is the manager's to close

    def test_a_customer_without_an_account_manager_gets_no_target_until_one_is_assigned(self, org):
        customer = customer_of(org)
        customer.account_manager = None
        customer.save()
        competitor(customer, "视频会议", in_days(45))

        assert start() == []
        assert not WinBackTarget.objects.exists() and not win_back_instances().exists()

        update_customer(
            customer=customer, values={"account_manager": org.other_manager}, user=org.coordinator
        )
        (target,) = start(in_days(1))

        assert target.account_manager == org.other_manager
        assert open_task(target.instance, PLAN_TASK).assignee == org.other_manager

    def test_each_customers_task_goes_to_that_customers_own_manager(self, org):
        mine = customer_of(org)
        theirs = customer_of(org, org.other_manager)
        competitor(mine, "视频会议", in_days(20))
        competitor(theirs, "云存储", in_days(40))

        started = start()

        assert [(t.customer, t.account_manager) for t in started] == [
            (mine, org.manager),
            (theirs, org.other_manager),
        ]
        assert [open_task(t.instance, PLAN_TASK).assignee for t in started] == [
            org.manager,
            org.other_manager,
        ]

    def test_naming_a_customer_targets_only_that_customers_contracts(self, org):
        mine = customer_of(org)
        other = customer_of(org)
        competitor(mine, "视频会议", in_days(20))
        competitor(other, "云存储", in_days(20))

        assert [t.customer for t in start(customer=mine)] == [mine]
        assert [t.customer for t in start()] == [other]
        assert WinBackTarget.objects.count() == 2

    def test_an_approved_summary_naming_a_competitor_contract_in_the_window_starts_its_win_back(self, org):
        customer = customer_of(org)
        elsewhere = customer_of(org)
        competitor(elsewhere, "云存储", date(2027, 1, 10))
        enrolment = enrol(org, new_programme(org), customer)
        expiring = summary(
            products=[
                {
                    "product": "视频会议",
                    "provider": "竞争对手A",
                    "ownership": "competitor",
                    "expiry_date": "2027-01-15",
                },
                {
                    "product": "呼叫中心",
                    "provider": "竞争对手B",
                    "ownership": "competitor",
                    "expiry_date": "2027-06-30",
                },
                {
                    "product": "互联网专线",
                    "provider": "我方",
                    "ownership": "ours",
                    "expiry_date": "2027-01-15",
                },
            ],
            leads=[],
            resource_needs=[],
        )
        with frozen(at(2026, 12, 1, 18)):
            visit = close_visit(enrolment, org, visited_at=at(2026, 12, 1, 10), summary_data=expiring)

        assert Visit.objects.get(instance=visit).status == "closed"
        (target,) = WinBackTarget.objects.all()
        assert (target.customer, target.product.product, target.expiry_date) == (
            customer,
            "视频会议",
            date(2027, 1, 15),
        )
        assert open_task(target.instance, PLAN_TASK).assignee == org.manager


class TestPlan:
    @pytest.fixture
    def target(self, org):
        competitor(customer_of(org), "视频会议", in_days(45), provider="竞争对手A")
        (target,) = start()
        return target

    def test_pursuing_records_the_plan_and_makes_a_win_back_lead_displacing_the_competitor_product(
        self, org, target
    ):
        with frozen(at(2026, 12, 3, 10)):
            complete(target.instance, PLAN_TASK, org.manager, PURSUE)

        target = refreshed(target)
        assert (target.status, target.approach, target.decline_reason, target.decided_at) == (
            "pursued",
            PURSUE["approach"],
            "",
            at(2026, 12, 3, 10),
        )
        lead = target.lead
        assert (lead.customer, lead.description, lead.product, lead.urgency, lead.estimated_value) == (
            target.customer,
            PURSUE["approach"],
            "云视讯",
            "high",
            Decimal("120000"),
        )
        assert (lead.owner, lead.status, lead.win_back, lead.displaces) == (
            org.manager,
            "new",
            True,
            target.product,
        )
        # A high-urgency lead is followed up by its owner straight away.
        assert open_task(lead.follow_up, "Task_follow_up_lead").assignee == org.manager
        assert refreshed(target.instance).status == "completed"
        assert instance_variables(target.instance)["win_back_status"] == "pursued"

    def test_a_plan_without_an_urgency_makes_a_medium_lead_followed_up_within_a_week(self, org, target):
        plan = {k: v for k, v in PURSUE.items() if k not in ("urgency", "estimated_value")}
        with frozen(at(2026, 12, 4, 16)):
            complete(target.instance, PLAN_TASK, org.manager, plan)

        lead = refreshed(target).lead
        assert (lead.urgency, lead.estimated_value) == ("medium", None)
        task = open_task(lead.follow_up, "Task_follow_up_lead")
        assert (task.assignee, task.due_at) == (org.manager, at(2026, 12, 11, 16))
        assert refreshed(target).status == "pursued"

    def test_declining_records_why_and_makes_no_lead(self, org, target):
        with frozen(at(2026, 12, 4, 16)):
            complete(target.instance, PLAN_TASK, org.manager, DECLINE)

        target = refreshed(target)
        assert (target.status, target.decline_reason, target.approach, target.lead, target.decided_at) == (
            "declined",
            DECLINE["decline_reason"],
            "",
            None,
            at(2026, 12, 4, 16),
        )
        assert not Lead.objects.exists()
        assert refreshed(target.instance).status == "completed"
        assert instance_variables(target.instance)["win_back_status"] == "declined"

    def test_a_decided_target_is_not_started_again_for_the_same_expiry(self, org, target):
        complete(target.instance, PLAN_TASK, org.manager, DECLINE)

        assert start(in_days(7)) == []
        assert WinBackTarget.objects.count() == 1 and win_back_instances().count() == 1

    @pytest.mark.parametrize(
        ("plan", "field"),
        [
            ({"decision": "pursue"}, "approach"),
            ({"decision": "pursue", "approach": "x"}, "approach"),
            ({"decision": "decline"}, "decline_reason"),
            ({"decision": "decline", "decline_reason": " "}, "decline_reason"),
            ({"decision": "wait"}, "decision"),
            ({"approach": "以云视讯替换"}, "decision"),
            ({**PURSUE, "urgency": "urgent"}, "urgency"),
            ({**PURSUE, "estimated_value": -1}, "estimated_value"),
        ],
    )
    def test_an_incomplete_plan_is_refused_and_the_task_stays_open(self, org, target, plan, field):
        task = open_task(target.instance, PLAN_TASK)
        with pytest.raises(FormValidationError) as refused:
            complete_task(task_id=task.pk, data=plan, user=org.manager)

        assert field in refused.value.errors
        assert refreshed(task).status == "open"
        assert refreshed(target).status == "open" and not Lead.objects.exists()

    def test_only_the_targets_manager_may_complete_the_plan(self, org, target):
        task = open_task(target.instance, PLAN_TASK)
        with pytest.raises(TaskNotYours):
            complete_task(task_id=task.pk, data=DECLINE, user=org.other_manager)

        assert refreshed(task).status == "open" and refreshed(target).status == "open"

    def test_recording_a_plan_again_keeps_the_first_decision(self, org, target):
        complete(target.instance, PLAN_TASK, org.manager, DECLINE)

        again = record_win_back_plan(
            target=refreshed(target), plan=PURSUE, actor=org.manager, at=at(2026, 12, 9)
        )

        assert (again.status, again.decline_reason, again.lead) == (
            "declined",
            DECLINE["decline_reason"],
            None,
        )
        assert refreshed(target).status == "declined"
        assert not Lead.objects.exists()

    def test_an_unknown_decision_is_refused_and_the_target_stays_open(self, org, target):
        with pytest.raises(OnsiteError, match="Unknown win-back decision 'wait'"):
            record_win_back_plan(
                target=target, plan={"decision": "wait"}, actor=org.manager, at=at(2026, 12, 3)
            )

        assert (refreshed(target).status, refreshed(target).decided_at) == ("open", None)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_the_same_moment_start_one_win_back_task(monkeypatch):
    deploy_processes()
    org = build_org()
    product = competitor(customer_of(org), "视频会议", in_days(45))

    # Hold each engine transaction open a moment, so the second run finds the product still
    # untargeted and collides with the first on the one-target-per-product-and-expiry constraint.
    advance = runtime.advance

    def advance_slowly(session):
        time.sleep(0.3)
        advance(session)

    monkeypatch.setattr(runtime, "advance", advance_slowly)
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def run(index):
        try:
            barrier.wait()
            outcomes[index] = start_win_back_targets(today=TODAY)
        except Exception as exc:  # reported below
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(isinstance(o, list) for o in outcomes), outcomes
    assert sorted(len(o) for o in outcomes) == [0, 1]
    assert list(WinBackTarget.objects.values_list("product", "expiry_date")) == [(product.pk, in_days(45))]
    assert win_back_instances().count() == 1
    assert HumanTask.objects.filter(bpmn_id=PLAN_TASK, status="open").count() == 1


class TestOneLeadPerProduct:
    """A competitor product is pursued by one live lead; winning it makes the product ours."""

    @pytest.fixture
    def product(self, org):
        return competitor(customer_of(org), "视频会议", in_days(45), provider="竞争对手A")

    def pursue(self, org, product, expiry: date, when: datetime) -> WinBackTarget:
        with frozen(when):
            target = start_win_back_targets(today=TODAY, window_days=400)[-1]
            assert target.expiry_date == expiry
            complete(target.instance, PLAN_TASK, org.manager, PURSUE)
        return refreshed(target)

    def renew(self, product, expiry: date) -> None:
        ProductHolding.objects.filter(pk=product.pk).update(expiry_date=expiry)

    def test_pursuing_a_product_already_pursued_links_to_that_lead(self, org, product):
        first = self.pursue(org, product, in_days(45), at(2026, 12, 2, 9))
        self.renew(product, in_days(200))

        second = self.pursue(org, product, in_days(200), at(2026, 12, 3, 9))

        assert second.status == "pursued"
        assert second.lead == first.lead
        assert Lead.objects.filter(displaces=product).count() == 1
        assert ProcessInstance.objects.filter(process_id="lead_follow_up").count() == 1

    def test_pursuing_a_product_whose_lead_was_won_links_to_the_won_lead(self, org, product):
        first = self.pursue(org, product, in_days(45), at(2026, 12, 2, 9))
        # A second target was started before the win (the contract was renewed meanwhile).
        self.renew(product, in_days(200))
        with frozen(at(2026, 12, 2, 10)):
            (second,) = start_win_back_targets(today=TODAY, window_days=400)
        at_solution(org, first.lead)
        update_lead(lead=first.lead, status="won", user=org.manager, won_value=100000)

        with frozen(at(2026, 12, 3, 9)):
            complete(second.instance, PLAN_TASK, org.manager, PURSUE)

        assert refreshed(second).lead == first.lead
        assert Lead.objects.filter(displaces=product).count() == 1

    def test_a_lost_win_back_can_be_pursued_again_with_a_new_lead(self, org, product):
        first = self.pursue(org, product, in_days(45), at(2026, 12, 2, 9))
        update_lead(lead=first.lead, status="lost", user=org.manager, lost_reason="客户续签竞争对手")
        self.renew(product, in_days(200))

        second = self.pursue(org, product, in_days(200), at(2026, 12, 3, 9))

        assert second.lead != first.lead
        assert list(
            Lead.objects.filter(displaces=product).values_list("status", flat=True).order_by("pk")
        ) == [
            "lost",
            "new",
        ]

    def test_a_second_lead_displacing_a_pursued_product_is_refused_with_a_field_error(self, org, product):
        self.pursue(org, product, in_days(45), at(2026, 12, 2, 9))

        with pytest.raises(InvalidInput) as refused:
            create_lead(
                customer=product.customer,
                description="再次策反",
                urgency="low",
                displaces=product,
                user=org.manager,
            )

        assert refused.value.field_errors == {
            "displaces": ["This competitor product already has a win-back lead."]
        }
        assert Lead.objects.filter(displaces=product).count() == 1

    @pytest.mark.parametrize("path", ["manager", "follow_up_task"])
    def test_winning_a_win_back_lead_makes_the_product_ours_with_the_new_contracts_dates(
        self, org, product, path
    ):
        lead = self.pursue(org, product, in_days(45), at(2026, 12, 2, 9)).lead
        at_solution(org, lead)
        with frozen(at(2026, 12, 20, 15)):
            if path == "manager":
                update_lead(
                    lead=lead,
                    status="won",
                    user=org.manager,
                    won_value=100000,
                    expiry_date=date(2029, 12, 31),
                    at=at(2026, 12, 20, 15),
                )
            else:
                complete(
                    lead.follow_up,
                    "Task_follow_up_lead",
                    org.manager,
                    {
                        "lead_outcome": "won",
                        "follow_up_note": "客户签约云视讯",
                        "won_value": 100000,
                        "new_expiry_date": "2029-12-31",
                    },
                )

        product = refreshed(product)
        assert (product.ownership, product.start_date, product.expiry_date) == (
            Ownership.OURS,
            date(2026, 12, 20),
            date(2029, 12, 31),
        )
        change = product.customer.changes.filter(entity="product", entity_id=product.pk).latest("pk")
        assert (change.source, change.changes["ownership"]) == ("won_lead", ["competitor", "ours"])
        # No longer a competitor's contract about to expire: no warning, no new win-back task.
        kinds = [w.kind for w in early_warnings(user=SYSTEM, now=at(2026, 12, 21, 9))]
        assert "contract_expiring" not in kinds
        assert start_win_back_targets(today=date(2026, 12, 21), window_days=5000) == []

    def test_a_won_win_back_without_the_new_expiry_is_ours_with_no_expiry(self, org, product):
        lead = self.pursue(org, product, in_days(45), at(2026, 12, 2, 9)).lead
        at_solution(org, lead)

        update_lead(lead=lead, status="won", user=org.manager, won_value=100000, at=at(2026, 12, 20, 15))

        product = refreshed(product)
        assert (product.ownership, product.start_date, product.expiry_date) == (
            Ownership.OURS,
            date(2026, 12, 20),
            None,
        )

    @pytest.mark.parametrize("expiry", ["2026-12-20", "2026-12-01", "31/12/2029"])
    def test_a_new_expiry_not_after_the_win_is_refused_and_nothing_changes(self, org, product, expiry):
        lead = self.pursue(org, product, in_days(45), at(2026, 12, 2, 9)).lead
        at_solution(org, lead)

        with pytest.raises(InvalidInput) as refused:
            update_lead(
                lead=lead,
                status="won",
                user=org.manager,
                won_value=100000,
                expiry_date=expiry,
                at=at(2026, 12, 20, 15),
            )

        assert list(refused.value.errors) == ["expiry_date"]
        assert refreshed(lead).status == "following"
        assert refreshed(product).ownership == Ownership.COMPETITOR


def at_solution(org, lead):
    """A lead is won only from the solution stage (给客户他想要的解决方案)."""
    return move_lead_stage(lead=lead, stage="solution", user=org.manager, at=at(2026, 12, 10, 9))
