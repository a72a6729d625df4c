"""The business thresholds a region can tune.

Two homes:
- the early-warning and appraisal thresholds (`GROUPS`) are the coordinators': versioned rows
  (onsite.models.ThresholdVersion) they change in the settings pages, each change effective from a
  date. The settings `ONSITE` / environment `ONSITE_*` gave only their first version (the migration
  copied them); from then on the rows rule, and `threshold(name, on=day)` reads the version in force
  on `day` (today by default).
- the others (scheduling lead times, tiers' screening scores, import limits) stay deployment
  settings (`ONSITE`, environment `ONSITE_*`), read when used, never at import.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings

DEFAULTS = {
    # A competitor contract expiring within this many days starts a win-back task.
    "WIN_BACK_WINDOW_DAYS": 90,
    # A high-urgency lead with no activity for this many days is an early warning.
    "LEAD_UNTOUCHED_DAYS": 7,
    # Every lead's follow-up task is due this many days after it opens, by the lead's urgency.
    "LEAD_FOLLOW_UP_DAYS_HIGH": 3,
    "LEAD_FOLLOW_UP_DAYS_MEDIUM": 7,
    "LEAD_FOLLOW_UP_DAYS_LOW": 14,
    # A won lead's after-sale follow-up (销售后) is due this many days after the win.
    "LEAD_AFTER_SALE_DAYS": 30,
    # An open lead that has stayed this many days in one funnel stage is stalled.
    "FUNNEL_STALLED_DAYS": 30,
    # A visit (and its planning task) opens this many days before its planned date, at the start of
    # that day: time to plan and prepare, without tasks months ahead of a monthly cadence.
    "VISIT_LEAD_DAYS": 7,
    # A customer not visited within its cadence plus this many days is an early warning.
    "VISIT_GRACE_DAYS": 3,
    # A visit made up to this many days after its planned date still counts as "as planned".
    "VISIT_ON_PLAN_TOLERANCE_DAYS": 1,
    # An overdue summary or support request the team leader reminded about or handed to someone
    # else, still not done this many hours later, goes back to the team leader.
    "ESCALATION_FOLLOW_UP_HOURS": 24,
    # Our own contract expiring within this many days is a retention warning (renew it in time).
    "RENEWAL_WINDOW_DAYS": 90,
    # A submitted summary the team leader has not reviewed within this many days is a warning.
    "REVIEW_DUE_DAYS": 2,
    # Short-board comparison: an indicator this much worse than the team median is flagged.
    "SHORT_BOARD_MARGIN_PERCENT": 20,
    # A manager or team further than this below the month's target pro rata to the days elapsed
    # (leads created, value won, visits made as planned) is an early warning.
    "TARGET_BEHIND_PERCENT": 20,
    # Appraisal: an indicator's attainment counts up to this share of its target, so that one
    # indicator far over target cannot make up for all the others.
    "APPRAISAL_ATTAINMENT_CAP_PERCENT": 120,
    # The tier a customer's screening score (0-100) suggests: A from this score, B from the next.
    "TIER_A_MIN_SCORE": 70,
    "TIER_B_MIN_SCORE": 40,
    # Customer imports: the largest file and the most rows read.
    "IMPORT_MAX_ROWS": 5000,
    "IMPORT_MAX_BYTES": 5 * 1024 * 1024,
}


# The thresholds the coordinators change, by group (onsite.models.ThresholdGroup), in the order the
# settings pages show them; each with its allowed range (inclusive).
GROUPS: dict[str, dict[str, tuple[int, int]]] = {
    "warnings": {
        "VISIT_GRACE_DAYS": (0, 90),
        "VISIT_ON_PLAN_TOLERANCE_DAYS": (0, 30),
        "LEAD_UNTOUCHED_DAYS": (1, 90),
        "FUNNEL_STALLED_DAYS": (1, 365),
        "REVIEW_DUE_DAYS": (1, 30),
        "RENEWAL_WINDOW_DAYS": (1, 365),
        "WIN_BACK_WINDOW_DAYS": (1, 365),
        "TARGET_BEHIND_PERCENT": (1, 100),
    },
    "appraisal": {
        "APPRAISAL_ATTAINMENT_CAP_PERCENT": (100, 300),
        "SHORT_BOARD_MARGIN_PERCENT": (1, 100),
    },
}
GROUP_OF = {name: group for group, names in GROUPS.items() for name in names}


def threshold(name: str, *, on: date | None = None) -> int:
    """The threshold's value: for a coordinators' threshold the one in force on `on` (today by
    default), else the deployment's setting."""
    group = GROUP_OF.get(name)
    if group is None:
        return setting_value(name)
    # Imported here: config.settings imports this module for DEFAULTS, before any app is ready.
    from onsite.selectors.thresholds import thresholds_in_force

    return thresholds_in_force(group, on=on)[name]


def setting_value(name: str) -> int:
    """The deployment's setting (environment `ONSITE_<NAME>`), or the default."""
    return getattr(settings, "ONSITE", {}).get(name, DEFAULTS[name])
