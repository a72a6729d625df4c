"""A process model's versions and one version's page: who deployed each and when, its files, its
instances by status and the domain's records pinned to it. Each read is one query (the pinned
records one per kind registered), whatever the number of versions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Model, QuerySet
from django.db.models.functions import Length

from console.selectors.diagrams import main_diagram
from workflows.models import DeployedFile, ProcessInstance, ProcessModel, ProcessVersion
from workflows.pins import pins

Status = ProcessInstance.Status
# The order a page lists statuses in: what needs attention first, what is over last.
STATUS_ORDER = [
    Status.RUNNING,
    Status.WAITING,
    Status.ERROR,
    Status.SUSPENDED,
    Status.COMPLETED,
    Status.TERMINATED,
]


@dataclass(frozen=True)
class PinnedGroup:
    label: Any  # the kind's (lazy) plural name, as the domain registered it
    records: list[Model]


@dataclass(frozen=True)
class StatusCount:
    status: Status
    count: int


@dataclass
class InstanceCounts:
    by_status: list[StatusCount] = field(default_factory=list)  # only statuses with instances

    @property
    def total(self) -> int:
        return sum(c.count for c in self.by_status)

    @property
    def unfinished(self) -> int:
        return sum(c.count for c in self.by_status if c.status not in ProcessInstance.ENDED_STATUSES)


@dataclass(frozen=True)
class VersionRow:
    version: ProcessVersion
    counts: InstanceCounts
    pinned: list[PinnedGroup]


@dataclass(frozen=True)
class ModelPage:
    model: ProcessModel
    versions: list[VersionRow]  # newest first


@dataclass(frozen=True)
class VersionPage:
    version: ProcessVersion
    latest_number: int
    files: list[DeployedFile]  # without their content; `size` is its length in characters
    counts: InstanceCounts
    pinned: list[PinnedGroup]
    diagram: str  # the main BPMN XML

    @property
    def previous_number(self) -> int | None:
        # Versions are never deleted, so their numbers run without gaps from 1.
        return self.version.number - 1 if self.version.number > 1 else None


def model_page(process_id: str) -> ModelPage:
    """The model and its versions, newest first; raises ProcessModel.DoesNotExist."""
    model = ProcessModel.objects.get(process_id=process_id)
    versions = list(_versions(model).select_related("created_by"))
    ids = [v.pk for v in versions]
    counts = instance_counts(ids)
    pinned = pinned_records(ids)
    return ModelPage(
        model=model,
        versions=[VersionRow(v, counts.get(v.pk, InstanceCounts()), pinned.get(v.pk, [])) for v in versions],
    )


def version_page(process_id: str, number: int) -> VersionPage:
    """One version with all its page shows; raises ProcessVersion.DoesNotExist."""
    version = numbered_version(process_id, number)
    latest_number = _versions(version.model).values_list("number", flat=True).first()
    files = list(
        DeployedFile.objects.filter(version=version).defer("content").annotate(size=Length("content"))
    )
    return VersionPage(
        version=version,
        latest_number=latest_number,
        files=files,
        counts=instance_counts([version.pk]).get(version.pk, InstanceCounts()),
        pinned=pinned_records([version.pk]).get(version.pk, []),
        diagram=main_diagram(version),
    )


def numbered_version(process_id: str, number: int) -> ProcessVersion:
    """Version `number` of the process (its model and deployer joined, its spec not read); raises
    ProcessVersion.DoesNotExist."""
    return (
        ProcessVersion.objects.select_related("model", "created_by")
        .defer("spec")
        .get(model__process_id=process_id, number=number)
    )


def version_numbers(process_id: str) -> list[int]:
    """The numbers of the process's versions, newest first (none if it is not deployed)."""
    return list(
        ProcessVersion.objects.filter(model__process_id=process_id)
        .order_by("-number")
        .values_list("number", flat=True)
    )


def version_file(version: ProcessVersion, file_id: int) -> DeployedFile:
    """One file of `version` (never another version's, whatever id is asked for); raises
    DeployedFile.DoesNotExist."""
    return DeployedFile.objects.get(version=version, pk=file_id)


def instance_counts(version_ids: list[int]) -> dict[int, InstanceCounts]:
    """Each version's instances by status, in one aggregating query."""
    found: dict[int, dict[str, int]] = defaultdict(dict)
    if version_ids:
        rows = (
            ProcessInstance.objects.filter(version_id__in=version_ids)
            .order_by()
            .values_list("version_id", "status")
            .annotate(n=Count("id"))
        )
        for version_id, status, n in rows:
            found[version_id][status] = n
    return {
        version_id: InstanceCounts([StatusCount(s, by[s]) for s in STATUS_ORDER if by.get(s)])
        for version_id, by in found.items()
    }


def pinned_records(version_ids: list[int]) -> dict[int, list[PinnedGroup]]:
    """The domain's records pinned to each version (`workflows.pins`), one query per kind of
    record for all the versions; kinds with no record pinned to a version are left out."""
    found: dict[int, list[PinnedGroup]] = defaultdict(list)
    if not version_ids:
        return found
    for pin in pins():
        key = pin.model._meta.get_field(pin.field).attname
        by_version: dict[int, list[Model]] = defaultdict(list)
        for record in pin.model._default_manager.filter(**{f"{pin.field}__in": version_ids}):
            by_version[getattr(record, key)].append(record)
        for version_id, records in by_version.items():
            found[version_id].append(PinnedGroup(pin.label, records))
    return found


def _versions(model: ProcessModel) -> QuerySet[ProcessVersion]:
    return ProcessVersion.objects.filter(model=model).defer("spec").order_by("-number")
