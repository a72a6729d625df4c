"""Visits: scheduled at the programme's cadence, then planned, made and recorded through the visit
cycle's tasks (the service tasks after each one call these)."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from onsite.exceptions import OnsiteError
from onsite.models import Cadence, Enrolment, Programme, Visit, VisitActivity
from onsite.services.support import choose_support_staff


def schedule_next_visit(*, enrolment: Enrolment, today: date | None = None) -> Visit:
    """Create the enrolment's next visit, planned one cadence after the last one was made."""
    if enrolment.status != Enrolment.Status.ACTIVE:
        raise OnsiteError(_("The programme for %(customer)s has ended.") % {"customer": enrolment.customer})
    today = today or timezone.localdate()
    last = enrolment.visits.order_by("-number").first()
    customer = enrolment.customer
    return Visit.objects.create(
        enrolment=enrolment,
        customer=customer,
        number=(last.number + 1) if last else 1,
        stage=enrolment.stage,
        planned_date=next_visit_date(enrolment.programme, last, today),
        account_manager_id=customer.account_manager_id,
    )


def next_visit_date(programme: Programme, last: Visit | None, today: date) -> date:
    if last is None:
        return max(programme.start_date, today)
    base = timezone.localtime(last.visited_at).date() if last.visited_at else last.planned_date
    following = base + timedelta(days=7) if programme.cadence == Cadence.WEEKLY else add_month(base)
    return max(following, today)


def add_month(day: date) -> date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def open_visit(*, visit: Visit, instance: Any) -> None:
    """Link the visit to the visit-cycle instance that runs it."""
    if visit.instance_id not in (None, instance.pk):
        raise OnsiteError(_("Visit %(visit)s already has its own visit cycle.") % {"visit": visit})
    if visit.status == Visit.Status.CANCELLED:
        raise OnsiteError(_("Visit %(visit)s was cancelled.") % {"visit": visit})
    visit.instance = instance
    visit.save(update_fields=["instance"])


def record_plan(*, visit: Visit, plan: dict) -> Visit:
    """走访前: the plan, and a support engineer chosen when one is needed."""
    visit.planned_date = parse_date(plan["planned_date"])
    visit.objectives = plan.get("objectives", "")
    visit.contacts_to_meet = list(plan.get("contacts_to_meet", []))
    visit.topics = list(plan.get("topics", []))
    if plan.get("needs_support"):
        visit.support_speciality = plan.get("support_speciality", "")
        visit.support_request = plan.get("support_request", "")
        if visit.support_staff_id is None:
            visit.support_staff = choose_support_staff(
                speciality=visit.support_speciality, customer=visit.customer
            )
    else:
        visit.support_speciality, visit.support_request, visit.support_staff = "", "", None
    visit.status = Visit.Status.PLANNED
    visit.save()
    return visit


def record_visit(*, visit: Visit, record: dict) -> Visit:
    """走访中: the resources prepared, the support staff's assessment and what happened on site."""
    visit.materials = list(record.get("materials", []))
    visit.resources_notes = record.get("notes", "")
    visit.support_assessment = "\n".join(
        part for part in (record.get("assessment", ""), record.get("proposed_solution", "")) if part
    )
    visit.visited_at = aware(record["visited_at"])
    hours = record.get("duration_hours")
    visit.duration_hours = Decimal(str(hours)) if hours is not None else None
    visit.persons_met = list(record.get("persons_met", []))
    visit.information_collected = record.get("information_collected", "")
    visit.needs_found = list(record.get("needs_found", []))
    due = record.get("summary_due_at")
    visit.summary_due_at = aware(due) if due else None
    visit.status = Visit.Status.VISITED
    visit.save()
    visit.activities.all().delete()  # a retried task records the visit once
    VisitActivity.objects.bulk_create(
        [
            VisitActivity(
                visit=visit, kind=VisitActivity.Kind.BUSINESS, item=i["item"], result=i.get("result", "")
            )
            for i in record.get("business_handled", [])
        ]
        + [
            VisitActivity(
                visit=visit, kind=VisitActivity.Kind.QUESTION, item=q["question"], result=q.get("answer", "")
            )
            for q in record.get("questions_answered", [])
        ]
    )
    return visit


def aware(value: str | datetime) -> datetime:
    moment = value if isinstance(value, datetime) else parse_datetime(value)
    if moment is None:
        raise OnsiteError(_("%(value)s is not a date and time.") % {"value": value})
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
