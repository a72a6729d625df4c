"""My visits: the list of the reader's visits and their week calendar; one visit's page (read only,
for whoever reads its customer) with its reports."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from onsite.exceptions import InvalidInput
from onsite.models import Visit
from onsite.selectors.reports import visit_reports
from onsite.selectors.visit_calendar import visit_list, visit_week
from onsite.selectors.visit_report import visit_for
from onsite.views.refusals import form_errors

PAGE_SIZE = 25


@login_required
@require_safe
def visits(request: HttpRequest) -> HttpResponse:
    statuses = tuple(value for value in request.GET.getlist("status") if value)
    errors: dict[str, list[str]] = {}
    try:
        found = visit_list(user=request.user, statuses=statuses)
    except InvalidInput as refusal:
        errors = form_errors(refusal)
        found = Visit.objects.none()
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "onsite/visits/list.html",
        {
            "page": page,
            "statuses": Visit.Status.choices,
            "chosen_statuses": statuses,
            "errors": errors,
        },
    )


@login_required
@require_safe
def week(request: HttpRequest) -> HttpResponse:
    day = _date(request.GET.get("week", ""))
    return render(request, "onsite/visits/week.html", {"week": visit_week(user=request.user, day=day)})


@login_required
@require_safe
def visit_page(request: HttpRequest, pk: int) -> HttpResponse:
    visit = visit_for(visit_id=pk, user=request.user)  # someone else's visit: 404
    return render(
        request,
        "onsite/visits/detail.html",
        {"visit": visit, "reports": visit_reports(visit=visit, user=request.user)},
    )


def _date(value: str) -> date | None:
    # A malformed date in the address reads as this week rather than an error page.
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
