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


MAIN, PERSONAL = "main", "personal"


@dataclass(frozen=True)
class Page:
    url_name: str
    label: Any
    roles: frozenset[str]
    # The day's work goes in the header; a person's own records in the menu under their name, so the
    # header fits one line in either language.
    menu: str = MAIN


# In the order they are shown. A page is listed once its view exists (its URL name resolves).
PAGES = (
    # The desk's review queue, team page and warnings are tabs of one page family (desk/_header).
    Page("dashboard", _("Dashboard"), frozenset({LEADERSHIP, COORDINATOR, TEAM_LEADER})),
    Page("review_queue", _("Desk"), frozenset({TEAM_LEADER, COORDINATOR, LEADERSHIP})),
    Page("inbox", _("Tasks"), EVERYONE),
    Page("customers", _("My customers"), frozenset({ACCOUNT_MANAGER, TEAM_LEADER, COORDINATOR, LEADERSHIP})),
    Page("visits", _("My visits"), frozenset({ACCOUNT_MANAGER, SUPPORT_STAFF, TEAM_LEADER})),
    Page("leads", _("My leads"), frozenset({ACCOUNT_MANAGER, TEAM_LEADER, LEADERSHIP})),
    Page("support_requests", _("Support requests"), frozenset({ACCOUNT_MANAGER, SUPPORT_STAFF, TEAM_LEADER})),
    Page("programmes", _("Programmes"), frozenset({COORDINATOR, LEADERSHIP, TEAM_LEADER})),
    Page("operations", _("Operations"), frozenset({COORDINATOR})),
    Page("incentive_payments", _("Incentive payments"), frozenset({COORDINATOR, LEADERSHIP})),
    Page("settings", _("Settings"), frozenset({COORDINATOR, LEADERSHIP})),
    Page("console:models", _("Console"), frozenset({COORDINATOR, LEADERSHIP})),
    Page("project_teams", _("My project teams"), frozenset({ACCOUNT_MANAGER, SUPPORT_STAFF}), PERSONAL),
    Page(
        "my_appraisal", _("My appraisal"), frozenset({ACCOUNT_MANAGER, SUPPORT_STAFF, TEAM_LEADER}), PERSONAL
    ),
    Page(
        "my_incentives",
        _("My incentives"),
        frozenset({ACCOUNT_MANAGER, SUPPORT_STAFF, TEAM_LEADER}),
        PERSONAL,
    ),
    # The PDF reports the person asked for or may read.
    Page("reports", _("Reports"), EVERYONE, PERSONAL),
    Page("notifications", _("Notifications"), EVERYONE, PERSONAL),
    Page("notification_settings", _("Notification settings"), EVERYONE, PERSONAL),
)


@dataclass(frozen=True)
class NavItem:
    url: str
    label: Any
    active: bool
    menu: str = MAIN


def navigation_for(user: Any, current_path: str = "") -> list[NavItem]:
    """The pages `user` may use, the one at `current_path` marked active."""
    if not getattr(user, "is_authenticated", False):
        return []
    roles = set(role_names(user))
    if user.is_superuser:
        roles |= EVERYONE
    found = []
    for page in PAGES:
        if not roles & page.roles:
            continue
        try:
            found.append((reverse(page.url_name), page))
        except NoReverseMatch:
            continue
    # The longest URL the path starts with is the page shown: /desk/team/ is the team page, not /desk/.
    current = max((url for url, _page in found if current_path.startswith(url)), key=len, default=None)
    return [NavItem(url, page.label, url == current, page.menu) for url, page in found]


def navigation(request: HttpRequest) -> dict:
    """Context processor: the header's `nav_items` and the personal menu's `personal_nav_items`."""
    items = navigation_for(getattr(request, "user", None), request.path)
    return {
        "nav_items": [item for item in items if item.menu == MAIN],
        "personal_nav_items": [item for item in items if item.menu == PERSONAL],
        "personal_nav_active": any(item.active for item in items if item.menu == PERSONAL),
    }
