"""The sales funnel (销售漏斗, seed 003): the stages a lead moves through, each stage's win
probability (data the coordinator tunes in the admin) and every move a lead made."""

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class FunnelStage(models.TextChoices):
    """Seed 003's eight steps, in order. A lead moves forward only (it may skip a step); the last two
    are reached by winning it and by its after-sale follow-up."""

    PREPARATION = "preparation", _("sales preparation")
    CUSTOMER_PROFILE = "customer_profile", _("collect the customer's full picture")
    ENTRY_POINT = "entry_point", _("find the entry point")
    SALES_VISIT = "sales_visit", _("sales visit")
    PAIN_POINTS = "pain_points", _("develop the pain points")
    SOLUTION = "solution", _("give the customer the solution they want")
    WON = "won", _("deal closed")
    AFTER_SALE = "after_sale", _("after the sale")


HUNDREDTH = Decimal("0.01")
MICROSECONDS_A_DAY = Decimal(24 * 60 * 60 * 10**6)

STAGE_ORDER = {stage: rank for rank, stage in enumerate(FunnelStage.values, start=1)}
# The stages of a lead still being pursued (status new or following) and of a lost one.
OPEN_STAGES = tuple(FunnelStage.values[: STAGE_ORDER[FunnelStage.SOLUTION]])
CLOSED_STAGES = (FunnelStage.WON, FunnelStage.AFTER_SALE)
# Default win probability (percent) per stage, loaded by a migration and edited in the admin.
DEFAULT_PROBABILITIES = {
    FunnelStage.PREPARATION: 5,
    FunnelStage.CUSTOMER_PROFILE: 10,
    FunnelStage.ENTRY_POINT: 20,
    FunnelStage.SALES_VISIT: 30,
    FunnelStage.PAIN_POINTS: 50,
    FunnelStage.SOLUTION: 70,
    FunnelStage.WON: 100,
    FunnelStage.AFTER_SALE: 100,
}


class FunnelStageSetting(models.Model):
    """How likely a lead at this stage is to be won: what its value is weighted by in the pipeline."""

    stage = models.CharField(_("funnel stage"), max_length=24, choices=FunnelStage.choices, unique=True)
    win_probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), validators=[MaxValueValidator(100)]
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("funnel stage setting")
        verbose_name_plural = _("funnel stage settings")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(win_probability__lte=100), name="win_probability_is_a_percentage"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: {self.win_probability}%"


def stay_days(entered: datetime, left: datetime) -> Decimal:
    """A stay's length in days, to the hundredth (half up), from the exact microseconds."""
    return (Decimal((left - entered) // timedelta(microseconds=1)) / MICROSECONDS_A_DAY).quantize(
        HUNDREDTH, ROUND_HALF_UP
    )


class LeadStageMove(models.Model):
    """One step of a lead through the funnel: from, to, when, by whom, why, and the value the lead
    was expected to bring at that point. When the lead moves on, `left_at` is set and the stay's
    length in days (`stay_days`), which the funnel's medians count.

    The lead's customer and creation time are copied here (neither ever changes) so the funnel
    reads the stays of the leads in scope from this table alone: joining every stay to its lead
    cost more than the rest of a company-wide funnel together."""

    lead = models.ForeignKey(
        "onsite.Lead", on_delete=models.CASCADE, related_name="stage_moves", verbose_name=_("lead")
    )
    customer = models.ForeignKey(
        "onsite.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    lead_created_at = models.DateTimeField(_("lead created at"))
    from_stage = models.CharField(_("from stage"), max_length=24, choices=FunnelStage.choices, blank=True)
    to_stage = models.CharField(_("to stage"), max_length=24, choices=FunnelStage.choices)
    at = models.DateTimeField(_("at"))
    left_at = models.DateTimeField(_("left the stage at"), null=True, blank=True)
    # A plain column, not a generated one: SQLite does not read a generated column from an index.
    stay_days = models.DecimalField(
        _("days in the stage"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.TextField(_("note"), blank=True)
    expected_value = models.DecimalField(
        _("expected value (CNY)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    # The follow-up task that made the move: a task applied twice moves the lead once.
    task_id = models.UUIDField(_("task id"), null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("lead stage move")
        verbose_name_plural = _("lead stage moves")
        ordering = ["lead", "at", "id"]
        indexes = [
            # The funnel's median days read from the index alone: the finished stays per stage in
            # order of length, with the period and the customer to filter on; and the same from the
            # customers (a region's).
            models.Index(
                fields=["to_stage", "stay_days", "lead_created_at", "customer"],
                name="stage_move_stay",
                condition=models.Q(stay_days__isnull=False),
            ),
            models.Index(
                fields=["customer", "to_stage", "stay_days", "lead_created_at"],
                name="stage_move_customer_stay",
                condition=models.Q(stay_days__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(left_at__isnull=True, stay_days__isnull=True)
                | models.Q(left_at__isnull=False, stay_days__isnull=False),
                name="finished_stay_has_its_length",
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_stage or '-'} → {self.to_stage}"
