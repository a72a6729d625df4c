"""Group customers (集团客户) and what the operator knows about them: key persons and their place
in the decision chain, the products they hold (ours and competitors'), and the history of every
change to any of it."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from onsite.customer_codes import customer_code_key
from onsite.models.organisation import Region


class Industry(models.TextChoices):
    PARTY_GOVERNMENT_MILITARY = "party_government_military", _("party, government and military")
    FINANCE = "finance", _("finance")
    HEALTHCARE_PHARMA = "healthcare_pharma", _("healthcare and pharma")
    EDUCATION = "education", _("education")
    RETAIL = "retail", _("retail")
    TOURISM = "tourism", _("tourism")
    POWER_ENERGY = "power_energy", _("power and energy")
    MANUFACTURING = "manufacturing", _("manufacturing")
    TRANSPORT_LOGISTICS = "transport_logistics", _("transport and logistics")
    TELECOM = "telecom", _("telecom")
    OTHER = "other", _("other")


class Tier(models.TextChoices):
    """Graded service (seed 001: A/B/C star service by value, importance and potential)."""

    A = "A", _("A")
    B = "B", _("B")
    C = "C", _("C")


CODE_KEY_LENGTH = 64


class Customer(models.Model):
    code = models.CharField(_("customer code"), max_length=32, unique=True)
    # The code as compared (see onsite.customer_codes), kept by clean(); unique, so that two imports
    # at the same moment cannot both create `D-1` and `d-1`.
    code_key = models.CharField(
        _("customer code as compared"),
        max_length=CODE_KEY_LENGTH,
        unique=True,
        editable=False,
        error_messages={
            "unique": _("Another customer already has this code, written in another case or width.")
        },
    )
    name = models.CharField(_("name"), max_length=200)
    industry = models.CharField(_("industry"), max_length=32, choices=Industry.choices)
    tier = models.CharField(_("service tier"), max_length=1, choices=Tier.choices, default=Tier.C)
    monthly_value = models.DecimalField(
        _("monthly value contribution (CNY)"), max_digits=14, decimal_places=2, default=0
    )
    potential = models.PositiveSmallIntegerField(
        _("development potential (1-5)"), default=3, help_text=_("1 = very low, 5 = very high")
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="customers", verbose_name=_("region")
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
        verbose_name=_("account manager"),
    )
    informatization_status = models.TextField(_("informatization status"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("group customer")
        verbose_name_plural = _("group customers")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(potential__gte=1, potential__lte=5), name="potential_1_to_5"
            ),
            models.CheckConstraint(
                condition=models.Q(monthly_value__gte=0), name="monthly_value_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.code_key = customer_code_key(self.code)
        if len(self.code_key) > CODE_KEY_LENGTH:  # a few compatibility characters unfold into several
            raise ValidationError({"code": _("This code cannot be compared with others; write it plainly.")})
        # The check constraints above, reported on their own field in words the user understands:
        # a violated constraint alone is a form-wide "Constraint “potential_1_to_5” is violated.".
        errors = {}
        if isinstance(self.potential, int) and not 1 <= self.potential <= 5:
            errors["potential"] = _("The potential must be a whole number from 1 to 5, not %(value)s.") % {
                "value": self.potential
            }
        if isinstance(self.monthly_value, Decimal) and self.monthly_value < 0:
            errors["monthly_value"] = _("The monthly value cannot be negative (%(value)s).") % {
                "value": self.monthly_value
            }
        if errors:
            raise ValidationError(errors)

    def validate_unique(self, exclude=None) -> None:
        # The key is the code as compared: a clash is the code's, and an identical code says so already.
        try:
            super().validate_unique(exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            clash = errors.pop("code_key", [])
            if clash and "code" not in errors:
                errors["code"] = clash
            if errors:
                raise ValidationError(errors) from None


class DecisionRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("decision maker")
    INFLUENCER = "influencer", _("influencer")
    USER = "user", pgettext_lazy("decision chain role", "user")
    GATEKEEPER = "gatekeeper", _("gatekeeper")


class Relationship(models.TextChoices):
    STRONG = "strong", _("strong")
    NORMAL = "normal", _("normal")
    WEAK = "weak", _("weak")


class KeyPerson(models.Model):
    """A person at the customer who matters to a sale, named once per customer."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="key_persons", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    decision_role = models.CharField(
        _("role in the decision chain"), max_length=16, choices=DecisionRole.choices, blank=True
    )
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    relationship = models.CharField(_("relationship"), max_length=8, choices=Relationship.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("key person")
        verbose_name_plural = _("key persons")
        ordering = ["customer", "name"]
        constraints = [models.UniqueConstraint(fields=["customer", "name"], name="unique_key_person_name")]

    def __str__(self) -> str:
        return self.name


class Ownership(models.TextChoices):
    OURS = "ours", _("ours")
    COMPETITOR = "competitor", _("competitor's")


class ProductHolding(models.Model):
    """A product the customer uses, from us or a competitor, with its contract dates."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="products", verbose_name=_("customer")
    )
    product = models.CharField(_("product"), max_length=200)
    provider = models.CharField(_("provider"), max_length=100)
    ownership = models.CharField(_("ours or a competitor's"), max_length=16, choices=Ownership.choices)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product held")
        verbose_name_plural = _("products held")
        ordering = ["customer", "expiry_date", "product"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "product", "provider"], name="unique_product_per_provider"
            )
        ]
        indexes = [models.Index(fields=["ownership", "expiry_date"], name="product_expiry")]

    def __str__(self) -> str:
        return f"{self.product} ({self.provider})"

    def clean(self) -> None:
        if self.start_date and self.expiry_date and self.expiry_date < self.start_date:
            raise ValidationError(
                {
                    "expiry_date": _("The contract cannot expire (%(expiry)s) before it starts (%(start)s).")
                    % {"expiry": self.expiry_date.isoformat(), "start": self.start_date.isoformat()}
                }
            )


class CustomerChange(models.Model):
    """Append-only: who changed what about a customer, when, and from which source."""

    class Entity(models.TextChoices):
        CUSTOMER = "customer", _("customer")
        KEY_PERSON = "key_person", _("key person")
        PRODUCT = "product", _("product held")

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")
        REMOVED = "removed", _("removed")

    class Source(models.TextChoices):
        MANUAL = "manual", _("entered by hand")
        IMPORT = "import", _("import")
        SUMMARY = "summary", _("visit summary")
        WON_LEAD = "won_lead", _("won win-back lead")
        AFTER_SALE = "after_sale", _("after-sale follow-up")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="changes", verbose_name=_("customer")
    )
    entity = models.CharField(_("record"), max_length=16, choices=Entity.choices)
    entity_id = models.PositiveBigIntegerField(_("record id"))
    label = models.CharField(_("label"), max_length=200)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    changes = models.JSONField(_("changes"), default=dict, help_text=_("field: [before, after]"))
    reason = models.TextField(_("why"), blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    visit = models.ForeignKey(
        "onsite.Visit",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("visit"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("changed by"),
    )
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("customer change")
        verbose_name_plural = _("customer changes")
        ordering = ["customer", "id"]

    def __str__(self) -> str:
        return f"{self.label}: {self.action}"
