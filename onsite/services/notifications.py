"""Telling people: a notification per person and event, once, in the app and/or by e-mail as each
chose; reading them; each person's choices and the language their e-mails are written in.

`notify` is idempotent by the event's key (a unique constraint, not a look-up alone), so a retried
job, or two clusters finding the same event, tell nobody twice. The e-mail is a job queued after
commit (`onsite.tasks.send_notification_email`): a mail server that is down delays the e-mail, it
never blocks or undoes what caused it; each failure is counted on the notification and
`send_owed_emails` (every five minutes) tries again until it goes out. Any number of tries, at
the same moment or not, send it at most once: each claims the send in a committed step of its own
before it talks to the mail server (`email_sending_since`), and `emailed_at` records it sent. The
one outcome nobody can know, a try that died mid-send, is sent again only once that try can no
longer be running (`claim_expiry`), and is recorded on the notification as uncertain. What the
domain tells whom, event by event, is `onsite.services.notices`."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _

from onsite.exceptions import InvalidInput
from onsite.models import Channel, Notification, NotificationKind, NotificationSetting, ReadingLanguage
from onsite.selectors.notifications import channels_of, describe, language_of

EMAIL_JOB = "onsite.tasks.send_notification_email"
# Failed tries before an e-mail is given up: about an hour at the five-minute retry schedule.
EMAIL_ATTEMPTS = 12
# Seconds past a job's timeout before its claim to send is taken to be a dead try's: the cluster's
# guard stops a worker its timeout did not (django-q2 gives it 3 s), and a loaded machine is late.
CLAIM_MARGIN_SECONDS = 5
logger = logging.getLogger(__name__)
SHOWN = (Channel.IN_APP, Channel.BOTH)
EMAILED = (Channel.EMAIL, Channel.BOTH)


def notify(
    *, recipients: Iterable[Any], kind: str, key: str, params: dict, link: str = ""
) -> list[Notification]:
    """Tell each active recipient of the event `kind`/`key` as they chose (nobody who chose none);
    the notifications this call created — none when every recipient was told already."""
    people = {user.pk: user for user in recipients if user is not None and user.is_active}
    if not people:
        return []
    channels = channels_of(user_ids=people, kind=kind)
    wanted = {pk for pk, channel in channels.items() if channel != Channel.NONE}
    told = set(
        Notification.objects.filter(kind=kind, key=key, recipient_id__in=wanted).values_list(
            "recipient_id", flat=True
        )
    )
    created = []
    for pk in sorted(wanted - told):
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    recipient_id=pk,
                    kind=kind,
                    key=key,
                    params=params,
                    link=link,
                    in_app=channels[pk] in SHOWN,
                    by_email=channels[pk] in EMAILED,
                )
        except IntegrityError:
            continue  # another job told them of this event at the same moment
        created.append(notification)
        if channels[pk] in EMAILED and people[pk].email:
            # Robust: a broker that is down loses this e-mail (logged), never the caller's action.
            transaction.on_commit(lambda pk=notification.pk: _queue_email(pk), robust=True)
    return created


def _queue_email(notification_id: int) -> None:
    # Imported when used: django_q reads the settings when it is imported.
    from django_q.tasks import async_task

    async_task(EMAIL_JOB, notification_id)


def send_notification_email(*, notification_id: int) -> bool:
    """Send the notification's e-mail in its recipient's language, at most once however many tries
    run at the same moment: a try first claims the send in its own committed step, and only the
    try holding the claim talks to the mail server. A mail server's failure is counted on the
    notification and raised (the job fails, `send_owed_emails` tries again later); it stays
    unsent. Whether this try sent it."""
    try:
        return _send_email(notification_id)
    except Exception as exc:
        Notification.objects.filter(pk=notification_id).update(
            email_attempts=F("email_attempts") + 1, email_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise


def send_owed_emails(*, now: datetime, limit: int = 200) -> int:
    """The e-mails still owed a minute after their notice (their job failed, or was lost with a
    broker that was down), least tried first, until each is sent or has failed EMAIL_ATTEMPTS
    times. The first failure ends the run: a mail server that is down is tried again next run, not
    once per e-mail. So does the job's time running out: no send is begun that the job's timeout
    could cut off halfway. How many went out."""
    owed = (
        Notification.objects.filter(
            by_email=True,
            emailed_at__isnull=True,
            email_attempts__lt=EMAIL_ATTEMPTS,
            created_at__lte=now - timedelta(minutes=1),
        )
        .exclude(recipient__email="")
        .order_by("email_attempts", "created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    # A send may take EMAIL_TIMEOUT at each step of the conversation: begun later than this, it
    # could still be talking to the server when the cluster ends the job.
    stop_by = time.monotonic() + max(settings.Q_CLUSTER["timeout"] - 2 * settings.EMAIL_TIMEOUT, 0)
    sent = 0
    for notification_id in list(owed):
        if sent and time.monotonic() > stop_by:
            break  # the rest next run
        try:
            sent += send_notification_email(notification_id=notification_id)
        except Exception:
            logger.warning(
                "E-mail of notification #%s failed; tried again next run", notification_id, exc_info=True
            )
            break
    return sent


def claim_expiry() -> timedelta:
    """How long a claim to send stands: longer than any try can live. A try is a job, which the
    cluster ends at its timeout (and its guard a few seconds later at the latest), so a claim older
    than that was left by a try that died: killed, timed out, or its machine gone."""
    return timedelta(seconds=settings.Q_CLUSTER["timeout"] + CLAIM_MARGIN_SECONDS)


def _send_email(notification_id: int) -> bool:
    notification = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).first()
    if notification is None:
        return False
    recipient = get_user_model().objects.get(pk=notification.recipient_id)
    if not recipient.email:
        return False
    message = _email_of(notification, recipient)
    claimed_at = _claim(notification)
    if claimed_at is None:
        return False  # sent meanwhile, or being sent by another try right now
    try:
        message.send(fail_silently=False)
    except Exception:
        # Refused by the mail server: not sent, the next try may send it. (A try stopped here by
        # its job's timeout raises no Exception and keeps its claim: whether it went out is unknown.)
        owned = Notification.objects.filter(pk=notification_id, email_sending_since=claimed_at)
        owned.update(email_sending_since=None)
        raise
    Notification.objects.filter(pk=notification_id).update(
        emailed_at=timezone.now(), email_sending_since=None
    )
    return True


def _claim(notification: Notification) -> datetime | None:
    """This try's claim to send, committed before the mail server is asked, and when; None if the
    e-mail went out meanwhile or another try holds a claim that still stands. Each step is one
    UPDATE, which two tries cannot both win, on SQLite as on PostgreSQL. A claim taken over from a
    try that died is an uncertain outcome, recorded: that try may have handed the message to the
    server before it died, so the recipient may get it twice."""
    now = timezone.now()
    owed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True)
    if owed.filter(email_sending_since__isnull=True).update(email_sending_since=now):
        return now
    if not owed.filter(email_sending_since__lt=now - claim_expiry()).update(email_sending_since=now):
        return None
    uncertain = (
        "Uncertain: an earlier try began sending and never finished (its worker died or was "
        "stopped); sent again, so it may have gone out twice."
    )
    logger.warning("E-mail of notification #%s: %s", notification.pk, uncertain)
    Notification.objects.filter(pk=notification.pk).update(email_error=uncertain)
    return now


def _email_of(notification: Notification, recipient: Any) -> EmailMessage:
    with translation.override(language_of(recipient)):
        context = {
            "notification": notification,
            "text": describe(notification),
            "url": settings.SITE_URL.rstrip("/") + reverse("notification_open", args=[notification.pk]),
            "settings_url": settings.SITE_URL.rstrip("/") + reverse("notification_settings"),
            "recipient": recipient,
        }
        subject = _("On-site service: %(kind)s") % {"kind": notification.get_kind_display()}
        body = render_to_string("onsite/notifications/email.txt", context)
    return EmailMessage(subject=subject, body=body, to=[recipient.email])


def mark_read(*, user: Any, notification_id: int, at: datetime | None = None) -> Notification:
    """The person's own notification, read (a notification of someone else's does not exist)."""
    notification = Notification.objects.get(pk=notification_id, recipient_id=user.pk)
    if notification.read_at is None:
        notification.read_at = at or timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(*, user: Any, at: datetime | None = None) -> int:
    """Every unread notification of the person, read; how many."""
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(
        read_at=at or timezone.now()
    )


def save_settings(*, user: Any, channels: dict[str, str]) -> None:
    """How the person wants to be told of each kind given (the others keep theirs)."""
    errors = {
        kind: [_("Choose how to be told.")]
        for kind, channel in channels.items()
        if kind not in NotificationKind.values or channel not in Channel.values
    }
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        for kind, channel in channels.items():
            NotificationSetting.objects.update_or_create(user=user, kind=kind, defaults={"channel": channel})


def remember_language(*, user: Any, language: str) -> None:
    """The language the person chose in the header: their e-mails are written in it from now on."""
    if not getattr(user, "is_authenticated", False) or not language:
        return
    if language not in dict(settings.LANGUAGES) or not check_for_language(language):
        return
    ReadingLanguage.objects.update_or_create(user=user, defaults={"language": language})
