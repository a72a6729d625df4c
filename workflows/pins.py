"""Records of the domain that start a fixed process version (a programme whose enrolments start the
version it was set up with), registered by the domain: the console shows them on a version's page
and a migration can move them to the new version ("repin")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Model


@dataclass(frozen=True)
class Pin:
    model: type[Model]
    field: str  # the foreign key to ProcessVersion
    label: Any  # (lazy) plural name for the page, e.g. "programmes"


_pins: list[Pin] = []


def register_pin(pin: Pin) -> Pin:
    if pin not in _pins:
        _pins.append(pin)
    return pin


def pins() -> list[Pin]:
    return list(_pins)


def pinned_to(version_id: int) -> list[tuple[Pin, list[Model]]]:
    """Each registered kind of record with the rows pinned to the version (one query per kind)."""
    return [(pin, list(pin.model._default_manager.filter(**{pin.field: version_id}))) for pin in _pins]
