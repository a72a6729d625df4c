"""One visit as its report and its page show it: the customer, the plan and resources, what was
done on site, the closed-loop summary's seven parts, the leads and support requests it created and
the review. Read by whoever reads the visit's customer (`onsite.access.customer_scope`); a visit
someone may not read does not exist for them. A fixed number of queries, however long the summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onsite.access import READ, customer_scope, scoped
from onsite.models import Lead, SupportRequest, Visit, VisitSummary


def visit_for(*, visit_id: int, user: Any) -> Visit:
    """The visit, for someone who may read its customer (anyone else: `Visit.DoesNotExist`)."""
    visits = scoped(Visit.objects.all(), customer_scope(user, to=READ, through="customer"))
    return visits.select_related(
        "customer__region",
        "customer__account_manager",
        "account_manager",
        "support_staff",
        "summary__reviewed_by",
        "summary__submitted_by",
    ).get(pk=visit_id)


@dataclass(frozen=True)
class VisitReport:
    visit: Visit
    activities: list = field(default_factory=list)
    summary: VisitSummary | None = None
    products: list = field(default_factory=list)
    decision_chain: list = field(default_factory=list)
    key_persons: list = field(default_factory=list)
    summary_leads: list = field(default_factory=list)
    resource_needs: list = field(default_factory=list)
    leads: list = field(default_factory=list)  # the leads it created
    support_requests: list = field(default_factory=list)  # and the support requests


def visit_report(*, visit_id: int, user: Any) -> VisitReport:
    """Everything the visit report shows of the visit `visit_id`."""
    visit = visit_for(visit_id=visit_id, user=user)
    summary = getattr(visit, "summary", None)
    parts = {}
    if summary is not None:
        parts = {
            "products": list(summary.products.order_by("seq")),
            "decision_chain": list(summary.decision_chain.order_by("seq")),
            "key_persons": list(summary.key_persons.order_by("seq")),
            "summary_leads": list(summary.leads.order_by("seq")),
            "resource_needs": list(summary.resource_needs.order_by("seq")),
        }
    return VisitReport(
        visit=visit,
        activities=list(visit.activities.order_by("kind", "id")),
        summary=summary,
        leads=list(Lead.objects.filter(source_visit=visit).select_related("owner").order_by("pk")),
        support_requests=list(
            SupportRequest.objects.filter(source_visit=visit).select_related("assignee").order_by("pk")
        ),
        **parts,
    )
