"""Task forms are JSON Schemas: checked at deploy, used to validate every submission.

Conventions: `title`/`description` are Simplified Chinese, `title_en`/`description_en` English;
labelled choices are `oneOf: [{"const": ..., "title": ..., "title_en": ...}]`. A form is closed
by default: only the fields it declares reach the task data, so a submission cannot set other
process variables. A form that opens itself at the top (`additionalProperties` true or a schema,
`patternProperties`, or `unevaluatedProperties` other than false) is warned about at deploy, and
an undeclared field must still be a plain, unreserved name that the process does not already use.

Forms and submissions both come from people, so nothing here may take time or stack out of
proportion to their size:
- every regular expression (`pattern`, `patternProperties`, `format: "regex"`) runs on RE2, which
  matches in linear time, and a submission's pattern work has a budget;
- a form's `$ref`s must be local JSON pointers that resolve and never loop, and the form expanded
  through them must stay small and shallow (checked at deploy, iteratively);
- keywords whose cost jsonschema makes grow faster than the submission (`uniqueItems`,
  `unevaluatedItems`, `unevaluatedProperties`) are reimplemented or bounded;
- NaN and infinities are refused before jsonschema sees them.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import string
from collections import deque
from collections.abc import Collection, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any
from urllib.parse import unquote

import re2
from django.utils.translation import gettext as _
from jsonschema import Draft3Validator, Draft4Validator, FormatChecker
from jsonschema._utils import find_evaluated_item_indexes_by_schema
from jsonschema.exceptions import SchemaError, ValidationError
from jsonschema.validators import extend, validator_for

from workflows.sandbox import RESERVED_NAMES, now, today

# Shown for user tasks whose diagram names no form (diagrams from other modelers).
DEFAULT_FORM: dict[str, Any] = {
    "type": "object",
    "title": "完成任务",
    "title_en": "Complete task",
    "properties": {},
}

# How deep a form's JSON may nest, and how deep the form may nest once its $refs are followed.
# Validation recurses once per level, so this keeps it far from Python's recursion limit.
MAX_SCHEMA_DEPTH = 64
# Schema parts a submission is checked against, with every $ref inlined (and the re-checks that
# unevaluatedProperties/unevaluatedItems make counted). The largest shipped form has about 50.
MAX_SCHEMA_SIZE = 5_000
# RE2 program instructions in one pattern: matching costs up to text length x this when RE2's
# cache of states overflows. `^.{1,200}$` is 1,801; the shipped `\S` is 44.
MAX_PATTERN_SIZE = 2_000
# Pattern work one submission may cause (characters matched x program size), about half a second
# in the worst case; a `\S` check on a 500-character answer uses about 22,000.
MAX_PATTERN_WORK = 20_000_000
# Entries `uniqueItems` compares; a longer list is refused rather than compared.
MAX_UNIQUE_ITEMS = 1_000
# How deep a submission may nest (jsonschema's error messages repr() the values they describe).
MAX_SUBMISSION_DEPTH = 64

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")  # used with fullmatch: `$` would allow a "\n"


class FormValidationError(Exception):
    """Submitted data does not match the task's form; `errors` maps field paths to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        summary = "; ".join(
            _("%(field)s: %(errors)s") % {"field": field or _("form"), "errors": ", ".join(msgs)}
            for field, msgs in errors.items()
        )
        super().__init__(summary)


class PatternError(ValueError):
    """A regular expression that RE2 cannot run; the message says why, for the form's author."""


# --- Checking a form at deploy ----------------------------------------------------------------

# Keywords whose value is a subschema, a list of subschemas, or a map of names to subschemas
# (all drafts: `items` may be a list before 2020-12, `dependencies` holds schemas or name lists).
_SUBSCHEMA = (
    "additionalProperties",
    "additionalItems",
    "items",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
    "unevaluatedItems",
)
_SUBSCHEMA_LIST = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
_SUBSCHEMA_MAP = ("properties", "patternProperties", "dependentSchemas", "dependencies")
# Only ever reached through a $ref, so they are checked but do not count as validated parts.
_DEFINITIONS = ("$defs", "definitions")
_UNEVALUATED = ("unevaluatedProperties", "unevaluatedItems")
_MAX_PATTERN_PROBLEMS = 10
_OPENING_KEYWORDS = ("additionalProperties", "patternProperties", "unevaluatedProperties")


