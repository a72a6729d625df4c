"""Who works a human task: the role its lane maps to, and possibly one named person.

Roles are Django groups. A task naming `candidateGroups` goes to the first of them that exists; else
its lane maps to a role through a `LaneRole` row, or by a group of the lane's name; a lane that maps
to nothing (and a task outside any lane) goes to the fallback role (`WORKFLOWS["FALLBACK_ROLE"]`,
the coordinators) until someone maps it. The role is resolved inside the statement that stores the
task (`store.role_expression`), so a mapping made now applies to the next task created.

Who may take an unassigned task from its role's pool is the role's members, less those a pool rule
the domain registers turns away (a support engineer of another speciality, say); the person the
process or a team leader names is never turned away.

A specific assignee comes from the task's `assignee` property, then from the resolvers the domain
registers (the customer's own account manager, say), then from `lane_owners` in the task data:
`{"Lane": "username"}`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group


@dataclass(frozen=True)
class AssignmentRequest:
    # workflows.models.ProcessInstance; a starting instance has no id yet (its first save stores it)
    instance: Any
    lane: str
    bpmn_id: str
    data: dict
    properties: dict = field(default_factory=dict)  # the task's extension properties

    @functools.cached_property
    def role(self) -> str:
        """The name of the role the task goes to, as the engine stores it (`role_name_for`), so a
        resolver picks a person of the role the task really has (the lane mappings can change)."""
        return role_name_for(lane=self.lane, candidate_groups=candidate_groups(self.properties))


# Returns a user, a username (looked up when the task is stored), or None to pass to the next.
AssigneeResolver = Callable[[AssignmentRequest], Any]

_resolvers: list[AssigneeResolver] = []


def register_assignee_resolver(resolver: AssigneeResolver) -> AssigneeResolver:
    """Add a resolver; resolvers are asked in registration order, the built-in one last."""
    if resolver not in _resolvers:
        _resolvers.append(resolver)
    return resolver


def unregister_assignee_resolver(resolver: AssigneeResolver) -> None:
    if resolver in _resolvers:
        _resolvers.remove(resolver)


# Returns why `user` may not take the unassigned `task` from its role's pool, or None to let the
# role decide. Asked only for members of the task's role.
PoolRule = Callable[[Any, Any], Any]

_pool_rules: list[PoolRule] = []


def register_pool_rule(rule: PoolRule) -> PoolRule:
    if rule not in _pool_rules:
        _pool_rules.append(rule)
    return rule


def unregister_pool_rule(rule: PoolRule) -> None:
    if rule in _pool_rules:
        _pool_rules.remove(rule)


def pool_refusal(user: Any, task: Any) -> Any:
    """The first pool rule's reason to keep `user` from taking `task`, or None."""
    for rule in _pool_rules:
        reason = rule(user, task)
        if reason is not None:
            return reason
    return None


# Words for a role (a group's name is a code): the domain registers them, the console shows them.
RoleLabeler = Callable[[str], Any]

_role_labelers: list[RoleLabeler] = []


def register_role_labeler(labeler: RoleLabeler) -> RoleLabeler:
    if labeler not in _role_labelers:
        _role_labelers.append(labeler)
    return labeler


def role_label(name: str) -> str:
    """The role's name in the reader's language, from the first labeler that knows it; else the
    group's own name."""
    for labeler in _role_labelers:
        label = labeler(name)
        if label:
            return str(label)
    return name


def fallback_role_name() -> str:
    return settings.WORKFLOWS["FALLBACK_ROLE"]


def roles_for_lanes(lanes: Iterable[str]) -> dict[str, Group | None]:
    """Map each lane name to its role, or None when it maps to nothing."""
    from workflows.models import LaneRole

    names = {lane for lane in lanes if lane}
    result: dict[str, Group | None] = dict.fromkeys(names)
    if not names:
        return result
    for mapping in LaneRole.objects.select_related("role").filter(lane__in=names):
        result[mapping.lane] = mapping.role
    unmapped = [lane for lane, role in result.items() if role is None]
    if unmapped:
        for group in Group.objects.filter(name__in=unmapped):
            result[group.name] = group
    return result


def candidate_groups(properties: dict) -> list[str]:
    """The roles a task names in its `candidateGroups` property (comma-separated), in order."""
    return [name.strip() for name in (properties.get("candidateGroups") or "").split(",") if name.strip()]


def role_name_for(*, lane: str, candidate_groups: Iterable[str] = ()) -> str:
    """The role a task in `lane` naming `candidate_groups` goes to: its first existing candidate
    group, else its lane's mapping (`LaneRole`), else the group named like the lane, else the
    fallback role. Read with the expression `store.role_expression` that stores the task's role, in
    one statement (resolvers ask it for every new task)."""
    from workflows import store

    names = [name for name in candidate_groups if name]
    return store.role_name(candidate_groups=names, lane=lane, fallback=fallback_role_name())


def resolve_assignee(request: AssignmentRequest) -> Any:
    for resolver in [_named_in_diagram, *_resolvers, _lane_owners]:
        user = resolver(request)
        if user is not None:
            return user
    return None


def _lane_owners(request: AssignmentRequest) -> Any:
    owners = request.data.get("lane_owners")
    if not isinstance(owners, dict) or not request.lane:
        return None
    username = owners.get(request.lane)
    if isinstance(username, list):
        username = username[0] if len(username) == 1 else None
    return username if isinstance(username, str) and username else None


def _named_in_diagram(request: AssignmentRequest) -> Any:
    return request.properties.get("assignee") or None
