"""Straight-line code the engine runs itself, without a round trip to a helper process.

Most BPMN code is straight-line: a gateway condition comparing variables with constants
(`review_decision == "rework"`), a timer naming a variable (`summary_due_at`), a script assigning
a few values (`rework_count = rework_count + 1`, `summary_due_at = add_duration(visited_at,
"PT48H")`, a report dictionary). Its grammar here - constants, variables, comparisons, `and`/`or`/
`not`, `+`/`-`, indexing by a constant, list and dictionary displays, `x if c else y`, calls of a
few functions whose cost is bounded by their (bounded) arguments, assignments to plain names, and
one-level list comprehensions whose few operations per element name only the element - has no
loops, function definitions, attributes or imports. Such code cannot run for long or allocate
much: its cost is linear in its length and in the data it touches, which the data limits bound,
and each `+` is checked before it is made. It is interpreted from the syntax tree, never compiled
or `eval`-ed, and never changes task data unless all of it succeeds.

Anything else, and any case where Python would raise (a missing variable, values that do not
compare, an oversized result), goes to a helper process, so errors read exactly as they do there.
"""

from __future__ import annotations

import ast
import copy
import functools
import operator
from collections.abc import Callable
from typing import Any

from workflows.bounds import DataRefused, check_data, data_limits
from workflows.sandbox.errors import ScriptError
from workflows.sandbox.policy import MAX_SEQUENCE_LENGTH, days_between, now, parse_date, today

MAX_SOURCE = 2_000  # longer code is never simple enough to be worth parsing here
_MAX_ELEMENT_NODES = 16
_CONSTANTS = (str, int, float, bool, type(None))
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
# Values a variable may hold to be used here; anything else (a function the scope provides, say)
# is the helper's business.
_DATA = (str, int, float, bool, type(None), list, dict)


def _add_duration(value: Any, duration: Any) -> str:
    from workflows import timer_values
    from workflows.sandbox.policy import add_duration

    # Only a duration whose arithmetic is bounded (SpiffWorkflow walks its months one by one).
    timer_values.check_timer_value("duration", duration, timer_values.timer_bounds())
    return add_duration(value, duration)


# Each costs at most linear time in arguments the data limits bound; `round`, `sum`, `sorted` and
# the like are left to the helpers.
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "add_duration": _add_duration,
    "days_between": days_between,
    "now": now,
    "today": today,
    "parse_date": parse_date,
    "len": len,
    "str": str,
    "bool": bool,
    "abs": abs,
    "min": min,
    "max": max,
}


class NotSimple(Exception):
    """The code, or this run of it, is for a helper."""


