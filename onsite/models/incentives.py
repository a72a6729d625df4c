"""Evaluation and incentives (效果评估和人员激励): configurable rules, records created by events
exactly once, reviewed by the team leader in a BPMN task, rolled up per person and period."""

from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from onsite.models.customers import Customer
from onsite.models.leads import Lead
from onsite.models.organisation import Team
from onsite.models.support import SupportRequest
from onsite.models.visits import Visit

FIRST_RULES_FROM = datetime(2000, 1, 1, tzinfo=UTC)


class IncentiveEvent(models.TextChoices):
    VISIT_AS_PLANNED = "visit_as_planned", _("visit completed as planned")
    SUMMARY_ON_TIME = "summary_on_time", _("summary on time")
    SUMMARY_FIRST_PASS = "summary_first_pass", _("summary approved without rework")
    LEAD_CREATED = "lead_created", _("lead created")
    LEAD_WON = "lead_won", _("lead won")
    SUPPORT_COMPLETED = "support_completed", _("support request completed")
    LEAD_CONTRIBUTION = "lead_contribution", _("contribution to a won lead")
    VISIT_SUPPORT_PREPARED = "visit_support_prepared", _("visit prepared by support staff")
    VISIT_SUPPORT_ATTENDED = "visit_support_attended", _("visit attended by support staff")


class IncentiveRule(models.Model):
    """What an event is worth, from `effective_from` until the event's next rule takes effect.

    Changing a rule adds one (never edits it), possibly scheduled for a later date; records keep the
    rule they used. An event's rule in force at a moment is its latest one effective by then
    (`onsite.selectors.incentives.rules_in_force`); one that is not `active` means the event earns
    nothing from its date on."""

    event = models.CharField(_("event"), max_length=32, choices=IncentiveEvent.choices)
    points = models.DecimalField(_("points"), max_digits=10, decimal_places=2, default=Decimal(0))
    amount = models.DecimalField(_("amount (CNY)"), max_digits=12, decimal_places=2, default=Decimal(0))
    # Lead events only: weight by urgency, and add a share of the lead's value.
    high_urgency_weight = models.DecimalField(
        _("weight for high urgency"), max_digits=4, decimal_places=2, default=Decimal("1.5")
    )
    medium_urgency_weight = models.DecimalField(
        _("weight for medium urgency"), max_digits=4, decimal_places=2, default=Decimal("1.2")
    )
    low_urgency_weight = models.DecimalField(
        _("weight for low urgency"), max_digits=4, decimal_places=2, default=Decimal("1.0")
    )
    points_per_10k_value = models.DecimalField(
        _("points per 10,000 CNY of value"), max_digits=8, decimal_places=2, default=Decimal(0)
    )
    value_share = models.DecimalField(
        _("share of the value paid (e.g. 0.005)"), max_digits=6, decimal_places=4, default=Decimal(0)
    )
    active = models.BooleanField(pgettext_lazy("incentive rule", "active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The rules the migrations wrote hold since long before any record (2000-01-01).
    effective_from = models.DateTimeField(_("effective from"), default=FIRST_RULES_FROM)
    reason = models.TextField(_("why"), blank=True)

    TERMS = (
        "points",
        "amount",
        "high_urgency_weight",
        "medium_urgency_weight",
        "low_urgency_weight",
        "points_per_10k_value",
        "value_share",
        "active",
    )

    class Meta:
        verbose_name = _("incentive rule")
        verbose_name_plural = _("incentive rules")
        ordering = ["event", "-effective_from", "-id"]
        indexes = [models.Index(fields=["event", "effective_from"], name="incentive_rule_in_force")]

    def __str__(self) -> str:
        return self.get_event_display()


class IncentiveReview(models.Model):
    """A team leader's review of a team's pending records for one period (a BPMN task)."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        DECIDED = "decided", _("decided")

    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="incentive_reviews", verbose_name=_("team")
    )
    period = models.DateField(_("period"), help_text=_("first day of the month"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    instance = models.OneToOneField(
        "workflows.ProcessInstance",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incentive_review",
        verbose_name=_("process instance"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("created at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("incentive review")
        verbose_name_plural = _("incentive reviews")
        ordering = ["-period", "team"]

    def __str__(self) -> str:
        return f"{self.team} {self.period:%Y-%m}"


class IncentiveRecord(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="incentive_records",
        verbose_name=_("person"),
    )
    event = models.CharField(_("event"), max_length=32, choices=IncentiveEvent.choices)
    # What happened, named so that the same event can only ever be recorded once per person.
    event_key = models.CharField(_("event key"), max_length=100)
    rule = models.ForeignKey(
        IncentiveRule, on_delete=models.PROTECT, related_name="records", verbose_name=_("rule")
    )
    points = models.DecimalField(_("points"), max_digits=12, decimal_places=2)
    amount = models.DecimalField(_("amount (CNY)"), max_digits=12, decimal_places=2)
    period = models.DateField(_("period"), help_text=_("first day of the month"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    description = models.CharField(_("description"), max_length=300)
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("customer"),
    )
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("visit")
    )
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("lead")
    )
    support_request = models.ForeignKey(
        SupportRequest,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("support request"),
    )
    review = models.ForeignKey(
        IncentiveReview,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="records",
        verbose_name=_("review"),
    )
    # A project team member's part of the event's award (a won lead's team share); None: all of it.
    share = models.DecimalField(
        _("share of the award"), max_digits=7, decimal_places=6, null=True, blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    # Paid: an approved record the coordinator recorded as paid out, with the payroll batch it went in.
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("payment recorded by"),
    )
    payment_reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("incentive record")
        verbose_name_plural = _("incentive records")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["person", "event", "event_key"], name="incentive_once_per_event")
        ]
        indexes = [
            models.Index(fields=["person", "period", "status"], name="incentive_statement"),
            # The dashboard's records of a period per status, read from it alone (with the id, which
            # PostgreSQL's counts read).
            models.Index(
                fields=["period", "status", "points", "amount", "paid_at", "person", "id"],
                name="incentive_period",
            ),
        ]

    def __str__(self) -> str:
        return self.description
