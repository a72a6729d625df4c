"""Task forms are JSON Schemas: checked at deploy, used to validate every submission.

Conventions: `title`/`description` are Simplified Chinese, `title_en`/`description_en` English;
labelled choices are `oneOf: [{"const": ..., "title": ..., "title_en": ...}]`. A form is closed:
only the fields it declares reach the task data, so a submission cannot set other process
variables.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import FormatChecker
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from workflows.sandbox import RESERVED_NAMES, now, today

# Shown for user tasks whose diagram names no form (diagrams from other modelers).
DEFAULT_FORM: dict[str, Any] = {
    "type": "object",
    "title": "完成任务",
    "title_en": "Complete task",
    "properties": {},
}

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_FORMAT_CHECKER = FormatChecker()


class FormValidationError(Exception):
    """Submitted data does not match the task's form; `errors` maps field paths to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        summary = "; ".join(
            _("%(field)s: %(errors)s") % {"field": field or _("form"), "errors": ", ".join(msgs)}
            for field, msgs in errors.items()
        )
        super().__init__(summary)


def schema_problems(schema: dict) -> list[str]:
    """Everything wrong with a form schema, as messages (empty if it is usable)."""
    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        return [_("Not a valid JSON Schema: %(error)s") % {"error": exc.message}]
    problems = []
    if schema.get("type") != "object":
        problems.append(_('A form schema must have "type": "object" at the top.'))
    if _remote_refs(schema):
        problems.append(_("Form schemas may not reference other documents ($ref to a URL or file)."))
    for name in schema.get("properties", {}):
        if not _IDENTIFIER.match(name):
            problems.append(
                _(
                    "Field name %(name)s must start with a letter and use only letters, digits and '_', "
                    "so that scripts and conditions can use it."
                )
                % {"name": repr(name)}
            )
        elif name in RESERVED_NAMES:
            problems.append(
                _("Field name %(name)s is reserved for a built-in function; rename the field.")
                % {"name": repr(name)}
            )
    return problems


def _remote_refs(node: Any) -> bool:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return True
        return any(_remote_refs(v) for v in node.values())
    if isinstance(node, list):
        return any(_remote_refs(v) for v in node)
    return False


def validate_submission(schema: dict, data: Any) -> dict:
    """Return the submission (with defaults for omitted fields) if it satisfies the form, else raise
    FormValidationError."""
    if not isinstance(data, dict):
        raise FormValidationError({"": [_("The submission must be a set of fields.")]})
    errors: dict[str, list[str]] = {}
    declared = schema.get("properties", {})
    if schema.get("additionalProperties", False) is False:
        for key in data:
            if key not in declared:
                errors.setdefault(key, []).append(_("This form has no such field."))
    for error in _validator(schema).iter_errors(data):
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "additionalProperties" and not path:
            continue  # reported per field above
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path = ".".join(filter(None, [path, missing]))
        errors.setdefault(path, []).append(_describe(error))
    if errors:
        raise FormValidationError(errors)
    # Omitted fields take the form's defaults, so scripts can rely on every declared list existing.
    return {
        **{k: v["default"] for k, v in declared.items() if isinstance(v, dict) and "default" in v},
        **data,
    }


_VALIDATORS: dict[int, tuple[dict, Any]] = {}


def _validator(schema: dict):
    # Forms are deployed once and read through a cache, so the same dict comes back each time;
    # building a validator is the costly part of validating.
    cached = _VALIDATORS.get(id(schema))
    if cached is None or cached[0] is not schema:
        if len(_VALIDATORS) > 512:
            _VALIDATORS.clear()
        cached = (schema, validator_for(schema)(schema, format_checker=_FORMAT_CHECKER))
        _VALIDATORS[id(schema)] = cached
    return cached[1]


def _describe(error) -> str:
    v, expected = error.validator, error.validator_value
    messages = {
        "required": _("This field is required."),
        "type": _("Expected %(type)s.") % {"type": _type_names(expected)},
        "enum": _("Choose one of the offered values."),
        "oneOf": _("Choose one of the offered values."),
        "const": _("Choose one of the offered values."),
        "minimum": _("Must be at least %(limit)s.") % {"limit": expected},
        "maximum": _("Must be at most %(limit)s.") % {"limit": expected},
        "exclusiveMinimum": _("Must be more than %(limit)s.") % {"limit": expected},
        "exclusiveMaximum": _("Must be less than %(limit)s.") % {"limit": expected},
        "minLength": _("Must be at least %(limit)s characters.") % {"limit": expected},
        "maxLength": _("Must be at most %(limit)s characters.") % {"limit": expected},
        "minItems": _("Add at least %(limit)s entries.") % {"limit": expected},
        "maxItems": _("Add at most %(limit)s entries.") % {"limit": expected},
        "format": _("Not a valid %(format)s.") % {"format": _format_name(expected)},
        "pattern": _("Does not have the expected format."),
        "additionalProperties": _("This form has no such field."),
    }
    return messages.get(v, error.message)


def _type_names(expected: Any) -> str:
    """A JSON Schema type (or list of types) in the reader's language; the English text is the
    schema's own spelling."""
    names = {
        "string": _("string"),
        "integer": _("integer"),
        "number": _("number"),
        "boolean": _("boolean"),
        "array": _("array"),
        "object": _("object"),
        "null": _("null"),
    }
    if isinstance(expected, list):
        return str([names.get(t, t) if isinstance(t, str) else t for t in expected])
    return names.get(expected, expected) if isinstance(expected, str) else str(expected)


def _format_name(expected: Any) -> str:
    names = {
        "date": _("date"),
        "date-time": _("date-time"),
        "time": _("time"),
        "email": _("email"),
        "uri": _("uri"),
    }
    return names.get(expected, expected) if isinstance(expected, str) else str(expected)


def example_submission(schema: dict) -> dict:
    """Data that completes the form: its defaults, and a plausible value for required fields
    without one. Used by the dry run (`start_instance --complete-user-tasks`)."""
    value = _example(schema, required=True)
    return value if isinstance(value, dict) else {}


def _example(schema: dict, *, required: bool) -> Any:
    if "default" in schema:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        needed = set(schema.get("required", []))
        result = {}
        for name, sub in schema.get("properties", {}).items():
            sub_value = _example(sub, required=name in needed)
            if sub_value is not None:
                result[name] = sub_value
        return result
    if not required:
        return None
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("oneOf") and all("const" in option for option in schema["oneOf"]):
        return schema["oneOf"][0]["const"]
    if kind == "array":
        item = _example(schema.get("items", {}), required=True)
        return [item] * max(schema.get("minItems", 0), 1 if item is not None else 0)
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return today()
        if fmt == "date-time":
            return now()
        if fmt == "email":
            return "someone@example.com"
        return "x" * max(schema.get("minLength", 1), 1)
    return None
