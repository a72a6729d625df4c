"""Visits (驻点走访) and their closed-loop summaries (驻点服务总结).

A summary is a structured record: its seven fields are columns and child rows, so leads, support
requests, products and key persons can be created from it and reported on without reading task
data.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from onsite.models.customers import Customer, DecisionRole, Ownership, Relationship
from onsite.models.organisation import Speciality
from onsite.models.programmes import VISIT_CADENCES, Enrolment, Stage


class Urgency(models.TextChoices):
    HIGH = "high", _("high")
    MEDIUM = "medium", _("medium")
    LOW = "low", _("low")


class Visit(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        PLANNED = "planned", _("planned")
        VISITED = "visited", _("visited")
        SUMMARISED = "summarised", _("summary submitted")
        CLOSED = "closed", _("closed")
        CANCELLED = "cancelled", _("cancelled")

    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.PROTECT, related_name="visits", verbose_name=_("enrolment")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="visits", verbose_name=_("customer")
    )
    number = models.PositiveIntegerField(_("visit number"))
    stage = models.CharField(_("stage"), max_length=32, choices=Stage.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    # The date the programme's cadence set; the manager's plan may move planned_date, not this.
    scheduled_date = models.DateField(_("scheduled date"), null=True, blank=True)
    planned_date = models.DateField(_("planned date"))
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("account manager"),
    )
    support_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supported_visits",
        verbose_name=_("support staff"),
    )
    # Pre-visit: the plan and the resources prepared.
    objectives = models.TextField(_("objectives"), blank=True)
    contacts_to_meet = models.JSONField(_("key persons to meet"), default=list, blank=True)
    topics = models.JSONField(_("business to handle and topics"), default=list, blank=True)
    support_speciality = models.CharField(
        _("speciality needed"), max_length=16, choices=Speciality.choices, blank=True
    )
    support_request = models.TextField(_("what the support staff should prepare"), blank=True)
    materials = models.JSONField(_("materials prepared"), default=list, blank=True)
    resources_notes = models.TextField(_("resource notes"), blank=True)
    support_assessment = models.TextField(_("support staff's assessment"), blank=True)
    # During the visit.
    visited_at = models.DateTimeField(_("visited at"), null=True, blank=True)
    duration_hours = models.DecimalField(
        _("hours on site"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    persons_met = models.JSONField(_("people met"), default=list, blank=True)
    information_collected = models.TextField(_("information collected"), blank=True)
    needs_found = models.JSONField(_("needs found"), default=list, blank=True)
    summary_due_at = models.DateTimeField(_("summary due"), null=True, blank=True)
    # The terms the visit was scheduled under (the customer's tier's standard then): a later change
    # of tier or standard leaves them as they were. Empty on visits scheduled before standards.
    service_standard = models.ForeignKey(
        "onsite.ServiceStandard",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("service standard"),
    )
    cadence = models.CharField(_("visit cadence"), max_length=16, choices=VISIT_CADENCES, blank=True)
    # The standard's share of visits a support engineer joins falls on this one.
    support_expected = models.BooleanField(_("a support engineer is expected to join"), default=False)
    instance = models.OneToOneField(
        "workflows.ProcessInstance",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visit",
        verbose_name=_("visit cycle instance"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["enrolment", "number"]
        constraints = [models.UniqueConstraint(fields=["enrolment", "number"], name="unique_visit_number")]
        indexes = [
            # With the id, so PostgreSQL reads the visits of a part of the business (the dashboard's
            # summaries of a branch) from the index alone, as SQLite does with its rowid.
            models.Index(fields=["customer", "status", "visited_at", "id"], name="visit_customer_status"),
            models.Index(fields=["account_manager", "planned_date"], name="visit_manager_planned"),
            # The dashboard's visits planned and made per week, read from these alone (the customer
            # for its filters).
            models.Index(fields=["planned_date", "status", "customer"], name="visit_planned"),
            models.Index(fields=["visited_at", "status", "customer"], name="visit_made"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} #{self.number}"


class VisitActivity(models.Model):
    """What was done on site: business handled and questions answered."""

    class Kind(models.TextChoices):
        BUSINESS = "business", _("business handled")
        QUESTION = "question", _("question answered")

    visit = models.ForeignKey(
        Visit, on_delete=models.CASCADE, related_name="activities", verbose_name=_("visit")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    item = models.CharField(_("item"), max_length=500)
    result = models.TextField(_("result or answer"), blank=True)

    class Meta:
        verbose_name = _("on-site activity")
        verbose_name_plural = _("on-site activities")
        ordering = ["visit", "id"]

    def __str__(self) -> str:
        return self.item


class VisitSummary(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        REWORK = "rework", _("sent back for rework")
        APPROVED = "approved", _("approved")

    visit = models.OneToOneField(
        Visit, on_delete=models.CASCADE, related_name="summary", verbose_name=_("visit")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    informatization_status = models.TextField(_("informatization status"))
    next_goals = models.TextField(_("next follow-up goals"))
    # The list parts with nothing to report this time, each with the manager's note ("无…").
    none_reasons = models.JSONField(_("parts with nothing to report"), default=dict, blank=True)
    submissions = models.PositiveSmallIntegerField(_("submissions"), default=0)
    first_submitted_at = models.DateTimeField(_("first submitted at"))
    submitted_at = models.DateTimeField(_("last submitted at"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    on_time = models.BooleanField(_("submitted on time"))
    rework_count = models.PositiveSmallIntegerField(_("times sent back"), default=0)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("visit summary")
        verbose_name_plural = _("visit summaries")
        # The dashboard's summaries on time, late and reworked over a period, read from it alone (the
        # id last, as in the dashboard's other indexes: PostgreSQL's counts of rows read their ids).
        indexes = [
            models.Index(
                fields=["first_submitted_at", "on_time", "rework_count", "visit", "id"],
                name="summary_submitted",
            )
        ]

    def __str__(self) -> str:
        return str(self.visit)


def summary_link(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        VisitSummary, on_delete=models.CASCADE, related_name=related_name, verbose_name=_("summary")
    )


class SummaryItem(models.Model):
    """A row of one of the summary's lists, in the order it was entered."""

    seq = models.PositiveSmallIntegerField(_("order"))

    class Meta:
        abstract = True
        ordering = ["summary", "seq"]

    def __str__(self) -> str:
        return f"{self.summary} · {self.seq + 1}"


