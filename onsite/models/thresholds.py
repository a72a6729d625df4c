"""The warning and appraisal thresholds as the coordinators set them, version by version.

A change never edits a row: it adds a version holding every value of its group, in force from its
effective date until the next version's, with who made it, when, why and what it changed. So a
computation for a date (October's appraisal, today's warnings) reads the version in force on that
date, whatever was changed since.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ThresholdGroup(models.TextChoices):
    WARNINGS = "warnings", _("early warnings")
    APPRAISAL = "appraisal", _("appraisal")


class ThresholdVersion(models.Model):
    group = models.CharField(_("group"), max_length=16, choices=ThresholdGroup.choices)
    # Every threshold of the group by name (onsite.thresholds.GROUPS), as whole numbers.
    values = models.JSONField(_("values"))
    effective_from = models.DateField(_("effective from"))
    reason = models.TextField(_("why"))
    # name: [before, after] against the version in force on the effective date; empty for the first.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("threshold version")
        verbose_name_plural = _("threshold versions")
        # Two versions from the same date: the one recorded last is in force (a correction).
        ordering = ["group", "-effective_from", "-changed_at", "-id"]
        indexes = [models.Index(fields=["group", "effective_from"], name="threshold_in_force")]

    def __str__(self) -> str:
        return f"{self.get_group_display()} · {self.effective_from:%Y-%m-%d}"
