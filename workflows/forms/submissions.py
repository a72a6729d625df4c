"""Validating a submission against its task's form, in the reader's language."""

from __future__ import annotations

import math
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from jsonschema.exceptions import ValidationError

from workflows.forms.keywords import KeywordRefusal, form_validator
from workflows.forms.patterns import MAX_PATTERN_WORK, PatternError, PatternWorkSpent, pattern_budget, search
from workflows.forms.schemas import IDENTIFIER
from workflows.refusals import Refusal
from workflows.sandbox import RESERVED_NAMES

# Shown for user tasks whose diagram names no form (diagrams from other modelers).
DEFAULT_FORM: dict[str, Any] = {
    "type": "object",
    "title": "完成任务",
    "title_en": "Complete task",
    "properties": {},
}

# How deep a submission may nest (jsonschema's error messages repr() the values they describe).
MAX_SUBMISSION_DEPTH = 64


class FormValidationError(Refusal):
    """Submitted data does not match the task's form; `errors` maps field paths to messages."""

    default_message = gettext_lazy("The form has errors.")

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(field_errors=errors)
        self.errors = self.field_errors

    def __str__(self) -> str:
        return "; ".join(
            _("%(field)s: %(errors)s") % {"field": field or _("form"), "errors": ", ".join(msgs)}
            for field, msgs in self.errors.items()
        )


def validate_submission(schema: dict, data: Any, *, protected: Collection[str] = ()) -> dict:
    """Return the submission (with defaults for omitted fields) if it satisfies the form, else raise
    FormValidationError.

    `protected` names what an open form's undeclared fields may not set: the variables the process
    already holds and every name its diagram's code reads.
    """
    if not isinstance(data, dict):
        raise FormValidationError({"": [_("The submission must be a set of fields.")]})
    errors: dict[str, list[str]] = {}
    # Before jsonschema: its multipleOf crashes on NaN and infinity, its messages repr() values.
    _check_plain_values(data, errors)
    if errors:
        raise FormValidationError(errors)
    declared = schema.get("properties", {})
    budget = pattern_budget.set([MAX_PATTERN_WORK])
    try:
        for key in data:
            if key not in declared:
                problem = _undeclared_field_problem(schema, key, protected)
                if problem:
                    _add(errors, key, problem)
        for error in form_validator(schema).iter_errors(data):
            path = ".".join(str(p) for p in error.absolute_path)
            if error.validator == "additionalProperties" and not path:
                continue  # reported per field above
            if error.validator == "required":
                missing = error.message.split("'")[1] if "'" in error.message else ""
                path = ".".join(filter(None, [path, missing]))
            _add(errors, path, _describe(error))
    except PatternWorkSpent:
        _add(errors, "", _("The submission's text is too long to check against this form's patterns."))
    except PatternError:
        # Only a form deployed before patterns were checked with RE2 can get here.
        _add(
            errors,
            "",
            _(
                "This form has a pattern that cannot be checked; "
                "the form must be corrected and deployed again."
            ),
        )
    finally:
        pattern_budget.reset(budget)
    if errors:
        raise FormValidationError(errors)
    # Omitted fields take the form's defaults, so scripts can rely on every declared list existing.
    return {
        **{k: v["default"] for k, v in declared.items() if isinstance(v, dict) and "default" in v},
        **data,
    }


def _add(errors: dict[str, list[str]], path: str, message: str) -> None:
    messages = errors.setdefault(path, [])
    if message not in messages:
        messages.append(message)


def _check_plain_values(data: dict, errors: dict[str, list[str]]) -> None:
    """Note every NaN or infinite number, and values nested too deep, by path (iteratively)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, (dict, list, tuple)):
            if len(path) >= MAX_SUBMISSION_DEPTH:
                _add(
                    errors,
                    ".".join(path),
                    _("The data nests deeper than %(limit)s levels.") % {"limit": MAX_SUBMISSION_DEPTH},
                )
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((item, (*path, str(key))) for key, item in items)
        elif isinstance(value, (float, Decimal)) and not _is_finite(value):
            _add(errors, ".".join(path), _("Enter a finite number (not NaN or infinity)."))


def _is_finite(number: float | Decimal) -> bool:
    return number.is_finite() if isinstance(number, Decimal) else math.isfinite(number)


def _undeclared_field_problem(schema: dict, key: Any, protected: Collection[str]) -> str | None:
    if not isinstance(key, str) or not _admits_undeclared(schema, key):
        return _("This form has no such field.")
    if not IDENTIFIER.fullmatch(key):
        return _(
            "A field the form does not declare must be named with a letter, then letters, digits or '_'."
        )
    if key in RESERVED_NAMES:
        return _("This field name is reserved for a built-in function.")
    if key in protected:
        return _("This field would overwrite process data; the form does not declare it.")
    return None


def _admits_undeclared(schema: dict, key: str) -> bool:
    # Without "additionalProperties" a form is closed (unlike plain JSON Schema), unless
    # patternProperties or unevaluatedProperties open it.
    extra = schema.get("additionalProperties", False)
    if extra is not False:
        return True
    if any(search(pattern, key) for pattern in schema.get("patternProperties", {})):
        return True
    return "additionalProperties" not in schema and schema.get("unevaluatedProperties", False) is not False


def _describe(error: ValidationError) -> str:
    if isinstance(error, KeywordRefusal):
        return error.message
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
        "multipleOf": _("Must be a multiple of %(step)s.") % {"step": expected},
        "minLength": _("Must be at least %(limit)s characters.") % {"limit": expected},
        "maxLength": _("Must be at most %(limit)s characters.") % {"limit": expected},
        "minItems": _("Add at least %(limit)s entries.") % {"limit": expected},
        "maxItems": _("Add at most %(limit)s entries.") % {"limit": expected},
        "format": _("Not a valid %(format)s.") % {"format": _format_name(expected)},
        "pattern": _("Does not have the expected format."),
        "additionalProperties": _("This form has no such field."),
        "unevaluatedProperties": _("This form has no such field."),
        "unevaluatedItems": _("This list has entries the form does not allow."),
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
        "regex": _("regular expression"),
    }
    return names.get(expected, expected) if isinstance(expected, str) else str(expected)
