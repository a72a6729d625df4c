"""Deploying process models: validated, immutable, numbered versions."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from workflows.documents import Problem, SourceFile
from workflows.models import AuditEvent, DeployedFile, ProcessModel, ProcessVersion
from workflows.serialization import SERIALIZER_VERSION, dump_specs
from workflows.validation import check_bundle


@dataclass
class Deployment:
    version: ProcessVersion
    created: bool
    warnings: list[Problem] = field(default_factory=list)


def read_files(paths: list[str | Path]) -> list[SourceFile]:
    return [SourceFile(Path(p).name, Path(p).read_bytes()) for p in paths]


def deploy(*, files: list[SourceFile], user: Any = None) -> Deployment:
    """Validate `files` (one BPMN diagram first, then the processes, DMN tables and forms it uses)
    and store them as the next version of the diagram's process model.

    Raises DeploymentError naming every problem; nothing is stored then. Deploying content that
    is identical to the latest version returns that version unchanged.
    """
    checked = check_bundle(files, deployed_process_ids=_deployed_process_ids)
    parsed = checked.parsed
    stored = [(s.kind, s.name, s.text) for s in checked.sources if not s.is_form]
    stored += [
        ("form", name, json.dumps(schema, ensure_ascii=False, sort_keys=True, indent=2))
        for name, schema in sorted(checked.forms.items())
    ]
    checksum = hashlib.sha256(
        json.dumps(sorted(stored), ensure_ascii=False).encode("utf-8") + SERIALIZER_VERSION.encode()
    ).hexdigest()
    for attempt in range(2):
        try:
            return _store(parsed, checked, stored, checksum, user)
        except IntegrityError:
            if attempt:  # a concurrent deploy of the same model won twice; give up loudly
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _store(parsed, checked, stored, checksum, user) -> Deployment:
    model, _ = ProcessModel.objects.get_or_create(
        process_id=parsed.process_id, defaults={"name": parsed.name[:255]}
    )
    model = ProcessModel.objects.select_for_update().get(pk=model.pk)
    latest = model.versions.defer("spec").order_by("-number").first()
    if latest is not None and latest.checksum == checksum:
        return Deployment(version=latest, created=False, warnings=checked.warnings)
    version = ProcessVersion.objects.create(
        model=model,
        number=(latest.number + 1) if latest else 1,
        checksum=checksum,
        spec=dump_specs(parsed.spec, parsed.subprocess_specs),
        serializer_version=SERIALIZER_VERSION,
        warnings=[str(w) for w in checked.warnings],
        created_by=user,
    )
    main_name = checked.sources[0].name
    DeployedFile.objects.bulk_create(
        [
            DeployedFile(version=version, kind=kind, name=name, content=content, is_main=(name == main_name))
            for kind, name, content in stored
        ]
    )
    if parsed.name and model.name != parsed.name[:255]:
        model.name = parsed.name[:255]
        model.save(update_fields=["name"])
    AuditEvent.objects.create(
        version=version,
        kind=AuditEvent.Kind.DEPLOYED,
        actor=user,
        at=timezone.now(),
        details={
            "process_id": model.process_id,
            "number": version.number,
            "files": [n for _, n, _ in stored],
        },
    )
    return Deployment(version=version, created=True, warnings=checked.warnings)


def _deployed_process_ids() -> set[str]:
    return set(ProcessModel.objects.filter(versions__isnull=False).values_list("process_id", flat=True))