def schema_problems(schema: dict) -> list[str]:
    """Everything wrong with a form schema, as messages (empty if it is usable)."""
    # Before anything recursive (the meta-schema check included) looks at it.
    if _nests_deeper_than(schema, MAX_SCHEMA_DEPTH):
        return [_("The form nests deeper than %(limit)s levels.") % {"limit": MAX_SCHEMA_DEPTH}]
    try:
        validator_for(schema).check_schema(schema, format_checker=_META_FORMAT_CHECKER)
    except SchemaError as exc:
        return [_("Not a valid JSON Schema: %(error)s") % {"error": exc.message}]
    problems = []
    if schema.get("type") != "object":
        problems.append(_('A form schema must have "type": "object" at the top.'))
    for name in schema.get("properties", {}):
        if not _IDENTIFIER.fullmatch(name):
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
    graph = _SchemaGraph(schema)
    problems.extend(graph.problems)
    if graph.resolved:
        problems.extend(_expansion_problems(schema, graph))
    return problems


def schema_warnings(schema: dict) -> list[str]:
    """What deploys but deserves a second look: a form open to fields it does not declare."""
    opened_by = [
        keyword
        for keyword in _OPENING_KEYWORDS
        if keyword in schema
        and schema[keyword] is not False
        # An empty patternProperties matches no field; an empty additionalProperties schema admits all.
        and not (keyword == "patternProperties" and not schema[keyword])
    ]
    return [
        _(
            'The form is open: "%(keyword)s" lets a submission add fields the form does not declare. '
            "They become process variables, unless the process already holds or reads a variable of "
            "that name."
        )
        % {"keyword": keyword}
        for keyword in opened_by
    ]


def _nests_deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _subschemas(node: dict) -> Iterator[tuple[str, tuple[str, ...], Any]]:
    """(keyword, pointer steps from `node`, subschema) for every subschema `node` applies."""
    for keyword in _SUBSCHEMA:
        if isinstance(node.get(keyword), (dict, bool)):
            yield keyword, (keyword,), node[keyword]
    for keyword in _SUBSCHEMA_LIST:
        if isinstance(node.get(keyword), list):
            for index, sub in enumerate(node[keyword]):
                if isinstance(sub, (dict, bool)):
                    yield keyword, (keyword, str(index)), sub
    for keyword in _SUBSCHEMA_MAP:
        if isinstance(node.get(keyword), dict):
            for name, sub in node[keyword].items():
                if isinstance(sub, (dict, bool)):
                    yield keyword, (keyword, name), sub


def _pointer(steps: tuple[str, ...]) -> str:
    """A JSON pointer as a form's author writes it in a $ref."""
    return "#" + "".join("/" + step.replace("~", "~0").replace("/", "~1") for step in steps)


@dataclass
class _Node:
    schema: dict
    path: tuple[str, ...]
    target: Any = None  # what its $ref points at (a dict or a bool), once resolved


