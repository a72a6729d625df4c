"""Win-back targets (策反): a competitor's contract about to expire, worked by the account manager."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from onsite.models.customers import Customer, ProductHolding
from onsite.models.leads import Lead


class WinBackTarget(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        PURSUED = "pursued", _("pursued: lead created")
        DECLINED = "declined", _("not pursued")

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="win_back_targets", verbose_name=_("customer")
    )
    product = models.ForeignKey(
        ProductHolding,
        on_delete=models.CASCADE,
        related_name="win_back_targets",
        verbose_name=_("competitor product"),
    )
    # The expiry this target is for: a renewed contract with a new date is a new target.
    expiry_date = models.DateField(_("expiry date"))
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("account manager"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    approach = models.TextField(_("approach"), blank=True)
    decline_reason = models.TextField(_("why not pursued"), blank=True)
    # Several targets of one product (a renewal, a second window) share the lead pursuing it.
    lead = models.ForeignKey(
        Lead,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="win_back_targets",
        verbose_name=_("lead"),
    )
    instance = models.OneToOneField(
        "workflows.ProcessInstance",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="win_back_target",
        verbose_name=_("process instance"),
    )
    created_at = models.DateTimeField(_("created at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("win-back target")
        verbose_name_plural = _("win-back targets")
        ordering = ["expiry_date"]
        constraints = [
            models.UniqueConstraint(fields=["product", "expiry_date"], name="one_win_back_per_product_expiry")
        ]

    def __str__(self) -> str:
        return f"{self.product} @ {self.expiry_date}"
