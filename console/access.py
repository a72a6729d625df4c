"""Who may use the console, by the engine's permissions (the domain's roles grant them): reading it
needs `view_processversion` (coordinators; leadership reads); each change is checked again by the
engine service that makes it (deploying, managing instances, reassigning)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from workflows.actors import require_actor
from workflows.exceptions import NotAllowed, NotFound

VIEW_PERMISSION = "workflows.view_processversion"
DEPLOY_PERMISSION = "workflows.deploy_processmodel"
MANAGE_PERMISSION = "workflows.manage_processinstance"
REASSIGN_PERMISSION = "workflows.reassign_humantask"


def may_view(user: Any) -> bool:
    return bool(getattr(user, "is_active", False) and user.has_perm(VIEW_PERMISSION))


def check_may_view(user: Any) -> None:
    require_actor(user)
    if not may_view(user):
        raise NotAllowed(_("The console is for coordinators."))


def may_deploy(user: Any) -> bool:
    return may_view(user) and user.has_perm(DEPLOY_PERMISSION)


def may_manage(user: Any) -> bool:
    return may_view(user) and user.has_perm(MANAGE_PERMISSION)


def may_reassign(user: Any) -> bool:
    return may_view(user) and user.has_perm(REASSIGN_PERMISSION)


def abilities(user: Any) -> dict[str, bool]:
    """What the pages offer `user` (the services refuse the rest anyway)."""
    return {"deploy": may_deploy(user), "manage": may_manage(user), "reassign": may_reassign(user)}


def check_may_see(user: Any) -> None:
    """For a change asked through the console: to someone who may not even read it the console's
    records do not exist (404, also on POST); readers who may not change them are refused by the
    engine's service (403)."""
    require_actor(user)
    if not may_view(user):
        raise NotFound(_("No such item."))