class _SchemaGraph:
    """Every schema object in a form (walked iteratively, keyed by identity) with the problems of
    its references and patterns."""

    def __init__(self, schema: dict) -> None:
        self.root = schema
        self.nodes: dict[int, _Node] = {}
        self.problems: list[str] = []
        self.resolved = True  # every $ref resolved, so the expansion can be measured
        self._bad_patterns = 0
        # Draft 3 and 4 call `$id` plain `id`.
        self._id_keywords = (
            ("$id", "id") if validator_for(schema) in (Draft3Validator, Draft4Validator) else ("$id",)
        )
        queue: deque[tuple[Any, tuple[str, ...]]] = deque([(schema, ())])
        while queue:
            node, path = queue.popleft()
            if not isinstance(node, dict) or id(node) in self.nodes:
                continue
            self.nodes[id(node)] = entry = _Node(node, path)
            self._check(node, path)
            if "$ref" in node:
                target = self._resolve(node["$ref"], path)
                if target is None:
                    self.resolved = False
                else:
                    entry.target, steps = target
                    queue.append((entry.target, steps))
            queue.extend((sub, path + steps) for _keyword, steps, sub in _subschemas(node))
            for keyword in _DEFINITIONS:
                if isinstance(node.get(keyword), dict):
                    queue.extend((sub, (*path, keyword, name)) for name, sub in node[keyword].items())

    def path(self, node: dict) -> str:
        return _pointer(self.nodes[id(node)].path)

    def _check(self, node: dict, path: tuple[str, ...]) -> None:
        for keyword in ("$dynamicRef", "$recursiveRef"):
            if keyword in node:
                self.problems.append(
                    _("%(path)s: %(keyword)s is not supported in forms; use $ref.")
                    % {"path": _pointer(path), "keyword": keyword}
                )
                self.resolved = False
        for keyword in self._id_keywords:
            if path and isinstance(node.get(keyword), str):
                self.problems.append(
                    _("%(path)s: %(keyword)s is only allowed at the top of a form.")
                    % {"path": _pointer(path), "keyword": keyword}
                )
                self.resolved = False
        if isinstance(node.get("pattern"), str):
            self._check_pattern(node["pattern"], (*path, "pattern"))
        if isinstance(node.get("patternProperties"), dict):
            for pattern in node["patternProperties"]:
                self._check_pattern(pattern, (*path, "patternProperties", pattern))

    def _check_pattern(self, pattern: str, path: tuple[str, ...]) -> None:
        # Compiling a refused pattern can take milliseconds; a form full of them is not worth
        # compiling to the end, nor a list of thousands of problems.
        if self._bad_patterns > _MAX_PATTERN_PROBLEMS:
            return
        try:
            _compiled(pattern)
        except PatternError as exc:
            self._bad_patterns += 1
            if self._bad_patterns > _MAX_PATTERN_PROBLEMS:
                self.problems.append(_("The form has more unusable patterns; correct these first."))
                return
            self.problems.append(
                _("%(path)s: the pattern %(pattern)s cannot be used: %(reason)s.")
                % {"path": _pointer(path), "pattern": repr(pattern), "reason": exc}
            )

    def _resolve(self, ref: Any, path: tuple[str, ...]) -> tuple[Any, tuple[str, ...]] | None:
        """The schema a $ref points at and its pointer steps, or None after noting the problem.
        Mirrors `referencing`'s lookup of a local pointer, but refuses what it would read loosely
        (list indexes like "-1" or "01", steps into strings)."""
        where = _pointer(path)
        if not isinstance(ref, str):
            return None  # the meta-schema check has said so
        if not ref.startswith("#"):
            message = _("Form schemas may not reference other documents ($ref to a URL or file).")
            if message not in self.problems:
                self.problems.append(message)
            return None
        if ref != "#" and not ref.startswith("#/"):
            self.problems.append(
                _(
                    "%(path)s: $ref %(ref)s names an anchor; a form may only use references "
                    'like "#/$defs/name".'
                )
                % {"path": where, "ref": repr(ref)}
            )
            return None
        node: Any = self.root
        steps: list[str] = []
        for raw in unquote(ref[2:]).split("/") if ref != "#" else []:
            step = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and step in node:
                node = node[step]
            elif isinstance(node, list) and re.fullmatch(r"0|[1-9][0-9]{0,8}", raw) and int(raw) < len(node):
                node = node[int(raw)]
            else:
                self.problems.append(
                    _("%(path)s: $ref %(ref)s points at nothing in this form.")
                    % {"path": where, "ref": repr(ref)}
                )
                return None
            steps.append(step)
        if not isinstance(node, (dict, bool)):
            self.problems.append(
                _("%(path)s: $ref %(ref)s does not point at a schema.") % {"path": where, "ref": repr(ref)}
            )
            return None
        return node, tuple(steps)


