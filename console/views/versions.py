"""A version's page, its files' downloads and the differences between two versions."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from console.access import abilities, check_may_view
from console.selectors.diagrams import main_diagram
from console.selectors.version_diff import version_diff
from console.selectors.versions import numbered_version, version_file, version_numbers, version_page
from workflows.exceptions import NotFound
from workflows.models import DeployedFile

CONTENT_TYPES = {
    DeployedFile.Kind.BPMN: "application/xml; charset=utf-8",
    DeployedFile.Kind.DMN: "application/xml; charset=utf-8",
    DeployedFile.Kind.FORM: "application/json; charset=utf-8",
}


@require_safe
@login_required
def version_detail(request: HttpRequest, process_id: str, number: int) -> HttpResponse:
    check_may_view(request.user)
    return render(
        request,
        "console/versions/detail.html",
        {"page": version_page(process_id, number), "can": abilities(request.user), "console_tab": "models"},
    )


@require_safe
@login_required
def file_download(request: HttpRequest, process_id: str, number: int, file_id: int) -> HttpResponse:
    check_may_view(request.user)
    file = version_file(numbered_version(process_id, number), file_id)
    response = HttpResponse(file.content.encode("utf-8"), content_type=CONTENT_TYPES[file.kind])
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=file.name)
    return response


@require_safe
@login_required
def diff(request: HttpRequest, process_id: str) -> HttpResponse:
    """`?from=N&to=M`; without them, the latest version against the one before it (`to` alone:
    that version against the one before it)."""
    check_may_view(request.user)
    numbers = version_numbers(process_id)
    if not numbers:
        raise NotFound(_("No such process is deployed."))
    to_number = _number(request.GET.get("to"), default=numbers[0])
    from_number = _number(request.GET.get("from"), default=max(to_number - 1, 1))
    if to_number not in numbers or from_number not in numbers:
        raise NotFound(_("This process has no such version."))
    old, new = numbered_version(process_id, from_number), numbered_version(process_id, to_number)
    compared = old.pk != new.pk
    return render(
        request,
        "console/versions/diff.html",
        {
            "model": new.model,
            "numbers": numbers,
            "diff": version_diff(old, new) if compared else None,
            "old": old,
            "new": new,
            "old_xml": main_diagram(old) if compared else "",
            "new_xml": main_diagram(new) if compared else "",
            "console_tab": "models",
        },
    )


def _number(raw: str | None, *, default: int) -> int:
    if raw in (None, ""):
        return default
    if not raw.isdigit():
        raise NotFound(_("This process has no such version."))
    return int(raw)
