"""Generated PDF reports (visit reports, monthly programme reports, incentive statements): asked for
by a person or by the system, made by a background job, stored with who asked, when, their filters
and a checksum.

Who may read a report is decided by the columns it is about (`customer`, `person`, `region`,
`team`), written when it is asked for, so a list of reports filters like any other list
(`onsite.access.report_scope`)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReportKind(models.TextChoices):
    VISIT = "visit", _("visit report")
    MONTHLY = "monthly", _("monthly programme report")
    INCENTIVE_STATEMENT = "incentive_statement", _("incentive statement")


class Report(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("being generated")
        DONE = "done", pgettext_lazy("report", "ready")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("kind"), max_length=32, choices=ReportKind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    params = models.JSONField(_("filters"), default=dict)
    # SHA-256 of the kind and its normalised filters: identical requests share it.
    request_key = models.CharField(_("request key"), max_length=64)
    title = models.CharField(_("title"), max_length=300)
    period = models.CharField(_("period"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=16)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
        help_text=_("empty: the system"),
    )
    requested_at = models.DateTimeField(_("requested at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("why it failed"), blank=True)
    retried_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("last retried by"),
    )
    retried_at = models.DateTimeField(_("last retried at"), null=True, blank=True)
    content = models.BinaryField(_("PDF"), null=True, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    # What the report is about, for its access rule.
    customer = models.ForeignKey(
        "onsite.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reports",
        verbose_name=_("customer"),
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reports_about",
        verbose_name=_("person"),
    )
    region = models.ForeignKey(
        "onsite.Region",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reports",
        verbose_name=_("region"),
    )
    team = models.ForeignKey(
        "onsite.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reports",
        verbose_name=_("team"),
    )

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-requested_at", "-id"]
        constraints = [
            # The system asks for each report once (a visit's on its approval, however often the
            # event is handled; a region's month once).
            models.UniqueConstraint(
                fields=["kind", "request_key"],
                condition=models.Q(requested_by__isnull=True),
                name="report_once_by_the_system",
            )
        ]
        indexes = [
            models.Index(fields=["-requested_at", "-id"], name="report_newest"),
            models.Index(fields=["kind", "request_key", "status"], name="report_request"),
            models.Index(fields=["customer", "-requested_at"], name="report_customer"),
            models.Index(fields=["person", "-requested_at"], name="report_person"),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.period}".strip()
