"""Process instances as the monitor shows them: the search, the incidents (instances in error) and
one instance's page. Lists read only the columns they show (never an instance's stored state) in a
fixed number of queries; only the instance page restores a workflow, that one, to read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from console.selectors.diagrams import main_diagram
from workflows.exceptions import NotFound
from workflows.facets import facet_filter
from workflows.models import AuditEvent, HumanTask, ProcessInstance, ProcessModel
from workflows.selectors import element_names, element_states, restored_workflow, workflow_variables

Status = ProcessInstance.Status

# What a list row shows of an instance (and of its version and process model).
LIST_FIELDS = (
    "id",
    "version",
    "process_id",
    "business_key",
    "status",
    "parent",
    "started_at",
    "updated_at",
    "ended_at",
    "error",
    "version__number",
    "version__model__process_id",
    "version__model__name",
)
# How many of each part of an instance page are shown (a programme runs for years).
TASK_LIMIT = 200
AUDIT_LIMIT = 100
LINK_LIMIT = 20


def process_choices() -> list[tuple[str, str]]:
    """The deployed processes, for the search's process filter: (process id, name) pairs."""
    return [
        (process_id, f"{name} ({process_id})" if name else process_id)
        for process_id, name in ProcessModel.objects.order_by("process_id").values_list("process_id", "name")
    ]


def _listed(instances: QuerySet[ProcessInstance]) -> QuerySet[ProcessInstance]:
    return instances.select_related("version__model").only(*LIST_FIELDS)


def search_instances(
    *,
    process_id: str = "",
    version: int | None = None,
    status: str = "",
    business_key: str = "",
    key_prefix: bool = False,
    facets: dict[str, str] | None = None,
    started_from: date | None = None,
    started_to: date | None = None,
) -> QuerySet[ProcessInstance]:
    """The instances matching every filter given, newest first.

    Newest is by id, which grows with each start: every filter here has an index, and on SQLite an
    index's entries are ordered by id within each value, so a page is read in index order without
    sorting the whole match. `facets` are the domain's (`workflows.facets`), by name. The dates are
    whole days in the site's time zone, both included."""
    found = ProcessInstance.objects.all()
    if process_id:
        found = found.filter(process_id=process_id)
    if version is not None:
        found = found.filter(version__number=version)
    if status:
        found = found.filter(status=status)
    if business_key:
        found = found.filter(_key_filter(business_key, prefix=key_prefix))
    if facets:
        found = found.filter(facet_filter(facets))
    if started_from is not None:
        found = found.filter(started_at__gte=_day_start(started_from))
    if started_to is not None:
        found = found.filter(started_at__lt=_day_start(started_to + timedelta(days=1)))
    return _listed(found).order_by("-pk")


def _key_filter(key: str, *, prefix: bool) -> Q:
    if not prefix:
        return Q(business_key=key)
    match = Q(business_key__startswith=key)
    if connection.vendor == "sqlite":
        # SQLite's LIKE ignores case, so the key's (case-sensitive) index cannot serve it; a range
        # on the key can, and makes the match case-sensitive as on PostgreSQL (whose `_like` index
        # on the column serves the LIKE itself).
        match &= Q(business_key__gte=key, business_key__lt=key + "\U0010ffff")
    return match


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def incidents() -> QuerySet[ProcessInstance]:
    """The instances in error, the latest failure first (the time of its last error in the audit
    trail; of its last change when the trail has none). Each row has `failed_at`."""
    last_error = (
        AuditEvent.objects.filter(instance=OuterRef("pk"), kind=AuditEvent.Kind.ERROR)
        .order_by("-pk")  # the trail is append-only: the last row is the latest
        .values("at")[:1]
    )
    return (
        _listed(ProcessInstance.objects.filter(status=Status.ERROR))
        .annotate(failed_at=Coalesce(Subquery(last_error), F("updated_at")))
        .order_by("-failed_at", "-pk")
    )


def incident_count() -> int:
    """How many instances are in error now (one count on the status index)."""
    return ProcessInstance.objects.filter(status=Status.ERROR).count()


# --- one instance ---------------------------------------------------------------------------------


@dataclass
class Linked:
    """Instances shown as links: the first `LINK_LIMIT`, newest first, and how many there are."""

    instances: list[ProcessInstance]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.instances)


@dataclass
class InstancePage:
    instance: ProcessInstance
    diagram: str  # the BPMN XML of the instance's version
    markers: dict[str, list[str]]  # element id -> ["done" | "active" | "failed"]
    names: dict[str, str]  # element id -> its name
    tasks: list[HumanTask]  # open ones carry `candidates`: the active users who may take them over
    variables: dict[str, Any]
    events: list[AuditEvent]  # the latest AUDIT_LIMIT, newest first
    event_total: int
    children: Linked
    same_key: Linked  # other instances of the same business key (not the parent nor the children)
    error: dict | None = field(default=None)

    @property
    def error_element(self) -> str:
        if not self.error or not self.error.get("bpmn_id"):
            return ""
        bpmn_id = self.error["bpmn_id"]
        return self.names.get(bpmn_id) or self.error.get("task_name") or bpmn_id


