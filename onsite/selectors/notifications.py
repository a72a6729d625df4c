"""Reading notifications: a person's own (nobody reads another's), how many are unread, how each
person wants to be told, and each notification worded in the reader's language when it is read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Case, QuerySet, When
from django.utils.dateparse import parse_date
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from onsite.models import (
    DEFAULT_CHANNELS,
    Customer,
    Notification,
    NotificationKind,
    NotificationSetting,
    ReadingLanguage,
    SupportRequest,
)

Kind = NotificationKind


def notifications_of(user: Any) -> QuerySet[Notification]:
    """The person's notifications shown in the app, unread first, newest first."""
    return Notification.objects.filter(recipient_id=user.pk, in_app=True).order_by(
        Case(When(read_at__isnull=True, then=0), default=1), "-created_at", "-id"
    )


def unread_count(user: Any) -> int:
    return Notification.objects.filter(recipient_id=user.pk, in_app=True, read_at__isnull=True).count()


def channels_of(*, user_ids: Iterable[int], kind: str) -> dict[int, str]:
    """How each person wants to be told of `kind`: their choice, else the kind's default. One query."""
    ids = list(user_ids)
    chosen = dict(
        NotificationSetting.objects.filter(user_id__in=ids, kind=kind).values_list("user_id", "channel")
    )
    return {pk: chosen.get(pk, DEFAULT_CHANNELS[kind]) for pk in ids}


def settings_of(user: Any) -> dict[str, str]:
    """The person's channel for every kind, in the kinds' order."""
    chosen = dict(NotificationSetting.objects.filter(user_id=user.pk).values_list("kind", "channel"))
    return {kind: chosen.get(kind, DEFAULT_CHANNELS[kind]) for kind in Kind.values}


def language_of(user: Any) -> str:
    """The language the person last chose in the header, else the site's."""
    chosen = ReadingLanguage.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


class _Values(dict):
    # A parameter a notification lacks (an older row) reads as blank rather than failing the page.
    def __missing__(self, key: str) -> str:
        return ""


def describe(notification: Notification) -> str:
    """The notification as a sentence in the active language."""
    return capfirst(_sentence(notification.kind, _Values(notification.params)))


def _sentence(kind: str, values: _Values) -> str:
    if kind == Kind.TASK_ASSIGNED:
        if values.get("customer"):
            return _("The task “%(task)s” for %(customer)s is assigned to you.") % values
        return _("The task “%(task)s” is assigned to you.") % values
    if kind == Kind.TASK_IN_POOL:
        if values.get("customer"):
            return _("The task “%(task)s” for %(customer)s is waiting for someone of your role.") % values
        return _("The task “%(task)s” is waiting for someone of your role.") % values
    if kind == Kind.SUMMARY_REWORK:
        if values.get("comment"):
            return (
                _("Your summary of the %(date)s visit to %(customer)s was sent back for rework: %(comment)s")
                % values
            )
        return _("Your summary of the %(date)s visit to %(customer)s was sent back for rework.") % values
    if kind == Kind.DEADLINE_MISSED:
        if values.get("customer"):
            return (
                _("The task “%(task)s” for %(customer)s (%(assignee)s) was due %(due)s and is not done.")
                % values
            )
        return _("The task “%(task)s” (%(assignee)s) was due %(due)s and is not done.") % values
    if kind == Kind.SUPPORT_DISPATCHED:
        values["kind"] = _label(SupportRequest.Kind, values.get("kind"))
        return _("%(kind)s support for %(customer)s is dispatched to you, needed by %(date)s.") % values
    if kind == Kind.URGENT_LEAD:
        return _("A high-urgency lead at %(customer)s (%(owner)s): “%(lead)s”.") % values
    if kind == Kind.EARLY_WARNING:
        return _warning_text(values)
    return str(Kind(kind).label) if kind in Kind.values else ""


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _warning_text(values: dict) -> str:
    # The warning's own sentence (onsite.selectors.warnings.describe), from the data it was made of.
    from onsite.selectors.warnings import EarlyWarning, describe

    params = dict(values.get("params") or {})
    if isinstance(params.get("date"), str):
        params["date"] = parse_date(params["date"])
    warning = EarlyWarning(
        kind=values.get("warning", ""),
        customer=Customer(name=values.get("customer", "")),
        params=params,
        due=params.get("date"),
        related=None,
    )
    try:
        return describe(warning)
    except (KeyError, TypeError, ValueError):
        return _("An early warning on %(customer)s.") % {"customer": values.get("customer", "")}
