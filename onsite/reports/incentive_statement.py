"""The incentive statement (激励对账单): one person, one month — every record with its source event,
rule, amount, points and status, the totals, and the team leader's approval
(`onsite.reports.registry` says what a kind's module provides)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from onsite.access import sees_person
from onsite.exceptions import InvalidInput, NotPermitted
from onsite.models import IncentiveEvent
from onsite.reports.pdf import render_pdf
from onsite.reports.registry import Subject, params_id
from onsite.selectors.incentives import statement_details
from workflows.actors import SYSTEM

TEMPLATE = "reports/incentive_statement.html"


def subject(params: dict, user: Any) -> Subject:
    person_id = params_id(params, "person")
    period = month_of(params.get("period"))
    person = get_user_model().objects.filter(pk=person_id).first()
    if person is None or not sees_person(user, person):
        raise NotPermitted(_("There is no person #%(id)s whose records you may read.") % {"id": person_id})
    return Subject(
        params={"person": person.pk, "period": period.strftime("%Y-%m")},
        title=title_of(person),
        period=period.strftime("%Y-%m"),
        person=person,
    )


def render(params: dict) -> bytes:
    person = get_user_model().objects.get(pk=params["person"])
    period = month_of(params["period"])
    details = statement_details(person=person, period=period, user=SYSTEM)
    events = dict(IncentiveEvent.choices)
    context = {
        "details": details,
        "statement": details.statement,
        "person": person,
        "lines": [
            {"line": line, "label": events.get(line.event, line.event)} for line in details.statement.lines
        ],
    }
    return render_pdf(TEMPLATE, context, title=title_of(person), period=period.strftime("%Y-%m"))


def title_of(person: Any) -> str:
    return _("Incentive statement: %(person)s") % {"person": person.get_full_name() or person.get_username()}


def month_of(text: Any) -> date:
    """The first day of the month `YYYY-MM`; refused otherwise."""
    try:
        year, month = (int(part) for part in str(text or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        raise InvalidInput({"period": [_("Give the month of the statement (YYYY-MM).")]}) from None
