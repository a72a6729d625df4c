"""The industry playbook: what each industry needs and what that offers a telecom operator's
informatization products (seed 001, adapted). Loaded as data; shown before a visit."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from onsite.models.customers import Industry


class PlaybookEntry(models.Model):
    class Kind(models.TextChoices):
        NEED = "need", _("need")
        OPPORTUNITY = "opportunity", _("opportunity")

    industry = models.CharField(_("industry"), max_length=32, choices=Industry.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    seq = models.PositiveSmallIntegerField(_("order"))
    text = models.TextField(_("text (Chinese)"))
    text_en = models.TextField(_("text (English)"))
    products = models.JSONField(_("products"), default=list, blank=True)

    class Meta:
        verbose_name = _("playbook entry")
        verbose_name_plural = _("industry playbook")
        ordering = ["industry", "kind", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["industry", "kind", "seq"], name="unique_playbook_entry")
        ]

    def __str__(self) -> str:
        return self.text[:50]
