"""The closed-loop summary (驻点服务总结): stored as a structured record when the account manager
submits it, and applied to the customer's records when the team leader approves it.

Applying an approved summary updates the informatization status, the products held and the key
persons (with history), creates a lead per summary lead (a high-urgency one starts its follow-up)
and a support request per resource need, closes the visit, records the incentives the visit earned
and starts win-back tasks for competitor contracts about to expire. Every step is keyed to the
summary's rows, so a retried task applies a summary once.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from onsite.access import has_role
from onsite.exceptions import InvalidInput, OnsiteError
from onsite.models import (
    CustomerChange,
    IncentiveEvent,
    Lead,
    ProductHolding,
    SummaryDecisionRole,
    SummaryKeyPerson,
    SummaryLead,
    SummaryProduct,
    SummaryResourceNeed,
    SupportRequest,
    Visit,
    VisitSummary,
)
from onsite.roles import ACCOUNT_MANAGER
from onsite.selectors.standards import standard_in_effect
from onsite.services.customers import change_customer, record_changes, upsert_key_persons, upsert_products
from onsite.services.incentives import Award, award_all
from onsite.services.leads import create_leads, new_lead, start_follow_ups
from onsite.services.notices import after_commit, notify_summary_rework
from onsite.services.renewals import start_renewal_targets
from onsite.services.support import new_support_request, request_support_for_needs, start_support_processes
from onsite.services.winback import start_win_back_targets
from onsite.thresholds import threshold
from workflows.actors import SYSTEM, person
from workflows.exceptions import WorkflowError
from workflows.selectors import open_tasks
from workflows.services import lock_instance_family, reassign_task, reschedule_task

SUMMARY = CustomerChange.Source.SUMMARY

# The summary's list parts (seed 002): each has entries, or says why there are none this time.
LIST_PARTS = ("product_expiries", "decision_chain", "key_persons", "leads", "resource_needs")
TEXT_PARTS = ("informatization_status", "next_goals")
# A contract date outside these bounds is a typing error, not a contract.
EARLIEST_CONTRACT_DATE = date(1980, 1, 1)
LONGEST_CONTRACT_YEARS = 50


def submit_summary(*, visit: Visit, summary: dict, actor: Any, at: datetime) -> VisitSummary:
    """Store (or, after rework, replace) the summary. On time means first submitted by the due time.

    Refused with field errors (InvalidInput) when it breaks seed 002's rules beyond what its form
    can say: a part left empty without saying so, a person listed twice, impossible contract dates.
    """
    if visit.status not in (Visit.Status.VISITED, Visit.Status.SUMMARISED):
        raise OnsiteError(_("Visit %(visit)s is not waiting for a summary.") % {"visit": visit})
    check_summary(summary, customer=visit.customer, today=timezone.localdate(at))
    record = VisitSummary.objects.filter(visit=visit).first()
    if record is None:
        due = visit.summary_due_at
        record = VisitSummary(visit=visit, first_submitted_at=at, on_time=due is None or at <= due)
    elif record.status == VisitSummary.Status.APPROVED:
        raise OnsiteError(_("The summary of visit %(visit)s was already approved.") % {"visit": visit})
    record.informatization_status = summary["informatization_status"].strip()
    record.next_goals = summary["next_goals"].strip()
    reasons = summary.get("none_reasons") or {}
    record.none_reasons = {part: reasons[part].strip() for part in LIST_PARTS if not summary.get(part)}
    record.status = VisitSummary.Status.SUBMITTED
    record.submissions += 1
    record.submitted_at = at
    record.submitted_by = person(actor)
    record.save()
    _replace_items(record, summary)
    visit.status = Visit.Status.SUMMARISED
    visit.save(update_fields=["status"])
    return record


def check_summary(summary: dict, *, customer: Any, today: date) -> None:
    """Seed 002's rules the form cannot express; raises InvalidInput naming every field at fault."""
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for part in TEXT_PARTS:
        if not str(summary.get(part) or "").strip():
            refuse(part, _("Fill in this part; if there is nothing to report, write “无” and why."))
    reasons = summary.get("none_reasons") or {}
    for part in LIST_PARTS:
        reason = str(reasons.get(part) or "").strip()
        if not summary.get(part) and not reason:
            refuse(
                part,
                _("Add the entries, or say under “Nothing to report” that there are none (“无”) and why."),
            )
        elif summary.get(part) and reason:
            refuse(
                f"none_reasons.{part}",
                _("This part has entries; remove the note that there is nothing to report."),
            )
    _check_unique(summary.get("key_persons") or [], "key_persons", refuse)
    _check_unique(summary.get("decision_chain") or [], "decision_chain", refuse)
    _check_products(summary.get("product_expiries") or [], customer, today, refuse)
    if errors:
        raise InvalidInput(errors)


