"""The closed-loop summary (驻点服务总结): stored as a structured record when the account manager
submits it, and applied to the customer's records when the team leader approves it.

Applying an approved summary updates the informatization status, the products held and the key
persons (with history), creates a lead per summary lead (a high-urgency one starts its follow-up)
and a support request per resource need, closes the visit, records the incentives the visit earned
and starts win-back tasks for competitor contracts about to expire. Every step is keyed to the
summary's rows, so a retried task applies a summary once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from onsite.exceptions import OnsiteError
from onsite.models import (
    CustomerChange,
    IncentiveEvent,
    SummaryDecisionRole,
    SummaryKeyPerson,
    SummaryLead,
    SummaryProduct,
    SummaryResourceNeed,
    SupportRequest,
    Visit,
    VisitSummary,
)
from onsite.services.customers import change_customer, upsert_key_person, upsert_product
from onsite.services.incentives import award
from onsite.services.leads import create_lead
from onsite.services.support import request_support
from onsite.services.winback import start_win_back_targets
from onsite.thresholds import threshold
from workflows.actors import SYSTEM, person

SUMMARY = CustomerChange.Source.SUMMARY


def submit_summary(*, visit: Visit, summary: dict, actor: Any, at: datetime) -> VisitSummary:
    """Store (or, after rework, replace) the summary. On time means first submitted by the due time."""
    if visit.status not in (Visit.Status.VISITED, Visit.Status.SUMMARISED):
        raise OnsiteError(_("Visit %(visit)s is not waiting for a summary.") % {"visit": visit})
    record = VisitSummary.objects.filter(visit=visit).first()
    if record is None:
        due = visit.summary_due_at
        record = VisitSummary(visit=visit, first_submitted_at=at, on_time=due is None or at <= due)
    elif record.status == VisitSummary.Status.APPROVED:
        raise OnsiteError(_("The summary of visit %(visit)s was already approved.") % {"visit": visit})
    record.informatization_status = summary["informatization_status"]
    record.next_goals = summary["next_goals"]
    record.status = VisitSummary.Status.SUBMITTED
    record.submissions += 1
    record.submitted_at = at
    record.submitted_by = person(actor)
    record.save()
    _replace_items(record, summary)
    visit.status = Visit.Status.SUMMARISED
    visit.save(update_fields=["status"])
    return record


def _replace_items(record: VisitSummary, summary: dict) -> None:
    for model in (SummaryProduct, SummaryDecisionRole, SummaryKeyPerson, SummaryLead, SummaryResourceNeed):
        model.objects.filter(summary=record).delete()
    SummaryProduct.objects.bulk_create(
        SummaryProduct(
            summary=record,
            seq=seq,
            product=item["product"],
            provider=item["provider"],
            ownership=item["ownership"],
            expiry_date=parse_date(item["expiry_date"]),
        )
        for seq, item in enumerate(summary.get("product_expiries", []))
    )
    SummaryDecisionRole.objects.bulk_create(
        SummaryDecisionRole(
            summary=record,
            seq=seq,
            position=item["position"],
            name=item.get("name", ""),
            role=item["role"],
            note=item.get("note", ""),
        )
        for seq, item in enumerate(summary.get("decision_chain", []))
    )
    SummaryKeyPerson.objects.bulk_create(
        SummaryKeyPerson(
            summary=record,
            seq=seq,
            name=item["name"],
            title=item.get("title", ""),
            department=item.get("department", ""),
            contact=item.get("contact", ""),
            relationship=item.get("relationship", ""),
            notes=item.get("notes", ""),
        )
        for seq, item in enumerate(summary.get("key_persons", []))
    )
    SummaryLead.objects.bulk_create(
        SummaryLead(
            summary=record,
            seq=seq,
            description=item["description"],
            product=item.get("product", ""),
            urgency=item["urgency"],
            estimated_value=Decimal(str(item["estimated_value"]))
            if item.get("estimated_value") is not None
            else None,
            win_back=item.get("win_back", False),
        )
        for seq, item in enumerate(summary.get("leads", []))
    )
    SummaryResourceNeed.objects.bulk_create(
        SummaryResourceNeed(
            summary=record,
            seq=seq,
            speciality=item["speciality"],
            description=item["description"],
            due_date=parse_date(item["due_date"]) if item.get("due_date") else None,
        )
        for seq, item in enumerate(summary.get("resource_needs", []))
    )


def review_summary(*, visit: Visit, decision: str, comment: str, actor: Any, at: datetime) -> VisitSummary:
    """The team leader's review: send back for rework, or approve and apply."""
    record = VisitSummary.objects.filter(visit=visit).first()
    if record is None:
        raise OnsiteError(_("Visit %(visit)s has no summary to review.") % {"visit": visit})
    record.visit = visit  # the caller's locked row, not a second unlocked copy
    if record.status == VisitSummary.Status.APPROVED:
        return record  # a retried task: applied already
    record.reviewed_by, record.reviewed_at, record.review_comment = person(actor), at, comment
    if decision == "rework":
        if record.status != VisitSummary.Status.REWORK:
            record.rework_count += 1
        record.status = VisitSummary.Status.REWORK
        record.save()
        return record
    if decision != "approve":
        raise OnsiteError(_("Unknown review decision '%(decision)s'.") % {"decision": decision})
    record.status, record.approved_at = VisitSummary.Status.APPROVED, at
    record.save()
    apply_summary(record, at=at)
    return record


