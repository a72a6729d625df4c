"""Programmes (驻点服务方案): a region's on-site service to a group of screened customers, each
enrolment running its own programme instance through the three stages."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from onsite.models.customers import Customer
from onsite.models.organisation import Region


class Stage(models.TextChoices):
    PUBLICITY = "publicity", _("publicity")
    INFORMATION_GATHERING = "information_gathering", _("information gathering")
    WIN_BACK = "win_back", _("targeted win-back")


class Cadence(models.TextChoices):
    WEEKLY = "weekly", _("weekly")
    BIWEEKLY = "biweekly", _("every two weeks")
    MONTHLY = "monthly", _("monthly")
    # A programme's visits follow each customer's service standard (onsite.models.standards).
    BY_TIER = "by_tier", _("as the customer's service tier sets")


# The cadences a service standard can set (a standard cannot defer to itself).
VISIT_CADENCES = [(value, label) for value, label in Cadence.choices if value != Cadence.BY_TIER]


class Programme(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        CLOSED = "closed", _("closed")

    name = models.CharField(_("name"), max_length=200)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="programmes", verbose_name=_("region")
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    cadence = models.CharField(
        _("visit cadence"), max_length=16, choices=Cadence.choices, default=Cadence.BY_TIER
    )
    # The team leader reviews the stage after every this many visits; empty: about once a month at
    # the cadence each visit was scheduled with (4 weekly, 2 fortnightly, 1 monthly visit).
    visits_per_review = models.PositiveSmallIntegerField(
        _("visits between stage reviews"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
    )
    # Enrolments start this version, even after a newer one is deployed.
    process_version = models.ForeignKey(
        "workflows.ProcessVersion",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("process version"),
    )
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="programmes",
        verbose_name=_("coordinator"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["-start_date", "name"]

    def __str__(self) -> str:
        return self.name


class StageFactors(models.Model):
    """The four factors seed 002 sets a stage from, each scored 1 (low) to 5 (high)."""

    economic_development = models.PositiveSmallIntegerField(
        _("local economic development"), null=True, blank=True
    )
    informatization_level = models.PositiveSmallIntegerField(
        _("informatization level"), null=True, blank=True
    )
    competition = models.PositiveSmallIntegerField(_("competitive pressure"), null=True, blank=True)
    our_capability = models.PositiveSmallIntegerField(_("our capability"), null=True, blank=True)

    FIELDS = ("economic_development", "informatization_level", "competition", "our_capability")

    class Meta:
        abstract = True

    def factors(self) -> dict:
        return {name: getattr(self, name) for name in self.FIELDS}


class Enrolment(StageFactors):
    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        COMPLETED = "completed", _("completed")
        ENDED_EARLY = "ended_early", _("ended early")

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("programme")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("customer")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    stage = models.CharField(_("current stage"), max_length=32, choices=Stage.choices)
    screening_score = models.DecimalField(
        _("screening score"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    screening_reason = models.TextField(_("why the customer was chosen"), blank=True)
    instance = models.OneToOneField(
        "workflows.ProcessInstance",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enrolment",
        verbose_name=_("programme instance"),
    )
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("enrolled by"),
    )
    enrolled_at = models.DateTimeField(_("enrolled at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.TextField(_("why it ended"), blank=True)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["programme", "customer"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "customer"], name="unique_enrolment"),
            # One programme at a time: two would send the same manager two visit plans a week.
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(status="active"),
                name="one_active_enrolment_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} · {self.customer}"


class StageAssessment(StageFactors):
    """A scoring of the factors: at enrolment, and at each team-leader stage review."""

    class Decision(models.TextChoices):
        INITIAL = "initial", _("initial assessment")
        ADVANCE = "advance", _("goal met: next stage")
        CONTINUE = "continue", _("continue this stage")

    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="assessments", verbose_name=_("enrolment")
    )
    stage = models.CharField(_("stage assessed"), max_length=32, choices=Stage.choices)
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices)
    note = models.TextField(_("assessment"), blank=True)
    visit = models.ForeignKey(
        "onsite.Visit",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("after visit"),
    )
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assessed by"),
    )
    at = models.DateTimeField(_("at"))
    # The task that recorded it, so a retried service task records it once.
    task_id = models.UUIDField(_("task id"), null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("stage assessment")
        verbose_name_plural = _("stage assessments")
        ordering = ["enrolment", "at", "id"]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: {self.get_decision_display()}"


class StageChange(models.Model):
    """The stage history of an enrolment: a mirror of the programme instance, never edited around it."""

    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="stage_changes", verbose_name=_("enrolment")
    )
    from_stage = models.CharField(_("from"), max_length=32, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=32, choices=Stage.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    at = models.DateTimeField(_("at"))
    reason = models.TextField(_("why"), blank=True)
    task_id = models.UUIDField(_("task id"), null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["enrolment", "at", "id"]
        # The dashboard's stage changes per week, read from it alone.
        indexes = [models.Index(fields=["at", "to_stage", "enrolment"], name="stage_change_at")]

    def __str__(self) -> str:
        return f"{self.from_stage or '-'} → {self.to_stage}"
