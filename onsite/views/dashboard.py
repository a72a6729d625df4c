"""Leadership's dashboard (`/dashboard/`) and the lists behind its figures (`/dashboard/<list>/`),
each list downloadable as CSV or Excel.

Read-only pages (GET only). The filters are the page's address, so a view can be bookmarked and
sent; figures come from `onsite.selectors.dashboard`, lists from `onsite.selectors.dashboard_lists`.
The charts (ECharts, `static/onsite/dashboard.js`) are drawn from the same figures the page's tables
show, passed as JSON; without script the tables are the page."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from onsite.exceptions import InvalidInput
from onsite.models import (
    Enrolment,
    FunnelStage,
    IncentiveRecord,
    Lead,
    Speciality,
    Stage,
    SupportRequest,
    Tier,
    Urgency,
    Visit,
    VisitSummary,
    WinBackTarget,
)
from onsite.models.appraisals import Appraisal, AppraisedRole
from onsite.models.incentives import IncentiveEvent
from onsite.selectors import dashboard as figures
from onsite.selectors import dashboard_lists as lists
from onsite.selectors.dashboard import ENDED, PROGRAMME_STAGES, Dashboard, Filters
from onsite.templatetags.desk import incentive_status
from onsite.views.downloads import Column, spreadsheet_response
from onsite.views.refusals import form_errors

PER_PAGE = 50

STAGE_LABELS = {**dict(Stage.choices), ENDED: gettext_lazy("ended")}
LIST_TITLES = {
    lists.CUSTOMERS: gettext_lazy("Customers in the programme"),
    lists.STAGE_CHANGES: gettext_lazy("Stage changes"),
    lists.VISITS: gettext_lazy("Visits"),
    lists.SUMMARIES: gettext_lazy("Visit summaries"),
    lists.LEADS: gettext_lazy("Leads"),
    lists.SUPPORT: gettext_lazy("Support requests"),
    lists.INCENTIVES: gettext_lazy("Incentive records"),
    lists.APPRAISALS: gettext_lazy("Appraisals"),
}


@require_safe
@login_required
def dashboard_page(request: HttpRequest) -> HttpResponse:
    choices = figures.filter_choices(request.user)
    try:
        filters = figures.filters_from(request.GET, user=request.user)
    except InvalidInput as refusal:
        return render(
            request,
            "onsite/dashboard/index.html",
            {"choices": choices, "errors": form_errors(refusal), "asked": request.GET},
            status=400,
        )
    shown = figures.dashboard(filters=filters, user=request.user)
    return render(
        request,
        "onsite/dashboard/index.html",
        {
            "choices": choices,
            "filters": filters,
            "asked": filters.as_query(),
            "board": shown,
            "query": urlencode(filters.as_query()),
            "charts": charts(shown),
            "stage_rows": [(stage, STAGE_LABELS[stage], shown.stages[stage]) for stage in PROGRAMME_STAGES],
            "stage_choices": Stage.choices,
            "winback_choices": WinBackTarget.Status.choices,
            "urgency_rows": [(row, Urgency(row.urgency).label) for row in shown.urgency],
            "support_rows": [(row, Speciality(row.speciality).label) for row in shown.support],
            "incentive_rows": [(row, incentive_status(row.status)) for row in shown.incentives],
        },
    )


@require_safe
@login_required
def dashboard_list(request: HttpRequest, name: str) -> HttpResponse:
    if name not in lists.LISTS:
        raise Http404()
    filters = figures.filters_from(request.GET, user=request.user)
    narrow = {key: request.GET[key] for key in lists.NARROWING if request.GET.get(key)}
    rows = lists.drill_rows(name, filters=filters, user=request.user, narrow=narrow)
    columns = _columns()[name]  # headers in the request's language
    download = request.GET.get("format", "")
    if download in ("csv", "xlsx"):
        return spreadsheet_response(
            rows.iterator(chunk_size=2000),
            columns,
            kind=download,
            filename=f"{name}-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}",
            sheet=str(LIST_TITLES[name]),
        )
    paginator = Paginator(rows, PER_PAGE)
    # Counted without the joins the shown columns need (the paginator would count `rows` with them).
    paginator.count = lists.drill_count(name, filters=filters, user=request.user, narrow=narrow)
    page = paginator.get_page(request.GET.get("page"))
    query = {**filters.as_query(), **narrow}
    return render(
        request,
        "onsite/dashboard/list.html",
        {
            "title": LIST_TITLES[name],
            "name": name,
            "filters": filters,
            "narrow": [(key, narrowing_label(key, value)) for key, value in narrow.items()],
            "columns": columns,
            "page": page,
            "rows": [_cells(name, row, columns) for row in page],
            "query": urlencode(query),
            "back": f"{reverse('dashboard')}?{urlencode(filters.as_query())}",
        },
    )


def _cells(name: str, row: dict, columns: list[Column]) -> list[tuple[str, str | None, bool]]:
    """A row's cells on the page: (text, the row's link on its link column, wraps)."""
    link = row_link(name, row)
    at = next((n for n, column in enumerate(columns) if column.link), 0)
    return [
        (shown(column.shown(row)), link if n == at else None, column.wide) for n, column in enumerate(columns)
    ]


def shown(value: Any) -> str:
    """A list's cell on the page: times local, to the minute."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:,}"
    return str(value)


