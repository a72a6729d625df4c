"""The A/B/C star service standards (星级服务计划, seed 001): for each tier, how often the customer
is visited, how soon the summary is due, how fast a support request is answered and completed, how
many visits a support engineer joins, and where its requests stand in the dispatch queue.

Kept as data the coordinator changes. A change never edits a row: it adds a version that applies
from its effective time onward, with who made it, when and why, so what was scheduled or promised
under an earlier version keeps the terms it was given.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from onsite.models.customers import Tier
from onsite.models.programmes import VISIT_CADENCES


class ServiceStandard(models.Model):
    tier = models.CharField(_("service tier"), max_length=1, choices=Tier.choices)
    visit_cadence = models.CharField(_("visit cadence"), max_length=16, choices=VISIT_CADENCES)
    summary_deadline_hours = models.PositiveSmallIntegerField(
        _("summary due (hours after the visit)"), validators=[MinValueValidator(1), MaxValueValidator(720)]
    )
    support_response_hours = models.PositiveSmallIntegerField(
        _("support response time (hours)"),
        help_text=_("An engineer takes the request up within this many hours of it being made."),
        validators=[MinValueValidator(1), MaxValueValidator(720)],
    )
    support_completion_hours = models.PositiveSmallIntegerField(
        _("support completion time (hours)"),
        help_text=_("The work is done within this many hours of dispatch, or by the date asked if sooner."),
        validators=[MinValueValidator(1), MaxValueValidator(2160)],
    )
    support_join_percent = models.PositiveSmallIntegerField(
        _("share of visits a support engineer joins (%)"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    dispatch_priority = models.PositiveSmallIntegerField(
        _("priority in the support dispatch queue"),
        help_text=_("1 is served first."),
        validators=[MinValueValidator(1), MaxValueValidator(9)],
    )
    effective_from = models.DateTimeField(_("effective from"))
    reason = models.TextField(_("why"))
    # field: [before, after] against the version it replaced; empty for the first one.
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

    TERMS = (
        "visit_cadence",
        "summary_deadline_hours",
        "support_response_hours",
        "support_completion_hours",
        "support_join_percent",
        "dispatch_priority",
    )

    class Meta:
        verbose_name = _("service standard")
        verbose_name_plural = _("service standards")
        ordering = ["tier", "-effective_from", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tier", "effective_from"], name="one_standard_per_tier_and_moment"
            ),
            models.CheckConstraint(
                condition=models.Q(support_join_percent__lte=100), name="support_join_percent_at_most_100"
            ),
        ]
        indexes = [models.Index(fields=["tier", "effective_from"], name="standard_in_effect")]

    def __str__(self) -> str:
        return f"{self.get_tier_display()} · {self.effective_from:%Y-%m-%d %H:%M}"

    def terms(self) -> dict:
        return {name: getattr(self, name) for name in self.TERMS}
