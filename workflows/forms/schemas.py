"""Checking a form's schema at deploy: valid JSON Schema, a closed object of plain field names,
local references that resolve and never loop, patterns RE2 can run, and a size and depth that
stay small with every reference followed."""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from django.utils.translation import gettext as _
from jsonschema import Draft3Validator, Draft4Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from workflows.forms.patterns import META_FORMAT_CHECKER, PatternError, compiled
from workflows.sandbox import RESERVED_NAMES

# How deep a form's JSON may nest, and how deep the form may nest once its $refs are followed.
# Validation recurses once per level, so this keeps it far from Python's recursion limit.
MAX_SCHEMA_DEPTH = 64
# Schema parts a submission is checked against, with every $ref inlined (and the re-checks that
# unevaluatedProperties/unevaluatedItems make counted). The largest shipped form has about 50.
MAX_SCHEMA_SIZE = 5_000

IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")  # used with fullmatch: `$` would allow a "\n"

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
        validator_for(schema).check_schema(schema, format_checker=META_FORMAT_CHECKER)
    except SchemaError as exc:
        if not exc.path:
            return [_("Not a valid JSON Schema: %(error)s") % {"error": exc.message}]
        # Where the mistake is, as the other problems name it: the form editor's reader looks there.
        where = _pointer(tuple(str(step) for step in exc.path))
        return [_("Not a valid JSON Schema at %(path)s: %(error)s") % {"path": where, "error": exc.message}]
    problems = []
    if schema.get("type") != "object":
        problems.append(_('A form schema must have "type": "object" at the top.'))
    for name in schema.get("properties", {}):
        if not IDENTIFIER.fullmatch(name):
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
            compiled(pattern)
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
