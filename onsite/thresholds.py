"""The business thresholds a region can tune (settings `ONSITE`, environment `ONSITE_*`).

Read when used, never at import, so tests and deployments can change them.
"""

from django.conf import settings

DEFAULTS = {
    # A competitor contract expiring within this many days starts a win-back task.
    "WIN_BACK_WINDOW_DAYS": 90,
    # A high-urgency lead with no activity for this many days is an early warning.
    "LEAD_UNTOUCHED_DAYS": 7,
    # A customer not visited within its cadence plus this many days is an early warning.
    "VISIT_GRACE_DAYS": 3,
    # A visit made up to this many days after its planned date still counts as "as planned".
    "VISIT_ON_PLAN_TOLERANCE_DAYS": 1,
    # An overdue summary or support request the team leader reminded about or handed to someone
    # else, still not done this many hours later, goes back to the team leader.
    "ESCALATION_FOLLOW_UP_HOURS": 24,
    # Short-board comparison: an indicator this much worse than the team median is flagged.
    "SHORT_BOARD_MARGIN_PERCENT": 20,
    # The tier a customer's screening score (0-100) suggests: A from this score, B from the next.
    "TIER_A_MIN_SCORE": 70,
    "TIER_B_MIN_SCORE": 40,
    # Customer imports: the largest file and the most rows read.
    "IMPORT_MAX_ROWS": 5000,
    "IMPORT_MAX_BYTES": 5 * 1024 * 1024,
}


def threshold(name: str) -> int:
    return getattr(settings, "ONSITE", {}).get(name, DEFAULTS[name])
