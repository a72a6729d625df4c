"""Turning workflows into stored text and back.

Specs are stored once per process version and restored once per process (they are immutable), so
an instance's stored state holds only its tasks and data. State is JSON *text*: SpiffWorkflow 3.2
stores child task data as deltas that must be restored parents-first, in the order written, and a
`jsonb` column would reorder the keys and silently empty every task's data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from workflows.specs import LinkedCallActivity, LinkedCallActivityConverter


class _StateConverter(BpmnWorkflowConverter):
    """Serializes a workflow without its specs; `restore_workflow` hands the specs back in."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


def _build_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)  # never mutate SpiffWorkflow's module-level config
    config[LinkedCallActivity] = LinkedCallActivityConverter
    config[BpmnWorkflow] = _StateConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"]))
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]))
    return BpmnWorkflowSerializer(registry)


SERIALIZER = _build_serializer()
SERIALIZER_VERSION = SERIALIZER.VERSION


@dataclass(frozen=True)
class Specs:
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]


def dump_specs(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
    registry = SERIALIZER.registry
    return json.dumps(
        {
            "spec": registry.convert(spec),
            "subprocess_specs": {name: registry.convert(s) for name, s in subprocess_specs.items()},
        }
    )


def load_specs(text: str) -> Specs:
    dct = json.loads(text)
    registry = SERIALIZER.registry
    return Specs(
        spec=registry.restore(dct["spec"]),
        subprocess_specs={name: registry.restore(s) for name, s in dct["subprocess_specs"].items()},
    )


_SPEC_CACHE: dict[tuple[int, str], Specs] = {}
_SPEC_CACHE_SIZE = 256


def cached_specs(version_id: int, checksum: str, spec_text: Callable[[], str]) -> Specs:
    """Restored specs of one process version, shared by every instance loaded in this process.

    Versions are immutable, so an entry never goes stale; `spec_text` is only called on a miss,
    which lets callers defer reading the (large) spec column.
    """
    key = (version_id, checksum)
    specs = _SPEC_CACHE.get(key)
    if specs is None:
        specs = load_specs(spec_text())
        if len(_SPEC_CACHE) >= _SPEC_CACHE_SIZE:
            _SPEC_CACHE.clear()
        _SPEC_CACHE[key] = specs
    return specs


def dump_state(workflow: BpmnWorkflow) -> str:
    return SERIALIZER.serialize_json(workflow)


def restore_workflow(
    state_text: str, state_version: str, specs: Specs, spec_text: Callable[[], str]
) -> BpmnWorkflow:
    dct = json.loads(state_text)
    if state_version != SERIALIZER_VERSION:
        # An older SpiffWorkflow wrote this state: migrate it together with the spec dicts.
        spec_dct = json.loads(spec_text())
        dct.update(spec_dct, serializer_version=state_version)
        SERIALIZER.migrate(dct)
        return SERIALIZER.from_dict(dct)
    dct["spec"] = specs.spec
    dct["subprocess_specs"] = dict(specs.subprocess_specs)
    return SERIALIZER.from_dict(dct)
