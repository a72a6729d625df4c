"""The pre-visit briefing (明确计划): what the account manager reads before going on site - who the
customer is and where its programme stands, who decides, which contracts end soon, which leads are
open, what the last approved summary set out to do next, and what its industry needs and offers
(the industry playbook, seed 001).

One query per list, whatever the customer holds. The briefing is data: codes (industry, stage,
decision role, urgency, status), numbers, dates and the records' own text; `describe` adds the words
for the codes in the reader's language when it is shown.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import get_language

from onsite.access import check_customer_read
from onsite.models import (
    Customer,
    DecisionRole,
    Enrolment,
    Industry,
    KeyPerson,
    Lead,
    Ownership,
    PlaybookEntry,
    ProductHolding,
    Relationship,
    Stage,
    SupportRequest,
    Urgency,
    Visit,
    VisitSummary,
)

# Contracts ending within this window are worth preparing for: renewals of ours, win-backs of theirs.
EXPIRY_WINDOW_DAYS = 180
# The visits the briefing recalls, latest first: enough to see the rhythm, short enough to read.
VISIT_HISTORY_LENGTH = 10
OPEN_SUPPORT_STATUSES = (SupportRequest.Status.REQUESTED, SupportRequest.Status.DISPATCHED)


def customer_briefing(customer: Customer, *, user: Any, today: date | None = None) -> dict[str, Any]:
    """Everything the pre-visit task shows about `customer`, as plain data, for someone who may
    read the customer's records (`onsite.access`); refused (`NotPermitted`) to anyone else."""
    check_customer_read(user, customer)
    today = today or timezone.localdate()
    return {
        "customer": _basics(customer),
        "stage": _current_stage(customer),
        "key_persons": _key_persons(customer),
        "expiring_products": _expiring_products(customer, today=today),
        "open_leads": _open_leads(customer),
        "last_summary": _last_approved_summary(customer),
        "playbook": playbook_for(customer.industry),
        "open_support_requests": _open_support_requests(customer),
        "visits": _visit_history(customer),
    }


def playbook_for(industry: str) -> dict[str, list[dict[str, Any]]]:
    """The industry's needs and opportunities in playbook order; empty lists for an industry
    without entries. Reference data, the same for everyone: each entry in both languages."""
    playbook: dict[str, list[dict[str, Any]]] = {"needs": [], "opportunities": []}
    lists = {
        PlaybookEntry.Kind.NEED: playbook["needs"],
        PlaybookEntry.Kind.OPPORTUNITY: playbook["opportunities"],
    }
    for entry in PlaybookEntry.objects.filter(industry=industry).order_by("kind", "seq"):
        lists[entry.kind].append(
            {
                "text": entry.text,
                "text_en": entry.text_en,
                "products": list(entry.products),
            }
        )
    return playbook


def describe(briefing: dict[str, Any]) -> dict[str, Any]:
    """The briefing with the words for its codes, in the active language: `industry_label`,
    the stage's `label`, each key person's `decision_role_label` and `relationship_label`, each
    lead's `urgency_label` and `status_label`, each playbook entry's `label`, each support
    request's `kind_label` and `status_label`, and each visit's `stage_label` and `status_label`."""
    english = (get_language() or "").startswith("en")
    customer = briefing["customer"]
    stage = briefing["stage"]
    return {
        **briefing,
        "customer": {**customer, "industry_label": _label(Industry, customer["industry"])},
        "stage": stage and {**stage, "label": _label(Stage, stage["stage"])},
        "key_persons": [
            {
                **person,
                "decision_role_label": _label(DecisionRole, person["decision_role"]),
                "relationship_label": _label(Relationship, person["relationship"]),
            }
            for person in briefing["key_persons"]
        ],
        "open_leads": [
            {
                **lead,
                "urgency_label": _label(Urgency, lead["urgency"]),
                "status_label": _label(Lead.Status, lead["status"]),
            }
            for lead in briefing["open_leads"]
        ],
        "playbook": {
            kind: [{**entry, "label": entry["text_en"] if english else entry["text"]} for entry in entries]
            for kind, entries in briefing["playbook"].items()
        },
        "open_support_requests": [
            {
                **request,
                "kind_label": _label(SupportRequest.Kind, request["kind"]),
                "status_label": _label(SupportRequest.Status, request["status"]),
            }
            for request in briefing.get("open_support_requests", [])
        ],
        "visits": [
            {
                **visit,
                "stage_label": _label(Stage, visit["stage"]),
                "status_label": _label(Visit.Status, visit["status"]),
                "summary_status_label": visit["summary_status"]
                and _label(VisitSummary.Status, visit["summary_status"]),
            }
            for visit in briefing.get("visits", [])
        ],
    }


def _label(choices: Any, value: str) -> str:
    # A blank or retired code reads as itself rather than failing the whole page.
    return str(choices(value).label) if value in choices.values else value


