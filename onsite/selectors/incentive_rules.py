"""The incentive rules in force at a moment, the changes scheduled, and their history.

An event's rule in force at a moment is its latest rule effective by then (the last recorded of
those from the same moment); a rule that is not `active` means the event earns nothing from then on.
Every award reads its rule here for the moment its event happened."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onsite.models import IncentiveEvent, IncentiveRule
from onsite.selectors.thresholds import Change, VersionRow, check_settings_read
from workflows import clock


def rule_in_force(event: str, *, at: datetime | None = None) -> IncentiveRule | None:
    """The event's active rule at `at` (now by default), or None. One query."""
    rule = (
        IncentiveRule.objects.filter(event=event, effective_from__lte=at or clock.now())
        .order_by("-effective_from", "-id")
        .first()
    )
    return rule if rule is not None and rule.active else None


def rule_versions(events: Iterable[str]) -> dict[str, list[IncentiveRule]]:
    """Every rule of `events`, newest first per event, for `in_force_at`. One query."""
    found: dict[str, list[IncentiveRule]] = {}
    for rule in IncentiveRule.objects.filter(event__in=set(events)).order_by(
        "event", "-effective_from", "-id"
    ):
        found.setdefault(rule.event, []).append(rule)
    return found


def in_force_at(versions: list[IncentiveRule], at: datetime) -> IncentiveRule | None:
    """Of one event's rules (newest first), the active one in force at `at`, or None."""
    rule = next((r for r in versions if r.effective_from <= at), None)
    return rule if rule is not None and rule.active else None


def rules_in_force(*, at: datetime | None = None) -> dict[str, IncentiveRule]:
    """Each event's active rule at `at` (now by default). One query."""
    moment = at or clock.now()
    found = {
        event: in_force_at(rules, moment) for event, rules in rule_versions(IncentiveEvent.values).items()
    }
    return {event: rule for event, rule in found.items() if rule is not None}


@dataclass(frozen=True)
class IncentivePage:
    rules: list[tuple[str, IncentiveRule | None]]  # each event (code) with its rule in force now
    scheduled: list[VersionRow]
    history: list[VersionRow]
    now: datetime


def incentive_rules_page(*, user: Any) -> IncentivePage:
    """What the incentive settings page shows: each event's rule in force now, the changes scheduled
    (soonest first), every rule newest first with what it changed against the one before. Two
    queries."""
    check_settings_read(user)
    now = clock.now()
    versions: dict[str, list[IncentiveRule]] = {}
    rows = IncentiveRule.objects.select_related("created_by").order_by("event", "-effective_from", "-id")
    for rule in rows:
        versions.setdefault(rule.event, []).append(rule)
    history = []
    for event, rules in versions.items():
        current = next((r for r in rules if r.effective_from <= now), None)
        for newer, older in zip(rules, [*rules[1:], None], strict=True):
            changes = tuple(
                Change(name, getattr(older, name), getattr(newer, name))
                for name in IncentiveRule.TERMS
                if older is not None and getattr(older, name) != getattr(newer, name)
            )
            history.append(
                VersionRow(
                    effective_from=newer.effective_from,
                    changed_by=newer.created_by,
                    changed_at=newer.created_at,
                    reason=newer.reason,
                    changes=changes,
                    scheduled=newer.effective_from > now,
                    in_force=newer is current,
                    label=event,
                )
            )
    history.sort(key=lambda r: (r.effective_from, r.changed_at), reverse=True)
    return IncentivePage(
        rules=[(event, in_force_at(versions.get(event, []), now)) for event in IncentiveEvent.values],
        scheduled=sorted((r for r in history if r.scheduled), key=lambda r: r.effective_from),
        history=history,
        now=now,
    )
