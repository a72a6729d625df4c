"""The monthly programme report for leadership: the dashboard's figures for a period and its
filters, per region and team, with charts drawn on the server as SVG, and the open warnings
(`onsite.selectors.programme_report`). Asked for with the dashboard's filters, from the dashboard
or by the scheduler for every region on the first of the month (`onsite.reports.registry` says
what a kind's module provides)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from onsite.models import FunnelStage, IncentiveRecord, Industry, Stage, Urgency
from onsite.reports.charts import chart_image
from onsite.reports.pdf import render_pdf
from onsite.reports.registry import Subject
from onsite.selectors.dashboard import ENDED, Filters, filters_from
from onsite.selectors.programme_report import ProgrammeReport, programme_report
from onsite.selectors.warnings import WarningKind
from onsite.templatetags.desk import incentive_status
from workflows.actors import SYSTEM

TEMPLATE = "reports/programme.html"


def title() -> str:
    return _("On-site service programme report")


def period_text(filters: Filters) -> str:
    return f"{filters.start:%Y-%m-%d} – {filters.end:%Y-%m-%d}"


def scope_text(filters: Filters) -> str:
    """What the report covers, in words: the filters set, or the whole programme."""
    parts = [
        (_("Region"), filters.region and filters.region.name),
        (_("Industry"), filters.industry and Industry(filters.industry).label),
        (_("Tier"), filters.tier),
        (_("Team"), filters.team and filters.team.name),
        (
            _("Account manager"),
            filters.manager and (filters.manager.get_full_name() or filters.manager.username),
        ),
    ]
    named = [f"{label}: {value}" for label, value in parts if value]
    return " · ".join(named) if named else _("All regions, industries, tiers and teams")


def context(report: ProgrammeReport) -> dict[str, Any]:
    board = report.board
    stage_labels = {**dict(Stage.choices), ENDED: _("ended")}
    weeks = [f"{week:%m-%d}" for week in board.weeks]
    teams = [row for row in report.teams if row.won_value or row.leads]
    return {
        "report": report,
        "scope": scope_text(board.filters),
        "stage_rows": [(stage_labels[stage], n) for stage, n in board.stages.items()],
        "stage_choices": Stage.choices,
        "week_rows": list(zip(board.weeks, board.transitions, board.visits, strict=True)),
        "urgency_rows": [(row, Urgency(row.urgency).label) for row in board.urgency],
        "incentive_rows": [(row, incentive_status(row.status)) for row in board.incentives],
        "approved": sum(
            (row.amount for row in board.incentives if row.status == IncentiveRecord.Status.APPROVED),
            Decimal(0),
        ),
        "breakdowns": [(_("Per region"), report.regions), (_("Per team"), report.teams)],
        # A page per team: its figures and its own open warnings.
        "team_pages": [(row, report.team_warnings.get(row.key, [])) for row in report.teams],
        "warning_kinds": [
            (WarningKind(kind).label, n)
            for kind, n in sorted(report.warnings_by_kind.items(), key=lambda kv: -kv[1])
        ],
        "charts": {
            "stages": chart_image(
                "funnel",
                title=_("Customers per stage"),
                labels=[str(stage_labels[stage]) for stage in board.stages],
                series={_("customers"): list(board.stages.values())},
                height=300,
            ),
            "transitions": chart_image(
                "line",
                title=_("Stage changes per week"),
                labels=weeks,
                series={
                    _("entered %(stage)s") % {"stage": label}: [
                        week.counts[code] for week in board.transitions
                    ]
                    for code, label in Stage.choices
                },
                height=340,
            ),
            "visits": chart_image(
                "bar",
                title=_("Visits planned and made per week"),
                labels=weeks,
                series={
                    _("planned"): [week.counts["planned"] for week in board.visits],
                    _("made"): [week.counts["done"] for week in board.visits],
                },
                height=340,
            ),
            "funnel": chart_image(
                "funnel",
                title=_("Sales funnel"),
                labels=[str(FunnelStage(stage.stage).label) for stage in board.funnel],
                series={_("leads"): [stage.reached for stage in board.funnel]},
                height=340,
            ),
            "teams": chart_image(
                "bar",
                title=_("Value won per team (CNY)"),
                labels=[row.name for row in teams],
                series={_("value won"): [float(row.won_value) for row in teams]},
                height=340,
            )
            if teams
            else None,
        },
    }


def subject(params: dict, user: Any) -> Subject:
    """The dashboard's filters, checked for `user` as the dashboard checks them (a team leader's
    report is of a team they lead), with the period written out."""
    filters = filters_from(params, user=user)
    return Subject(
        params=filters.as_query(),
        title=title(),
        period=period_text(filters),
        region=filters.region,
        team=filters.team,
    )


def render(params: dict, *, now: datetime | None = None) -> bytes:
    """The report's PDF, in the current language, of the filters `subject` normalised."""
    filters = filters_from(params, user=SYSTEM)
    report = programme_report(filters=filters, user=SYSTEM, now=now)
    return render_pdf(TEMPLATE, context(report), title=title(), period=period_text(filters))
