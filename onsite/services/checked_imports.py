"""The customer import page's two steps: check a file (a dry run, the file kept), then import
exactly that file, all rows or none.

The file is kept in the database between the steps, named by its SHA-256, which the page shows and
sends back: the import reads the bytes that were checked, by the person who checked them, and
refuses if they are gone or differ. A real run checks every row again (the customers may have
changed meanwhile); any row refused, nothing is imported, and the report says why.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from onsite.access import check_role
from onsite.exceptions import OnsiteError
from onsite.models import CheckedImportFile
from onsite.roles import COORDINATOR
from onsite.services.imports import ImportReport, import_customers
from onsite.thresholds import threshold
from workflows import clock
from workflows.actors import person

# A checked file not imported within this long is dropped; check it again.
KEPT_FOR = timedelta(days=1)


class CheckedFileGone(OnsiteError):
    default_message = _("The file checked is no longer kept, or is not the one named: upload it again.")


@dataclass(frozen=True)
class Checked:
    report: ImportReport
    file: CheckedImportFile | None  # kept for the import when the report is good


def check_customer_file(*, name: str, content: bytes, user: Any, encoding: str | None = None) -> Checked:
    """Dry-run the file; if every row passes, keep it for `import_checked_file`."""
    check_role(user, COORDINATOR)
    report = import_customers(name=name, content=content, user=user, dry_run=True, encoding=encoding)
    if not report.ok or len(content) > threshold("IMPORT_MAX_BYTES"):
        return Checked(report, None)
    now = clock.now()
    with transaction.atomic():
        CheckedImportFile.objects.filter(uploaded_at__lt=now - KEPT_FOR).delete()
        kept = CheckedImportFile.objects.create(
            name=name[:255],
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
            encoding=encoding or "",
            uploaded_by=person(user),
            uploaded_at=now,
        )
    return Checked(report, kept)


def import_checked_file(*, file_id: int, sha256: str, user: Any) -> tuple[CheckedImportFile, ImportReport]:
    """Import the file `user` checked (`file_id`, with its SHA-256 as shown): all rows or none. The
    kept file is dropped once imported; kept when refused, so the report can be read and acted on."""
    check_role(user, COORDINATOR)
    kept = (
        CheckedImportFile.objects.filter(
            pk=file_id, uploaded_by=person(user), uploaded_at__gte=clock.now() - KEPT_FOR
        )
        .only("pk", "name", "sha256", "encoding", "content", "uploaded_at")
        .first()
    )
    content = bytes(kept.content) if kept is not None else b""
    if kept is None or kept.sha256 != sha256 or hashlib.sha256(content).hexdigest() != sha256:
        raise CheckedFileGone()
    report = import_customers(
        name=kept.name, content=content, user=user, dry_run=False, encoding=kept.encoding or None
    )
    if report.applied:
        CheckedImportFile.objects.filter(pk=kept.pk).delete()
    return kept, report
