"""Example data that completes a form, built from its JSON Schema: what the dry run
(`start_instance --dry-run`) submits for every user task the domain gives no answers for.

Each field takes the form's `default`, `const` or first of its `examples`, else a plausible value
of its type within the form's bounds (first choice, minimum, minimum length, date formats). Fields
a condition makes required (`if`/`then`/`else`, also inside `allOf`) are filled once the condition
holds for what was built. The result still goes through the engine's own form validation.
"""

from __future__ import annotations

from typing import Any

from workflows.forms.keywords import form_validator
from workflows.forms.references import follow_refs
from workflows.sandbox import now, today

# How far the builder follows `$ref`s and nested schemas; forms are checked to be far smaller.
MAX_DEPTH = 32


def example_submission(schema: dict) -> dict:
    """Data that completes the form: its defaults, and a plausible value for required fields."""
    value = _Builder(schema).example(schema, required=True, depth=0)
    return value if isinstance(value, dict) else {}


class _Builder:
    def __init__(self, root: dict) -> None:
        self.root = root

    def resolve(self, schema: Any, depth: int) -> dict:
        return follow_refs(self.root, schema, hops=MAX_DEPTH - depth)

    def example(self, schema: Any, *, required: bool, depth: int) -> Any:
        schema = self.resolve(schema, depth)
        if depth > MAX_DEPTH:
            return None
        if "default" in schema:
            return schema["default"]
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("examples"), list) and schema["examples"]:
            return schema["examples"][0]
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object" or (kind is None and "properties" in schema):
            return self._object(schema, depth)
        if not required:
            return None
        if schema.get("enum"):
            return schema["enum"][0]
        choices = self._choices(schema, depth)
        if choices:
            return choices[0]
        if kind == "array":
            return self._array(schema, depth)
        if kind == "boolean":
            return False
        if kind in ("integer", "number"):
            return _number(schema, integer=kind == "integer")
        if kind == "string":
            return _string(schema)
        return None

    def _choices(self, schema: dict, depth: int) -> list:
        options = [
            self.resolve(option, depth + 1) for option in schema.get("oneOf") or schema.get("anyOf") or []
        ]
        if options and all("const" in option for option in options):
            return [option["const"] for option in options]
        return []

    def _object(self, schema: dict, depth: int) -> dict:
        properties = dict(schema.get("properties") or {})
        needed = set(schema.get("required") or [])
        # Plain `allOf` parts add their fields and requirements to the object's own.
        for part in schema.get("allOf") or []:
            part = self.resolve(part, depth + 1)
            if "if" not in part:
                properties.update(part.get("properties") or {})
                needed.update(part.get("required") or [])
        result = {}
        for name, sub in properties.items():
            value = self.example(sub, required=name in needed, depth=depth + 1)
            if value is not None:
                result[name] = value
        conditions = [schema, *(self.resolve(p, depth + 1) for p in schema.get("allOf") or [])]
        for condition in conditions:
            if "if" not in condition:
                continue
            holds = form_validator(self.resolve(condition["if"], depth + 1)).is_valid(result)
            branch = self.resolve(condition.get("then" if holds else "else"), depth + 1)
            extra = branch.get("properties") or {}
            for name in branch.get("required") or []:
                if name not in result:
                    merged = {
                        **self.resolve(properties.get(name), depth + 1),
                        **self.resolve(extra.get(name), depth + 1),
                    }
                    value = self.example(merged, required=True, depth=depth + 1)
                    if value is not None:
                        result[name] = value
        return result

    def _array(self, schema: dict, depth: int) -> list:
        items = self.resolve(schema.get("items"), depth + 1)
        count = schema.get("minItems", 0)
        if not isinstance(count, int) or count <= 0:
            return []
        if schema.get("uniqueItems"):
            choices = self._choices(items, depth + 1) or list(items.get("enum") or [])
            if choices:
                return choices[:count]
            if items.get("type") == "string":
                return [f"{_string(items)}{n}" for n in range(1, count + 1)]
        item = self.example(items, required=True, depth=depth + 1)
        return [item] * count if item is not None else []


def _number(schema: dict, *, integer: bool) -> int | float:
    if isinstance(schema.get("minimum"), (int, float)):
        value = schema["minimum"]
    elif isinstance(schema.get("exclusiveMinimum"), (int, float)):
        value = schema["exclusiveMinimum"] + 1
    else:
        value = 0
    maximum = schema.get("maximum")
    if isinstance(maximum, (int, float)) and value > maximum:
        value = maximum
    step = schema.get("multipleOf")
    if isinstance(step, (int, float)) and step > 0 and value % step:
        value = (value // step + 1) * step
    return int(value) if integer else value


def _string(schema: dict) -> str:
    formats = {
        "date": today,
        "date-time": now,
        "time": lambda: now()[11:19] + now()[-6:],
        "email": lambda: "someone@example.com",
        "uri": lambda: "https://example.com/",
    }
    make = formats.get(schema.get("format"))
    if make is not None:
        return make()
    length = schema.get("minLength", 1)
    return "x" * max(length if isinstance(length, int) else 1, 1)