def instance_page(instance_id: int) -> InstancePage:
    """Everything the instance page shows, in about ten queries, and the instance's state restored
    once (read-only) for its diagram's markers and its variables. NotFound if there is none."""
    instance = (
        ProcessInstance.objects.select_related("version__model", "parent", "root", "started_by")
        .defer("version__spec", "parent__state", "root__state")
        .filter(pk=instance_id)
        .first()
    )
    if instance is None:
        raise NotFound(_("Process instance #%(id)s does not exist.") % {"id": instance_id})
    workflow = restored_workflow(instance)
    tasks = list(
        HumanTask.objects.filter(instance=instance)
        .select_related("role", "assignee", "claimed_by", "completed_by")
        .order_by("-created_at")[:TASK_LIMIT]
    )
    _attach_candidates(tasks)
    names = element_names(instance.version)
    events = _events(instance)
    _name_subjects(events, names, tasks)
    return InstancePage(
        instance=instance,
        diagram=main_diagram(instance.version_id),
        markers=_markers(instance, workflow),
        names=names,
        tasks=tasks,
        variables=workflow_variables(workflow),
        events=events,
        event_total=_total(events, AUDIT_LIMIT, lambda: AuditEvent.objects.filter(instance=instance).count()),
        children=_linked(ProcessInstance.objects.filter(parent=instance)),
        same_key=_same_key(instance),
        error=instance.error if instance.status == Status.ERROR else None,
    )


def _markers(instance: ProcessInstance, workflow: Any) -> dict[str, list[str]]:
    states = element_states(workflow)
    # The stored state keeps little settled history (it is pruned on save): what people completed
    # and the timers that fired are remembered by the audit trail. One query, one row per element.
    remembered = (
        AuditEvent.objects.filter(
            instance=instance, kind__in=[AuditEvent.Kind.COMPLETED, AuditEvent.Kind.TIMER_FIRED]
        )
        .values_list("details__bpmn_id", flat=True)
        .distinct()
    )
    failed = set(states.failed)
    if instance.error and instance.error.get("bpmn_id"):
        failed.add(instance.error["bpmn_id"])
    markers: dict[str, list[str]] = {}
    for bpmn_id in {*states.done, *(b for b in remembered if isinstance(b, str) and b)}:
        markers[bpmn_id] = ["done"]
    for bpmn_id in states.active:
        markers[bpmn_id] = ["active"]
    for bpmn_id in failed:
        markers[bpmn_id] = ["failed"]
    return markers


def _name_subjects(events: list[AuditEvent], names: dict[str, str], tasks: list[HumanTask]) -> None:
    """Give each audit event the name of the element or task it concerns (`subject`, "" if none)."""
    task_names = {task.pk: task.name or task.bpmn_id for task in tasks}
    for event in events:
        bpmn_id = event.details.get("bpmn_id") if isinstance(event.details, dict) else None
        if bpmn_id:
            event.subject = names.get(bpmn_id) or event.details.get("task_name") or bpmn_id
        else:
            event.subject = task_names.get(event.task_id, "")


def _attach_candidates(tasks: list[HumanTask]) -> None:
    """Give each open task with a role the active members of that role (whom `reassign_task`
    accepts), in one query for all of them."""
    open_tasks = [t for t in tasks if t.status == HumanTask.Status.OPEN]
    role_ids = {t.role_id for t in open_tasks if t.role_id is not None}
    members: dict[int, list[Any]] = {role_id: [] for role_id in role_ids}
    if role_ids:
        Membership = get_user_model().groups.through
        rows = (
            Membership.objects.filter(group_id__in=role_ids, user__is_active=True)
            .select_related("user")
            .order_by("user__username")
        )
        for row in rows:
            members[row.group_id].append(row.user)
    for task in open_tasks:
        task.candidates = members.get(task.role_id, [])


def _events(instance: ProcessInstance) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(instance=instance).select_related("actor").order_by("-pk")[:AUDIT_LIMIT]
    )


def _total(shown: list, limit: int, count: Any) -> int:
    # Counted only when the list was cut: a short list is its own count.
    return count() if len(shown) >= limit else len(shown)


def _linked(instances: QuerySet[ProcessInstance]) -> Linked:
    shown = list(_listed(instances).order_by("-pk")[:LINK_LIMIT])
    return Linked(shown, _total(shown, LINK_LIMIT, instances.count))


def _same_key(instance: ProcessInstance) -> Linked:
    if not instance.business_key:
        return Linked([], 0)
    others = (
        ProcessInstance.objects.filter(business_key=instance.business_key)
        .exclude(pk=instance.pk)
        .exclude(parent=instance)
    )
    if instance.parent_id is not None:
        others = others.exclude(pk=instance.parent_id)
    return _linked(others)


def active_user(user_id: Any) -> Any:
    """The active user with this id, or None (a task is only given to active people)."""
    try:
        return get_user_model().objects.filter(pk=int(user_id), is_active=True).first()
    except (TypeError, ValueError):
        return None
