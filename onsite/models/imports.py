"""A customer file a coordinator checked with a dry run, kept until they import it.

The import then reads these very bytes (their SHA-256 shown on the page and sent back with the
request), so what is imported is exactly what was checked; kept in the database so that any web
process may serve the second request.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CheckedImportFile(models.Model):
    name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    content = models.BinaryField(_("content"))
    encoding = models.CharField(_("encoding"), max_length=32, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("checked import file")
        verbose_name_plural = _("checked import files")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.name} {self.sha256[:12]}"
