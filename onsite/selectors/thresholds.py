"""The warning and appraisal thresholds in force on a date, the changes scheduled, and their history.

Every computation that reads a threshold reads it here (through `onsite.thresholds.threshold`), for
its own date: today's warnings today's values, October's appraisal October's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from onsite.access import has_role
from onsite.exceptions import NotPermitted, OnsiteError
from onsite.models import ThresholdVersion
from onsite.roles import COORDINATOR, LEADERSHIP
from onsite.thresholds import GROUPS
from workflows import clock
from workflows.exceptions import NotFound


def version_in_force(group: str, *, on: date | None = None) -> ThresholdVersion:
    """The group's version in force on `on` (today by default): the latest effective by then, the
    last recorded of those from the same date. The migration wrote one from long ago, so there is
    always one."""
    day = on or timezone.localdate(clock.now())
    version = (
        ThresholdVersion.objects.filter(group=group, effective_from__lte=day)
        .order_by("-effective_from", "-changed_at", "-id")
        .first()
    )
    if version is None:
        raise OnsiteError(_("No thresholds are recorded for %(group)s.") % {"group": group})
    return version


def thresholds_in_force(group: str, *, on: date | None = None) -> dict[str, int]:
    """Every threshold of `group` by name, as in force on `on` (today by default). One query."""
    values = version_in_force(group, on=on).values
    return {name: values[name] for name in GROUPS[group]}


@dataclass(frozen=True)
class Change:
    name: str
    before: Any
    after: Any


@dataclass(frozen=True)
class VersionRow:
    effective_from: date | datetime
    changed_by: Any
    changed_at: datetime
    reason: str
    changes: tuple[Change, ...]
    scheduled: bool  # not yet in force
    in_force: bool  # the one in force now
    label: str = ""  # what it is a version of, where a page lists several (a tier, an event)


@dataclass(frozen=True)
class ThresholdPage:
    group: str
    values: dict[str, int]  # in force today
    ranges: dict[str, tuple[int, int]]
    scheduled: list[VersionRow]
    history: list[VersionRow]
    today: date


def check_settings_read(user: Any) -> None:
    """The settings pages are the coordinators' (who change them) and leadership's (who read them)."""
    if not has_role(user, COORDINATOR, LEADERSHIP):
        raise NotPermitted()


def threshold_page(*, group: str, user: Any) -> ThresholdPage:
    """What a group's settings page shows: the values in force today, the changes scheduled for
    later dates (soonest first), and every version, newest first. Two queries."""
    check_settings_read(user)
    if group not in GROUPS:
        raise NotFound(_("There is no such group of settings."))
    today = timezone.localdate(clock.now())
    versions = list(
        ThresholdVersion.objects.filter(group=group)
        .select_related("changed_by")
        .order_by("-effective_from", "-changed_at", "-id")
    )
    current = next((v for v in versions if v.effective_from <= today), None)
    rows = [
        VersionRow(
            effective_from=v.effective_from,
            changed_by=v.changed_by,
            changed_at=v.changed_at,
            reason=v.reason,
            changes=tuple(Change(name, *pair) for name, pair in v.changes.items()),
            scheduled=v.effective_from > today,
            in_force=v is current,
        )
        for v in versions
    ]
    return ThresholdPage(
        group=group,
        values={name: current.values[name] for name in GROUPS[group]} if current else {},
        ranges=GROUPS[group],
        scheduled=sorted((r for r in rows if r.scheduled), key=lambda r: r.effective_from),
        history=rows,
        today=today,
    )
