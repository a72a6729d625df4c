"""Incentive rules as versions: a change adds a rule from a moment (now or later), built on the rule
in force then; an event is awarded by the rule in force when it happened; a rule switched off from a
date awards nothing after it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from onsite.exceptions import InvalidInput
from onsite.models import IncentiveRule
from onsite.selectors.incentive_rules import incentive_rules_page, rule_in_force, rules_in_force
from onsite.services.incentives import Award, award, award_all, set_incentive_rule
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator():
    return UserFactory(roles=["coordinator"])


@pytest.fixture
def manager():
    return UserFactory(roles=["account_manager"])


def test_a_rule_scheduled_for_next_month_leaves_the_current_one_in_force_until_then(coordinator, manager):
    now = timezone.now()
    next_month = now + timedelta(days=31)
    rule = set_incentive_rule(
        event="lead_created",
        values={"points": Decimal(5)},
        reason="more for leads",
        user=coordinator,
        effective_from=next_month,
    )

    assert (rule.amount, rule.created_by, rule.reason) == (
        rule_in_force("lead_created").amount,
        coordinator,
        "more for leads",
    )
    assert rule_in_force("lead_created").points == Decimal(2)
    today = award("lead_created", person=manager, key="lead:1", description="x", at=now)
    later = award("lead_created", person=manager, key="lead:2", description="y", at=next_month)
    assert (today.points, later.rule, later.points) == (Decimal("2.00"), rule, Decimal("5.00"))


def test_awards_in_bulk_take_the_rule_in_force_when_each_event_happened(coordinator, manager):
    now = timezone.now()
    set_incentive_rule(
        event="lead_created",
        values={"points": Decimal(5)},
        reason="x",
        user=coordinator,
        effective_from=now + timedelta(days=2),
    )
    award_all(
        [
            Award("lead_created", manager, "lead:1", "x", now),
            Award("lead_created", manager, "lead:2", "y", now + timedelta(days=3)),
        ]
    )
    assert sorted(manager.incentive_records.values_list("event_key", "points")) == [
        ("lead:1", Decimal("2.00")),
        ("lead:2", Decimal("5.00")),
    ]


def test_a_rule_switched_off_from_a_date_awards_nothing_after_it(coordinator, manager):
    now = timezone.now()
    set_incentive_rule(
        event="lead_created",
        values={"active": False},
        reason="pilot over",
        user=coordinator,
        effective_from=now + timedelta(days=1),
    )
    assert award("lead_created", person=manager, key="lead:1", description="x", at=now) is not None
    assert (
        award("lead_created", person=manager, key="lead:2", description="x", at=now + timedelta(days=2))
        is None
    )
    assert "lead_created" not in rules_in_force(at=now + timedelta(days=2))


def test_a_rule_cannot_start_in_the_past_needs_a_reason_and_must_change_something(coordinator):
    before = IncentiveRule.objects.count()
    with pytest.raises(InvalidInput) as refused:
        set_incentive_rule(
            event="lead_created",
            values={"points": 3},
            reason="",
            user=coordinator,
            effective_from=timezone.now() - timedelta(days=1),
        )
    assert set(refused.value.errors) == {"reason", "effective_from"}
    with pytest.raises(InvalidInput) as refused:
        set_incentive_rule(event="lead_created", values={"points": 2}, reason="x", user=coordinator)
    assert refused.value.errors == {"": ["This is the rule in force then; nothing changes."]}
    assert IncentiveRule.objects.count() == before


def test_the_page_shows_the_rules_in_force_the_scheduled_change_and_what_it_changes(coordinator):
    set_incentive_rule(
        event="lead_won",
        values={"points": Decimal(25)},
        reason="push wins",
        user=coordinator,
        effective_from=timezone.now() + timedelta(days=7),
    )
    page = incentive_rules_page(user=UserFactory(roles=["leadership"]))
    assert dict(page.rules)["lead_won"].points == Decimal(20)
    [scheduled] = page.scheduled
    assert (scheduled.label, scheduled.reason, scheduled.changed_by) == ("lead_won", "push wins", coordinator)
    assert [(c.name, c.before, c.after) for c in scheduled.changes] == [("points", Decimal(20), Decimal(25))]
