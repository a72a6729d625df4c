"""Renewal (续约): one of our own contracts expiring within the renewal window (90 days unless
configured) starts a plan task for the customer's account manager, once per product and expiry
date; pursuing it makes a renewal lead whose win records the new contract's expiry, which in its
time is the next target; declining records why the contract ends."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from onsite.exceptions import OnsiteError
from onsite.models import Lead, Ownership, ProductHolding, RenewalTarget, WinBackTarget
from onsite.services.renewals import record_renewal_plan, start_renewal_targets
from tests.onsite.factories import ProductHoldingFactory
from tests.onsite.flow import (
    at,
    close_visit,
    complete,
    customer_of,
    enrol,
    new_programme,
    open_task,
    refreshed,
    summary,
)
from tests.onsite.threshold_values import set_thresholds
from workflows.clock import frozen
from workflows.exceptions import TaskNotYours
from workflows.forms import FormValidationError
from workflows.models import HumanTask, ProcessInstance
from workflows.selectors import instance_variables
from workflows.services import complete_task

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 1)
PLAN_TASK = "Task_plan_renewal"
FOLLOW_UP = "Task_follow_up_lead"

PURSUE = {
    "decision": "pursue",
    "approach": "续签三年并升级至千兆专线",
    "estimated_value": 80000,
    "urgency": "high",
}
DECLINE = {"decision": "decline", "decline_reason": "客户园区搬迁，专线不再续用"}


def in_days(days: int) -> date:
    return TODAY + timedelta(days=days)


def ours(customer, product: str, expiry: date | None, **values) -> ProductHolding:
    return ProductHoldingFactory(
        customer=customer,
        product=product,
        expiry_date=expiry,
        provider="我方",
        ownership=Ownership.OURS,
        **values,
    )


def start(today: date = TODAY, **kwargs) -> list[RenewalTarget]:
    with frozen(at(today.year, today.month, today.day, 9)):
        return start_renewal_targets(today=today, **kwargs)


def targeted() -> list[tuple[str, date]]:
    return list(RenewalTarget.objects.order_by("expiry_date").values_list("product__product", "expiry_date"))


def renewal_instances():
    return ProcessInstance.objects.filter(process_id="renewal")


class TestTargeting:
    def test_our_contract_expiring_in_the_window_starts_a_plan_task_for_the_customers_manager(self, org):
        customer = customer_of(org, name="江淮城市商业银行")
        product = ours(customer, "互联网专线", in_days(45))

        (target,) = start()

        target = refreshed(target)
        assert (target.customer, target.product, target.expiry_date, target.account_manager) == (
            customer,
            product,
            in_days(45),
            org.manager,
        )
        assert (target.status, target.lead, target.decided_at) == ("open", None, None)
        assert (target.instance.process_id, target.instance.business_key) == ("renewal", customer.code)
        task = open_task(target.instance, PLAN_TASK)
        assert (task.assignee, task.form_file, task.due_at) == (
            org.manager,
            "renewal_plan.schema.json",
            at(2026, 12, 8, 9),  # a week to plan it
        )
        variables = instance_variables(target.instance)
        assert {
            k: variables[k]
            for k in ("renewal_id", "customer_id", "customer_name", "our_product", "expiry_date")
        } == {
            "renewal_id": target.pk,
            "customer_id": customer.pk,
            "customer_name": "江淮城市商业银行",
            "our_product": "互联网专线",
            "expiry_date": "2027-01-15",
        }

    def test_the_window_is_90_days_by_default_counting_both_ends(self, org, settings):
        customer = customer_of(org)
        ours(customer, "today", in_days(0))
        ours(customer, "in 90 days", in_days(90))
        ours(customer, "in 91 days", in_days(91))

        start()

        assert targeted() == [("today", in_days(0)), ("in 90 days", in_days(90))]
        assert renewal_instances().count() == 2

    def test_the_window_configured_in_settings_decides_what_is_targeted(self, org, settings):
        customer = customer_of(org)
        ours(customer, "in 30 days", in_days(30))
        ours(customer, "in 31 days", in_days(31))

        set_thresholds(RENEWAL_WINDOW_DAYS=30)
        start()

        assert targeted() == [("in 30 days", in_days(30))]

    def test_competitor_expired_and_undated_contracts_start_no_renewal(self, org):
        customer = customer_of(org)
        ProductHoldingFactory(
            customer=customer, product="视频会议", expiry_date=in_days(10)
        )  # a competitor's
        ours(customer, "ended yesterday", in_days(-1))
        ours(customer, "no expiry known", None)

        assert start() == []
        assert not RenewalTarget.objects.exists() and not renewal_instances().exists()
        assert WinBackTarget.objects.count() == 0  # and renewal targeting starts no win-back either

    def test_same_product_and_expiry_starts_one_renewal_however_often_it_runs(self, org):
        product = ours(customer_of(org), "互联网专线", in_days(45))

        first = start()
        again = [start(), start(), start(in_days(1)), start(in_days(30))]

        assert len(first) == 1 and again == [[], [], [], []]
        assert list(RenewalTarget.objects.values_list("product", "expiry_date")) == [
            (product.pk, in_days(45))
        ]
        assert renewal_instances().count() == 1
        assert HumanTask.objects.filter(bpmn_id=PLAN_TASK, status="open").count() == 1

    def test_a_customer_without_an_account_manager_gets_no_renewal_task(self, org):
        customer = customer_of(org)
        customer.account_manager = None
        customer.save()
        ours(customer, "互联网专线", in_days(45))

        assert start() == []
        assert not renewal_instances().exists()

    def test_an_approved_summary_naming_our_contract_in_the_window_starts_its_renewal(self, org):
        customer = customer_of(org)
        enrolment = enrol(org, new_programme(org), customer)
        expiring = summary(
            products=[
                {
                    "product": "互联网专线",
                    "provider": "我方",
                    "ownership": "ours",
                    "expiry_date": "2027-01-15",
                },
                {"product": "政务云", "provider": "我方", "ownership": "ours", "expiry_date": "2027-09-30"},
            ],
            leads=[],
            resource_needs=[],
        )
        with frozen(at(2026, 12, 1, 18)):
            close_visit(enrolment, org, visited_at=at(2026, 12, 1, 10), summary_data=expiring)

        (target,) = RenewalTarget.objects.all()
        assert (target.customer, target.product.product, target.expiry_date) == (
            customer,
            "互联网专线",
            date(2027, 1, 15),
        )
        assert open_task(target.instance, PLAN_TASK).assignee == org.manager


class TestPlan:
    @pytest.fixture
    def product(self, org):
        return ours(customer_of(org), "互联网专线", in_days(45))

    @pytest.fixture
    def target(self, product):
        (target,) = start()
        return target

    def test_pursuing_makes_a_renewal_lead_for_the_product_followed_up_by_its_manager(self, org, target):
        with frozen(at(2026, 12, 3, 10)):
            complete(target.instance, PLAN_TASK, org.manager, PURSUE)

        target = refreshed(target)
        assert (target.status, target.approach, target.decided_at) == (
            "pursued",
            PURSUE["approach"],
            at(2026, 12, 3, 10),
        )
        lead = target.lead
        assert (lead.customer, lead.product, lead.urgency, lead.estimated_value, lead.owner) == (
            target.customer,
            "互联网专线",
            "high",
            Decimal("80000"),
            org.manager,
        )
        assert (lead.win_back, lead.displaces) == (False, None)
        assert open_task(lead.follow_up, FOLLOW_UP).assignee == org.manager
        assert refreshed(target.instance).status == "completed"
        assert instance_variables(target.instance)["renewal_status"] == "pursued"

    def test_declining_records_why_and_makes_no_lead(self, org, target):
        with frozen(at(2026, 12, 4, 16)):
            complete(target.instance, PLAN_TASK, org.manager, DECLINE)

        target = refreshed(target)
        assert (target.status, target.decline_reason, target.lead) == (
            "declined",
            DECLINE["decline_reason"],
            None,
        )
        assert not Lead.objects.exists()
        assert instance_variables(target.instance)["renewal_status"] == "declined"

    def test_winning_the_renewal_records_the_new_expiry_which_becomes_the_next_target_in_its_time(
        self, org, product, target
    ):
        complete(target.instance, PLAN_TASK, org.manager, PURSUE)
        lead = refreshed(target).lead
        complete(
            lead.follow_up,
            FOLLOW_UP,
            org.manager,
            {"lead_outcome": "following", "follow_up_note": "报价", "stage": "solution"},
        )
        complete(
            lead.follow_up,
            FOLLOW_UP,
            org.manager,
            {"lead_outcome": "won", "follow_up_note": "已续签", "won_value": 90000},
        )
        new_expiry = in_days(45 + 3 * 365)
        complete(
            lead.follow_up,
            "Task_after_sale",
            org.manager,
            {"after_sale_note": "续签三年", "contract_expiry_date": new_expiry.isoformat()},
        )

        assert refreshed(product).expiry_date == new_expiry
        assert ProductHolding.objects.filter(customer=product.customer).count() == 1  # the same product
        assert start(in_days(60)) == []  # the new contract is years away
        (renewed,) = start(new_expiry - timedelta(days=90))
        assert (renewed.product, renewed.expiry_date) == (product, new_expiry)
        assert RenewalTarget.objects.count() == 2

    def test_a_second_target_while_the_renewal_lead_is_open_links_to_that_lead(self, org, product, target):
        complete(target.instance, PLAN_TASK, org.manager, PURSUE)
        # The contract date was corrected meanwhile: a new target for the new date.
        ProductHolding.objects.filter(pk=product.pk).update(expiry_date=in_days(60))
        (second,) = start()

        complete(second.instance, PLAN_TASK, org.manager, PURSUE)

        assert refreshed(second).lead == refreshed(target).lead
        assert Lead.objects.count() == 1

    @pytest.mark.parametrize(
        ("plan", "field"),
        [
            ({"decision": "pursue"}, "approach"),
            ({"decision": "decline", "decline_reason": " "}, "decline_reason"),
            ({"decision": "wait"}, "decision"),
            ({**PURSUE, "our_product": "云视讯"}, "our_product"),
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
        with pytest.raises(TaskNotYours):
            complete_task(
                task_id=open_task(target.instance, PLAN_TASK).pk, data=DECLINE, user=org.other_manager
            )

        assert refreshed(target).status == "open"

    def test_recording_a_plan_again_keeps_the_first_decision(self, org, target):
        complete(target.instance, PLAN_TASK, org.manager, DECLINE)

        again = record_renewal_plan(
            target=refreshed(target), plan=PURSUE, actor=org.manager, at=at(2026, 12, 9)
        )

        assert (again.status, again.lead) == ("declined", None)
        assert not Lead.objects.exists()

    def test_an_unknown_decision_is_refused_and_the_target_stays_open(self, org, target):
        with pytest.raises(OnsiteError, match="Unknown renewal decision 'wait'"):
            record_renewal_plan(
                target=target, plan={"decision": "wait"}, actor=org.manager, at=at(2026, 12, 3)
            )

        assert refreshed(target).status == "open"