def _expansion_problems(schema: dict, graph: _SchemaGraph) -> list[str]:
    """Refuse reference loops, and forms that grow too large or deep once references are inlined.

    One iterative depth-first pass over the schemas that validation applies, each schema measured
    once from its children's measures: `size` counts the parts validating one value visits (a
    $ref inlined), `find` the parts unevaluated* re-checks (as jsonschema's
    find_evaluated_*_by_schema do), `depth` the nesting. Measures stop growing past the limit, so
    a DAG that doubles at every level costs as little to measure as one that does not.
    """
    measures: dict[int, tuple[int, int, int]] = {}
    on_path: set[int] = set()
    # Loops among unused definitions are refused too: a later $ref could start using them.
    for start in (node.schema for node in graph.nodes.values()):
        if id(start) in measures:
            continue
        stack = [(start, _applied(start, graph))]
        on_path.add(id(start))
        while stack:
            node, children = stack[-1]
            for child in children:
                if not isinstance(child, dict) or id(child) in measures:
                    continue
                if id(child) in on_path:
                    return [_loop_message([n for n, _children in stack], child, graph)]
                on_path.add(id(child))
                stack.append((child, _applied(child, graph)))
                break
            else:
                stack.pop()
                on_path.discard(id(node))
                measures[id(node)] = _measure(node, graph, measures)
    size, _find, depth = measures[id(schema)]
    problems = []
    if depth > MAX_SCHEMA_DEPTH:
        problems.append(
            _("With its references followed, the form nests deeper than %(limit)s levels.")
            % {"limit": MAX_SCHEMA_DEPTH}
        )
    if size > MAX_SCHEMA_SIZE:
        problems.append(
            _(
                "The form is too large to check quickly: with every $ref inlined (and the parts "
                "unevaluatedProperties/unevaluatedItems check again) it has more than %(limit)s parts."
            )
            % {"limit": f"{MAX_SCHEMA_SIZE:,}"}
        )
    return problems


def _applied(node: dict, graph: _SchemaGraph) -> Iterator[Any]:
    yield from (sub for _keyword, _steps, sub in _subschemas(node))
    yield graph.nodes[id(node)].target


def _measure(
    node: dict, graph: _SchemaGraph, measures: dict[int, tuple[int, int, int]]
) -> tuple[int, int, int]:
    def of(sub: Any) -> tuple[int, int, int]:
        return measures[id(sub)] if isinstance(sub, dict) else (1, 1, 1)

    size, find, depth = 1, 1, 0
    for keyword, _steps, sub in _subschemas(node):
        sub_size, sub_find, sub_depth = of(sub)
        size, depth = size + sub_size, max(depth, sub_depth)
        if keyword in ("allOf", "anyOf", "oneOf", "if"):
            find += sub_size + sub_find  # validated, then searched for what it evaluated
        elif keyword in ("then", "else", "dependentSchemas", "dependencies"):
            find += sub_find
        elif keyword in ("additionalProperties", "unevaluatedProperties", "contains", "unevaluatedItems"):
            find += sub_size
    target = graph.nodes[id(node)].target
    if target is not None:
        target_size, target_find, target_depth = of(target)
        size, find, depth = size + target_size, find + target_find, max(depth, target_depth)
    size += find * sum(keyword in node for keyword in _UNEVALUATED)
    cap = MAX_SCHEMA_SIZE + 1
    return min(size, cap), min(find, cap), depth + 1


def _loop_message(path: list[dict], back_to: dict, graph: _SchemaGraph) -> str:
    """Name a loop by its references: where each $ref is and what it points at."""
    cycle = [*path[path.index(back_to) :], back_to]
    chain: list[str] = []
    for here, there in itertools.pairwise(cycle):
        if graph.nodes[id(here)].target is there:
            if not chain or chain[-1] != graph.path(here):
                chain.append(graph.path(here))
            chain.append(graph.path(there))
    return _("The references form a loop: %(chain)s.") % {"chain": " → ".join(chain)}


# --- Validating a submission ------------------------------------------------------------------


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
    budget = _pattern_budget.set([MAX_PATTERN_WORK])
    try:
        for key in data:
            if key not in declared:
                problem = _undeclared_field_problem(schema, key, protected)
                if problem:
                    _add(errors, key, problem)
        for error in _validator(schema).iter_errors(data):
            path = ".".join(str(p) for p in error.absolute_path)
            if error.validator == "additionalProperties" and not path:
                continue  # reported per field above
            if error.validator == "required":
                missing = error.message.split("'")[1] if "'" in error.message else ""
                path = ".".join(filter(None, [path, missing]))
            _add(errors, path, _describe(error))
    except _PatternWorkSpent:
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
        _pattern_budget.reset(budget)
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
    if not _IDENTIFIER.fullmatch(key):
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
    if any(_search(pattern, key) for pattern in schema.get("patternProperties", {})):
        return True
    return "additionalProperties" not in schema and schema.get("unevaluatedProperties", False) is not False


