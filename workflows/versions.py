"""Finding deployed process versions: the latest one of a process, or a numbered one.

Every start looks its version up, so the lookup is one hand-written statement (`store`), not an
ORM query whose building cost more than the query.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from workflows import store
from workflows.exceptions import ProcessNotDeployed
from workflows.models import ProcessVersion


def latest_version(process_id: str) -> ProcessVersion:
    version = store.read_version(process_id)
    if version is None:
        raise ProcessNotDeployed(_("No process '%(process)s' is deployed.") % {"process": process_id})
    return version


def deployed_version(process_id: str, number: int) -> ProcessVersion:
    version = store.read_version(process_id, number)
    if version is None:
        raise ProcessNotDeployed(
            _("Version %(number)s of process '%(process)s' is not deployed.")
            % {"process": process_id, "number": number}
        )
    return version
