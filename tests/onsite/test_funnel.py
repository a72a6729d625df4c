"""The sales funnel (销售漏斗, seed 003) through the real services and engine: a lead's moves and their
records, won only from the solution stage, lost at any stage with a reason, the after-sale follow-up
updating the customer's products, the follow-up task every lead gets and the stage its form moves,
and the refusals that change nothing. The figures are in `test_funnel_figures.py`, the migration of
the old statuses in `test_funnel_migration.py`."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from onsite.exceptions import InvalidInput, NotPermitted, OnsiteError
from onsite.models import CustomerChange, IncentiveRecord, Lead, LeadStageMove, ProductHolding
from onsite.models.funnel import OPEN_STAGES
from onsite.services.leads import create_lead, lose_lead, move_lead_stage, record_after_sale, win_lead
from tests.onsite.factories import ProductHoldingFactory
from tests.onsite.flow import at, complete, customer_of, open_task, refreshed
from workflows.clock import frozen
from workflows.models import HumanTask
from workflows.refusals import Refusal

pytestmark = pytest.mark.django_db
FOLLOW_UP = "Task_follow_up_lead"
CREATED = at(2026, 12, 1, 9)


@pytest.fixture
def customer(org):
    return customer_of(org, name="滨湖新区政务服务中心")


def new_lead(org, customer, urgency: str = "medium", **kwargs):
    with frozen(CREATED):
        return create_lead(
            at=CREATED,
            customer=customer,
            description="视频会议替换",
            product=kwargs.pop("product", "云视讯"),
            urgency=urgency,
            estimated_value=kwargs.pop("estimated_value", 120000),
            user=kwargs.pop("user", org.manager),
            **kwargs,
        )


def moves(lead) -> list[tuple]:
    return list(
        LeadStageMove.objects.filter(lead=lead).values_list(
            "from_stage", "to_stage", "at", "left_at", "actor__username", "note", "expected_value"
        )
    )


def snapshot(lead) -> tuple:
    lead = Lead.objects.get(pk=lead.pk)
    state = (lead.status, lead.stage, lead.stage_entered_at, lead.estimated_value, lead.won_value)
    return (*state, lead.lost_reason, lead.closed_at, tuple(moves(lead)), lead.activities.count())


def at_stage(org, customer, stage: str, user=None, **kwargs):
    user = user or org.manager
    lead = new_lead(org, customer, user=user, **kwargs)
    if stage != "preparation":
        move_lead_stage(lead=lead, stage=stage, user=user, at=at(2026, 12, 5, 9))
    return refreshed(lead)


def won(org, customer, user=None, **kwargs):
    lead = at_stage(org, customer, "solution", user=user, **kwargs)
    return win_lead(lead=lead, won_value=150000, user=user or org.manager, at=at(2026, 12, 10, 9))


class TestStageMoves:
    def test_a_new_lead_enters_the_funnel_at_sales_preparation(self, org, customer):
        lead = new_lead(org, customer)

        assert (lead.stage, lead.stage_entered_at, lead.status) == ("preparation", CREATED, "new")
        assert moves(lead) == [("", "preparation", CREATED, None, "qian", "", Decimal("120000"))]

    def test_each_move_is_recorded_with_from_to_when_who_note_and_the_expected_value(self, org, customer):
        lead = new_lead(org, customer)
        first, second = at(2026, 12, 3, 10), at(2026, 12, 8, 15)

        move_lead_stage(
            lead=lead, stage="customer_profile", user=org.manager, note="整理客户管理表", at=first
        )
        move_lead_stage(
            lead=lead,
            stage="sales_visit",
            user=org.leader,
            note="约见王主任",
            estimated_value=180000,
            at=second,
        )

        assert moves(lead) == [
            ("", "preparation", CREATED, first, "qian", "", Decimal("120000")),
            ("preparation", "customer_profile", first, second, "qian", "整理客户管理表", Decimal("120000")),
            ("customer_profile", "sales_visit", second, None, "li", "约见王主任", Decimal("180000")),
        ]
        # Each stay that ended has its length, with the lead's customer and creation time beside it.
        stays = LeadStageMove.objects.filter(lead=lead).values_list(
            "stay_days", "customer_id", "lead_created_at"
        )
        assert list(stays) == [
            (Decimal("2.04"), customer.pk, CREATED),  # 12-01 09:00 → 12-03 10:00
            (Decimal("5.21"), customer.pk, CREATED),  # 12-03 10:00 → 12-08 15:00
            (None, customer.pk, CREATED),
        ]
        lead = refreshed(lead)
        assert (lead.stage, lead.stage_entered_at, lead.status, lead.last_activity_at) == (
            "sales_visit",
            second,
            "following",
            second,
        )
        assert lead.estimated_value == Decimal("180000")

    def test_a_lead_may_skip_stages_forward(self, org, customer):
        lead = new_lead(org, customer)

        move_lead_stage(lead=lead, stage="solution", user=org.manager, at=at(2026, 12, 2, 9))

        assert [(m[0], m[1]) for m in moves(lead)] == [("", "preparation"), ("preparation", "solution")]

    @pytest.mark.parametrize("target", ["preparation", "entry_point"])
    def test_a_lead_never_moves_back_and_the_refusal_changes_nothing(self, org, customer, target):
        lead = at_stage(org, customer, "pain_points")
        before = snapshot(lead)

        with pytest.raises(InvalidInput) as refused:
            move_lead_stage(lead=lead, stage=target, user=org.manager)

        assert list(refused.value.errors) == ["stage"]
        assert snapshot(lead) == before

    @pytest.mark.parametrize("target", ["won", "after_sale", "signed"])
    def test_a_move_does_not_reach_the_closed_stages_nor_unknown_ones(self, org, customer, target):
        lead = at_stage(org, customer, "solution")
        before = snapshot(lead)

        with pytest.raises(InvalidInput) as refused:
            move_lead_stage(lead=lead, stage=target, user=org.manager)

        assert list(refused.value.errors) == ["stage"]
        assert snapshot(lead) == before

    def test_a_move_to_the_stage_it_is_at_is_a_follow_up_without_a_move(self, org, customer):
        lead = at_stage(org, customer, "entry_point")

        move_lead_stage(lead=lead, stage="entry_point", user=org.manager, note="电话回访", at=at(2026, 12, 9))

        assert len(moves(lead)) == 2
        assert refreshed(lead).activities.latest("id").note == "电话回访"

    def test_a_manager_cannot_move_another_managers_lead_and_nothing_changes(self, org):
        theirs = customer_of(org, manager=org.other_manager)
        lead = new_lead(org, theirs, user=org.other_manager)
        before = snapshot(lead)

        with pytest.raises(NotPermitted):
            move_lead_stage(lead=lead, stage="entry_point", user=org.manager)

        assert snapshot(lead) == before

    @pytest.mark.parametrize("who", ["leader", "coordinator"])
    def test_the_team_leader_and_a_coordinator_may_move_a_lead(self, org, customer, who):
        lead = new_lead(org, customer)

        move_lead_stage(lead=lead, stage="entry_point", user=getattr(org, who), at=at(2026, 12, 2, 9))

        assert moves(lead)[-1][4] == getattr(org, who).username


class TestWinAndLose:
    @pytest.mark.parametrize("stage", [s for s in OPEN_STAGES if s != "solution"])
    def test_a_lead_is_won_only_from_the_solution_stage(self, org, customer, stage):
        lead = at_stage(org, customer, stage)
        before = snapshot(lead)

        with pytest.raises(InvalidInput) as refused:
            win_lead(lead=lead, won_value=150000, user=org.manager)

        assert refused.value.errors == {
            "stage": [
                "A lead is won only from the stage “give the customer the solution they want”; "
                f"this one is at “{Lead(stage=stage).get_stage_display()}”."
            ]
        }
        assert snapshot(lead) == before
        assert not IncentiveRecord.objects.filter(lead=lead, event="lead_won").exists()

    def test_winning_from_the_solution_stage_closes_it_at_the_closed_stage(self, org, customer):
        lead = won(org, customer)

        lead = refreshed(lead)
        assert (lead.status, lead.stage, lead.won_value) == ("won", "won", Decimal("150000"))
        assert moves(lead)[-2:] == [
            (
                "preparation",
                "solution",
                at(2026, 12, 5, 9),
                at(2026, 12, 10, 9),
                "qian",
                "",
                Decimal("120000"),
            ),
            ("solution", "won", at(2026, 12, 10, 9), None, "qian", "", Decimal("150000")),
        ]
        assert IncentiveRecord.objects.filter(lead=lead, event="lead_won").count() == 1

    @pytest.mark.parametrize("stage", OPEN_STAGES)
    def test_a_lead_is_lost_at_any_stage_with_its_reason_and_keeps_that_stage(self, org, customer, stage):
        lead = at_stage(org, customer, stage)
        entered = refreshed(lead).stage_entered_at
        count = len(moves(lead))

        lose_lead(lead=lead, reason="客户预算取消", user=org.manager, at=at(2026, 12, 12, 9))

        lead = refreshed(lead)
        assert (lead.status, lead.stage, lead.stage_entered_at, lead.lost_reason) == (
            "lost",
            stage,
            entered,
            "客户预算取消",
        )
        assert len(moves(lead)) == count

    @pytest.mark.parametrize("reason", ["", "   "])
    def test_losing_without_a_reason_is_refused_and_changes_nothing(self, org, customer, reason):
        lead = at_stage(org, customer, "sales_visit")
        before = snapshot(lead)

        with pytest.raises(InvalidInput) as refused:
            lose_lead(lead=lead, reason=reason, user=org.manager)

        assert refused.value.errors == {"lost_reason": ["Say why the lead was lost."]}
        assert snapshot(lead) == before

    def test_a_lost_lead_moves_no_further(self, org, customer):
        lead = at_stage(org, customer, "entry_point")
        lose_lead(lead=lead, reason="项目取消", user=org.manager)
        before = snapshot(lead)

        with pytest.raises(OnsiteError, match="A lead that is lost cannot become following up"):
            move_lead_stage(lead=lead, stage="solution", user=org.manager)

        assert snapshot(lead) == before


class TestAfterSale:
    def test_the_after_sale_follow_up_records_the_product_sold_as_ours(self, org, customer):
        lead = won(org, customer)

        record_after_sale(
            lead=lead,
            user=org.manager,
            note="回访使用情况，建立长期合作",
            expiry_date="2029-12-31",
            at=at(2026, 12, 20, 9),
        )

        holding = ProductHolding.objects.get(customer=customer, product="云视讯")
        assert (holding.provider, holding.ownership, holding.start_date, holding.expiry_date) == (
            "我方",
            "ours",
            date(2026, 12, 10),
            date(2029, 12, 31),
        )
        change = CustomerChange.objects.get(customer=customer, entity="product", entity_id=holding.pk)
        assert (change.source, change.action, change.actor) == ("after_sale", "created", org.manager)
        lead = refreshed(lead)
        assert (lead.status, lead.stage, lead.stage_entered_at) == ("won", "after_sale", at(2026, 12, 20, 9))
        assert moves(lead)[-1][:6] == (
            "won",
            "after_sale",
            at(2026, 12, 20, 9),
            None,
            "qian",
            "回访使用情况，建立长期合作",
        )

    def test_the_after_sale_follow_up_renews_the_own_product_already_held(self, org, customer):
        held = ProductHoldingFactory(
            customer=customer,
            product="云视讯",
            provider="合肥移动",
            ownership="ours",
            expiry_date=date(2027, 1, 31),
        )
        lead = won(org, customer)

        record_after_sale(lead=lead, user=org.manager, start_date="2027-02-01", expiry_date="2030-01-31")

        held = refreshed(held)
        assert (held.start_date, held.expiry_date) == (date(2027, 2, 1), date(2030, 1, 31))
        assert ProductHolding.objects.filter(customer=customer, product="云视讯").count() == 1

    def test_the_after_sale_follow_up_of_a_win_back_dates_the_product_it_won_back(self, org, customer):
        rival = ProductHoldingFactory(customer=customer, product="视频会议", expiry_date=date(2027, 3, 31))
        lead = won(org, customer, displaces=rival)
        assert refreshed(rival).ownership == "ours"  # taken over when won, as before

        record_after_sale(lead=lead, user=org.manager, expiry_date="2030-03-31")

        rival = refreshed(rival)
        assert (rival.ownership, rival.start_date, rival.expiry_date) == (
            "ours",
            date(2026, 12, 10),
            date(2030, 3, 31),
        )
        assert CustomerChange.objects.filter(entity_id=rival.pk, source="after_sale").count() == 1

    @pytest.mark.parametrize("stage", ["preparation", "solution", "after_sale", "lost"])
    def test_only_a_won_lead_has_an_after_sale_follow_up_once_and_a_refusal_changes_nothing(
        self, org, customer, stage
    ):
        if stage == "after_sale":
            lead = won(org, customer)
            record_after_sale(lead=lead, user=org.manager)
        elif stage == "lost":
            lead = at_stage(org, customer, "solution")
            lose_lead(lead=lead, reason="客户选择了竞争对手", user=org.manager)
        else:
            lead = at_stage(org, customer, stage)
        before, products = snapshot(lead), list(ProductHolding.objects.values_list("pk", "expiry_date"))

        with pytest.raises(OnsiteError, match="Only a won lead has an after-sale follow-up"):
            record_after_sale(lead=lead, user=org.manager, expiry_date="2030-01-01")

        assert snapshot(lead) == before
        assert list(ProductHolding.objects.values_list("pk", "expiry_date")) == products

    @pytest.mark.parametrize(
        ("values", "field"),
        [
            ({"expiry_date": "2026-12-01"}, "expiry_date"),
            ({"expiry_date": "31/12/2029"}, "expiry_date"),
            ({"start_date": "soon"}, "start_date"),
        ],
    )
    def test_after_sale_dates_that_make_no_contract_are_refused_and_change_nothing(
        self, org, customer, values, field
    ):
        lead = won(org, customer)
        before = snapshot(lead)

        with pytest.raises(InvalidInput) as refused:
            record_after_sale(lead=lead, user=org.manager, **values)

        assert list(refused.value.errors) == [field]
        assert snapshot(lead) == before
        assert not ProductHolding.objects.exists()

    def test_after_sale_needs_the_product_the_lead_sold(self, org, customer):
        lead = won(org, customer, product="")

        with pytest.raises(InvalidInput) as refused:
            record_after_sale(lead=lead, user=org.manager)

        assert list(refused.value.errors) == ["product"]
        assert refreshed(lead).stage == "won"

    def test_a_manager_cannot_record_another_managers_after_sale(self, org):
        theirs = customer_of(org, manager=org.other_manager)
        lead = won(org, theirs, user=org.other_manager)
        lead.refresh_from_db()
        before = snapshot(lead)

        with pytest.raises(NotPermitted):
            record_after_sale(lead=lead, user=org.manager)

        assert snapshot(lead) == before
        assert not ProductHolding.objects.exists()


class TestFollowUpTask:
    @pytest.mark.parametrize(("urgency", "days"), [("high", 2), ("medium", 5), ("low", 10)])
    def test_every_lead_gets_a_follow_up_task_due_by_its_urgency_as_the_thresholds_say(
        self, org, customer, settings, urgency, days
    ):
        settings.ONSITE = {
            **settings.ONSITE,
            "LEAD_FOLLOW_UP_DAYS_HIGH": 2,
            "LEAD_FOLLOW_UP_DAYS_MEDIUM": 5,
            "LEAD_FOLLOW_UP_DAYS_LOW": 10,
        }

        lead = new_lead(org, customer, urgency=urgency)

        task = open_task(lead.follow_up, FOLLOW_UP)
        assert (task.assignee, task.due_at) == (org.manager, CREATED + timedelta(days=days))

    def test_the_next_follow_up_task_is_due_the_same_time_after_the_last_one(self, org, customer):
        lead = new_lead(org, customer, urgency="low")
        with frozen(at(2026, 12, 6, 14)):
            complete(
                lead.follow_up,
                FOLLOW_UP,
                org.manager,
                {"lead_outcome": "following", "follow_up_note": "初步接洽"},
            )

        assert open_task(lead.follow_up, FOLLOW_UP).due_at == at(2026, 12, 20, 14)

    def test_the_follow_up_form_moves_the_lead_along_the_funnel_once_per_task(self, org, customer):
        lead = new_lead(org, customer, urgency="high")
        data = {"lead_outcome": "following", "follow_up_note": "了解到机房扩容痛点", "stage": "pain_points"}

        with frozen(at(2026, 12, 3, 10)):
            task = complete(lead.follow_up, FOLLOW_UP, org.manager, data | {"estimated_value": 200000})

        lead = refreshed(lead)
        assert (lead.status, lead.stage, lead.estimated_value) == (
            "following",
            "pain_points",
            Decimal("200000"),
        )
        move = LeadStageMove.objects.get(lead=lead, to_stage="pain_points")
        assert (move.from_stage, move.at, move.actor, move.note) == (
            "preparation",
            at(2026, 12, 3, 10),
            org.manager,
            "了解到机房扩容痛点",
        )
        # Keyed to the task that applied it, as the lead's activity is: applied once.
        assert move.task_id == lead.activities.get(status_to="following").task_id is not None
        assert HumanTask.objects.get(pk=task.pk).status == "completed"

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"lead_outcome": "won", "won_value": 100000}, "stage"),
            ({"lead_outcome": "following", "stage": "preparation"}, "stage"),
            ({"lead_outcome": "lost", "lost_reason": "预算取消", "stage": "solution"}, "stage"),
        ],
    )
    def test_a_follow_up_the_funnel_refuses_keeps_the_task_open_and_changes_nothing(
        self, org, customer, data, field
    ):
        lead = at_stage(org, customer, "sales_visit", urgency="high")
        task = open_task(lead.follow_up, FOLLOW_UP)
        before = snapshot(lead)

        with pytest.raises(Refusal) as refused:
            complete(lead.follow_up, FOLLOW_UP, org.manager, data | {"follow_up_note": "跟进"})

        assert field in refused.value.field_errors
        assert open_task(lead.follow_up, FOLLOW_UP).pk == task.pk
        assert snapshot(lead) == before

    def test_a_lead_at_the_solution_stage_is_won_in_its_follow_up_task(self, org, customer):
        lead = at_stage(org, customer, "solution", urgency="low")

        complete(
            lead.follow_up,
            FOLLOW_UP,
            org.manager,
            {"lead_outcome": "won", "follow_up_note": "签约", "won_value": 99000, "stage": "solution"},
        )

        lead = refreshed(lead)
        assert (lead.status, lead.stage, lead.won_value) == ("won", "won", Decimal("99000"))
        assert open_task(lead.follow_up, "Task_after_sale").assignee == org.manager


AFTER_SALE = "Task_after_sale"


class TestAfterSaleTask:
    def test_a_won_lead_gets_its_after_sale_task_a_month_ahead_which_updates_the_products(
        self, org, customer
    ):
        lead = at_stage(org, customer, "solution")
        with frozen(at(2026, 12, 10, 9)):
            complete(
                lead.follow_up,
                FOLLOW_UP,
                org.manager,
                {"lead_outcome": "won", "follow_up_note": "签约", "won_value": 99000},
            )
        task = open_task(lead.follow_up, AFTER_SALE)
        assert (task.assignee, task.due_at, task.form_file) == (
            org.manager,
            at(2027, 1, 9, 9),
            "lead_after_sale.schema.json",
        )

        with frozen(at(2027, 1, 5, 10)):
            complete(
                lead.follow_up,
                AFTER_SALE,
                org.manager,
                {"after_sale_note": "回访：使用顺利，续签意向强", "contract_expiry_date": "2029-12-09"},
            )

        lead = refreshed(lead)
        assert (lead.stage, lead.stage_entered_at) == ("after_sale", at(2027, 1, 5, 10))
        assert refreshed(lead.follow_up).status == "completed"
        holding = ProductHolding.objects.get(customer=customer, product="云视讯")
        assert (holding.ownership, holding.start_date, holding.expiry_date) == (
            "ours",
            date(2026, 12, 10),
            date(2029, 12, 9),
        )
        move = LeadStageMove.objects.get(lead=lead, to_stage="after_sale")
        assert (move.actor, move.note, move.task_id is not None) == (
            org.manager,
            "回访：使用顺利，续签意向强",
            True,
        )

    def test_an_after_sale_form_whose_dates_make_no_contract_is_refused_and_the_task_stays_open(
        self, org, customer
    ):
        lead = won(org, customer)
        task = open_task(lead.follow_up, AFTER_SALE)
        before = snapshot(lead)

        with pytest.raises(Refusal) as refused:
            complete(
                lead.follow_up,
                AFTER_SALE,
                org.manager,
                {
                    "after_sale_note": "回访",
                    "contract_start_date": "2027-01-01",
                    "contract_expiry_date": "2026-06-30",
                },
            )

        assert list(refused.value.field_errors) == ["expiry_date"]
        assert open_task(lead.follow_up, AFTER_SALE).pk == task.pk
        assert snapshot(lead) == before
        assert not ProductHolding.objects.exists()

    def test_recording_the_after_sale_elsewhere_ends_the_after_sale_task(self, org, customer):
        lead = won(org, customer)
        task = open_task(lead.follow_up, AFTER_SALE)

        record_after_sale(lead=lead, user=org.leader, note="班组长陪同回访", at=at(2026, 12, 15, 9))

        assert HumanTask.objects.get(pk=task.pk).status == HumanTask.Status.CANCELLED
        assert refreshed(lead.follow_up).status == "completed"
        assert refreshed(lead).stage == "after_sale"
        assert (
            ProductHolding.objects.filter(customer=customer, product="云视讯", ownership="ours").count() == 1
        )
