"""The period a page is asked for in its address."""

from __future__ import annotations

from datetime import date

from django.utils import timezone


def month_asked(text: str | None) -> date:
    """The first day of the month `YYYY-MM` (what `<input type="month">` sends); this month when
    the text is none or not a month, rather than an error page."""
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return timezone.localdate().replace(day=1)
