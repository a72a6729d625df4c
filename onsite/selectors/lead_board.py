"""A reader's leads as a funnel board: the open ones in a column per funnel stage (seed 003), each
with how long it has been in that stage and the stages it may still move on to, and the closed ones
(won, lost) below.

Whose leads: an account manager's own (`owner`); for anyone else, the leads of the customers they
may read (`onsite.access`: a team leader's team, everyone's for leadership and coordinators). Which
of them the reader may move or lose is the same rule as the services' (`customer_scope(CHANGE)`),
so the page offers no action a service would refuse for want of access.

A fixed number of queries, however many leads: one per column (at most `COLUMN_LENGTH` cards, the
longest in their stage first), one for the counts, one for the closed leads, one for which may be
changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from onsite.access import CHANGE, READ, customer_scope, role_names, scoped
from onsite.models import FunnelStage, Lead, LeadActivity, LeadStageMove
from onsite.models.funnel import OPEN_STAGES, STAGE_ORDER
from onsite.roles import ACCOUNT_MANAGER

COLUMN_LENGTH = 50
CLOSED_LENGTH = 50


@dataclass
class LeadCard:
    lead: Lead
    days_in_stage: int
    later_stages: list[FunnelStage]  # the open stages after its own, in funnel order
    may_change: bool
    # Filled by the page when an action on this card was refused: messages by field, what was typed.
    action: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    typed: dict[str, str] = field(default_factory=dict)

    @property
    def general_errors(self) -> list[str]:
        return self.errors.get("", [])


@dataclass
class Column:
    stage: FunnelStage
    count: int
    cards: list[LeadCard]

    @property
    def more(self) -> int:
        return self.count - len(self.cards)


@dataclass
class LeadBoard:
    columns: list[Column]
    closed: list[Lead]
    may_change_any: bool

    def card(self, lead_id: int) -> LeadCard | None:
        for column in self.columns:
            for card in column.cards:
                if card.lead.pk == lead_id:
                    return card
        return None


def leads_of(user: Any) -> QuerySet:
    """The leads on `user`'s board: an account manager's own, anyone else's in their read scope."""
    leads = scoped(Lead.objects.all(), customer_scope(user, to=READ, through="customer"))
    if getattr(user, "is_authenticated", False) and ACCOUNT_MANAGER in role_names(user):
        leads = leads.filter(owner=user)
    return leads


def visible_lead(*, lead_id: int, user: Any) -> Lead:
    """One lead of `user`'s board; for anyone else it does not exist (`Lead.DoesNotExist`)."""
    return leads_of(user).select_related("customer").get(pk=lead_id)


def lead_board(*, user: Any, now: datetime | None = None) -> LeadBoard:
    now = now or timezone.now()
    leads = leads_of(user)
    open_leads = leads.filter(status__in=Lead.OPEN_STATUSES)
    counts = dict(
        open_leads.order_by().values_list("stage").annotate(count=Count("pk")).values_list("stage", "count")
    )
    changeable = set(
        scoped(open_leads, customer_scope(user, to=CHANGE, through="customer")).values_list("pk", flat=True)
    )
    columns = []
    for stage in OPEN_STAGES:
        rows = (
            open_leads.filter(stage=stage)
            .select_related("customer", "owner")
            .order_by("stage_entered_at", "pk")[:COLUMN_LENGTH]
        )
        cards = [
            LeadCard(
                lead=lead,
                days_in_stage=max((now - lead.stage_entered_at).days, 0),
                later_stages=[FunnelStage(s) for s in OPEN_STAGES if STAGE_ORDER[s] > STAGE_ORDER[stage]],
                may_change=lead.pk in changeable,
            )
            for lead in rows
        ]
        columns.append(Column(stage=FunnelStage(stage), count=counts.get(stage, 0), cards=cards))
    closed = list(
        leads.filter(status__in=(Lead.Status.WON, Lead.Status.LOST))
        .select_related("customer")
        .order_by("-closed_at", "-pk")[:CLOSED_LENGTH]
    )
    return LeadBoard(columns=columns, closed=closed, may_change_any=bool(changeable))


def lead_record(*, lead_id: int, user: Any) -> dict[str, Any]:
    """A lead's page: the lead, its way through the funnel and its activity, oldest first; for
    someone not reading its board it does not exist (`Lead.DoesNotExist`). Four queries."""
    lead = (
        leads_of(user)
        .select_related("customer", "customer__region", "owner", "source_visit", "displaces", "created_by")
        .get(pk=lead_id)
    )
    return {
        "lead": lead,
        "moves": list(LeadStageMove.objects.filter(lead=lead).select_related("actor").order_by("at", "pk")),
        "activities": list(
            LeadActivity.objects.filter(lead=lead).select_related("actor").order_by("at", "pk")
        ),
    }
