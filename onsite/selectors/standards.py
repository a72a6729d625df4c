"""The A/B/C service standards as they stand at a moment, and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from onsite.exceptions import InvalidInput, OnsiteError
from onsite.models import ServiceStandard, Tier
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
