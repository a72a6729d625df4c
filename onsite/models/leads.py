"""Marketing leads (营销线索) from visit summaries, win-back targets and managers' own entries."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from onsite.models.customers import Customer, ProductHolding
from onsite.models.funnel import CLOSED_STAGES, OPEN_STAGES, FunnelStage
from onsite.models.visits import SummaryLead, Urgency, Visit


class Lead(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("new")
        FOLLOWING = "following", _("following up")
        WON = "won", _("won")
        LOST = "lost", _("lost")

    OPEN_STATUSES = (Status.NEW, Status.FOLLOWING)

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="leads", verbose_name=_("customer")
    )
    description = models.TextField(_("description"))
    product = models.CharField(_("product of interest"), max_length=200, blank=True)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices)
    estimated_value = models.DecimalField(
        _("estimated value (CNY)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="leads", verbose_name=_("owner")
    )
    # The outcome (new, following, won, lost), which the warnings, short board and win-back read;
    # `stage` is how far along the funnel it got. A lost lead keeps the stage it was lost at.
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    stage = models.CharField(
        _("funnel stage"), max_length=24, choices=FunnelStage.choices, default=FunnelStage.PREPARATION
    )
    stage_entered_at = models.DateTimeField(_("in this stage since"), default=timezone.now)
    win_back = models.BooleanField(_("wins back a competitor's product"), default=False)
    displaces = models.ForeignKey(
        ProductHolding,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="win_back_leads",
        verbose_name=_("competitor product it replaces"),
    )
    source_visit = models.ForeignKey(
        Visit,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        verbose_name=_("source visit"),
    )
    # The summary row it came from: a summary approved twice still makes one lead.
    source_item = models.OneToOneField(
        SummaryLead,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lead",
        verbose_name=_("summary entry"),
    )
    won_value = models.DecimalField(
        _("value won (CNY)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    lost_reason = models.TextField(_("why it was lost"), blank=True)
    follow_up = models.OneToOneField(
        "workflows.ProcessInstance",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead",
        verbose_name=_("follow-up instance"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"))
    last_activity_at = models.DateTimeField(_("last activity"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "status"], name="lead_owner_status"),
            models.Index(fields=["urgency", "status", "last_activity_at"], name="lead_untouched"),
            # Open leads, longest in their stage first: the stalled ones, oldest first (the funnel's
            # list stops at its first few; the warnings read them all).
            models.Index(
                fields=["stage_entered_at", "id"],
                name="lead_stalled",
                condition=models.Q(status__in=["new", "following"]),
            ),
            # The dashboard's leads won in a period, read from the index alone.
            models.Index(
                fields=["closed_at", "win_back", "won_value", "customer", "id"],
                name="lead_won",
                condition=models.Q(status="won"),
            ),
            # The funnel's figures read from the index alone, grouped in its order; the dashboard's
            # leads by urgency too.
            models.Index(
                fields=[
                    "stage",
                    "status",
                    "owner",
                    "created_at",
                    "customer",
                    "stage_entered_at",
                    "estimated_value",
                    "won_value",
                    "urgency",
                ],
                name="lead_funnel",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="won") | models.Q(won_value__isnull=False),
                name="won_lead_has_value",
            ),
            # Won (and after-sale) stages belong to won leads; every other lead is in an open stage.
            models.CheckConstraint(
                condition=models.Q(status="won", stage__in=CLOSED_STAGES)
                | (~models.Q(status="won") & models.Q(stage__in=OPEN_STAGES)),
                name="lead_stage_matches_status",
            ),
            # One win-back per competitor product at a time: pursuing it again links to the lead
            # being followed (or won); only a lost one lets a new pursuit start.
            models.UniqueConstraint(
                fields=["displaces"],
                condition=models.Q(status__in=["new", "following", "won"]),
                name="one_live_lead_per_displaced_product",
                violation_error_message=_("This competitor product already has a win-back lead."),
            ),
        ]

    def __str__(self) -> str:
        return self.description[:50]

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class LeadActivity(models.Model):
    """The lead's history: created, followed up, won, lost."""

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="activities", verbose_name=_("lead")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"))
    status_from = models.CharField(_("status before"), max_length=16, choices=Lead.Status.choices, blank=True)
    status_to = models.CharField(_("status after"), max_length=16, choices=Lead.Status.choices)
    note = models.TextField(_("note"), blank=True)
    task_id = models.UUIDField(_("task id"), null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("lead activity")
        verbose_name_plural = _("lead activities")
        ordering = ["lead", "at", "id"]

    def __str__(self) -> str:
        return f"{self.status_from or '-'} → {self.status_to}"
