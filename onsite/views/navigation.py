"""What each person's navigation shows: only the pages their roles may use, in their language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from onsite.access import role_names
from onsite.roles import ACCOUNT_MANAGER, COORDINATOR, LEADERSHIP, SUPPORT_STAFF, TEAM_LEADER

EVERYONE = frozenset({ACCOUNT_MANAGER, SUPPORT_STAFF, TEAM_LEADER, COORDINATOR, LEADERSHIP})


@dataclass(frozen=True)
class Page:
    url_name: str
    label: Any
    roles: frozenset[str]


# In the order they are shown. A page is listed once its view exists (its URL name resolves).
PAGES = (
    Page("review_queue", _("Review queue"), frozenset({TEAM_LEADER})),
    Page("inbox", _("Tasks"), EVERYONE),
    Page("customers", _("My customers"), frozenset({ACCOUNT_MANAGER, TEAM_LEADER, COORDINATOR, LEADERSHIP})),
    Page("visits", _("My visits"), frozenset({ACCOUNT_MANAGER, SUPPORT_STAFF, TEAM_LEADER})),
    Page("leads", _("My leads"), frozenset({ACCOUNT_MANAGER, TEAM_LEADER, LEADERSHIP})),
)


@dataclass(frozen=True)
class NavItem:
    url: str
    label: Any
    active: bool


def navigation_for(user: Any, current_path: str = "") -> list[NavItem]:
    """The pages `user` may use, the one at `current_path` marked active."""
    if not getattr(user, "is_authenticated", False):
        return []
    roles = set(role_names(user))
    if user.is_superuser:
        roles |= EVERYONE
    items = []
    for page in PAGES:
        if not roles & page.roles:
            continue
        try:
            url = reverse(page.url_name)
        except NoReverseMatch:
            continue
        items.append(NavItem(url, page.label, current_path.startswith(url)))
    return items


def navigation(request: HttpRequest) -> dict:
    """Context processor: `nav_items` for the page header."""
    return {"nav_items": navigation_for(getattr(request, "user", None), request.path)}
