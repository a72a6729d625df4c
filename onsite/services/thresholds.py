"""Changing the warning and appraisal thresholds: a new version of a group, from a date on.

The effective date is today or later, never earlier: what was computed for a past date (a month's
appraisal, a warning sent) was computed with the values in force then, and stays explained by them.
A value set wrong is put right by another change from today (or, for a change not yet in force, by
another change from the same date: the last one recorded for a date is the one in force).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onsite.access import check_role
from onsite.exceptions import InvalidInput
from onsite.models import ThresholdVersion
from onsite.roles import COORDINATOR
from onsite.selectors.thresholds import version_in_force
from onsite.thresholds import GROUPS
from workflows import clock
from workflows.actors import person


def change_thresholds(
    *, group: str, values: dict[str, Any], effective_from: date, reason: str, user: Any
) -> ThresholdVersion:
    """A coordinator records new values for some of `group`'s thresholds, in force from
    `effective_from`: a version holding those and, for the others, the values in force on that date."""
    check_role(user, COORDINATOR)
    if group not in GROUPS:
        raise InvalidInput({"group": [_("There is no such group of settings.")]})
    now = clock.now()
    errors: dict[str, list[str]] = {}
    if not isinstance(effective_from, date):
        errors["effective_from"] = [_("Enter the date the change takes effect.")]
    elif effective_from < timezone.localdate(now):
        errors["effective_from"] = [_("A change takes effect today or later; it cannot start in the past.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Say why the values change.")]
    ranges = GROUPS[group]
    parsed: dict[str, int] = {}
    for name, value in values.items():
        if name not in ranges:
            errors[name] = [_("Not a setting of this group.")]
            continue
        number = _whole_number(value)
        low, high = ranges[name]
        if number is None:
            errors[name] = [_("Enter a whole number.")]
        elif not low <= number <= high:
            errors[name] = [_("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}]
        else:
            parsed[name] = number
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        # The versions of a group are changed one at a time, so "in force then" is read consistently.
        list(ThresholdVersion.objects.select_for_update().filter(group=group).values_list("pk"))
        base = version_in_force(group, on=effective_from).values
        new = {name: parsed.get(name, base[name]) for name in ranges}
        _check_order(group, new)
        changes = {name: [base[name], new[name]] for name in ranges if base[name] != new[name]}
        if not changes:
            raise InvalidInput({"": [_("These are the values in force on that date; nothing changes.")]})
        return ThresholdVersion.objects.create(
            group=group,
            values=new,
            effective_from=effective_from,
            reason=reason.strip(),
            changes=changes,
            changed_by=person(user),
            changed_at=now,
        )


def _check_order(group: str, values: dict[str, int]) -> None:
    if group == "warnings" and values["LEAD_UNTOUCHED_DAYS"] > values["FUNNEL_STALLED_DAYS"]:
        # An urgent lead left untouched must be warned about before any lead counts as stalled.
        raise InvalidInput(
            {
                "LEAD_UNTOUCHED_DAYS": [
                    _("Warn of an untouched urgent lead no later than a lead stalls: at most %(days)s days.")
                    % {"days": values["FUNNEL_STALLED_DAYS"]}
                ]
            }
        )


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None
