"""The business thresholds a region can tune (settings `ONSITE`, environment `ONSITE_*`).

Read when used, never at import, so tests and deployments can change them.
"""

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


def threshold(name: str) -> int:
    return getattr(settings, "ONSITE", {}).get(name, DEFAULTS[name])
