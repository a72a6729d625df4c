"""The validator for submissions: jsonschema, with the keywords whose cost could grow faster than
a submission replaced or bounded (patterns on RE2, duplicate checks in one pass, evaluated keys
in sets, exact multiples of huge numbers)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext as _
from jsonschema._utils import equal, find_evaluated_item_indexes_by_schema
from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend, validator_for

from workflows.forms.patterns import FORMAT_CHECKER, search

# Entries `uniqueItems` compares; a longer list is refused rather than compared.
MAX_UNIQUE_ITEMS = 1_000


class KeywordRefusal(ValidationError):
    """An error whose message is already written for the person filling in the form."""


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not search(pattern, instance):
        yield ValidationError(f"does not match {pattern!r}")  # the value may be long; _describe words it


def _pattern_properties(
    validator: Any, patterns: dict, instance: Any, schema: dict
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, extra: Any, instance: Any, schema: dict
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    declared = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    extras = [key for key in instance if key not in declared and not any(search(p, key) for p in patterns)]
    if validator.is_type(extra, "object"):
        for key in extras:
            yield from validator.descend(instance[key], extra, path=key)
    elif not extra and extras:
        yield ValidationError(
            f"Additional properties are not allowed ({sorted(extras, key=str)!r} unexpected)"
        )


def _unevaluated_properties(
    validator: Any, unevaluated: Any, instance: Any, schema: dict
) -> Iterator[ValidationError]:
    # jsonschema's version runs patternProperties on Python's `re` and tests membership in a list
    # (quadratic in the number of keys).
    if not validator.is_type(instance, "object"):
        return
    evaluated = _evaluated_keys(validator, instance, schema)
    for key, value in instance.items():
        if key in evaluated:
            continue
        if unevaluated is False:
            yield ValidationError(f"Unevaluated property {key!r} is not allowed", path=(key,))
        else:
            yield from validator.descend(value, unevaluated, path=key, schema_path=key)


def _evaluated_keys(validator: Any, instance: dict, schema: Any) -> set:
    """The keys of `instance` that `schema` evaluates: jsonschema's
    find_evaluated_property_keys_by_schema with RE2 and a set. Recurses once per schema level,
    which the deploy check keeps within MAX_SCHEMA_DEPTH."""
    if not isinstance(schema, dict):
        return set()
    keys: set = set()
    if "$ref" in schema:
        resolved = validator._resolver.lookup(schema["$ref"])
        inner = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
        keys |= _evaluated_keys(inner, instance, resolved.contents)
    if isinstance(schema.get("properties"), dict):
        keys |= schema["properties"].keys() & instance.keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        if keyword in schema:
            keys.update(k for k, v in instance.items() if _is_valid(validator.descend(v, schema[keyword])))
    for pattern in schema.get("patternProperties", {}):
        keys.update(k for k in instance if search(pattern, k))
    for key, dependent in schema.get("dependentSchemas", {}).items():
        if key in instance:
            keys |= _evaluated_keys(validator, instance, dependent)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(keyword, []):
            if _is_valid(validator.descend(instance, sub)):
                keys |= _evaluated_keys(validator, instance, sub)
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            keys |= _evaluated_keys(validator, instance, schema["if"])
            keys |= _evaluated_keys(validator, instance, schema.get("then"))
        else:
            keys |= _evaluated_keys(validator, instance, schema.get("else"))
    return keys


def _is_valid(errors: Iterator[ValidationError]) -> bool:
    return next(errors, None) is None


def _unevaluated_items(
    validator: Any, unevaluated: Any, instance: Any, schema: dict
) -> Iterator[ValidationError]:
    # jsonschema tests each index for membership in a list: quadratic in the number of entries.
    if not validator.is_type(instance, "array"):
        return
    evaluated = set(find_evaluated_item_indexes_by_schema(validator, instance, schema))
    if any(index not in evaluated for index in range(len(instance))):
        yield ValidationError("Unevaluated items are not allowed")


def _unique_items(validator: Any, unique: Any, instance: Any, schema: dict) -> Iterator[ValidationError]:
    # jsonschema compares unsortable entries (objects) pairwise, recursively: quadratic and deep.
    # Here each entry becomes a flat, hashable identity, so one pass over a set finds duplicates.
    if not unique or not validator.is_type(instance, "array"):
        return
    if len(instance) > MAX_UNIQUE_ITEMS:
        yield KeywordRefusal(
            _("Too many entries to check for duplicates: %(count)s; the limit is %(limit)s.")
            % {"count": f"{len(instance):,}", "limit": f"{MAX_UNIQUE_ITEMS:,}"}
        )
        return
    seen: set[tuple] = set()
    for item in instance:
        identity = _identity(item)
        if identity in seen:
            yield KeywordRefusal(_("The entries must all be different."))
            return
        seen.add(identity)


@dataclass(frozen=True)
class _Mark:
    token: tuple


_END_OBJECT, _END_ARRAY = _Mark(("}",)), _Mark(("]",))


def _identity(value: Any) -> tuple:
    """A flat tuple equal for exactly the values JSON Schema calls equal: 1 and 1.0 are, true and 1
    are not, key order does not matter. Built iteratively, so nesting cannot exhaust the stack."""
    tokens: list[tuple] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Mark):
            tokens.append(item.token)
        elif isinstance(item, dict):
            tokens.append(("{",))
            stack.append(_END_OBJECT)
            for key in sorted(item, key=str, reverse=True):
                stack.extend((item[key], _Mark(("key", key))))
        elif isinstance(item, (list, tuple)):
            tokens.append(("[",))
            stack.append(_END_ARRAY)
            stack.extend(reversed(item))
        elif isinstance(item, bool):
            tokens.append(("bool", item))
        elif isinstance(item, (int, float, Decimal)):
            tokens.append(("number", item))
        else:
            tokens.append(("value", item))
    return tuple(tokens)


def _multiple_of(validator: Any, step: Any, instance: Any, schema: dict) -> Iterator[ValidationError]:
    # jsonschema divides in floats first; an integer too large for a float raised OverflowError.
    try:
        yield from _BASE_MULTIPLE_OF(validator, step, instance, schema)
    except OverflowError:
        if (Fraction(instance) / Fraction(step)).denominator != 1:
            yield ValidationError(f"{instance!r} is not a multiple of {step}")


# Keys a labelled choice may carry besides its "const" (they do not take part in validation).
_ANNOTATIONS = frozenset({"const", "title", "title_en", "description", "description_en", "$comment"})


def _one_of(validator: Any, choices: Any, instance: Any, schema: dict) -> Iterator[ValidationError]:
    # Labelled choices (`oneOf` of `const`s) are the forms' usual select fields; jsonschema validates
    # every choice as a subschema of its own, which made them most of a form's checking time.
    constants = _constants(choices)
    if constants is None:
        yield from _BASE_ONE_OF(validator, choices, instance, schema)
        return
    matches = sum(1 for constant in constants if equal(instance, constant))
    if matches != 1:
        yield ValidationError(f"{instance!r} is not exactly one of the offered values")


def _constants(choices: Any) -> tuple | None:
    if not isinstance(choices, list) or not choices:
        return None
    if not all(isinstance(c, dict) and "const" in c and _ANNOTATIONS.issuperset(c) for c in choices):
        return None
    return tuple(c["const"] for c in choices)


_BASE_ONE_OF = validator_for({}).VALIDATORS["oneOf"]
_BASE_MULTIPLE_OF = validator_for({}).VALIDATORS["multipleOf"]
_KEYWORDS = {
    "oneOf": _one_of,
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
    "unevaluatedProperties": _unevaluated_properties,
    "unevaluatedItems": _unevaluated_items,
    "uniqueItems": _unique_items,
    "multipleOf": _multiple_of,
}


@functools.cache
def _validator_class(base: type) -> type:
    # Only keywords the draft has: a draft-04 form must not start honouring unevaluatedProperties.
    return extend(base, {k: f for k, f in _KEYWORDS.items() if k in base.VALIDATORS})


_VALIDATORS: dict[int, tuple[dict, Any]] = {}


def form_validator(schema: dict):
    # Forms are deployed once and read through a cache, so the same dict comes back each time;
    # building a validator is the costly part of validating.
    cached = _VALIDATORS.get(id(schema))
    if cached is None or cached[0] is not schema:
        if len(_VALIDATORS) > 512:
            _VALIDATORS.clear()
        cls = _validator_class(validator_for(schema))
        cached = (schema, cls(schema, format_checker=FORMAT_CHECKER))
        _VALIDATORS[id(schema)] = cached
    return cached[1]
