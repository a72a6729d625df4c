"""The diagram of a version, as a page shows it."""

from __future__ import annotations

from workflows.models import DeployedFile, ProcessVersion


def main_diagram(version: ProcessVersion | int) -> str:
    """The BPMN XML of the version's main file ("" if it has none, which a deploy never leaves)."""
    version_id = version.pk if isinstance(version, ProcessVersion) else version
    return (
        DeployedFile.objects.filter(version_id=version_id, is_main=True, kind=DeployedFile.Kind.BPMN)
        .values_list("content", flat=True)
        .first()
        or ""
    )