# --- words for codes -----------------------------------------------------------------------------


def narrowing_label(key: str, value: str) -> str:
    labels = {
        "stage": {**STAGE_LABELS, **dict(FunnelStage.choices)},
        "urgency": dict(Urgency.choices),
        "speciality": dict(Speciality.choices),
        "status": {**dict(IncentiveRecord.Status.choices), figures.PAID: _("paid")},
        "kind": {"planned": _("planned"), "done": _("made")},
        "outcome": {
            "on_time": _("on time"),
            "late": _("late"),
            "reworked": _("sent back for rework"),
            "open": _("open"),
            "won": _("won"),
            "lost": _("lost"),
            "win_back": _("won back from a competitor"),
            "completed": _("completed"),
        },
    }
    if key == "week":
        return _("week of %(monday)s") % {"monday": value}
    if key == "team_id":
        return _("one team")
    return str(labels.get(key, {}).get(value, value))


def _person(prefix: str) -> Any:
    def shown(row: dict) -> str:
        # As `User.get_full_name`, else the username.
        full = f"{row.get(f'{prefix}__first_name') or ''} {row.get(f'{prefix}__last_name') or ''}".strip()
        return full or row.get(f"{prefix}__username") or ""

    return shown


def _choice(field: str, choices: Any) -> Any:
    labels = dict(choices)

    def shown(row: dict) -> str:
        value = row.get(field)
        return str(labels.get(value, value or ""))

    return shown


def _days(field: str) -> Any:
    def shown(row: dict) -> Any:
        value = row.get(field)
        return None if value is None else round(value.total_seconds() / 86400, 1)

    return shown


def _customer_columns(prefix: str = "", *, link: bool = True) -> list[Column]:
    return [
        Column(_("Customer code"), f"{prefix}customer__code"),
        Column(_("Customer"), f"{prefix}customer__name", wide=True, link=link),
        Column(_("Tier"), _choice(f"{prefix}customer__tier", Tier.choices)),
        Column(_("Region"), f"{prefix}customer__region__name"),
    ]


