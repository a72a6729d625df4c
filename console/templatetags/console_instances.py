"""The instance monitor's template helpers: process data (task submissions, variables) written out
for reading, big values cut short, and the incident count shown on the console's tab."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from console.selectors.instances import incident_count as count_incidents
from workflows.assignment import role_label

register = template.Library()

# Characters of one value shown before it is cut (a variable may hold a long list).
VALUE_LIMIT = 2000


@register.simple_tag
def incident_count() -> int:
    return count_incidents()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    more = len(text) - limit
    return text[:limit] + "\n… " + _("(%(count)s more characters)") % {"count": f"{more:,}"}


def _scalar(value: Any) -> str:
    if value is None:
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return str(value)


@register.filter(name="role_label")
def role_label_filter(name: str) -> str:
    return role_label(name)


@register.filter
def data_rows(data: Any, limit: int = VALUE_LIMIT) -> list[dict[str, Any]]:
    """A dict of process data as rows to read: each key with its value, a plain value as text and a
    list or an object as indented JSON (`block`), cut after `limit` characters."""
    if not isinstance(data, dict):
        return [] if data in (None, "") else [{"key": "", "text": _cut(_json(data), limit), "block": True}]
    rows = []
    for key, value in data.items():
        block = isinstance(value, (dict, list, tuple))
        text = _json(value) if block else _scalar(value)
        rows.append({"key": key, "text": _cut(text, limit), "block": block or "\n" in text})
    return rows


@register.filter
def moment(value: Any) -> Any:
    """An ISO 8601 time kept in the audit trail as a datetime (to be shown in the site's time zone);
    anything else as it is."""
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return timezone.localtime(parsed) if timezone.is_aware(parsed) else parsed


@register.filter
def element_name(bpmn_id: Any, names: dict[str, str]) -> str:
    """An element's name from `names` (the instance page's), else its id."""
    return names.get(bpmn_id, bpmn_id) if isinstance(bpmn_id, str) else ""