# --- The validator: jsonschema with RE2 and bounded keywords ----------------------------------


class _Refusal(ValidationError):
    """An error whose message is already written for the person filling in the form."""


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"does not match {pattern!r}")  # the value may be long; _describe words it


def _pattern_properties(
    validator: Any, patterns: dict, instance: Any, schema: dict
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, extra: Any, instance: Any, schema: dict
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    declared = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    extras = [key for key in instance if key not in declared and not any(_search(p, key) for p in patterns)]
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
        keys.update(k for k in instance if _search(pattern, k))
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
        yield _Refusal(
            _("Too many entries to check for duplicates: %(count)s; the limit is %(limit)s.")
            % {"count": f"{len(instance):,}", "limit": f"{MAX_UNIQUE_ITEMS:,}"}
        )
        return
    seen: set[tuple] = set()
    for item in instance:
        identity = _identity(item)
        if identity in seen:
            yield _Refusal(_("The entries must all be different."))
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


_BASE_MULTIPLE_OF = validator_for({}).VALIDATORS["multipleOf"]
_KEYWORDS = {
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


def _validator(schema: dict):
    # Forms are deployed once and read through a cache, so the same dict comes back each time;
    # building a validator is the costly part of validating.
    cached = _VALIDATORS.get(id(schema))
    if cached is None or cached[0] is not schema:
        if len(_VALIDATORS) > 512:
            _VALIDATORS.clear()
        cls = _validator_class(validator_for(schema))
        cached = (schema, cls(schema, format_checker=_FORMAT_CHECKER))
        _VALIDATORS[id(schema)] = cached
    return cached[1]


# --- Regular expressions on RE2 ---------------------------------------------------------------

# ECMA-262 (the dialect of JSON Schema patterns) reads \s as Unicode white space, which includes
# the ideographic space U+3000 typed with Chinese input methods; RE2's \s is ASCII only. RE2's
# \d, \w and \b are ASCII, as in ECMA-262.
_SPACES = (
    (0x9, 0xD),
    (0x20, 0x20),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
    (0xFEFF, 0xFEFF),
)


def _class_body(ranges: list[tuple[int, int]]) -> str:
    return "".join(f"\\x{{{lo:X}}}" if lo == hi else f"\\x{{{lo:X}}}-\\x{{{hi:X}}}" for lo, hi in ranges)


def _complement(ranges: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    gaps, start = [], 0
    for lo, hi in ranges:
        if lo > start:
            gaps.append((start, lo - 1))
        start = hi + 1
    return [*gaps, (start, 0x10FFFF)]


_SPACE = _class_body(list(_SPACES))
_NON_SPACE = _class_body(_complement(_SPACES))
_EMPTY_CLASS, _ANY_CLASS = r"[^\x{0}-\x{10FFFF}]", r"[\x{0}-\x{10FFFF}]"
_LOOKAROUND = ("(?=", "(?!", "(?<=", "(?<!")


def _re2_syntax(pattern: str) -> str:
    """An ECMA-262 pattern in RE2's syntax: `\\uXXXX` and `\\u{...}` become `\\x{...}`, `\\s`/`\\S`
    Unicode white space, `[]` and `[^]` RE2 classes; backreferences and lookaround are refused.
    Left as RE2 reads them: `.` (also matches \\r, U+2028, U+2029) and RE2-only syntax."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            if escaped == "u" and (code := _unicode_escape(pattern, i)):
                point, i = code
                out.append(f"\\x{{{point:X}}}")
                continue
            if escaped == "c" and i + 2 < len(pattern) and pattern[i + 2] in string.ascii_letters:
                out.append(f"\\x{{{ord(pattern[i + 2]) % 32:X}}}")
                i += 3
                continue
            if escaped in "123456789" or pattern.startswith("\\k<", i):
                raise PatternError(_("backreferences are not supported"))
            if escaped == "b" and in_class:
                out.append(r"\x{8}")  # backspace, as ECMA-262 reads it inside a class
            elif escaped == "s":
                out.append(_SPACE if in_class else f"[{_SPACE}]")
            elif escaped == "S":
                out.append(_NON_SPACE if in_class else f"[^{_SPACE}]")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            # In ECMA-262 "[]" matches nothing and "[^]" anything; RE2 reads "]" there as a literal.
            if pattern.startswith(("[]", "[^]"), i):
                empty = pattern.startswith("[]", i)
                out.append(_EMPTY_CLASS if empty else _ANY_CLASS)
                i += 2 if empty else 3
                continue
            in_class = True
            if pattern.startswith("[^", i):
                out.append("[^")
                i += 2
                continue
        elif char == "(" and pattern.startswith(_LOOKAROUND, i):
            raise PatternError(_("lookahead and lookbehind are not supported"))
        out.append(char)
        i += 1
    return "".join(out)


def _unicode_escape(pattern: str, i: int) -> tuple[int, int] | None:
    """The code point of a `\\u` escape at `i` and the index after it (a surrogate pair is one)."""
    if pattern.startswith("\\u{", i):
        end = pattern.find("}", i)
        digits = pattern[i + 3 : end]
        if end > i + 3 and all(c in string.hexdigits for c in digits) and int(digits, 16) <= 0x10FFFF:
            return int(digits, 16), end + 1
        return None
    digits = pattern[i + 2 : i + 6]
    if len(digits) != 4 or not all(c in string.hexdigits for c in digits):
        return None
    point, after = int(digits, 16), i + 6
    low = pattern[after + 2 : after + 6]
    if (
        0xD800 <= point <= 0xDBFF
        and pattern.startswith("\\u", after)
        and len(low) == 4
        and all(c in string.hexdigits for c in low)
        and 0xDC00 <= int(low, 16) <= 0xDFFF
    ):
        return 0x10000 + ((point - 0xD800) << 10) + (int(low, 16) - 0xDC00), after + 6
    return point, after


def _options(max_mem: int) -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # refusals are reported to the author, not to stderr
    options.max_mem = max_mem
    return options


# 1 MiB bounds each cached pattern's memory; the DFA then falls back to its linear-time NFA.
_PATTERN_OPTIONS = _options(1 << 20)
# A submitted regex is only compiled, never run; 256 KiB keeps re2's own cache of them small.
_SUBMITTED_REGEX_OPTIONS = _options(256 << 10)


@functools.lru_cache(maxsize=128)
def _compiled(pattern: str) -> tuple[Any, int]:
    try:
        regexp = re2.compile(_re2_syntax(pattern), _PATTERN_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else ""
        raise PatternError(
            reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
        ) from None
    if regexp.programsize > MAX_PATTERN_SIZE:
        raise PatternError(
            _(
                "it is too complex to check quickly (%(size)s steps; the limit is %(limit)s); use minLength "
                "and maxLength rather than long repetitions"
            )
            % {"size": f"{regexp.programsize:,}", "limit": f"{MAX_PATTERN_SIZE:,}"}
        )
    return regexp, regexp.programsize


class _PatternWorkSpent(Exception):
    """The submission has used up its budget of pattern work."""


# The work left for the submission being validated (a one-item list, so keywords can spend it).
_pattern_budget: ContextVar[list[int] | None] = ContextVar("form_pattern_budget", default=None)


def _search(pattern: str, text: str) -> bool:
    """Whether the ECMA-262 `pattern` matches somewhere in `text` (JSON Schema patterns are not
    anchored)."""
    regexp, size = _compiled(pattern)
    budget = _pattern_budget.get()
    if budget is not None:
        budget[0] -= size * max(len(text), 1)
        if budget[0] < 0:
            raise _PatternWorkSpent
    return regexp.search(text) is not None


_FORMAT_CHECKER = FormatChecker()


@_FORMAT_CHECKER.checks("regex", raises=(PatternError, re2.error))
def _is_regex(instance: object) -> bool:
    if isinstance(instance, str):
        re2.compile(_re2_syntax(instance), _SUBMITTED_REGEX_OPTIONS)
    return True


# The meta-schema's `format: regex` would compile a form's patterns with Python's `re`; the graph
# walk checks them with RE2 instead and says where they are.
_META_FORMAT_CHECKER = FormatChecker([name for name in FormatChecker.checkers if name != "regex"])


# --- Messages ---------------------------------------------------------------------------------


def _describe(error: ValidationError) -> str:
    if isinstance(error, _Refusal):
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
