"""Support requests: the demand → dispatch → completion forms (需求单 → 调度单 → 竣工单) that bring
network, engineering, IT and solution staff to a customer."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from onsite.models.customers import Customer
from onsite.models.leads import Lead
from onsite.models.organisation import Speciality
from onsite.models.visits import SummaryResourceNeed, Visit


class SupportRequest(models.Model):
    class Kind(models.TextChoices):
        SOLUTION = "solution", _("solution design")
        SURVEY = "survey", _("site survey")
        IMPLEMENTATION = "implementation", _("implementation")
        FAULT = "fault", _("fault handling")
        TRAINING = "training", _("training")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")  # 需求单
        DISPATCHED = "dispatched", _("dispatched")  # 调度单
        COMPLETED = "completed", _("completed")  # 竣工单
        CONFIRMED = "confirmed", _("confirmed by the manager")
        CANCELLED = "cancelled", _("cancelled")

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="support_requests", verbose_name=_("customer")
    )
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    speciality = models.CharField(_("speciality needed"), max_length=16, choices=Speciality.choices)
    description = models.TextField(_("what is needed"))
    due_date = models.DateField(_("needed by"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="support_requests",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="support_assignments",
        verbose_name=_("support staff"),
    )
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    hours_spent = models.DecimalField(_("hours spent"), max_digits=6, decimal_places=1, null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("completed by"),
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    manager_feedback = models.TextField(_("manager's feedback"), blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    source_visit = models.ForeignKey(
        Visit,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="support_requests",
        verbose_name=_("source visit"),
    )
    source_need = models.OneToOneField(
        SummaryResourceNeed,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="support_request",
        verbose_name=_("summary entry"),
    )
    lead = models.ForeignKey(
        Lead,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="support_requests",
        verbose_name=_("lead"),
    )
    # The service level promised when the request was made (the customer's tier's standard then),
    # kept with the request so a later change of tier or standard leaves it as it was.
    service_standard = models.ForeignKey(
        "onsite.ServiceStandard",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="support_requests",
        verbose_name=_("service standard"),
    )
    # Lower is served first; requests made before standards come after every tier's.
    dispatch_priority = models.PositiveSmallIntegerField(_("dispatch priority"), default=9)
    respond_by = models.DateTimeField(_("to be taken up by"), null=True, blank=True)
    # The end of the day asked or the standard's completion time after the request, whichever comes
    # first; then a date agreed later (a reopening, the team leader's new date). Empty before
    # standards: the end of the due date.
    complete_by = models.DateTimeField(_("to be completed by"), null=True, blank=True)
    instance = models.OneToOneField(
        "workflows.ProcessInstance",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="support_request",
        verbose_name=_("process instance"),
    )

    class Meta:
        verbose_name = _("support request")
        verbose_name_plural = _("support requests")
        ordering = ["-requested_at"]
        indexes = [
            models.Index(fields=["assignee", "status"], name="support_assignee_status"),
            models.Index(fields=["status", "dispatch_priority", "due_date"], name="support_dispatch_queue"),
            # The dashboard's requests of a period per speciality, read from it alone (with the id,
            # which PostgreSQL's counts read).
            models.Index(
                fields=["requested_at", "status", "speciality", "due_date", "completed_at", "customer", "id"],
                name="support_requested",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.customer}"


class SupportOutcome(models.Model):
    """One round of a request: the engineer's result (竣工单) and the manager's verdict on it. A
    result the manager finds "not resolved" reopens the request; the earlier rounds stay as they
    were, so the history of what was tried is kept."""

    request = models.ForeignKey(
        SupportRequest, on_delete=models.CASCADE, related_name="outcomes", verbose_name=_("support request")
    )
    round = models.PositiveSmallIntegerField(_("round"))
    result = models.TextField(_("result"))
    hours_spent = models.DecimalField(_("hours spent"), max_digits=6, decimal_places=1, null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("completed by"),
    )
    completed_at = models.DateTimeField(_("completed at"))
    # None until the manager has looked at the result.
    resolved = models.BooleanField(_("resolved"), null=True, blank=True)
    manager_feedback = models.TextField(_("manager's feedback"), blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("support outcome")
        verbose_name_plural = _("support outcomes")
        ordering = ["request", "round"]
        constraints = [models.UniqueConstraint(fields=["request", "round"], name="one_outcome_per_round")]

    def __str__(self) -> str:
        return f"{self.request} #{self.round}"
