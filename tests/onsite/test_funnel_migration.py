"""The data migration that places the leads kept before the funnel existed: each old status maps onto
a stage, worked out from the lead's history, with nothing lost (statuses, values and reasons stay)."""

import importlib
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from onsite.models import FunnelStageSetting, Lead, LeadActivity, LeadStageMove
from onsite.models.funnel import DEFAULT_PROBABILITIES
from tests.onsite.factories import LeadFactory
from tests.onsite.flow import at, customer_of

pytestmark = pytest.mark.django_db
migration = importlib.import_module("onsite.migrations.0015_funnel_stages_from_statuses")
# What the function uses of its schema editor: the connection, and `execute` on PostgreSQL.
EDITOR = SimpleNamespace(connection=connection, execute=lambda sql: connection.cursor().execute(sql))
LATEST = max(name for app, name in MigrationLoader(None).graph.leaf_nodes() if app == "onsite")
CREATED, FOLLOWED, CLOSED = at(2026, 10, 1, 9), at(2026, 10, 8, 9), at(2026, 10, 20, 9)


def row(status: str, **values) -> dict:
    return {
        "status": status,
        "created_at": CREATED,
        "closed_at": CLOSED if status in ("won", "lost") else None,
        "last_activity_at": CLOSED,
        "owner_id": 1,
    } | values


def activity(status_from: str, status_to: str, when, actor_id: int = 2, note: str = "") -> dict:
    return {
        "status_from": status_from,
        "status_to": status_to,
        "at": when,
        "actor_id": actor_id,
        "note": note,
    }


def path(moves: list[dict]) -> list[tuple]:
    return [(m["from_stage"], m["to_stage"], m["at"], m["left_at"]) for m in moves]


class TestMapping:
    def test_a_new_lead_is_at_sales_preparation_since_it_was_created(self):
        moves = migration.stage_history(row("new"), [activity("", "new", CREATED)])

        assert path(moves) == [("", "preparation", CREATED, None)]

    def test_a_lead_followed_up_reached_the_entry_point_at_its_first_follow_up(self):
        moves = migration.stage_history(
            row("following"),
            [
                activity("", "new", CREATED),
                activity("new", "following", FOLLOWED, note="约见"),
                activity("following", "following", CLOSED),
            ],
        )

        assert path(moves) == [
            ("", "preparation", CREATED, FOLLOWED),
            ("preparation", "entry_point", FOLLOWED, None),
        ]
        assert (moves[1]["actor_id"], moves[1]["note"]) == (2, "约见")

    def test_a_won_lead_is_closed_since_the_day_it_was_won(self):
        moves = migration.stage_history(
            row("won"),
            [
                activity("", "new", CREATED),
                activity("new", "following", FOLLOWED),
                activity("following", "won", CLOSED),
            ],
        )

        assert path(moves)[-1] == ("entry_point", "won", CLOSED, None)

    @pytest.mark.parametrize(("followed", "stage"), [(False, "preparation"), (True, "entry_point")])
    def test_a_lost_lead_keeps_the_stage_it_had_reached(self, followed, stage):
        history = [activity("", "new", CREATED)]
        if followed:
            history.append(activity("new", "following", FOLLOWED))
        history.append(activity("following" if followed else "new", "lost", CLOSED))

        moves = migration.stage_history(row("lost"), history)

        assert moves[-1]["to_stage"] == stage
        assert moves[-1]["left_at"] is None

    @pytest.mark.parametrize(
        ("status", "stage"), [("new", "preparation"), ("following", "entry_point"), ("won", "won")]
    )
    def test_a_lead_without_a_history_is_placed_by_its_status(self, status, stage):
        moves = migration.stage_history(row(status), [])

        assert moves[-1]["to_stage"] == stage
        assert moves[0]["at"] == CREATED


def migrate(target: str) -> None:
    MigrationExecutor(connection).migrate([("onsite", target)])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migrations_place_every_lead_and_keep_what_it_had(org):
    customer = customer_of(org)
    rows = {}
    for status in ("new", "following", "won", "lost"):
        lead = LeadFactory(
            customer=customer,
            status=status,
            created_at=CREATED,
            last_activity_at=CLOSED,
            estimated_value=1000,
            won_value=2000 if status == "won" else None,
            lost_reason="预算取消" if status == "lost" else "",
            closed_at=CLOSED if status in ("won", "lost") else None,
        )
        LeadActivity.objects.create(lead=lead, actor=org.manager, at=CREATED, status_to="new")
        if status != "new":
            LeadActivity.objects.create(
                lead=lead, actor=org.manager, at=FOLLOWED, status_from="new", status_to="following"
            )
        if status in ("won", "lost"):
            LeadActivity.objects.create(
                lead=lead, actor=org.leader, at=CLOSED, status_from="following", status_to=status
            )
        rows[status] = lead
    before = list(
        Lead.objects.order_by("pk").values_list("pk", "status", "estimated_value", "won_value", "lost_reason")
    )

    # Back to before the funnel existed, and forward again through every migration since.
    migrate("0014_funnel")
    migrate(LATEST)

    placed = {status: Lead.objects.get(pk=lead.pk) for status, lead in rows.items()}
    assert {s: (lead.stage, lead.stage_entered_at) for s, lead in placed.items()} == {
        "new": ("preparation", CREATED),
        "following": ("entry_point", FOLLOWED),
        "won": ("won", CLOSED),
        "lost": ("entry_point", FOLLOWED),
    }
    assert (
        list(
            Lead.objects.order_by("pk").values_list(
                "pk", "status", "estimated_value", "won_value", "lost_reason"
            )
        )
        == before
    )
    won_moves = LeadStageMove.objects.filter(lead=rows["won"]).values_list(
        "from_stage", "to_stage", "actor__username"
    )
    assert list(won_moves) == [
        ("", "preparation", "qian"),
        ("preparation", "entry_point", "qian"),
        ("entry_point", "won", "li"),
    ]
    assert dict(FunnelStageSetting.objects.values_list("stage", "win_probability")) == DEFAULT_PROBABILITIES
    # Each move carries its lead's customer and creation time, each finished stay its length.
    assert set(LeadStageMove.objects.values_list("customer", "lead_created_at")) == {(customer.pk, CREATED)}
    assert list(won_moves.values_list("stay_days", flat=True)) == [Decimal("7.00"), Decimal("12.00"), None]

    # Run again (a retried deployment): nothing is placed twice.
    migration.place_leads_in_the_funnel(apps, EDITOR)
    assert LeadStageMove.objects.filter(lead=rows["won"]).count() == 3