def apply_summary(record: VisitSummary, *, at: datetime) -> None:
    visit = record.visit
    customer = visit.customer
    author = record.submitted_by
    how = {"actor": author, "source": SUMMARY, "visit": visit}
    change_customer(customer, {"informatization_status": record.informatization_status}, **how)
    for item in record.products.all():
        upsert_product(
            customer,
            item.product,
            item.provider,
            {"ownership": item.ownership, "expiry_date": item.expiry_date},
            **how,
        )
    for item in record.key_persons.all():
        values = {f: getattr(item, f) for f in ("title", "department", "contact", "relationship", "notes")}
        upsert_key_person(customer, item.name, values, **how)
    for item in record.decision_chain.all():
        upsert_key_person(
            customer, item.name or item.position, {"title": item.position, "decision_role": item.role}, **how
        )
    for item in record.leads.filter(lead__isnull=True):
        create_lead(
            customer=customer,
            description=item.description,
            urgency=item.urgency,
            product=item.product,
            estimated_value=item.estimated_value,
            win_back=item.win_back,
            source_visit=visit,
            source_item=item,
            owner=author or customer.account_manager,
            user=SYSTEM,
            at=at,
        )
    for item in record.resource_needs.filter(support_request__isnull=True):
        request_support(
            customer=customer,
            kind=SupportRequest.Kind.SOLUTION if item.speciality == "solution" else SupportRequest.Kind.OTHER,
            speciality=item.speciality,
            description=item.description,
            due_date=item.due_date or (timezone.localdate(at) + timedelta(days=7)),
            requested_by=author or customer.account_manager,
            source_visit=visit,
            source_need=item,
            user=SYSTEM,
        )
    visit.status, visit.closed_at = Visit.Status.CLOSED, at
    visit.save(update_fields=["status", "closed_at"])
    _reward_visit(visit, record, at)
    start_win_back_targets(customer=customer, today=timezone.localdate(at))


def _reward_visit(visit: Visit, record: VisitSummary, at: datetime) -> None:
    manager = visit.account_manager or record.submitted_by
    key = f"visit:{visit.pk}"
    # Each record falls in the period of what it rewards (the visit, the summary), not the approval's.
    if visit.visited_at is not None and visited_as_planned(visit):
        award(
            IncentiveEvent.VISIT_AS_PLANNED,
            person=manager,
            key=key,
            description=_("Visit %(visit)s made as planned") % {"visit": visit},
            at=visit.visited_at,
            customer=visit.customer,
            visit=visit,
        )
    if record.on_time:
        award(
            IncentiveEvent.SUMMARY_ON_TIME,
            person=manager,
            key=key,
            description=_("Summary of visit %(visit)s on time") % {"visit": visit},
            at=record.first_submitted_at,
            customer=visit.customer,
            visit=visit,
        )
    if record.rework_count == 0:
        award(
            IncentiveEvent.SUMMARY_FIRST_PASS,
            person=manager,
            key=key,
            description=_("Summary of visit %(visit)s approved without rework") % {"visit": visit},
            at=record.submitted_at,
            customer=visit.customer,
            visit=visit,
        )


def visited_as_planned(visit: Visit) -> bool:
    visited_on: date = timezone.localtime(visit.visited_at).date()
    return visited_on <= visit.planned_date + timedelta(days=threshold("VISIT_ON_PLAN_TOLERANCE_DAYS"))
