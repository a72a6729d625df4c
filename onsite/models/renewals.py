"""Renewal targets (续约): one of our own contracts about to expire, worked by the account manager
so the customer stays (retention, as win-back is conquest)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from onsite.models.customers import Customer, ProductHolding
from onsite.models.leads import Lead


class RenewalTarget(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        PURSUED = "pursued", _("renewal pursued: lead created")
        DECLINED = "declined", _("not renewed")

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="renewal_targets", verbose_name=_("customer")
    )
    product = models.ForeignKey(
        ProductHolding,
        on_delete=models.CASCADE,
        related_name="renewal_targets",
        verbose_name=_("our product"),
    )
    # The expiry this target is for: the renewed contract's new date is a new target, in its time.
    expiry_date = models.DateField(_("expiry date"))
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("account manager"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    approach = models.TextField(_("renewal approach"), blank=True)
    decline_reason = models.TextField(_("why not renewed"), blank=True)
    # Winning it in the lead's follow-up records the new contract's expiry on the product.
    lead = models.ForeignKey(
        Lead,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="renewal_targets",
        verbose_name=_("lead"),
    )
    instance = models.OneToOneField(
        "workflows.ProcessInstance",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewal_target",
        verbose_name=_("process instance"),
    )
    created_at = models.DateTimeField(_("created at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("renewal target")
        verbose_name_plural = _("renewal targets")
        ordering = ["expiry_date"]
        constraints = [
            models.UniqueConstraint(fields=["product", "expiry_date"], name="one_renewal_per_product_expiry")
        ]

    def __str__(self) -> str:
        return f"{self.product} @ {self.expiry_date}"
