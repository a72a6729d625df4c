"""The team leader's desk: the review queue, the team page and the early warnings of one team.

Read-only pages (GET only): the work they lead to is done on the task pages. The team is the one the reader
leads, or, for coordinators and leadership, the one chosen (`?team=`); a team the reader may not
open answers 404 (`onsite.selectors.desk` refuses, `refusals` answers)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from onsite.selectors import desk
from onsite.selectors.funnel import OPEN_STAGES
from onsite.views.periods import month_asked

GROUP_LABELS = {
    desk.SUMMARIES: _("Summaries to approve or send back"),
    desk.INCENTIVES: _("Incentive approvals"),
    desk.STAGE_REVIEWS: _("Stage reviews"),
    desk.ESCALATIONS: _("Escalations"),
    desk.APPRAISALS: _("Appraisals to comment"),
    desk.OTHER: _("Other tasks"),
}


def _desk_context(request: HttpRequest) -> dict:
    """The team the page is about and the teams the reader may switch to."""
    choices = desk.desk_team_choices(request.user)
    team = desk.chosen_team(user=request.user, team_id=request.GET.get("team"), choices=choices)
    return {"team": team, "team_choices": choices}


@require_safe
@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    context = _desk_context(request)
    queue = desk.review_queue(team=context["team"], user=request.user)
    groups = [(group, GROUP_LABELS[group.code]) for group in queue.groups]
    return render(
        request,
        "onsite/desk/review_queue.html",
        {**context, "queue": queue, "groups": groups, "desk_page": "review_queue"},
    )


@require_safe
@login_required
def team_page(request: HttpRequest) -> HttpResponse:
    context = _desk_context(request)
    month = month_asked(request.GET.get("month", ""))
    overview = desk.team_overview(team=context["team"], month=month, user=request.user)
    return render(
        request,
        "onsite/desk/team.html",
        {
            **context,
            "overview": overview,
            "month": month.strftime("%Y-%m"),
            "open_stages": OPEN_STAGES,
            "desk_page": "team_page",
        },
    )


@require_safe
@login_required
def warnings(request: HttpRequest) -> HttpResponse:
    context = _desk_context(request)
    found = desk.team_warnings(team=context["team"], user=request.user)
    return render(
        request,
        "onsite/desk/warnings.html",
        {**context, "warnings": found, "desk_page": "warnings"},
    )
