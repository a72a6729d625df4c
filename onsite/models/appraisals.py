"""Monthly performance appraisal (绩效考核, seed 004): weighted indicators measured from the records
against targets the team leader sets, the leader's comments and adjustment, the person's
acknowledgement or dispute and the coordinator's decision, every change of score kept."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from onsite.models.organisation import Team


class AppraisedRole(models.TextChoices):
    """Who is appraised, and so on which indicators and targets."""

    ACCOUNT_MANAGER = "account_manager", _("account manager")
    SUPPORT_STAFF = "support_staff", _("support staff")
    TEAM_LEADER = "team_leader", _("team leader")


class AppraisalTarget(models.Model):
    """One indicator's target and weight for a role: a team's for one month, or (no team, no
    period) the default every team starts from."""

    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="appraisal_targets",
        verbose_name=_("team"),
    )
    role = models.CharField(_("role"), max_length=16, choices=AppraisedRole.choices)
    period = models.DateField(_("period"), null=True, blank=True, help_text=_("first day of the month"))
    indicator = models.CharField(_("indicator"), max_length=32)
    target = models.DecimalField(_("target"), max_digits=16, decimal_places=4)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("set by"),
    )
    set_at = models.DateTimeField(_("set at"), null=True, blank=True)

    class Meta:
        verbose_name = _("appraisal target")
        verbose_name_plural = _("appraisal targets")
        ordering = ["team", "role", "period", "indicator"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "role", "period", "indicator"],
                condition=models.Q(team__isnull=False),
                name="one_team_target_per_indicator",
            ),
            models.UniqueConstraint(
                fields=["role", "indicator"],
                condition=models.Q(team__isnull=True),
                name="one_default_target_per_indicator",
            ),
            models.CheckConstraint(
                condition=models.Q(team__isnull=True, period__isnull=True)
                | models.Q(team__isnull=False, period__isnull=False),
                name="target_default_or_team_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.indicator}"


class Appraisal(models.Model):
    """One person's appraisal for one month, from the computed score to the final one."""

    class Status(models.TextChoices):
        LEADER_REVIEW = "leader_review", _("with the team leader")
        AWAITING_RESPONSE = "awaiting_response", _("awaiting the person's response")
        DISPUTED = "disputed", _("disputed, with the coordinator")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        DECIDED = "decided", _("decided by the coordinator")

    FINAL = (Status.ACKNOWLEDGED, Status.DECIDED)

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="appraisals",
        verbose_name=_("person"),
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="appraisals", verbose_name=_("team")
    )
    role = models.CharField(_("role"), max_length=16, choices=AppraisedRole.choices)
    period = models.DateField(_("period"), help_text=_("first day of the month"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    # Who comments and may adjust: the team leader; nobody for a team leader's own appraisal.
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    computed_score = models.DecimalField(_("computed score"), max_digits=7, decimal_places=2)
    score = models.DecimalField(_("score"), max_digits=7, decimal_places=2)
    final_score = models.DecimalField(_("final score"), max_digits=7, decimal_places=2, null=True, blank=True)
    leader_comment = models.TextField(_("team leader's comment"), blank=True)
    dispute_reason = models.TextField(_("why the person disputes it"), blank=True)
    decision_note = models.TextField(_("coordinator's decision"), blank=True)
    instance = models.OneToOneField(
        "workflows.ProcessInstance",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appraisal",
        verbose_name=_("process instance"),
    )
    created_at = models.DateTimeField(_("created at"))
    finalised_at = models.DateTimeField(_("finalised at"), null=True, blank=True)

    class Meta:
        verbose_name = _("appraisal")
        verbose_name_plural = _("appraisals")
        ordering = ["-period", "team", "person"]
        constraints = [models.UniqueConstraint(fields=["person", "period"], name="one_appraisal_per_month")]

    def __str__(self) -> str:
        return f"{self.person} {self.period:%Y-%m}"


class AppraisalLine(models.Model):
    """One indicator of an appraisal as it was measured: value, target, attainment, weight, points.
    A value of None was not measured (nothing to measure, or not yet recorded) and weighs nothing."""

    appraisal = models.ForeignKey(
        Appraisal, on_delete=models.CASCADE, related_name="lines", verbose_name=_("appraisal")
    )
    indicator = models.CharField(_("indicator"), max_length=32)
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=4, null=True, blank=True)
    target = models.DecimalField(_("target"), max_digits=16, decimal_places=4)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2)
    attainment = models.DecimalField(_("attainment"), max_digits=7, decimal_places=4, null=True, blank=True)
    points = models.DecimalField(_("points"), max_digits=7, decimal_places=2, default=Decimal(0))

    class Meta:
        verbose_name = _("appraisal indicator")
        verbose_name_plural = _("appraisal indicators")
        ordering = ["appraisal", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["appraisal", "indicator"], name="one_line_per_indicator")
        ]

    def __str__(self) -> str:
        return self.indicator


class AppraisalScoreChange(models.Model):
    """The history of an appraisal's score: computed, adjusted by the team leader, accepted by the
    person, decided by the coordinator; each with who, when and why."""

    class Kind(models.TextChoices):
        COMPUTED = "computed", _("computed from the records")
        ADJUSTED = "adjusted", _("adjusted by the team leader")
        ACKNOWLEDGED = "acknowledged", _("acknowledged by the person")
        DISPUTED = "disputed", _("disputed by the person")
        DECIDED = "decided", _("decided by the coordinator")

    appraisal = models.ForeignKey(
        Appraisal, on_delete=models.CASCADE, related_name="changes", verbose_name=_("appraisal")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    score_from = models.DecimalField(_("score before"), max_digits=7, decimal_places=2, null=True, blank=True)
    score_to = models.DecimalField(_("score after"), max_digits=7, decimal_places=2)
    reason = models.TextField(_("reason"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"))
    # The task that made the change: a retried task does not make it twice.
    task_id = models.UUIDField(_("task id"), null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("appraisal score change")
        verbose_name_plural = _("appraisal score changes")
        ordering = ["appraisal", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.appraisal} {self.get_kind_display()}"


class AppraisalBand(models.Model):
    """What a final appraisal score makes of the month's incentive amount: from `min_score` up, the
    amount is multiplied by `multiplier` (the band with the highest minimum the score reaches)."""

    min_score = models.DecimalField(_("from score"), max_digits=7, decimal_places=2, unique=True)
    multiplier = models.DecimalField(_("incentive multiplier"), max_digits=4, decimal_places=2)

    class Meta:
        verbose_name = _("appraisal band")
        verbose_name_plural = _("appraisal bands")
        ordering = ["-min_score"]

    def __str__(self) -> str:
        return f"≥{self.min_score} × {self.multiplier}"
