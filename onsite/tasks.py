"""The domain's background jobs (django-q2): each takes ids or nothing, calls one service and is
idempotent, so a retried job or two clusters running the same schedule create nothing twice.
The schedules that run them are registered in `onsite.apps` by dotted path."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from onsite.services import appraisals, incentives, notices, notifications, renewals, reports, winback
from workflows import clock
from workflows.actors import SYSTEM

# --- schedules: the domain's recurring work ------------------------------------------------------
# (Recurring visits need no job of their own: the programme's diagram waits on a timer until each
# visit opens, and the engine's every-minute `workflows.tasks.fire_due_timers` starts it, once.)


def start_win_back_targets() -> int:
    """Daily: a win-back task for every competitor contract entering the window (once per product
    and expiry date); how many started."""
    return len(winback.start_win_back_targets(today=today()))


def start_renewal_targets() -> int:
    """Daily: a renewal task for every contract of ours entering the renewal window (once per
    product and expiry date); how many started."""
    return len(renewals.start_renewal_targets(today=today()))


def request_incentive_reviews() -> int:
    """Monthly, on the first: each team leader's review of the team's pending incentive records
    for the month just ended (approved, they make up each person's statement); how many started."""
    return len(incentives.request_incentive_reviews(period=past_month()))


def generate_appraisals() -> int:
    """Monthly, on the first: the appraisals of the month just ended (once per person and month);
    how many were made."""
    return len(appraisals.generate_appraisals(period=past_month(), user=SYSTEM))


def request_monthly_reports() -> int:
    """Monthly, on the first: the programme report of the month just ended for every branch; how
    many reports (each queued once however often the schedule runs)."""
    return len(reports.request_monthly_reports(period=past_month()))


def today() -> date:
    """The local date on the engine's clock (which tests can freeze)."""
    return timezone.localdate(clock.now())


def past_month() -> date:
    """The first day of the month before today's."""
    return (today().replace(day=1) - timedelta(days=1)).replace(day=1)


# --- notifications -------------------------------------------------------------------------------


def send_notification_email(notification_id: int) -> bool:
    """Raises when the mail server fails, so the cluster retries it; sends once however often run."""
    return notifications.send_notification_email(notification_id=notification_id)


def send_owed_emails() -> int:
    """Every five minutes: the notification e-mails a failed or lost job still owes; how many sent."""
    return notifications.send_owed_emails(now=clock.now())


def give_notice(name: str, ids: dict) -> None:
    """A notice that failed right after its action committed, given again (once per event)."""
    notices.give_notice(name=name, ids=ids)


def notify_missed_deadlines() -> int:
    """Every five minutes: the assignee and their team leader of each task gone past its due time,
    once per task and due time; how many notices."""
    return notices.notify_missed_deadlines(now=clock.now())


def notify_early_warnings() -> int:
    """Daily: each early warning to the people it concerns, once per warning and day."""
    return notices.notify_early_warnings(day=today())


# --- reports -------------------------------------------------------------------------------------


def generate_report(report_id: int) -> bool:
    """A queued PDF report made; never raises for a report that fails (its reason is stored and a
    person retries it), and makes nothing twice however often run."""
    return reports.generate_report(report_id=report_id)
