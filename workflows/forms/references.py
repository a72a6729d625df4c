"""A form's local `$ref`s ("#/$defs/person"), followed the same way wherever a form is read."""

from __future__ import annotations

from typing import Any


def follow_refs(root: dict, schema: Any, *, hops: int) -> dict:
    """`schema` with its local `$ref` (if any) followed, at most `hops` times (a reference cycle
    stops there); the schema's own keywords win over the target's. Anything unusable becomes {}."""
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and hops > 0:
        target = _pointer(root, schema["$ref"])
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        hops -= 1
    return schema if isinstance(schema, dict) else {}


def _pointer(root: dict, ref: str) -> dict:
    if not ref.startswith("#"):
        return {}
    node: Any = root
    for part in filter(None, ref[1:].split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}