def _columns() -> dict[str, list[Column]]:
    return {
        lists.CUSTOMERS: [
            *_customer_columns(),
            Column(_("Account manager"), _person("customer__account_manager")),
            Column(_("Programme"), "programme__name"),
            Column(_("Stage"), _choice("stage", Stage.choices)),
            Column(_("Status"), _choice("status", Enrolment.Status.choices)),
            Column(_("Enrolled"), "enrolled_at"),
            Column(_("Ended"), "ended_at"),
        ],
        lists.STAGE_CHANGES: [
            *_customer_columns("enrolment__"),
            Column(_("From"), _choice("from_stage", Stage.choices)),
            Column(_("To"), _choice("to_stage", Stage.choices)),
            Column(_("At"), "at"),
            Column(_("Decided by"), _person("actor")),
            Column(_("Why"), "reason", wide=True),
        ],
        lists.VISITS: [
            *_customer_columns(link=False),
            Column(_("Visit"), "number", link=True),
            Column(_("Stage"), _choice("stage", Stage.choices)),
            Column(_("Status"), _choice("status", Visit.Status.choices)),
            Column(_("Planned for"), "planned_date"),
            Column(_("Visited"), "visited_at"),
            Column(_("Account manager"), _person("account_manager")),
        ],
        lists.SUMMARIES: [
            *_customer_columns("visit__", link=False),
            Column(_("Visit"), "visit__number", link=True),
            Column(_("Status"), _choice("status", VisitSummary.Status.choices)),
            Column(_("First submitted"), "first_submitted_at"),
            Column(_("On time"), "on_time"),
            Column(_("Times sent back"), "rework_count"),
            Column(_("Submitted by"), _person("submitted_by")),
            Column(_("Reviewed by"), _person("reviewed_by")),
        ],
        lists.LEADS: [
            *_customer_columns(link=False),
            Column(_("Lead"), "description", wide=True, link=True),
            Column(_("Product"), "product"),
            Column(_("Urgency"), _choice("urgency", Urgency.choices)),
            Column(_("Stage"), _choice("stage", FunnelStage.choices)),
            Column(_("Status"), _choice("status", Lead.Status.choices)),
            Column(_("Expected value (CNY)"), "estimated_value"),
            Column(_("Value won (CNY)"), "won_value"),
            Column(_("Win-back"), "win_back"),
            Column(_("Owner"), _person("owner")),
            Column(_("Created"), "created_at"),
            Column(_("Closed"), "closed_at"),
        ],
        lists.SUPPORT: [
            *_customer_columns(),
            Column(_("Type"), _choice("kind", SupportRequest.Kind.choices)),
            Column(_("Speciality"), _choice("speciality", Speciality.choices)),
            Column(_("Status"), _choice("status", SupportRequest.Status.choices)),
            Column(_("Requested"), "requested_at"),
            Column(_("Needed by"), "due_date"),
            Column(_("Completed"), "completed_at"),
            Column(_("Turnaround (days)"), _days("turnaround")),
            Column(_("Engineer"), _person("assignee")),
        ],
        lists.INCENTIVES: [
            Column(_("Person"), _person("person")),
            Column(_("Month"), lambda row: row["period"].strftime("%Y-%m")),
            Column(_("Event"), _choice("event", IncentiveEvent.choices)),
            Column(_("Description"), "description", wide=True),
            Column(_("Points"), "points"),
            Column(_("Amount (CNY)"), "amount"),
            Column(_("Status"), _choice("status", IncentiveRecord.Status.choices)),
            Column(_("Paid"), "paid_at"),
            Column(_("Payroll batch"), "payment_reference"),
            Column(_("Customer"), "customer__name", wide=True),
        ],
        lists.APPRAISALS: [
            Column(_("Person"), _person("person")),
            Column(_("Team"), "team__name"),
            Column(_("Role"), _choice("role", AppraisedRole.choices)),
            Column(_("Month"), lambda row: row["period"].strftime("%Y-%m")),
            Column(_("Status"), _choice("status", Appraisal.Status.choices)),
            Column(_("Score"), "score"),
            Column(_("Final score"), "final_score"),
        ],
    }


def row_link(name: str, row: dict) -> str | None:
    """The page a row opens: the lead's for a lead, the visit's for a visit or its summary, the
    customer's for the rest about a customer."""
    if name == lists.LEADS:
        return reverse("lead", args=[row["pk"]])
    if name == lists.VISITS:
        return reverse("visit", args=[row["pk"]])
    if name == lists.SUMMARIES:
        return reverse("visit", args=[row["visit_id"]])
    for key in ("customer_id", "enrolment__customer_id"):
        if row.get(key):
            return reverse("customer", args=[row[key]])
    return None


