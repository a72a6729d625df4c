"""The reports pages: the reports a person may read, one report's status (polled until it is done)
with its download or its failure and a retry, and the requests for a report from the pages of what
it is about (a visit, an incentive statement). A report someone may not read answers 404, page and
download alike (`onsite.selectors.reports` finds nothing; `refusals` answers)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from onsite.models import ReportKind
from onsite.selectors.dashboard import FILTER_NAMES
from onsite.selectors.reports import report_for, report_pdf, reports_for, shown_page
from onsite.selectors.visit_report import visit_for
from onsite.services.reports import request_report, retry_report
from onsite.views.periods import month_asked

PAGE_SIZE = 25
# Characters a file name may not hold on the systems our users save to.
UNSAFE_IN_NAMES = str.maketrans({c: "_" for c in '\\/:*?"<>|\r\n\t'})


@login_required
@require_safe
def report_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(reports_for(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    shown_page(page.object_list)
    return render(request, "onsite/reports/list.html", {"page": page})


@login_required
@require_safe
def report_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The report's status; asked by htmx while it is on its way, the status part alone."""
    report = report_for(report_id=pk, user=request.user)
    if getattr(request, "htmx", False):
        return render(request, "onsite/reports/_status.html", {"report": report})
    return render(request, "onsite/reports/detail.html", {"report": report})


@login_required
@require_safe
def report_download(request: HttpRequest, pk: int) -> HttpResponse:
    report = report_pdf(report_id=pk, user=request.user)
    response = HttpResponse(bytes(report.content), content_type="application/pdf")
    name = f"{report.title} {report.period}".strip().translate(UNSAFE_IN_NAMES) + ".pdf"
    # An ASCII name and the real one (RFC 5987, `filename*`), for the Chinese titles.
    response.headers["Content-Disposition"] = content_disposition_header(True, name)
    response.headers["ETag"] = f'"{report.sha256}"'
    response.headers["X-Content-SHA256"] = report.sha256
    response.headers["Cache-Control"] = "private"
    return response


@login_required
@require_POST
def report_retry(request: HttpRequest, pk: int) -> HttpResponse:
    report = retry_report(report_id=pk, user=request.user)
    messages.success(request, _("The report is queued again."))
    return redirect("report", report.pk)


@login_required
@require_POST
def request_visit_report(request: HttpRequest, pk: int) -> HttpResponse:
    visit = visit_for(visit_id=pk, user=request.user)  # someone else's visit: 404
    report = request_report(kind=ReportKind.VISIT, params={"visit": visit.pk}, user=request.user)
    return redirect("report", report.pk)


@login_required
@require_POST
def request_incentive_statement(request: HttpRequest) -> HttpResponse:
    """The statement of the month asked for, of the person named (by default the one asking)."""
    period = month_asked(request.POST.get("period"))
    person = request.POST.get("person") or request.user.pk
    report = request_report(
        kind=ReportKind.INCENTIVE_STATEMENT,
        params={"person": person, "period": period.strftime("%Y-%m")},
        user=request.user,
    )
    return redirect("report", report.pk)


@login_required
@require_POST
def request_programme_report(request: HttpRequest) -> HttpResponse:
    """The monthly programme report of the dashboard's filters, as the dashboard's form sends them."""
    params = {name: request.POST[name] for name in FILTER_NAMES if request.POST.get(name)}
    report = request_report(kind=ReportKind.MONTHLY, params=params, user=request.user)
    return redirect("report", report.pk)
