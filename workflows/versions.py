"""Finding deployed process versions: the latest one of a process, or a numbered one.

Every start looks its version up, so the lookup is one hand-written statement (`store`), not an
ORM query whose building cost more than the query.
"""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _

from workflows import store
from workflows.exceptions import ProcessNotDeployed
from workflows.models import ProcessVersion
from workflows.serialization import cached_specs


def latest_version(process_id: str) -> ProcessVersion:
    version = store.read_version(process_id)
    if version is None:
        raise _not_deployed(process_id)
    return version


def _not_deployed(process_id: str) -> ProcessNotDeployed:
    collaboration = _collaboration_with_pool(process_id)
    if collaboration is not None:
        # SpiffWorkflow runs a collaboration's pools in one workflow, where their messages reach each
        # other; a pool started alone would wait forever for its partners' messages.
        return ProcessNotDeployed(
            _(
                "Process '%(process)s' is deployed as a pool of the collaboration '%(collaboration)s', "
                "whose pools run together: start '%(collaboration)s'."
            )
            % {"process": process_id, "collaboration": collaboration}
        )
    return ProcessNotDeployed(_("No process '%(process)s' is deployed.") % {"process": process_id})


def _collaboration_with_pool(process_id: str) -> str | None:
    """The deployed collaboration whose latest version runs `process_id` as one of its pools.

    Only asked when a start names no deployed process, so it may read every model's latest
    version; their specs are cached per version anyway."""
    latest = ProcessVersion.objects.filter(model=OuterRef("model")).order_by("-number").values("pk")[:1]
    versions = ProcessVersion.objects.filter(pk=Subquery(latest)).values_list(
        "pk", "checksum", "model__process_id"
    )
    for version_id, checksum, collaboration in versions:
        specs = cached_specs(version_id, checksum, lambda pk=version_id: _spec_text(pk))
        # A collaboration's spec starts one participant per executable pool, named by its process.
        participants = {task.name for task in specs.spec.start.outputs}
        if process_id in participants and process_id in specs.subprocess_specs:
            return collaboration
    return None


def _spec_text(version_id: int) -> str:
    return ProcessVersion.objects.values_list("spec", flat=True).get(pk=version_id)


def deployed_version(process_id: str, number: int) -> ProcessVersion:
    version = store.read_version(process_id, number)
    if version is None:
        raise ProcessNotDeployed(
            _("Version %(number)s of process '%(process)s' is not deployed.")
            % {"process": process_id, "number": number}
        )
    return version