def person_key(name: str) -> str:
    """One person however the name was typed (full-width letters, case, spaces)."""
    return "".join(unicodedata.normalize("NFKC", name or "").casefold().split())


def _check_unique(rows: list[dict], part: str, refuse: Any) -> None:
    seen: dict[str, int] = {}
    for seq, row in enumerate(rows):
        key = person_key(row.get("name", ""))
        if not key:
            if part == "key_persons":
                refuse(f"{part}.{seq}.name", _("Enter the person's name."))
            continue
        if key in seen:
            refuse(
                f"{part}.{seq}.name",
                _("%(name)s is already entry %(entry)d; merge the two into one.")
                % {"name": row["name"].strip(), "entry": seen[key] + 1},
            )
        else:
            seen[key] = seq


def _check_products(rows: list[dict], customer: Any, today: date, refuse: Any) -> None:
    latest = today + timedelta(days=366 * LONGEST_CONTRACT_YEARS)
    held = {
        (h.product, h.provider): h.start_date
        for h in ProductHolding.objects.filter(customer=customer, start_date__isnull=False)
    }
    seen: dict[tuple[str, str], int] = {}
    for seq, row in enumerate(rows):
        path = f"product_expiries.{seq}"
        dates = {}
        for name in ("start_date", "expiry_date"):
            value = parse_date(row[name]) if row.get(name) else None
            if value is not None and not EARLIEST_CONTRACT_DATE <= value <= latest:
                refuse(
                    f"{path}.{name}",
                    _("%(date)s is not a possible contract date (from %(earliest)s to %(latest)s).")
                    % {
                        "date": value.isoformat(),
                        "earliest": EARLIEST_CONTRACT_DATE.isoformat(),
                        "latest": latest.isoformat(),
                    },
                )
                value = None
            dates[name] = value
        product, provider = row["product"].strip(), row["provider"].strip()
        start = dates["start_date"] or held.get((product, provider))
        expiry = dates["expiry_date"]
        if start and expiry and expiry < start:
            refuse(
                f"{path}.expiry_date",
                _("The contract cannot expire (%(expiry)s) before it starts (%(start)s).")
                % {"expiry": expiry.isoformat(), "start": start.isoformat()},
            )
        if not product:
            refuse(f"{path}.product", _("Enter the product."))
        key = (product.casefold(), provider.casefold())
        if key in seen:
            refuse(
                f"{path}.product",
                _("%(product)s from %(provider)s is already entry %(entry)d; merge the two into one.")
                % {"product": product, "provider": provider, "entry": seen[key] + 1},
            )
        else:
            seen[key] = seq


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
            start_date=parse_date(item["start_date"]) if item.get("start_date") else None,
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


SUMMARY_TASK = "Task_write_summary"
# The team leader's choices for an overdue summary (`forms/summary_escalation.schema.json`).
ESCALATION_REMIND, ESCALATION_REASSIGN = "reminded", "reassign"
ESCALATION_EXTEND, ESCALATION_EXCUSE = "extend", "excused"


def summary_awaited(*, visit: Visit, rework_count: int | None) -> bool:
    """Whether the summary of this round (the first, or the one asked for after `rework_count`
    reworks) is still to be submitted. An escalation chases the summary of the round it began in:
    once that one is submitted it has nothing left to chase, even when the review sends the summary
    back (the new round has its own deadline and escalation). `rework_count` None, as instances of
    diagram versions that do not pass it ask, means the current round."""
    record = VisitSummary.objects.filter(visit=visit).only("status", "submissions").first()
    if record is None:
        return visit.status == Visit.Status.VISITED and rework_count in (None, 0)
    return record.status == VisitSummary.Status.REWORK and rework_count in (None, record.submissions)


