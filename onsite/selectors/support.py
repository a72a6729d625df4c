"""The support dispatch queue (调度): the requests still waiting for their engineer's work, the
customers' service tiers first (their standard's dispatch priority), then the soonest due."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet

from onsite.access import EVERYTHING, NOTHING, READ, customer_scope, role_names
from onsite.models import StaffProfile, SupportRequest
from onsite.roles import SUPPORT_STAFF
from workflows.actors import is_system

WAITING = (SupportRequest.Status.REQUESTED, SupportRequest.Status.DISPATCHED)


def support_queue(*, user: Any) -> QuerySet:
    """The open requests `user` may see, in dispatch order: the priority their standard gave them
    when they were made (A before B before C), then the moment their work is due, then the oldest.
    A support engineer sees besides the pool of their speciality: requests nobody has yet."""
    scope = customer_scope(user, to=READ, through="customer")
    rows = SupportRequest.objects.filter(status__in=WAITING)
    if scope is NOTHING:  # nobody, or no longer anybody
        return rows.none()
    if scope is not EVERYTHING:
        if not is_system(user) and SUPPORT_STAFF in role_names(user):
            speciality = StaffProfile.objects.filter(user=user).values("speciality")[:1]
            scope |= Q(assignee__isnull=True, speciality__in=speciality)
        rows = rows.filter(scope)
    return rows.select_related("customer", "assignee", "service_standard").order_by(
        "dispatch_priority", F("complete_by").asc(nulls_last=True), "due_date", "requested_at", "id"
    )
