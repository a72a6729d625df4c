"""What the modeler opens and offers: a version's files, the roles lanes map to, the operations
service tasks may call, the versions to open."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from workflows import operations
from workflows.assignment import role_label
from workflows.exceptions import NotFound
from workflows.models import DeployedFile, LaneRole, ProcessVersion


@dataclass
class VersionFiles:
    """A version as the modeler edits it: the main diagram, its forms (name -> JSON text) and the
    other files (embedded diagrams, DMN tables) it deploys with, unchanged."""

    main_name: str
    xml: str
    forms: dict[str, str] = field(default_factory=dict)
    companions: list[tuple[str, str]] = field(default_factory=list)


def version_for_modeler(*, process_id: str, number: int) -> ProcessVersion:
    version = (
        ProcessVersion.objects.select_related("model")
        .defer("spec")
        .filter(model__process_id=process_id, number=number)
        .first()
    )
    if version is None:
        raise NotFound(
            _("There is no version %(number)s of process %(process)s.")
            % {
                "number": number,
                "process": process_id,
            }
        )
    return version


def version_files(version: ProcessVersion | int) -> VersionFiles:
    version_id = version.pk if isinstance(version, ProcessVersion) else version
    files = DeployedFile.objects.filter(version_id=version_id).order_by("name")
    result = VersionFiles(main_name="", xml="")
    for deployed in files.only("kind", "name", "content", "is_main"):
        if deployed.is_main:
            result.main_name, result.xml = deployed.name, deployed.content
        elif deployed.kind == DeployedFile.Kind.FORM:
            result.forms[deployed.name] = deployed.content
        else:
            result.companions.append((deployed.name, deployed.content))
    return result


def lane_roles() -> list[dict[str, str]]:
    """The lane names that give a role, each labelled with it: the lane mappings, then every role
    (a lane named like a role goes to it)."""
    choices = [
        {"lane": m.lane, "label": f"{m.lane} → {role_label(m.role.name)}"}
        for m in LaneRole.objects.select_related("role").order_by("lane")
    ]
    mapped = {c["lane"] for c in choices}
    choices += [
        {"lane": name, "label": f"{name} → {role_label(name)}"}
        for name in Group.objects.order_by("name").values_list("name", flat=True)
        if name not in mapped
    ]
    return choices


def service_operations() -> list[dict[str, str]]:
    result = []
    for name in operations.operation_names():
        description = (operations.get_operation(name).description or "").splitlines()
        summary = description[0] if description else ""
        result.append({"name": name, "label": f"{name} — {summary}" if summary else name})
    return result


def versions_to_open() -> QuerySet[ProcessVersion]:
    """Every deployed version, newest first within each process."""
    return (
        ProcessVersion.objects.select_related("model")
        .only("number", "model__process_id", "model__name")
        .order_by("model__process_id", "-number")
    )
