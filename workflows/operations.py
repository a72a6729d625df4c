"""Service-task operations: the named functions a BPMN service task may call.

A diagram names the operation in `spiffworkflow:serviceTaskOperator id="..."`; the domain app
registers the function (usually in its `AppConfig.ready`). Deploying a diagram that names an
unregistered operation fails, so a typo is found by the coordinator, not by a running instance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class OperationContext:
    """What an operation knows about the task that called it."""

    instance: Any  # workflows.models.ProcessInstance
    task_id: UUID
    bpmn_id: str
    data: dict  # a copy of the task's data; return values, don't mutate this
    # The person whose action made the engine run (None for timers and background jobs).
    actor: Any = None
    # The engine's time for this run (`workflows.clock`): what timers and `now()` in scripts see.
    at: datetime | None = None


class OperationError(Exception):
    """Raised by an operation with a message that is safe to show to coordinators."""


@dataclass(frozen=True)
class Operation:
    name: str
    func: Callable[..., Any]
    description: str


_REGISTRY: dict[str, Operation] = {}


def register_operation(name: str, *, description: str = "") -> Callable[[Callable], Callable]:
    """Decorator: make `func(context, **params) -> JSON-serializable` callable from service tasks."""

    def decorate(func: Callable) -> Callable:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.func is not func:
            raise ValueError(f"Service operation {name!r} is already registered by {existing.func!r}.")
        _REGISTRY[name] = Operation(name, func, description or (func.__doc__ or "").strip())
        return func

    return decorate


def unregister_operation(name: str) -> None:
    _REGISTRY.pop(name, None)


def get_operation(name: str) -> Operation | None:
    return _REGISTRY.get(name)


def operation_names() -> list[str]:
    return sorted(_REGISTRY)
