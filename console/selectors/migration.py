"""What the migration page reads besides the engine's dry run: the versions instances can move
from, and the records pinned to a version."""

from __future__ import annotations

from django.db.models import Count, Q

from workflows.models import ProcessInstance, ProcessVersion
from workflows.pins import pinned_to


def source_versions(target: ProcessVersion) -> list[ProcessVersion]:
    """The model's other versions, newest first, each with its number of unfinished instances
    (`unfinished`)."""
    unfinished = ~Q(instances__status__in=ProcessInstance.ENDED_STATUSES) & Q(instances__isnull=False)
    return list(
        ProcessVersion.objects.filter(model_id=target.model_id)
        .exclude(pk=target.pk)
        .defer("spec")
        .annotate(unfinished=Count("instances", filter=unfinished))
        .order_by("-number")
    )


def default_source(target: ProcessVersion, sources: list[ProcessVersion]) -> ProcessVersion | None:
    """The latest version before the target that has unfinished instances, else the one just
    before it, else none."""
    earlier = [version for version in sources if version.number < target.number]
    for version in earlier:
        if version.unfinished:
            return version
    return earlier[0] if earlier else None


def pinned_records(version: ProcessVersion) -> list[tuple[str, list]]:
    """Each kind of pinned record (its plural name) with the records pinned to `version`."""
    return [(str(pin.label), rows) for pin, rows in pinned_to(version.pk) if rows]
