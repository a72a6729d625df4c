"""A person's own work beyond the inbox: the support requests they handle or asked for, their
project teams, their appraisals and their incentive statements."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from onsite.models import Appraisal, AppraisalScoreChange, IncentiveEvent
from onsite.selectors.appraisal_indicators import INDICATORS
from onsite.selectors.appraisals import appraisals_of
from onsite.selectors.incentives import incentive_statement
from onsite.selectors.project_teams import describe, teams_of
from onsite.selectors.support import support_queue
from onsite.views.periods import month_asked
from workflows.selectors import open_task_per_instance

PAGE_SIZE = 25


@login_required
@require_safe
def support_requests(request: HttpRequest) -> HttpResponse:
    """The open support requests the person may see, in dispatch order, each with its task to do."""
    page = Paginator(support_queue(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    tasks = open_task_per_instance([r.instance_id for r in page if r.instance_id], request.user)
    rows = [{"request": r, "task": tasks.get(r.instance_id)} for r in page]
    return render(request, "onsite/my_work/support_requests.html", {"page": page, "rows": rows})


@login_required
@require_safe
def project_teams(request: HttpRequest) -> HttpResponse:
    teams = teams_of(request.user)
    for entry in teams:
        entry["role_label"] = describe(entry["role"]) if entry["role"] else ""
        entry["member_rows"] = [
            {
                "person": m.person,
                "role": describe(m.role),
                "speciality": describe(m.speciality) if m.speciality else "",
                "joined_on": m.joined_on,
            }
            for m in entry["members"]
        ]
    return render(request, "onsite/my_work/project_teams.html", {"teams": teams})


@login_required
@require_safe
def my_appraisals(request: HttpRequest) -> HttpResponse:
    records = appraisals_of(person=request.user, user=request.user)
    tasks = open_task_per_instance([r["instance_id"] for r in records if r["instance_id"]], request.user)
    statuses, kinds = dict(Appraisal.Status.choices), dict(AppraisalScoreChange.Kind.choices)
    for record in records:
        record["status_label"] = statuses.get(record["status"], record["status"])
        record["task"] = tasks.get(record["instance_id"])
        for line in record["lines"]:
            found = INDICATORS.get(line["indicator"])
            line["label"] = found.label if found else line["indicator"]
        for change in record["history"]:
            change["kind_label"] = kinds.get(change["kind"], change["kind"])
    return render(request, "onsite/my_work/appraisals.html", {"records": records})


@login_required
@require_safe
def my_incentives(request: HttpRequest) -> HttpResponse:
    period = month_asked(request.GET.get("period"))
    statement = incentive_statement(person=request.user, period=period, user=request.user)
    events = dict(IncentiveEvent.choices)
    lines = [{"line": line, "label": events.get(line.event, line.event)} for line in statement.lines]
    return render(
        request,
        "onsite/my_work/incentives.html",
        {"statement": statement, "lines": lines, "period": period},
    )