# --- the charts ----------------------------------------------------------------------------------


def _drills(filters: Filters) -> Any:
    """What makes the address of a list behind a figure, each list's path with the filters encoded once."""
    query = urlencode(filters.as_query())
    paths = {name: f"{reverse('dashboard_list', args=[name])}?{query}" for name in lists.LISTS}

    def drill(name: str, **narrow: Any) -> str:
        return f"{paths[name]}&{urlencode(narrow)}" if narrow else paths[name]

    return drill


def _week_label(week: date) -> str:
    return week.strftime("%m-%d")


def charts(board: Dashboard) -> dict[str, Any]:
    """What each chart draws, in the reader's language, with the list each part opens."""
    f = board.filters
    _drill = _drills(f)
    weeks = [_week_label(week) for week in board.weeks]
    return {
        "stages": {
            "kind": "funnel",
            "data": [
                {
                    "name": str(STAGE_LABELS[s]),
                    "value": board.stages[s],
                    "url": _drill(lists.CUSTOMERS, stage=s),
                }
                for s in PROGRAMME_STAGES
            ],
        },
        "transitions": {
            "kind": "bar",
            "stacked": True,
            "labels": weeks,
            "series": [
                {
                    "name": _("entered %(stage)s") % {"stage": label},
                    "data": [week.counts[stage] for week in board.transitions],
                    "urls": [
                        _drill(lists.STAGE_CHANGES, stage=stage, week=week.week.isoformat())
                        for week in board.transitions
                    ],
                }
                for stage, label in Stage.choices
            ],
        },
        "visits": {
            "kind": "bar",
            "labels": weeks,
            "series": [
                {
                    "name": str(label),
                    "data": [week.counts[kind] for week in board.visits],
                    "urls": [
                        _drill(lists.VISITS, kind=kind, week=week.week.isoformat()) for week in board.visits
                    ],
                }
                for kind, label in (("planned", _("planned")), ("done", _("made")))
            ],
        },
        "funnel": {
            "kind": "funnel",
            "data": [
                {
                    "name": str(FunnelStage(stage.stage).label),
                    "value": stage.reached,
                    "url": _drill(lists.LEADS, stage=stage.stage),
                }
                for stage in board.funnel
            ],
        },
        "urgency": {
            "kind": "bar",
            "labels": [str(Urgency(row.urgency).label) for row in board.urgency],
            "series": [
                {
                    "name": _("leads"),
                    "data": [row.count for row in board.urgency],
                    "urls": [_drill(lists.LEADS, urgency=row.urgency) for row in board.urgency],
                }
            ],
        },
        "appraisal": {
            "kind": "bar",
            "horizontal": True,
            "labels": [row.team for row in board.appraisal],
            "series": [
                {
                    "name": _("average score"),
                    "data": [None if row.average is None else float(row.average) for row in board.appraisal],
                    "urls": [_drill(lists.APPRAISALS, team_id=row.team_id) for row in board.appraisal],
                }
            ],
        },
        "support": {
            "kind": "bar",
            "labels": [str(Speciality(row.speciality).label) for row in board.support],
            "series": [
                {
                    "name": str(label),
                    "data": [getattr(row, field) for row in board.support],
                    "urls": [
                        _drill(
                            lists.SUPPORT,
                            speciality=row.speciality,
                            **({"outcome": outcome} if outcome else {}),
                        )
                        for row in board.support
                    ],
                }
                for field, label, outcome in (
                    ("requested", _("requested"), {}),
                    ("completed", _("completed"), {"outcome": "completed"}),
                    ("on_time", _("on time"), {"outcome": "on_time"}),
                )
            ],
        },
        "incentives": {
            "kind": "bar",
            "labels": [str(incentive_status(row.status)) for row in board.incentives],
            "series": [
                {
                    "name": _("amount (CNY)"),
                    "data": [float(row.amount) for row in board.incentives],
                    "urls": [_drill(lists.INCENTIVES, status=row.status) for row in board.incentives],
                }
            ],
        },
    }
