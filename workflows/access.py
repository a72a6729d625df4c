"""Who may work which human task, written once.

The rule is a list of pools, each a few exact field values of `HumanTask`: the tasks assigned to the
user, and for each of the user's roles the unassigned tasks of that role. The same pools are the
inbox's queries (one index-ordered query each) and the yes/no answer of `can_work_on` (a task is
workable when it matches a pool), so the inbox can never list a task its user may not work, nor hide
one they may.

A superuser is a member of every role: their own tasks and every unassigned one; to work a task
assigned to someone else they reassign it first, which the audit records. The system
(`workflows.actors.SYSTEM`) works every task. `None` is nobody and an inactive user no longer
anybody: they work none.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Q

from workflows.actors import is_system
from workflows.assignment import pool_refusal

# A pool: HumanTask attribute names (`assignee_id`, `role_id`) and the value each must have.
Pool = dict[str, Any]

EVERY_TASK: Pool = {}


def task_pools(user: Any) -> Iterator[Pool]:
    """The pools of tasks `user` may work (`EVERY_TASK`, the empty pool, matches every task). The
    user's own tasks come first, so answering for them needs no query of the user's roles."""
    if is_system(user):
        yield EVERY_TASK
        return
    if user is None or not user.is_active:
        return
    yield {"assignee_id": user.pk}
    if user.is_superuser:
        yield {"assignee_id": None}
        return
    for role_id in sorted(_group_ids(user)):
        yield {"assignee_id": None, "role_id": role_id}


def tasks_workable_by(user: Any) -> Q:
    """The filter on `HumanTask` that selects what `can_work_on` allows."""
    pools = list(task_pools(user))
    if EVERY_TASK in pools:
        return Q()  # (an empty Q is dropped when or-ed with another, so it is returned alone)
    combined = Q(pk__in=[])
    for pool in pools:
        combined |= Q(**pool)
    return combined


def can_work_on(user: Any, task: Any) -> bool:
    """Whether `task` is in one of `user`'s pools and no pool rule turns the user away: the same
    answer as the inbox's, without a query for the pools."""
    in_pool = any(
        all(getattr(task, name) == value for name, value in pool.items()) for pool in task_pools(user)
    )
    return in_pool and admitted(user, task)


def admitted(user: Any, task: Any) -> bool:
    """Whether the pool rules the domain registers (`assignment.register_pool_rule`) let `user`
    take `task` from its role's pool. Assigned tasks, the system and superusers are not judged."""
    if task.assignee_id is not None or is_system(user) or user.is_superuser:
        return True
    return pool_refusal(user, task) is None


def holds_role(user: Any, task: Any) -> bool:
    """Whether `user` is a member of the task's role (superusers are members of every role)."""
    if user.is_superuser:
        return True
    return task.role_id is not None and task.role_id in _group_ids(user)


def _group_ids(user: Any) -> set[int]:
    # Asked once per user object (one request), like Django's own permission cache.
    if not hasattr(user, "_workflow_group_ids"):
        user._workflow_group_ids = set(user.groups.values_list("pk", flat=True))
    return user._workflow_group_ids
