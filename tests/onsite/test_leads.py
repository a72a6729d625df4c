"""Marketing leads through the real services and engine: the status table (new → following → won /
lost, the last two final), what a move needs, the `lead_follow_up` process every lead starts for its
owner, closing a lead elsewhere ending that follow-up, refusals and the lead's history. The sales
funnel's own rules are in `test_funnel.py`."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from onsite.exceptions import InvalidInput, NotPermitted, OnsiteError
from onsite.models import IncentiveRecord, Lead, LeadActivity
from onsite.services.leads import change_lead_status, create_lead, move_lead_stage, update_lead
from tests.onsite.factories import CustomerFactory, ProductHoldingFactory
from tests.onsite.flow import at, complete, customer_of, open_task, refreshed
from workflows.actors import SYSTEM
from workflows.clock import frozen
from workflows.exceptions import TaskNotYours
from workflows.forms import FormValidationError
from workflows.models import AuditEvent, HumanTask, ProcessInstance

pytestmark = pytest.mark.django_db
Status = Lead.Status
FOLLOW_UP = "Task_follow_up_lead"


@pytest.fixture
def customer(org):
    return customer_of(org, name="滨湖新区政务服务中心")


def new_lead(org, customer, urgency: str = "medium", user=SYSTEM, **kwargs) -> Lead:
    with frozen(kwargs.get("at")):
        return create_lead(
            customer=customer,
            description="视频会议替换",
            product="云视讯",
            urgency=urgency,
            estimated_value=kwargs.pop("estimated_value", 120000),
            user=user or org.manager,
            **kwargs,
        )


def lead_in(org, customer, status: str) -> Lead:
    """A medium-urgency lead moved to `status` through the services: one being followed (or won) has
    reached the solution stage first, the only one a lead is won from."""
    lead = new_lead(org, customer)
    if status in (Status.FOLLOWING, Status.WON):
        at_solution(org, lead)
    if status in (Status.WON, Status.LOST):
        update_lead(lead=lead, status=status, user=org.manager, **closing(status))
    return refreshed(lead)


def at_solution(org, lead: Lead) -> Lead:
    return move_lead_stage(lead=lead, stage="solution", user=org.manager, note="已提交解决方案")


def closing(status: str) -> dict:
    """What the service needs to accept a move to `status`."""
    return {Status.WON: {"won_value": 150000}, Status.LOST: {"lost_reason": "客户选择了竞争对手"}}.get(
        status, {}
    )


def snapshot(lead: Lead) -> tuple:
    lead = Lead.objects.get(pk=lead.pk)
    return (lead.status, lead.won_value, lead.lost_reason, lead.closed_at, lead.last_activity_at)


def history(lead: Lead) -> list:
    return list(
        LeadActivity.objects.filter(lead=lead).values_list(
            "status_from", "status_to", "actor__username", "note"
        )
    )


def follow_up_data(outcome: str, **values) -> dict:
    return {"lead_outcome": outcome, "follow_up_note": "已与信息科张科长沟通替换方案", **values}


class TestStatusTable:
    @pytest.mark.parametrize("target", [Status.FOLLOWING, Status.LOST])
    def test_a_new_lead_may_be_followed_or_lost(self, org, customer, target):
        lead = lead_in(org, customer, Status.NEW)

        update_lead(lead=lead, status=target, user=org.manager, **closing(target))

        lead = refreshed(lead)
        assert lead.status == target
        assert lead.is_open is (target == Status.FOLLOWING)
        assert (lead.closed_at is not None) is (target != Status.FOLLOWING)

    def test_a_new_lead_is_not_won_before_it_reaches_the_solution_stage(self, org, customer):
        lead = lead_in(org, customer, Status.NEW)
        before = snapshot(lead)

        with pytest.raises(InvalidInput) as refused:
            update_lead(lead=lead, status=Status.WON, user=org.manager, **closing(Status.WON))

        assert list(refused.value.errors) == ["stage"]
        assert snapshot(lead) == before

    @pytest.mark.parametrize("target", [Status.FOLLOWING, Status.WON, Status.LOST])
    def test_a_lead_being_followed_may_be_followed_again_won_or_lost(self, org, customer, target):
        lead = lead_in(org, customer, Status.FOLLOWING)

        update_lead(lead=lead, status=target, user=org.manager, note="第二次跟进", **closing(target))

        assert refreshed(lead).status == target
        assert history(lead)[-1] == (Status.FOLLOWING, target, "qian", "第二次跟进")

    @pytest.mark.parametrize("final", [Status.WON, Status.LOST])
    @pytest.mark.parametrize("target", [Status.NEW, Status.FOLLOWING, Status.WON, Status.LOST])
    def test_a_won_or_lost_lead_is_final_and_a_refused_move_changes_nothing(
        self, org, customer, final, target
    ):
        lead = lead_in(org, customer, final)
        before, activities = snapshot(lead), history(lead)

        with pytest.raises(OnsiteError) as refused:
            update_lead(lead=lead, status=target, user=org.manager, **closing(target))

        assert str(refused.value) == (
            f"A lead that is {Status(final).label} cannot become {Status(target).label}."
        )
        assert snapshot(lead) == before
        assert history(lead) == activities

    @pytest.mark.parametrize("current", [Status.NEW, Status.FOLLOWING])
    def test_an_open_lead_cannot_go_back_to_new(self, org, customer, current):
        lead = lead_in(org, customer, current)
        before = snapshot(lead)

        with pytest.raises(OnsiteError, match=f"that is {Status(current).label} cannot become new"):
            update_lead(lead=lead, status=Status.NEW, user=org.manager)

        assert snapshot(lead) == before

    def test_an_unknown_status_is_refused_by_its_name_and_changes_nothing(self, org, customer):
        lead = lead_in(org, customer, Status.NEW)
        before = snapshot(lead)

        with pytest.raises(OnsiteError, match="A lead that is new cannot become signed"):
            update_lead(lead=lead, status="signed", user=org.manager)

        assert snapshot(lead) == before
        assert len(history(lead)) == 1

    @pytest.mark.parametrize("reason", ["", "   "])
    def test_lost_lead_without_a_reason_is_refused_and_keeps_its_status(self, org, customer, reason):
        lead = lead_in(org, customer, Status.FOLLOWING)
        before, activities = snapshot(lead), history(lead)

        with pytest.raises(InvalidInput) as refused:
            update_lead(lead=lead, status=Status.LOST, lost_reason=reason, user=org.manager)

        assert refused.value.errors == {"lost_reason": ["Say why the lead was lost."]}
        assert snapshot(lead) == before
        assert history(lead) == activities

    def test_a_lost_lead_keeps_its_reason_and_earns_nothing(self, org, customer):
        lead = lead_in(org, customer, Status.NEW)

        update_lead(lead=lead, status=Status.LOST, lost_reason="  预算取消  ", user=org.manager)

        lead = refreshed(lead)
        assert (lead.status, lead.lost_reason, lead.won_value) == (Status.LOST, "预算取消", None)
        assert not IncentiveRecord.objects.filter(lead=lead, event="lead_won").exists()

    @pytest.mark.parametrize("value", [None, ""])
    def test_won_lead_without_a_value_is_refused_and_keeps_its_status(self, org, customer, value):
        lead = lead_in(org, customer, Status.FOLLOWING)
        before = snapshot(lead)

        with pytest.raises(InvalidInput) as refused:
            update_lead(lead=lead, status=Status.WON, won_value=value, user=org.manager)

        assert refused.value.errors == {"won_value": ["Enter the value won."]}
        assert snapshot(lead) == before

    @pytest.mark.parametrize("value", ["-1", "abc", "NaN", "Infinity", 10**13])
    def test_a_won_value_that_is_not_an_amount_in_cny_is_refused_and_keeps_its_status(
        self, org, customer, value
    ):
        lead = lead_in(org, customer, Status.FOLLOWING)
        before = snapshot(lead)

        with pytest.raises(InvalidInput) as refused:
            update_lead(lead=lead, status=Status.WON, won_value=value, user=org.manager)

        assert list(refused.value.errors) == ["won_value"]
        assert f"{value}" in refused.value.errors["won_value"][0]
        assert snapshot(lead) == before
        assert not IncentiveRecord.objects.filter(lead=lead, event="lead_won").exists()

    def test_winning_keeps_the_value_and_rewards_the_owner(self, org, customer):
        lead = lead_in(org, customer, Status.FOLLOWING)

        update_lead(lead=lead, status=Status.WON, won_value="250000.50", user=org.manager)

        lead = refreshed(lead)
        assert (lead.status, lead.won_value) == (Status.WON, Decimal("250000.50"))
        assert IncentiveRecord.objects.filter(lead=lead, event="lead_won", person=org.manager).count() == 1


class TestFollowUp:
    def test_a_high_urgency_lead_starts_a_follow_up_task_for_its_owner(self, org, customer):
        lead = new_lead(org, customer, urgency="high", at=at(2026, 12, 1, 9))

        instance = refreshed(lead).follow_up
        assert (instance.process_id, instance.business_key, instance.status) == (
            "lead_follow_up",
            customer.code,
            ProcessInstance.Status.RUNNING,
        )
        task = open_task(instance, FOLLOW_UP)
        assert (task.assignee, task.role.name, task.form_file) == (
            org.manager,
            "account_manager",
            "lead_follow_up.schema.json",
        )
        assert task.due_at == at(2026, 12, 4, 9)  # dueIn P3D

    def test_the_follow_up_goes_to_the_owner_the_lead_names_not_the_customers_manager(self, org, customer):
        lead = new_lead(org, customer, urgency="high", owner=org.other_manager)

        task = open_task(lead.follow_up, FOLLOW_UP)
        assert task.assignee == org.other_manager
        with pytest.raises(TaskNotYours):
            complete(lead.follow_up, FOLLOW_UP, org.manager, follow_up_data("following"))
        assert refreshed(lead).status == Status.NEW

    @pytest.mark.parametrize(("urgency", "days"), [("high", 3), ("medium", 7), ("low", 14)])
    def test_every_lead_starts_a_follow_up_task_due_sooner_the_more_urgent_it_is(
        self, org, customer, urgency, days
    ):
        created = at(2026, 12, 1, 9)
        lead = new_lead(org, customer, urgency=urgency, at=created)

        task = open_task(refreshed(lead).follow_up, FOLLOW_UP)
        assert (task.assignee, task.due_at) == (org.manager, created + timedelta(days=days))

    def test_still_following_keeps_the_follow_up_going_with_a_fresh_task(self, org, customer):
        lead = new_lead(org, customer, urgency="high")
        instance = lead.follow_up
        first = complete(instance, FOLLOW_UP, org.manager, follow_up_data("following"))

        assert refreshed(lead).status == Status.FOLLOWING
        assert refreshed(instance).status == ProcessInstance.Status.RUNNING
        second = open_task(instance, FOLLOW_UP)
        assert second.pk != first.pk and second.assignee == org.manager

        complete(instance, FOLLOW_UP, org.manager, follow_up_data("following", next_step="下周上门演示"))

        assert refreshed(lead).status == Status.FOLLOWING
        assert open_task(instance, FOLLOW_UP).pk not in (first.pk, second.pk)
        # Each completed follow-up is one activity, keyed by the task that applied it.
        applied = LeadActivity.objects.filter(lead=lead, task_id__isnull=False)
        assert list(applied.values_list("status_from", "status_to", "actor__username")) == [
            (Status.NEW, Status.FOLLOWING, "qian"),
            (Status.FOLLOWING, Status.FOLLOWING, "qian"),
        ]
        assert len(set(applied.values_list("task_id", flat=True))) == 2

    def test_winning_in_the_follow_up_task_closes_the_lead_and_asks_for_its_after_sale_follow_up(
        self, org, customer
    ):
        lead = new_lead(org, customer, urgency="high")
        complete(lead.follow_up, FOLLOW_UP, org.manager, follow_up_data("following", stage="solution"))

        complete(lead.follow_up, FOLLOW_UP, org.manager, follow_up_data("won", won_value=118000))

        lead = refreshed(lead)
        assert (lead.status, lead.won_value) == (Status.WON, Decimal("118000"))
        assert lead.closed_at is not None
        assert refreshed(lead.follow_up).status == ProcessInstance.Status.RUNNING
        (after_sale,) = HumanTask.objects.filter(status=HumanTask.Status.OPEN)
        assert (after_sale.bpmn_id, after_sale.assignee) == ("Task_after_sale", org.manager)
        assert IncentiveRecord.objects.filter(lead=lead, event="lead_won", person=org.manager).exists()

    def test_losing_in_the_follow_up_task_closes_the_lead_with_its_reason_and_ends_the_follow_up(
        self, org, customer
    ):
        lead = new_lead(org, customer, urgency="high")

        complete(lead.follow_up, FOLLOW_UP, org.manager, follow_up_data("lost", lost_reason="竞争对手降价"))

        lead = refreshed(lead)
        assert (lead.status, lead.lost_reason) == (Status.LOST, "竞争对手降价")
        assert refreshed(lead.follow_up).status == ProcessInstance.Status.COMPLETED
        assert history(lead)[-1] == (
            Status.NEW,
            Status.LOST,
            "qian",
            follow_up_data("lost")["follow_up_note"],
        )

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            (follow_up_data("won"), "won_value"),
            (follow_up_data("lost"), "lost_reason"),
            (follow_up_data("lost", lost_reason="    "), "lost_reason"),
            ({"lead_outcome": "following"}, "follow_up_note"),
            (follow_up_data("new"), "lead_outcome"),
        ],
    )
    def test_an_incomplete_follow_up_form_is_refused_and_the_task_stays_open(
        self, org, customer, data, field
    ):
        lead = new_lead(org, customer, urgency="high")
        task = open_task(lead.follow_up, FOLLOW_UP)

        with pytest.raises(FormValidationError) as refused:
            complete(lead.follow_up, FOLLOW_UP, org.manager, data)

        assert field in refused.value.errors
        assert open_task(lead.follow_up, FOLLOW_UP).pk == task.pk
        assert refreshed(lead).status == Status.NEW

    @pytest.mark.parametrize("status", [Status.WON, Status.LOST])
    def test_closing_the_lead_elsewhere_ends_its_follow_up_task_and_a_win_asks_for_the_after_sale(
        self, org, customer, status
    ):
        lead = new_lead(org, customer, urgency="high")
        task = open_task(lead.follow_up, FOLLOW_UP)
        if status == Status.WON:
            at_solution(org, lead)

        update_lead(lead=lead, status=status, user=org.manager, **closing(status))

        assert refreshed(lead).status == status
        instance = refreshed(lead.follow_up)
        assert HumanTask.objects.get(pk=task.pk).status == HumanTask.Status.CANCELLED
        if status == Status.WON:
            assert open_task(instance, "Task_after_sale").assignee == org.manager
        else:
            assert instance.status == ProcessInstance.Status.COMPLETED
        delivered = AuditEvent.objects.get(instance=instance, kind=AuditEvent.Kind.MESSAGE_DELIVERED)
        assert delivered.details["message"] == "lead_closed"
        assert delivered.details["payload"] == {"status": status}

    def test_closing_the_lead_elsewhere_after_a_follow_up_ends_the_next_follow_up_task(self, org, customer):
        lead = new_lead(org, customer, urgency="high")
        complete(lead.follow_up, FOLLOW_UP, org.manager, follow_up_data("following"))
        pending = open_task(lead.follow_up, FOLLOW_UP)

        update_lead(lead=lead, status=Status.LOST, lost_reason="项目取消", user=org.leader)

        assert refreshed(lead.follow_up).status == ProcessInstance.Status.COMPLETED
        assert HumanTask.objects.get(pk=pending.pk).status == HumanTask.Status.CANCELLED
        assert history(lead)[-1][:3] == (Status.FOLLOWING, Status.LOST, "li")

    def test_following_up_elsewhere_leaves_the_follow_up_task_open(self, org, customer):
        lead = new_lead(org, customer, urgency="high")
        task = open_task(lead.follow_up, FOLLOW_UP)

        update_lead(lead=lead, status=Status.FOLLOWING, note="电话沟通", user=org.manager)

        assert refreshed(lead).status == Status.FOLLOWING
        assert refreshed(lead.follow_up).status == ProcessInstance.Status.RUNNING
        assert open_task(lead.follow_up, FOLLOW_UP).pk == task.pk
        assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.MESSAGE_DELIVERED).exists()

    def test_a_refused_close_leaves_the_follow_up_running(self, org, customer):
        lead = new_lead(org, customer, urgency="high")
        task = open_task(lead.follow_up, FOLLOW_UP)

        with pytest.raises(InvalidInput):
            update_lead(lead=lead, status=Status.LOST, lost_reason="", user=org.manager)

        assert refreshed(lead).status == Status.NEW
        assert refreshed(lead.follow_up).status == ProcessInstance.Status.RUNNING
        assert open_task(lead.follow_up, FOLLOW_UP).pk == task.pk

    def test_a_lead_closed_by_its_follow_up_task_is_final_too(self, org, customer):
        lead = new_lead(org, customer, urgency="high")
        complete(lead.follow_up, FOLLOW_UP, org.manager, follow_up_data("lost", lost_reason="预算取消"))

        with pytest.raises(OnsiteError, match="A lead that is lost cannot become won"):
            update_lead(lead=lead, status=Status.WON, won_value=1, user=org.manager)

        assert refreshed(lead.follow_up).status == ProcessInstance.Status.COMPLETED
        assert refreshed(lead).status == Status.LOST


class TestRefusals:
    @pytest.mark.parametrize("value", ["abc", "-1", "NaN", "Infinity", 10**13, "99.999"])
    def test_a_bad_estimated_value_is_refused_and_nothing_is_stored(self, org, customer, value):
        with pytest.raises(InvalidInput) as refused:
            new_lead(org, customer, urgency="high", estimated_value=value)

        assert list(refused.value.errors) == ["estimated_value"]
        assert not Lead.objects.exists()
        assert not ProcessInstance.objects.exists()
        assert not IncentiveRecord.objects.exists()

    @pytest.mark.parametrize("description", ["", "   ", None])
    def test_an_empty_description_is_refused_and_nothing_is_stored(self, org, customer, description):
        with pytest.raises(InvalidInput) as refused:
            create_lead(customer=customer, description=description, urgency="high", user=org.manager)

        assert list(refused.value.errors) == ["description"]
        assert not Lead.objects.exists()
        assert not ProcessInstance.objects.exists()

    def test_an_unknown_urgency_is_refused_and_nothing_is_stored(self, org, customer):
        with pytest.raises(InvalidInput) as refused:
            create_lead(customer=customer, description="专线扩容", urgency="urgent", user=org.manager)

        assert list(refused.value.errors) == ["urgency"]
        assert not Lead.objects.exists()

    def test_a_lead_on_a_customer_without_a_manager_needs_an_owner(self, org):
        orphan = CustomerFactory(region=org.branch)

        with pytest.raises(InvalidInput) as refused:
            create_lead(customer=orphan, description="专线扩容", urgency="low", user=org.coordinator)
        assert list(refused.value.errors) == ["owner"]
        assert not Lead.objects.exists()

        lead = create_lead(
            customer=orphan, description="专线扩容", urgency="low", user=org.coordinator, owner=org.manager
        )
        assert (lead.owner, lead.created_by) == (org.manager, org.coordinator)

    def test_a_manager_cannot_create_a_lead_on_another_managers_customer(self, org):
        theirs = customer_of(org, manager=org.other_manager)

        with pytest.raises(NotPermitted):
            create_lead(customer=theirs, description="专线扩容", urgency="high", user=org.manager)

        assert not Lead.objects.exists()
        assert not ProcessInstance.objects.exists()

    @pytest.mark.parametrize("status", [Status.FOLLOWING, Status.LOST])
    def test_a_manager_cannot_update_a_lead_on_another_managers_customer(self, org, status):
        theirs = customer_of(org, manager=org.other_manager)
        lead = new_lead(org, theirs, urgency="high", user=org.other_manager)
        before, activities = snapshot(lead), history(lead)

        with pytest.raises(NotPermitted):
            update_lead(lead=lead, status=status, user=org.manager, **closing(status))

        assert snapshot(lead) == before
        assert history(lead) == activities
        assert refreshed(lead.follow_up).status == ProcessInstance.Status.RUNNING

    def test_the_customers_team_leader_may_update_its_leads(self, org, customer):
        lead = new_lead(org, customer)
        move_lead_stage(lead=lead, stage="solution", user=org.leader)

        update_lead(lead=lead, status=Status.WON, won_value=80000, user=org.leader)

        assert refreshed(lead).status == Status.WON
        assert history(lead)[-2:] == [
            (Status.NEW, Status.FOLLOWING, "li", ""),
            (Status.FOLLOWING, Status.WON, "li", ""),
        ]


class TestHistory:
    def test_the_history_records_the_creation_and_every_move_with_who_and_when(self, org, customer):
        created = at(2026, 12, 1, 9)
        lead = new_lead(org, customer, at=created)
        update_lead(
            lead=lead,
            status=Status.FOLLOWING,
            stage="solution",
            note="已约见王主任",
            user=org.manager,
            at=created + timedelta(days=2),
        )
        closed = created + timedelta(days=9)
        update_lead(lead=lead, status=Status.WON, won_value=90000, note="签约", user=org.leader, at=closed)

        rows = LeadActivity.objects.filter(lead=lead).values_list(
            "status_from", "status_to", "actor__username", "at", "note"
        )
        assert list(rows) == [
            ("", Status.NEW, "qian", created, ""),
            (Status.NEW, Status.FOLLOWING, "qian", created + timedelta(days=2), "已约见王主任"),
            (Status.FOLLOWING, Status.WON, "li", closed, "签约"),
        ]
        lead = refreshed(lead)
        assert (lead.created_at, lead.last_activity_at, lead.closed_at) == (created, closed, closed)

    def test_a_lead_made_by_the_system_is_recorded_as_its_owners(self, org, customer):
        lead = create_lead(customer=customer, description="云视讯", urgency="low", user=SYSTEM)

        assert (lead.owner, lead.created_by) == (org.manager, org.manager)
        assert history(lead) == [("", Status.NEW, "qian", "")]

    def test_a_follow_up_task_is_applied_to_the_lead_once(self, org, customer):
        lead = new_lead(org, customer)
        task_id = uuid.uuid4()

        change_lead_status(lead, Status.FOLLOWING, actor=org.manager, task_id=task_id)
        again = change_lead_status(
            Lead.objects.get(pk=lead.pk), Status.LOST, actor=org.manager, lost_reason="x", task_id=task_id
        )

        assert again.status == Status.FOLLOWING
        assert refreshed(lead).status == Status.FOLLOWING
        assert LeadActivity.objects.filter(task_id=task_id).count() == 1

    def test_creating_a_lead_rewards_its_owner_once(self, org, customer):
        lead = new_lead(org, customer, urgency="high", owner=org.other_manager)

        records = IncentiveRecord.objects.filter(lead=lead)
        assert list(records.values_list("event", "person__username")) == [("lead_created", "wu")]


class TestWinBack:
    def test_a_lead_that_displaces_a_competitor_product_is_a_win_back_lead(self, org, customer):
        holding = ProductHoldingFactory(customer=customer, product="视频会议")

        lead = new_lead(org, customer, displaces=holding)

        lead = refreshed(lead)
        assert (lead.win_back, lead.displaces) == (True, holding)
        assert list(holding.win_back_leads.all()) == [lead]

    @pytest.mark.parametrize(("flag", "expected"), [(False, False), (True, True)])
    def test_without_a_displaced_product_a_lead_is_a_win_back_lead_only_when_said(
        self, org, customer, flag, expected
    ):
        lead = new_lead(org, customer, win_back=flag)

        assert (refreshed(lead).win_back, refreshed(lead).displaces) == (expected, None)
