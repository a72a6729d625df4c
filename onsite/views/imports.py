"""The customer import page (coordinators only; anyone else gets a 404): upload a CSV or Excel file,
read the dry run's report (each row's errors, what would be created or updated), then import that
very file, all rows or none."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from onsite.access import check_role
from onsite.models import CustomerChange
from onsite.roles import COORDINATOR
from onsite.selectors.customer_records import field_changes
from onsite.services.checked_imports import check_customer_file, import_checked_file
from onsite.services.imports import COLUMNS, REQUIRED_COLUMNS, ImportReport, column_title
from onsite.thresholds import threshold

# What a person may name as a CSV file's encoding; blank: found from the file.
ENCODINGS = ("", "utf-8", "gb18030")


def _context(report: ImportReport | None = None, **extra) -> dict:
    rows = []
    if report is not None:
        for row in report.rows:
            errors = [
                {"column": _("whole row") if name == "row" else column_title(name), "message": message}
                for name, texts in row.errors.items()
                for message in texts
            ]
            # Worded as the customer's history words them: labels, and codes as their names.
            changes = field_changes(
                CustomerChange(entity=CustomerChange.Entity.CUSTOMER, changes=row.changes or {})
            )
            rows.append({"row": row, "errors": errors, "changes": changes})
    return {
        "report": report,
        "rows": rows,
        "failed_rows": [r for r in rows if r["errors"]],
        "columns": [column_title(name) for name in COLUMNS],
        "required": [column_title(name) for name in REQUIRED_COLUMNS],
        "max_bytes": threshold("IMPORT_MAX_BYTES"),
        "max_rows": threshold("IMPORT_MAX_ROWS"),
        "encodings": ENCODINGS,
        **extra,
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def customer_import(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST: the dry run of the file uploaded, kept when it passes."""
    check_role(request.user, COORDINATOR)
    if request.method != "POST":
        return render(request, "onsite/imports/customers.html", _context())
    upload = request.FILES.get("file")
    if upload is None:
        return render(
            request,
            "onsite/imports/customers.html",
            _context(upload_error=_("Choose a CSV or Excel (.xlsx) file.")),
        )
    limit = threshold("IMPORT_MAX_BYTES")
    # Never more than the limit (and one byte to tell) is read into memory.
    content = upload.read(limit + 1)
    encoding = request.POST.get("encoding", "")
    checked = check_customer_file(
        name=upload.name or "", content=content, user=request.user, encoding=encoding or None
    )
    return render(
        request,
        "onsite/imports/customers.html",
        _context(checked.report, kept=checked.file, file_name=upload.name),
    )


@login_required
@require_POST
def customer_import_run(request: HttpRequest) -> HttpResponse:
    """Import the file checked, named by its id and SHA-256: all rows or none."""
    try:
        file_id = int(request.POST.get("file", ""))
    except ValueError:
        file_id = 0
    kept, report = import_checked_file(
        file_id=file_id, sha256=request.POST.get("sha256", ""), user=request.user
    )
    return render(
        request,
        "onsite/imports/customers.html",
        _context(report, file_name=kept.name, kept=None if report.applied else kept, imported=report.applied),
    )
