"""Who may act on what. Every domain service that changes a customer's records checks here first.

An account manager acts on their own customers; a team leader on the customers of their team's
managers; coordinators on all. Leadership reads but does not change. The system itself (a BPMN
service task run by a timer, a background job) acts as `workflows.actors.SYSTEM`; `None` is nobody
and passes no check.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from onsite.exceptions import NotPermitted
from onsite.roles import COORDINATOR, TEAM_LEADER
from workflows.actors import is_system


def role_names(user: Any) -> set[str]:
    # Asked once per user object (one request), like Django's own permission cache.
    if not hasattr(user, "_onsite_roles"):
        user._onsite_roles = set(user.groups.values_list("name", flat=True))
    return user._onsite_roles


def has_role(user: Any, *roles: str) -> bool:
    if is_system(user):
        return True
    if user is None or not user.is_active:
        return False
    return user.is_superuser or bool(role_names(user) & set(roles))


def check_role(user: Any, *roles: str) -> None:
    if not has_role(user, *roles):
        raise NotPermitted()


def leads_team_of(user: Any, manager_id: int | None) -> bool:
    from onsite.models import StaffProfile

    if manager_id is None or user is None or is_system(user):
        return False
    return StaffProfile.objects.filter(user_id=manager_id, team__leader=user).exists()


def manages_customer(user: Any, customer: Any) -> bool:
    """The customer's account manager, their team leader, a coordinator (or the system)."""
    if is_system(user):
        return True
    if user is None or not user.is_active:
        return False
    if user.is_superuser or COORDINATOR in role_names(user):
        return True
    if customer.account_manager_id == user.pk:
        return True
    return TEAM_LEADER in role_names(user) and leads_team_of(user, customer.account_manager_id)


def check_customer_access(user: Any, customer: Any) -> None:
    if not manages_customer(user, customer):
        raise NotPermitted(
            _("%(user)s does not look after customer %(customer)s.")
            % {"user": user, "customer": customer.name}
        )
