"""Notifications: what a person is told (in the app, by e-mail or both) and how each wants to be told.

A notification keeps the words' parameters, not the sentence, so it reads in the reader's language
whenever it is shown (`onsite.selectors.notifications.describe`). Its key makes an event notify a
person once: the same task, request or warning of the day notifies nobody twice, however often the
job that finds it runs."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    TASK_ASSIGNED = "task_assigned", _("a task is assigned to me")
    TASK_IN_POOL = "task_in_pool", _("a task waits in my role's pool")
    SUMMARY_REWORK = "summary_rework", _("my summary is sent back for rework")
    DEADLINE_MISSED = "deadline_missed", _("a task's deadline is missed")
    SUPPORT_DISPATCHED = "support_dispatched", _("a support request is dispatched to me")
    URGENT_LEAD = "urgent_lead", _("a high-urgency lead is created")
    EARLY_WARNING = "early_warning", _("an early warning concerns my customer")


class Channel(models.TextChoices):
    IN_APP = "in_app", _("in the app")
    EMAIL = "email", _("by e-mail")
    BOTH = "both", _("in the app and by e-mail")
    NONE = "none", _("not at all")


# How a person is told of each kind until they choose: what needs them to act soon by e-mail too.
DEFAULT_CHANNELS = {
    NotificationKind.TASK_ASSIGNED: Channel.BOTH,
    NotificationKind.TASK_IN_POOL: Channel.IN_APP,
    NotificationKind.SUMMARY_REWORK: Channel.BOTH,
    NotificationKind.DEADLINE_MISSED: Channel.BOTH,
    NotificationKind.SUPPORT_DISPATCHED: Channel.BOTH,
    NotificationKind.URGENT_LEAD: Channel.BOTH,
    NotificationKind.EARLY_WARNING: Channel.IN_APP,
}


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    # What makes the event the same event (a task's id, a warning and its day): a second notice of
    # it is refused by the unique constraint.
    key = models.CharField(_("key"), max_length=200)
    params = models.JSONField(_("parameters"), default=dict, encoder=DjangoJSONEncoder)
    link = models.CharField(_("link"), max_length=500, blank=True)
    # False when the person chose e-mail only: the row still keeps the event from being sent twice.
    in_app = models.BooleanField(_("shown in the app"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Whether the person chose e-mail for it: owed until `emailed_at`, tried again on schedule.
    by_email = models.BooleanField(_("sent by e-mail"), default=False)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    # A try's claim, committed before it talks to the mail server: no other try sends while it
    # holds it; one left behind by a try that died is taken over once it is older than any try lives.
    email_sending_since = models.DateTimeField(_("e-mail being sent since"), null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(_("e-mail attempts failed"), default=0)
    email_error = models.TextField(_("last e-mail error"), blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "kind", "key"], name="notification_once_per_event")
        ]
        indexes = [
            # The bell's count and the list's first page: a person's unread, newest first.
            models.Index(
                fields=["recipient", "-created_at"],
                condition=models.Q(in_app=True, read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(
                fields=["recipient", "-created_at"],
                condition=models.Q(in_app=True),
                name="notification_shown",
            ),
            # The e-mails still owed, for the retry schedule.
            models.Index(
                fields=["created_at"],
                condition=models.Q(by_email=True, emailed_at__isnull=True),
                name="notification_email_owed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient}"


class NotificationSetting(models.Model):
    """How a person wants to be told of one kind; no row means `DEFAULT_CHANNELS`."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_settings",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)

    class Meta:
        verbose_name = _("notification setting")
        verbose_name_plural = _("notification settings")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_setting_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_kind_display()} {self.get_channel_display()}"


class ReadingLanguage(models.Model):
    """The language a person last chose in the header, so their e-mails are written in it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reading_language",
        verbose_name=_("user"),
    )
    language = models.CharField(_("language"), max_length=16)

    class Meta:
        verbose_name = _("reading language")
        verbose_name_plural = _("reading languages")

    def __str__(self) -> str:
        return f"{self.user}: {self.language}"
