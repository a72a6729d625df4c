"""Visits: scheduled at the programme's cadence (or the one the customer's tier sets), then
planned, made and recorded through the visit cycle's tasks (the service tasks after each one call
these)."""

from __future__ import annotations

import calendar
import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from onsite.exceptions import InvalidInput, OnsiteError
from onsite.models import Cadence, Enrolment, Programme, Visit, VisitActivity
from onsite.selectors.standards import standard_in_effect
from onsite.services.support import choose_support_staff
from onsite.thresholds import threshold
from workflows import clock


def schedule_next_visit(*, enrolment: Enrolment, today: date | None = None) -> Visit:
    """Create the enrolment's next visit, planned one cadence after the last one was made. The
    cadence is the programme's, or, in a programme that follows the tiers, the one the customer's
    tier's standard sets today; the visit keeps that standard (its summary deadline, whether a
    support engineer joins it), whatever changes later."""
    if enrolment.status != Enrolment.Status.ACTIVE:
        raise OnsiteError(_("The programme for %(customer)s has ended.") % {"customer": enrolment.customer})
    today = today or timezone.localdate()
    last = enrolment.visits.order_by("-number").first()
    customer = enrolment.customer
    programme = enrolment.programme
    standard = standard_in_effect(customer.tier, at=clock.now())
    cadence = standard.visit_cadence if programme.cadence == Cadence.BY_TIER else programme.cadence
    due = next_visit_date(programme, last, today, cadence=cadence)
    number = (last.number + 1) if last else 1
    return Visit.objects.create(
        enrolment=enrolment,
        customer=customer,
        number=number,
        stage=enrolment.stage,
        scheduled_date=due,
        planned_date=due,
        account_manager_id=customer.account_manager_id,
        service_standard=standard,
        cadence=cadence,
        support_expected=support_joins(number, standard.support_join_percent),
    )


def opens_at(visit: Visit) -> datetime:
    """When the visit's cycle (the manager's planning task) starts: at the start of the day
    `VISIT_LEAD_DAYS` before the cadence's date, local time. The programme's timer waits for it."""
    day = visit.scheduled_date - timedelta(days=threshold("VISIT_LEAD_DAYS"))
    return timezone.make_aware(datetime.combine(day, time.min))


def support_joins(number: int, percent: int) -> bool:
    """Whether the `number`-th visit is one of the share a support engineer joins: spread evenly,
    the first visit included (50%: visits 1, 3, 5…; 25%: 1, 5, 9…)."""
    return math.ceil(number * percent / 100) > math.ceil((number - 1) * percent / 100)


def next_visit_date(programme: Programme, last: Visit | None, today: date, *, cadence: str) -> date:
    if last is None:
        return max(programme.start_date, today)
    base = timezone.localtime(last.visited_at).date() if last.visited_at else last.planned_date
    following = (
        add_month(base) if cadence == Cadence.MONTHLY else base + timedelta(days=CADENCE_DAYS[cadence])
    )
    return max(following, today)


# The days between visits at each cadence counted in days (monthly is a calendar month).
CADENCE_DAYS = {Cadence.WEEKLY: 7, Cadence.BIWEEKLY: 14}


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


# How far ahead of the server's clock a visit's time may be (a phone's clock runs fast).
CLOCK_TOLERANCE = timedelta(minutes=10)


def record_plan(*, visit: Visit, plan: dict) -> Visit:
    """走访前: the plan, and a support engineer chosen when one is needed. A visit cannot be
    planned before its programme starts."""
    planned = parse_date(plan["planned_date"])
    start = visit.enrolment.programme.start_date
    if planned < start:
        raise InvalidInput(
            {
                "planned_date": [
                    _("The programme starts on %(start)s; plan the visit for then or later.")
                    % {"start": start.isoformat()}
                ]
            }
        )
    visit.planned_date = planned
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


def record_visit(*, visit: Visit, record: dict, at: datetime | None = None) -> Visit:
    """走访中: the resources prepared, the support staff's assessment and what happened on site.
    A visit is recorded once made: not in the future (of `at`, the engine's time), nor before its
    programme started."""
    visited_at = aware(record["visited_at"])
    now = at or timezone.now()
    start = visit.enrolment.programme.start_date
    if visited_at > now + CLOCK_TOLERANCE:
        raise InvalidInput(
            {
                "visited_at": [
                    _("A visit is recorded once it is made; %(when)s is still to come.")
                    % {"when": timezone.localtime(visited_at).strftime("%Y-%m-%d %H:%M")}
                ]
            }
        )
    if timezone.localdate(visited_at) < start:
        raise InvalidInput(
            {
                "visited_at": [
                    _("The programme started on %(start)s; this visit cannot be before it.")
                    % {"start": start.isoformat()}
                ]
            }
        )
    visit.materials = list(record.get("materials", []))
    visit.resources_notes = record.get("notes", "")
    visit.support_assessment = "\n".join(
        part for part in (record.get("assessment", ""), record.get("proposed_solution", "")) if part
    )
    visit.visited_at = visited_at
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