def _basics(customer: Customer) -> dict[str, Any]:
    manager = customer.account_manager
    return {
        "id": customer.pk,
        "code": customer.code,
        "name": customer.name,
        "industry": customer.industry,
        "tier": customer.tier,
        "account_manager": manager,
        "account_manager_name": (manager.get_full_name() or manager.get_username()) if manager else None,
        "informatization_status": customer.informatization_status,
    }


def _current_stage(customer: Customer) -> dict[str, Any] | None:
    enrolment = (
        Enrolment.objects.filter(customer=customer, status=Enrolment.Status.ACTIVE)
        .select_related("programme")
        .first()
    )
    if enrolment is None:
        return None
    return {
        "stage": enrolment.stage,
        "programme": enrolment.programme.name,
        "enrolment_id": enrolment.pk,
    }


def rank_by(field: str, values: list[str]) -> Case:
    """Order by position in `values`; anything else (blank included) after them."""
    return Case(
        *(When(**{field: value}, then=Value(position)) for position, value in enumerate(values)),
        default=Value(len(values)),
        output_field=IntegerField(),
    )


def _key_persons(customer: Customer) -> list[dict[str, Any]]:
    # The decision chain's own order: whoever signs first, then whoever sways them.
    persons = KeyPerson.objects.filter(customer=customer).order_by(
        rank_by("decision_role", DecisionRole.values), "name"
    )
    return [
        {
            "name": person.name,
            "title": person.title,
            "department": person.department,
            "decision_role": person.decision_role,
            "relationship": person.relationship,
            "contact": person.contact,
            "notes": person.notes,
        }
        for person in persons
    ]


def _expiring_products(customer: Customer, *, today: date) -> list[dict[str, Any]]:
    holdings = ProductHolding.objects.filter(
        customer=customer,
        expiry_date__gte=today,
        expiry_date__lte=today + timedelta(days=EXPIRY_WINDOW_DAYS),
    ).order_by("expiry_date", "product")
    return [
        {
            "product": holding.product,
            "provider": holding.provider,
            "ownership": holding.ownership,
            "competitor": holding.ownership == Ownership.COMPETITOR,
            "expiry_date": holding.expiry_date,
            "days_left": (holding.expiry_date - today).days,
        }
        for holding in holdings
    ]


def _open_leads(customer: Customer) -> list[dict[str, Any]]:
    leads = (
        Lead.objects.filter(customer=customer, status__in=Lead.OPEN_STATUSES)
        .select_related("owner")
        .order_by(rank_by("urgency", Urgency.values), "-last_activity_at", "-pk")
    )
    return [
        {
            "id": lead.pk,
            "description": lead.description,
            "product": lead.product,
            "urgency": lead.urgency,
            "status": lead.status,
            "estimated_value": lead.estimated_value,
            "win_back": lead.win_back,
            "owner": lead.owner,
            "last_activity_at": lead.last_activity_at,
        }
        for lead in leads
    ]


def _last_approved_summary(customer: Customer) -> dict[str, Any] | None:
    summary = (
        VisitSummary.objects.filter(visit__customer=customer, status=VisitSummary.Status.APPROVED)
        .select_related("visit")
        .order_by(F("approved_at").desc(nulls_last=True), "-visit__visited_at", "-pk")
        .first()
    )
    if summary is None:
        return None
    return {
        "visit_number": summary.visit.number,
        "visited_at": summary.visit.visited_at,
        "approved_at": summary.approved_at,
        "informatization_status": summary.informatization_status,
        "next_goals": summary.next_goals,
    }


def _open_support_requests(customer: Customer) -> list[dict[str, Any]]:
    requests = (
        SupportRequest.objects.filter(customer=customer, status__in=OPEN_SUPPORT_STATUSES)
        .select_related("assignee")
        .order_by("due_date", "pk")
    )
    return [
        {
            "id": request.pk,
            "kind": request.kind,
            "status": request.status,
            "speciality": request.speciality,
            "description": request.description,
            "due_date": request.due_date,
            "assignee": request.assignee,
        }
        for request in requests
    ]


def _visit_history(customer: Customer) -> list[dict[str, Any]]:
    visits = (
        Visit.objects.filter(customer=customer)
        .exclude(status=Visit.Status.CANCELLED)
        .select_related("summary")
        .order_by("-planned_date", "-pk")[:VISIT_HISTORY_LENGTH]
    )
    history = []
    for visit in visits:
        summary = _summary_of(visit)
        history.append(
            {
                "id": visit.pk,
                "number": visit.number,
                "stage": visit.stage,
                "status": visit.status,
                "planned_date": visit.planned_date,
                "visited_at": visit.visited_at,
                "summary_status": summary.status if summary else "",
                "next_goals": summary.next_goals if summary else "",
            }
        )
    return history


def _summary_of(visit: Visit) -> VisitSummary | None:
    try:
        return visit.summary
    except VisitSummary.DoesNotExist:
        return None
