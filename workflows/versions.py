"""Finding deployed process versions: the latest one of a process, or a numbered one."""

from __future__ import annotations

from django.utils.translation import gettext as _

from workflows.exceptions import ProcessNotDeployed
from workflows.models import ProcessVersion


def latest_version(process_id: str) -> ProcessVersion:
    version = (
        ProcessVersion.objects.select_related("model")
        .defer("spec")
        .filter(model__process_id=process_id)
        .order_by("-number")
        .first()
    )
    if version is None:
        raise ProcessNotDeployed(_("No process '%(process)s' is deployed.") % {"process": process_id})
    return version


def deployed_version(process_id: str, number: int) -> ProcessVersion:
    version = (
        ProcessVersion.objects.select_related("model")
        .defer("spec")
        .filter(model__process_id=process_id, number=number)
        .first()
    )
    if version is None:
        raise ProcessNotDeployed(
            _("Version %(number)s of process '%(process)s' is not deployed.")
            % {"process": process_id, "number": number}
        )
    return version