def act_on_escalation(
    *,
    visit: Visit,
    rework_count: int | None,
    action: str,
    reassign_to: str = "",
    new_due_at: str = "",
    actor: Any,
    at: datetime,
) -> dict:
    """The team leader's answer to an overdue summary, carried out: "reassign" gives the summary
    task to the account manager named, "extend" moves the summary's deadline, "reminded" changes
    nothing, "excused" accepts the delay. Refused field by field when the choice lacks what it needs.

    The result says when to check again (`due_at`, empty when there is nothing to wait for): the
    new deadline after an extension, a follow-up period after a reminder or a hand-over; the
    escalation comes back then if the summary is still not submitted. An excused delay is not
    chased again, and a summary submitted meanwhile leaves nothing to do."""
    if action not in (ESCALATION_REMIND, ESCALATION_REASSIGN, ESCALATION_EXTEND, ESCALATION_EXCUSE):
        raise OnsiteError(_("Unknown escalation action '%(action)s'.") % {"action": action})
    if not summary_awaited(visit=visit, rework_count=rework_count):
        return {"action": action, "due_at": ""}
    follow_up = at + timedelta(hours=threshold("ESCALATION_FOLLOW_UP_HOURS"))
    if action == ESCALATION_REASSIGN:
        manager = (
            get_user_model().objects.filter(username=(reassign_to or "").strip(), is_active=True).first()
        )
        if manager is None or not has_role(manager, ACCOUNT_MANAGER):
            raise InvalidInput({"reassign_to": [_("Name an active account manager to hand the summary to.")]})
        task = _open_summary_task(visit)
        try:
            reassign_task(task_id=task.pk, to_user=manager, user=actor)
        except WorkflowError as exc:
            raise InvalidInput({"reassign_to": [str(exc)]}) from None
        return {"action": action, "due_at": follow_up.isoformat()}
    if action == ESCALATION_EXTEND:
        due = parse_datetime(new_due_at or "")
        if due is None:
            raise InvalidInput({"new_due_at": [_("Give the new deadline.")]})
        due = due if timezone.is_aware(due) else timezone.make_aware(due)
        if due <= at:
            raise InvalidInput({"new_due_at": [_("The new deadline must be later than now.")]})
        visit.summary_due_at = due
        visit.save(update_fields=["summary_due_at"])
        try:
            reschedule_task(task_id=_open_summary_task(visit).pk, due_at=due, user=actor)
        except WorkflowError as exc:
            raise InvalidInput({"new_due_at": [str(exc)]}) from None
        return {"action": action, "due_at": due.isoformat()}
    if action == ESCALATION_REMIND:
        return {"action": action, "due_at": follow_up.isoformat()}
    return {"action": action, "due_at": ""}


def _open_summary_task(visit: Visit) -> Any:
    tasks = open_tasks(visit.instance_id, SUMMARY_TASK)
    if not tasks:
        raise OnsiteError(_("The summary of visit %(visit)s is no longer waiting.") % {"visit": visit})
    return tasks[0]


def review_summary(*, visit: Visit, decision: str, comment: str, actor: Any, at: datetime) -> VisitSummary:
    """The team leader's review: send back for rework, or approve and apply."""
    record = VisitSummary.objects.select_related("submitted_by").filter(visit=visit).first()
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
        after_commit(notify_summary_rework, summary_id=record.pk)
        return record
    if decision != "approve":
        raise OnsiteError(_("Unknown review decision '%(decision)s'.") % {"decision": decision})
    record.status, record.approved_at = VisitSummary.Status.APPROVED, at
    record.save()
    apply_summary(record, at=at)
    return record


def apply_summary(record: VisitSummary, *, at: datetime) -> None:
    """In a fixed number of statements however many rows the summary has (each part read, stored and
    its history written at once), besides the processes its leads and needs start. A retried task
    repeats nothing: leads and requests are made only for rows without one, awards once per key."""
    visit = record.visit
    customer = visit.customer
    author = record.submitted_by
    how = {"actor": author, "source": SUMMARY, "visit": visit}
    change_customer(customer, {"informatization_status": record.informatization_status}, **how)
    products = [
        (
            item.product,
            item.provider,
            {"ownership": item.ownership, "expiry_date": item.expiry_date}
            | ({"start_date": item.start_date} if item.start_date else {}),
        )
        for item in record.products.all()
    ]
    history = upsert_products(customer, products, **how) if products else []
    persons = [
        (
            item.name,
            {f: getattr(item, f) for f in ("title", "department", "contact", "relationship", "notes")},
        )
        for item in record.key_persons.all()
    ] + [
        (item.name, {"title": item.position, "decision_role": item.role})
        for item in record.decision_chain.all()
        # A position without a person: kept in the summary, no key person to update.
        if item.name.strip()
    ]
    if persons:
        history += upsert_key_persons(customer, persons, **how)
    record_changes(history)
    owner = author or customer.account_manager
    create_leads(
        [
            new_lead(
                customer=customer,
                description=item.description,
                urgency=item.urgency,
                product=item.product,
                estimated_value=item.estimated_value,
                win_back=item.win_back,
                source_visit=visit,
                source_item=item,
                owner=owner,
                user=SYSTEM,
                at=at,
            )
            for item in record.leads.filter(lead__isnull=True)
        ],
        user=SYSTEM,
    )
    needs = list(record.resource_needs.filter(support_request__isnull=True))
    # One read of the customer's standard for all the requests (a constant number of statements).
    standard = standard_in_effect(customer.tier) if needs else None
    request_support_for_needs(
        [
            new_support_request(
                standard=standard,
                customer=customer,
                kind=SupportRequest.Kind.SOLUTION
                if item.speciality == "solution"
                else SupportRequest.Kind.OTHER,
                speciality=item.speciality,
                description=item.description,
                due_date=item.due_date or (timezone.localdate(at) + timedelta(days=7)),
                requested_by=owner,
                source_visit=visit,
                source_need=item,
            )
            for item in needs
        ],
        user=SYSTEM,
    )
    visit.status, visit.closed_at = Visit.Status.CLOSED, at
    visit.save(update_fields=["status", "closed_at"])
    award_all(_visit_awards(visit, record))
    # The processes the summary leads to start once all this committed (`start_summary_follow_ups`).


