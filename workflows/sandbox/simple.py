"""Expressions simple enough for the engine to decide without a helper process.

Most gateway conditions and many timer expressions are a variable, a constant, or variables
compared with constants (`review_decision == "rework"`, `amount > 1000 and not urgent`,
`summary_due_at`). Their grammar - names, constants, comparisons, `and`/`or`/`not`, a unary minus -
has no calls, loops, attributes, subscripts or arithmetic: it cannot run for long or allocate, and
its cost is linear in the compared values, which the data limits bound. They are interpreted here
from the syntax tree (never compiled or `eval`-ed) and save a round trip to a helper. Anything
else, and any case where Python would raise (a missing variable, values that do not compare),
goes to a helper, so errors read exactly as they would there.
"""

from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Callable
from typing import Any

MAX_SOURCE = 300  # longer expressions are never simple enough to be worth parsing here
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
_DATA = (str, int, float, bool, type(None), list, tuple, dict)


class NotSimple(Exception):
    """The expression, or this evaluation of it, is for a helper."""


@functools.lru_cache(maxsize=4096)
def _plan(source: str) -> ast.expr | None:
    if len(source) > MAX_SOURCE:
        return None
    try:
        tree = ast.parse(source, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return tree if _simple(tree) else None


def _simple(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, _CONSTANTS)
    if isinstance(node, ast.Name):
        return not node.id.startswith("_")
    if isinstance(node, ast.Compare):
        return all(type(op) in _COMPARE for op in node.ops) and all(
            _simple(n) for n in [node.left, *node.comparators]
        )
    if isinstance(node, ast.BoolOp):
        return all(_simple(v) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            return _simple(node.operand)
        return isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
    return False


def evaluate(source: str, data: dict[str, Any], external: dict[str, Any]) -> Any:
    """The value of `source` over the variables `data` (first) and `external`, or NotSimple."""
    tree = _plan(source.strip())
    if tree is None:
        raise NotSimple()
    try:
        return _value(tree, data, external)
    except NotSimple:
        raise
    except Exception:
        raise NotSimple() from None


def _value(node: ast.expr, data: dict[str, Any], external: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        scope = data if node.id in data else external
        if not isinstance(scope.get(node.id, evaluate), _DATA):
            raise NotSimple()  # a builtin, a function, or a NameError the helper words
        return scope[node.id]
    if isinstance(node, ast.Compare):
        left = _value(node.left, data, external)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _value(comparator, data, external)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.BoolOp):
        result = None
        for value in node.values:
            result = _value(value, data, external)
            if isinstance(node.op, ast.And) != bool(result):
                return result
        return result
    if isinstance(node.op, ast.Not):
        return not _value(node.operand, data, external)
    return -node.operand.value
