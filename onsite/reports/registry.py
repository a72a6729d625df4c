"""The kinds of report, one module each in `onsite/reports/`, found here by their kind's code.

Adding a kind is one module and one line in `KINDS`. The module provides:

- `subject(params: dict, user) -> Subject`: the request's filters checked and normalised for the
  person asking (refused with an `onsite.exceptions.OnsiteError` subclass and a message in words:
  `InvalidInput` per field, `NotPermitted`), with what the report is about (the columns the access
  rule reads: customer, person, region, team) and its title and period in the active language. The
  service then also checks the report against `onsite.access.report_scope`, so a module cannot let
  through what the list would hide.
- `render(params: dict) -> bytes`: the PDF of the normalised filters, in the active language, from a
  selector's data and a template in `templates/reports/`; run by the background job, outside any
  long transaction. What it is about may have gone meanwhile: `ObjectDoesNotExist` or a refusal
  then fails the report with a reason in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from types import ModuleType
from typing import Any

from django.utils.translation import gettext as _

from onsite.exceptions import InvalidInput
from onsite.models import ReportKind

KINDS: dict[str, str] = {
    ReportKind.VISIT: "onsite.reports.visit_report",
    ReportKind.INCENTIVE_STATEMENT: "onsite.reports.incentive_statement",
    ReportKind.MONTHLY: "onsite.reports.monthly_report",
}


@dataclass(frozen=True)
class Subject:
    """What a report request is about, as its kind's module read it."""

    params: dict  # normalised, JSON-serialisable: what `render` is given
    title: str
    period: str = ""
    customer: Any = None
    person: Any = None
    region: Any = None
    team: Any = None


def kind_module(kind: str) -> ModuleType:
    """The module of report kind `kind`; refused when there is no such kind (yet)."""
    if kind not in KINDS:
        raise InvalidInput({"kind": [_("There is no report of this kind.")]})
    return import_module(KINDS[kind])


def params_id(params: dict, name: str) -> int:
    """The positive whole number `params[name]` (an id), or refused naming the field."""
    value = params.get(name)
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if isinstance(value, bool) or number <= 0 or str(number) != str(value).strip():
        raise InvalidInput({name: [_("Choose what the report is about.")]})
    return number
