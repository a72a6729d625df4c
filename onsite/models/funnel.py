"""The sales funnel (销售漏斗, seed 003): the stages a lead moves through, each stage's win
probability (data the coordinator tunes in the admin) and every move a lead made."""

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


class LeadStageMove(models.Model):
    """One step of a lead through the funnel: from, to, when, by whom, why, and the value the lead
    was expected to bring at that point. `left_at` is set when the lead moves on, so the time spent
    in a stage is a column expression (the funnel's median days)."""

    lead = models.ForeignKey(
        "onsite.Lead", on_delete=models.CASCADE, related_name="stage_moves", verbose_name=_("lead")
    )
    from_stage = models.CharField(_("from stage"), max_length=24, choices=FunnelStage.choices, blank=True)
    to_stage = models.CharField(_("to stage"), max_length=24, choices=FunnelStage.choices)
    at = models.DateTimeField(_("at"))
    left_at = models.DateTimeField(_("left the stage at"), null=True, blank=True)
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
        indexes = [models.Index(fields=["to_stage", "left_at"], name="stage_move_stay")]

    def __str__(self) -> str:
        return f"{self.from_stage or '-'} → {self.to_stage}"