@functools.lru_cache(maxsize=4096)
def _plan(source: str, mode: str) -> ast.AST | None:
    if len(source) > MAX_SOURCE:
        return None
    try:
        tree = ast.parse(source, mode=mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if mode == "eval":
        return tree.body if _expression(tree.body) else None
    return tree if tree.body and all(_statement(s) for s in tree.body) else None


def _statement(node: ast.stmt) -> bool:
    if isinstance(node, ast.Assign):
        return len(node.targets) == 1 and _target(node.targets[0]) and _expression(node.value)
    if isinstance(node, ast.AugAssign):
        return isinstance(node.op, (ast.Add, ast.Sub)) and _target(node.target) and _expression(node.value)
    return False


def _target(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and not node.id.startswith("_")


def _expression(node: ast.AST, loop: str | None = None) -> bool:
    """Whether `node` is in the grammar; inside a comprehension (`loop` names its variable) only
    that variable and constants may be named, so each element costs at most its own size."""

    def ok(child: ast.AST) -> bool:
        return _expression(child, loop)

    if isinstance(node, ast.Constant):
        return isinstance(node.value, _CONSTANTS)
    if isinstance(node, ast.Name):
        return not node.id.startswith("_") and (loop is None or node.id == loop)
    if isinstance(node, ast.Compare):
        return all(type(op) in _COMPARE for op in node.ops) and all(
            ok(n) for n in [node.left, *node.comparators]
        )
    if isinstance(node, ast.BoolOp):
        return all(ok(v) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, (ast.Not, ast.USub)) and ok(node.operand)
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, (ast.Add, ast.Sub)) and ok(node.left) and ok(node.right)
    if isinstance(node, ast.IfExp):
        return ok(node.test) and ok(node.body) and ok(node.orelse)
    if isinstance(node, ast.Subscript):
        index = node.slice
        return ok(node.value) and isinstance(index, ast.Constant) and isinstance(index.value, (str, int))
    if isinstance(node, ast.List):
        return all(ok(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys) and all(
            ok(v) for v in node.values
        )
    if isinstance(node, ast.Call):
        return (
            isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
            and not node.keywords
            and all(ok(a) for a in node.args)
        )
    if isinstance(node, ast.ListComp) and loop is None and len(node.generators) == 1:
        generator = node.generators[0]
        return (
            not generator.is_async
            and _target(generator.target)
            and _expression(generator.iter)
            and all(
                _small(part) and _expression(part, generator.target.id) for part in [node.elt, *generator.ifs]
            )
        )
    return False


def _small(node: ast.AST) -> bool:
    # What a comprehension does per element: a few operations, so the work stays a small multiple
    # of the data it walks.
    return sum(1 for _ in ast.walk(node)) <= _MAX_ELEMENT_NODES


def evaluate(source: str, data: dict[str, Any], external: dict[str, Any]) -> Any:
    """The value of the expression `source` over `data` (first) and `external`, or NotSimple."""
    tree = _plan(source.strip(), "eval")
    if tree is None:
        raise NotSimple()
    return _run(lambda: _value(tree, _Scope(data, external)))


def execute(source: str, data: dict[str, Any], external: dict[str, Any]) -> dict[str, Any]:
    """The variables the script `source` assigns (not yet stored anywhere), or NotSimple."""
    tree = _plan(source, "exec")
    if tree is None:
        raise NotSimple()
    scope = _Scope(data, external)

    def run() -> dict[str, Any]:
        for statement in tree.body:
            if isinstance(statement, ast.Assign):
                scope.assigned[statement.targets[0].id] = _value(statement.value, scope)
            else:
                name = statement.target.id
                scope.assigned[name] = _binary(statement.op, scope.get(name), _value(statement.value, scope))
        # Checked before copying (shared parts count each time they appear), then copied: a
        # variable never shares a list or dictionary with another one.
        check_data(scope.assigned, data_limits())
        return {key: copy.deepcopy(value) for key, value in scope.assigned.items()}

    return _run(run)


def _run(work: Callable[[], Any]) -> Any:
    try:
        return work()
    except (NotSimple, DataRefused, ScriptError, ArithmeticError, LookupError, TypeError, ValueError):
        raise NotSimple() from None


class _Scope:
    def __init__(self, data: dict[str, Any], external: dict[str, Any]) -> None:
        self.data, self.external, self.assigned = data, external, {}

    def get(self, name: str) -> Any:
        for variables in (self.assigned, self.data, self.external):
            if name in variables:
                if not isinstance(variables[name], _DATA):
                    raise NotSimple()
                return variables[name]
        raise NotSimple()  # a NameError, or a builtin: the helper's to say

    def shadows(self, name: str) -> bool:
        return name in self.assigned or name in self.data or name in self.external


def _value(node: ast.AST, scope: _Scope) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return scope.get(node.id)
    if isinstance(node, ast.Compare):
        left = _value(node.left, scope)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _value(comparator, scope)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.BoolOp):
        result = None
        for value in node.values:
            result = _value(value, scope)
            if isinstance(node.op, ast.And) != bool(result):
                return result
        return result
    if isinstance(node, ast.UnaryOp):
        operand = _value(node.operand, scope)
        if isinstance(node.op, ast.Not):
            return not operand
        if not isinstance(operand, (int, float)):
            raise NotSimple()
        return -operand
    if isinstance(node, ast.BinOp):
        return _binary(node.op, _value(node.left, scope), _value(node.right, scope))
    if isinstance(node, ast.IfExp):
        return _value(node.body if _value(node.test, scope) else node.orelse, scope)
    if isinstance(node, ast.Subscript):
        container = _value(node.value, scope)
        if not isinstance(container, (dict, list, str)):
            raise NotSimple()
        return container[node.slice.value]
    if isinstance(node, ast.List):
        return [_value(e, scope) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {k.value: _value(v, scope) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.ListComp):
        generator = node.generators[0]
        items = _value(generator.iter, scope)
        if not isinstance(items, (list, dict, str)):
            raise NotSimple()
        result = []
        for item in items:
            inner = _Scope({generator.target.id: item}, {})
            if all(_value(condition, inner) for condition in generator.ifs):
                result.append(_value(node.elt, inner))
        return result
    if scope.shadows(node.func.id):
        raise NotSimple()  # a variable by that name: the helper calls it (and fails) as Python would
    return _FUNCTIONS[node.func.id](*[_value(a, scope) for a in node.args])


def _binary(op: ast.operator, left: Any, right: Any) -> Any:
    numbers = (int, float)
    if isinstance(left, bool) or isinstance(right, bool):
        raise NotSimple()
    if isinstance(left, numbers) and isinstance(right, numbers):
        return left + right if isinstance(op, ast.Add) else left - right
    if isinstance(op, ast.Add) and type(left) is type(right) and isinstance(left, (str, list)):
        if len(left) + len(right) > MAX_SEQUENCE_LENGTH:
            raise NotSimple()  # the helper refuses it with the guard's message
        return left + right
    raise NotSimple()
