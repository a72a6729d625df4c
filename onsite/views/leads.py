"""My leads as a funnel board: move a lead forward (`move_lead_stage`), record it won from the
solution stage (`win_lead`) or lost with a reason (`lose_lead`). A lead the reader may not read does
not exist for them (404, on any action); one they may read but not change (leadership) is refused
by the service (403, `refusals`). Any other refusal shows at the card's fields, everything typed
kept."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from onsite.models import Lead
from onsite.selectors.lead_board import LeadBoard, lead_board, lead_record, visible_lead
from onsite.services.leads import lose_lead, move_lead_stage, win_lead
from onsite.views.refusals import ACCESS, form_errors
from workflows.refusals import Refusal

MOVE, WIN, LOSE = "move", "win", "lose"
# The fields each action's form shows; a refusal naming any other shows above the card's forms.
FIELDS = {
    MOVE: {"stage", "note"},
    WIN: {"won_value", "expiry_date", "note"},
    LOSE: {"lost_reason", "note"},
}


@login_required
@require_safe
def board(request: HttpRequest) -> HttpResponse:
    return _render(request, lead_board(user=request.user))


@login_required
@require_safe
def lead_page(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "onsite/leads/detail.html", lead_record(lead_id=pk, user=request.user))


@login_required
@require_POST
def move(request: HttpRequest, pk: int) -> HttpResponse:
    typed = {"stage": request.POST.get("stage", ""), "note": request.POST.get("note", "")}

    def perform(lead: Lead) -> str:
        moved = move_lead_stage(lead=lead, stage=typed["stage"], note=typed["note"], user=request.user)
        return _("Lead moved to “%(stage)s”.") % {"stage": moved.get_stage_display()}

    return _act(request, pk, MOVE, typed, perform)


@login_required
@require_POST
def win(request: HttpRequest, pk: int) -> HttpResponse:
    typed = {name: request.POST.get(name, "") for name in ("won_value", "expiry_date", "note")}

    def perform(lead: Lead) -> str:
        win_lead(
            lead=lead,
            won_value=typed["won_value"],
            expiry_date=typed["expiry_date"] or None,
            note=typed["note"],
            user=request.user,
        )
        return _("Lead recorded as won.")

    return _act(request, pk, WIN, typed, perform)


@login_required
@require_POST
def lose(request: HttpRequest, pk: int) -> HttpResponse:
    typed = {"lost_reason": request.POST.get("lost_reason", ""), "note": request.POST.get("note", "")}

    def perform(lead: Lead) -> str:
        lose_lead(lead=lead, reason=typed["lost_reason"], note=typed["note"], user=request.user)
        return _("Lead recorded as lost.")

    return _act(request, pk, LOSE, typed, perform)


def _act(
    request: HttpRequest, pk: int, action: str, typed: dict, perform: Callable[[Lead], str]
) -> HttpResponse:
    """`perform` on the lead the reader may read: its message and back to the board, or the board
    with the refused card's form open (an access refusal goes on to `refusals`)."""
    lead = visible_lead(lead_id=pk, user=request.user)
    try:
        done = perform(lead)
    except ACCESS:
        raise
    except Refusal as refusal:
        return _refused(request, pk, action, refusal, typed)
    messages.success(request, done)
    return redirect("leads")


def _refused(request: HttpRequest, pk: int, action: str, refusal: Refusal, typed: dict) -> HttpResponse:
    """The board again, the refused card's form open with its messages and what was typed."""
    shown = lead_board(user=request.user)
    card = shown.card(pk)
    if card is None:  # closed or scrolled off its column since: say it at the top
        messages.error(request, str(refusal.message))
        return redirect("leads")
    errors = form_errors(refusal)
    shown_at_fields = {field: texts for field, texts in errors.items() if field in FIELDS[action]}
    elsewhere = [text for field, texts in errors.items() if field not in FIELDS[action] for text in texts]
    card.action, card.typed = action, typed
    card.errors = {**shown_at_fields, **({"": elsewhere} if elsewhere else {})}
    return _render(request, shown)


def _render(request: HttpRequest, shown: LeadBoard) -> HttpResponse:
    return render(request, "onsite/leads/board.html", {"board": shown})
