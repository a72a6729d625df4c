"""The domain's background jobs (django-q2). Each takes ids or nothing, calls one service and is
idempotent, so a retried job or two clusters running it at once do nothing twice."""

from __future__ import annotations

from django.utils import timezone

from onsite.services import notices, notifications


def send_notification_email(notification_id: int) -> bool:
    """Raises when the mail server fails, so the cluster retries it; sends once however often run."""
    return notifications.send_notification_email(notification_id=notification_id)


def notify_task_waiting(task_id: str) -> None:
    notices.notify_task_waiting(task_id=task_id)


def notify_missed_deadlines() -> int:
    return notices.notify_missed_deadlines(now=timezone.now())


def notify_early_warnings() -> int:
    return notices.notify_early_warnings(day=timezone.localdate())