def start_summary_follow_ups(*, visit_id: int) -> int:
    """After a visit's approved summary committed: start the follow-up of each lead it made, the
    process of each support request its needs made, and the customer's win-back and renewal targets
    (the summary may have recorded expiry dates); how many processes were started. Any number of
    calls start each once: they queue on the visit's family lock (the family first, then the rows),
    and only what has no process yet is started. Called by the worker on the approval's engine event
    (`onsite.engine_events`)."""
    with transaction.atomic():
        visit = Visit.objects.select_related("customer").get(pk=visit_id)
        if visit.instance_id is not None:
            lock_instance_family(instance_id=visit.instance_id)
        if visit.status != Visit.Status.CLOSED:
            return 0
        leads = Lead.objects.select_for_update().filter(source_visit=visit, follow_up__isnull=True)
        requests = SupportRequest.objects.select_for_update().filter(
            source_visit=visit, instance__isnull=True
        )
        started = start_follow_ups(leads.select_related("customer"), user=SYSTEM)
        started += start_support_processes(requests.select_related("customer"))
    at = visit.closed_at or timezone.now()
    today = timezone.localdate(at)
    started += len(start_win_back_targets(customer=visit.customer, today=today))
    started += len(start_renewal_targets(customer=visit.customer, today=today))
    return started


def _visit_awards(visit: Visit, record: VisitSummary) -> list[Award]:
    manager = visit.account_manager or record.submitted_by
    key = f"visit:{visit.pk}"
    links = {"customer": visit.customer, "visit": visit}
    awards = []
    # Each record falls in the period of what it rewards (the visit, the summary), not the approval's.
    if visit.visited_at is not None and visited_as_planned(visit):
        awards.append(
            Award(
                IncentiveEvent.VISIT_AS_PLANNED,
                person=manager,
                key=key,
                description=_("Visit %(visit)s made as planned") % {"visit": visit},
                at=visit.visited_at,
                links=links,
            )
        )
    if record.on_time:
        awards.append(
            Award(
                IncentiveEvent.SUMMARY_ON_TIME,
                person=manager,
                key=key,
                description=_("Summary of visit %(visit)s on time") % {"visit": visit},
                at=record.first_submitted_at,
                links=links,
            )
        )
    if record.rework_count == 0:
        awards.append(
            Award(
                IncentiveEvent.SUMMARY_FIRST_PASS,
                person=manager,
                key=key,
                description=_("Summary of visit %(visit)s approved without rework") % {"visit": visit},
                at=record.submitted_at,
                links=links,
            )
        )
    return awards


def visited_as_planned(visit: Visit, *, tolerance_days: int | None = None) -> bool:
    """Made by the date the programme's cadence set (with the tolerance), whatever the manager's
    own plan moved it to. `tolerance_days` lets a caller judging many visits read the threshold
    once and pass it (a read per visit would make its queries grow with the data); by default the
    tolerance in force today."""
    if tolerance_days is None:
        tolerance_days = threshold("VISIT_ON_PLAN_TOLERANCE_DAYS")
    visited_on: date = timezone.localtime(visit.visited_at).date()
    due = visit.scheduled_date or visit.planned_date
    return visited_on <= due + timedelta(days=tolerance_days)
