"""The A/B/C service standards as they stand at a moment, and their history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from onsite.exceptions import InvalidInput, OnsiteError
from onsite.models import ServiceStandard, Tier
from onsite.selectors.thresholds import Change, VersionRow, check_settings_read
from workflows import clock


def standard_in_effect(tier: str, *, at: datetime | None = None) -> ServiceStandard:
    """The version of the tier's standard that applies at `at` (now by default): the latest one
    effective by then. The migration seeds one per tier from long ago, so there always is one."""
    moment = at or clock.now()
    standard = (
        ServiceStandard.objects.filter(tier=tier, effective_from__lte=moment)
        .order_by("-effective_from", "-id")
        .first()
    )
    if standard is None:
        raise OnsiteError(_("There is no service standard for tier %(tier)s.") % {"tier": tier})
    return standard


def standards_in_effect(*, at: datetime | None = None) -> dict[str, ServiceStandard]:
    """Each tier's standard at `at` (now by default), in one query."""
    moment = at or clock.now()
    found: dict[str, ServiceStandard] = {}
    rows = ServiceStandard.objects.filter(effective_from__lte=moment).order_by(
        "tier", "-effective_from", "-id"
    )
    for standard in rows:
        found.setdefault(standard.tier, standard)
    return found


def standard_history(*, user: Any, tier: str | None = None) -> QuerySet:
    """Every version, newest first per tier: what each change set, who made it, when and why. The
    standards are the department's published terms: any active member may read them."""
    if user is None or not getattr(user, "is_active", True):
        return ServiceStandard.objects.none()
    if tier is not None and tier not in Tier.values:
        raise InvalidInput({"tier": [_("Unknown service tier: %(tiers)s.") % {"tiers": tier}]})
    rows = ServiceStandard.objects.select_related("changed_by").order_by("tier", "-effective_from", "-id")
    return rows.filter(tier=tier) if tier is not None else rows


@dataclass(frozen=True)
class StandardsPage:
    in_force: list[ServiceStandard]  # per tier, A to C, in force now
    scheduled: list[VersionRow]
    history: list[VersionRow]
    now: datetime


def standards_page(*, user: Any) -> StandardsPage:
    """What the service standards' settings page shows: each tier's terms in force now, the changes
    scheduled (soonest first), every version newest first with what it changed. One query."""
    check_settings_read(user)
    now = clock.now()
    versions = list(ServiceStandard.objects.select_related("changed_by").order_by("-effective_from", "-id"))
    current: dict[str, ServiceStandard] = {}
    for standard in versions:
        if standard.effective_from <= now:
            current.setdefault(standard.tier, standard)
    rows = [
        VersionRow(
            effective_from=s.effective_from,
            changed_by=s.changed_by,
            changed_at=s.changed_at,
            reason=s.reason,
            changes=tuple(Change(name, *pair) for name, pair in s.changes.items()),
            scheduled=s.effective_from > now,
            in_force=current.get(s.tier) is s,
            label=s.tier,
        )
        for s in versions
    ]
    return StandardsPage(
        in_force=[current[tier] for tier in Tier.values if tier in current],
        scheduled=sorted((r for r in rows if r.scheduled), key=lambda r: r.effective_from),
        history=rows,
        now=now,
    )