class SummaryProduct(SummaryItem):
    """产品到期时间: a product the customer uses and when its contract ends."""

    summary = summary_link("products")

    product = models.CharField(_("product"), max_length=200)
    provider = models.CharField(_("provider"), max_length=100)
    ownership = models.CharField(_("ours or a competitor's"), max_length=16, choices=Ownership.choices)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    expiry_date = models.DateField(_("expiry date"))

    class Meta(SummaryItem.Meta):
        verbose_name = _("product expiry")
        verbose_name_plural = _("product expiries")


class SummaryDecisionRole(SummaryItem):
    """关键决策链: who takes part in the customer's decisions, and how."""

    summary = summary_link("decision_chain")

    position = models.CharField(_("position"), max_length=100)
    name = models.CharField(_("name"), max_length=100, blank=True)
    role = models.CharField(_("role in the decision"), max_length=16, choices=DecisionRole.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta(SummaryItem.Meta):
        verbose_name = _("decision-chain entry")
        verbose_name_plural = _("decision chain")


class SummaryKeyPerson(SummaryItem):
    """关键人信息."""

    summary = summary_link("key_persons")

    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    relationship = models.CharField(_("relationship"), max_length=8, choices=Relationship.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta(SummaryItem.Meta):
        verbose_name = _("key person in a summary")
        verbose_name_plural = _("key persons in summaries")


class SummaryLead(SummaryItem):
    """近期营销线索 and 紧急程度."""

    summary = summary_link("leads")

    description = models.TextField(_("description"))
    product = models.CharField(_("product of interest"), max_length=200, blank=True)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices)
    estimated_value = models.DecimalField(
        _("estimated value (CNY)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    win_back = models.BooleanField(_("wins back a competitor's product"), default=False)

    class Meta(SummaryItem.Meta):
        verbose_name = _("lead in a summary")
        verbose_name_plural = _("leads in summaries")


class SummaryResourceNeed(SummaryItem):
    """所需资源支撑."""

    summary = summary_link("resource_needs")

    speciality = models.CharField(_("speciality"), max_length=16, choices=Speciality.choices)
    description = models.TextField(_("what is needed"))
    due_date = models.DateField(_("needed by"), null=True, blank=True)

    class Meta(SummaryItem.Meta):
        verbose_name = _("resource need")
        verbose_name_plural = _("resource needs")
