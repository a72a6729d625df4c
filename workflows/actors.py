"""Who acts on the engine: a person (a Django user) or the platform itself.

Every service that changes something takes the acting user explicitly. The platform acting on its
own - a timer firing, a background job, an operator's management command - passes `SYSTEM`; the
domain, having judged a person's request by its own rules, passes `acting_for(user)` so that the
engine's checks are the domain's and the audit still names the person. `None` is nobody: refused,
so that forgetting the user can never pass a check.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from workflows.exceptions import NotAllowed


class SystemActor:
    """The platform acting; `on_behalf_of` is the person whose request it carries out, if any."""

    __slots__ = ("on_behalf_of",)

    def __init__(self, on_behalf_of: Any = None) -> None:
        self.on_behalf_of = on_behalf_of

    def __repr__(self) -> str:
        return f"SYSTEM(on behalf of {self.on_behalf_of!r})" if self.on_behalf_of is not None else "SYSTEM"


SYSTEM = SystemActor()


def acting_for(user: Any) -> SystemActor:
    """The platform carrying out `user`'s request after the domain's own checks passed."""
    if isinstance(user, SystemActor):
        return user
    return SystemActor(user if getattr(user, "is_authenticated", False) else None)


def is_system(actor: Any) -> bool:
    return isinstance(actor, SystemActor)


def person(actor: Any) -> Any:
    """The user to record (audit, `completed_by`), or None for the platform alone."""
    if isinstance(actor, SystemActor):
        return actor.on_behalf_of
    return actor if getattr(actor, "is_authenticated", False) else None


def person_id(actor: Any) -> int | None:
    user = person(actor)
    return user.pk if user is not None else None


def require_actor(actor: Any) -> None:
    """Refuse a call that names nobody: a user, or SYSTEM / acting_for(...) for the platform."""
    if actor is None:
        raise NotAllowed(_("No one is acting: the request names no user."))
