"""The first wall around BPMN code: what it may say and what it may call.

Scripts, conditions and every other expression are compiled by RestrictedPython with a stricter
policy (no imports, no names or attributes starting with `_`, no introspection builtins), operators
that could allocate or compute without bound go through size guards, f-string widths are capped,
and the code runs with an explicit whitelist of builtins and functions. An exception handler in the
code cannot swallow running out of memory or recursion.

This module runs inside the helper processes (`workflows.sandbox.helper`), behind the second wall:
the OS limits on CPU, memory and wall-clock time that no code can catch or switch off.
"""

from __future__ import annotations

import ast
import functools
import math
import re
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext as _
from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from RestrictedPython.Limits import limited_list, limited_range, limited_tuple
from RestrictedPython.PrintCollector import PrintCollector

from workflows import clock
from workflows.sandbox.errors import ScriptError, ScriptLimitError, ScriptPolicyError, SubmissionRefused

SANDBOX_FILENAME = "<bpmn-script>"
MAX_SEQUENCE_LENGTH = 100_000  # characters or items one operation may produce
MAX_INT_BITS = 4_096
MAX_FORMAT_WIDTH = 1_000
_PADDING_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})


# --- compiling ------------------------------------------------------------------------------

_GUARDED_OPERATORS = {
    ast.Add: "_add_",
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
}


# Builtins with no place in a BPMN expression; refused by name at compile time (so at deploy) rather
# than failing at run time. Names that are also common data fields (id, type, input...) stay usable.
FORBIDDEN_NAMES = frozenset(
    {
        "open",
        "eval",
        "exec",
        "compile",
        "globals",
        "locals",
        "vars",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "breakpoint",
        "memoryview",
        "classmethod",
        "staticmethod",
        "super",
        "exit",
        "quit",
        "dir",
        "__import__",
        "__builtins__",
        "__loader__",
        "__spec__",
    }
)


class SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus forbidden builtins, guarded arithmetic and bounded f-string
    format specs."""

    def visit_Import(self, node: ast.Import) -> ast.AST:
        self.error(node, _("Imports are not allowed in BPMN scripts; ask for a service task instead."))
        return node

    visit_ImportFrom = visit_Import

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in FORBIDDEN_NAMES:
            self.error(
                node, _('"%(name)s" is not available in BPMN scripts and expressions.') % {"name": node.id}
            )
        return super().visit_Name(node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        guard = _GUARDED_OPERATORS.get(type(node.op))
        if guard is None:
            return node
        func = ast.copy_location(ast.Name(guard, ast.Load()), node)
        call = ast.Call(func=func, args=[node.left, node.right], keywords=[])
        return ast.copy_location(call, node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        spec = node.format_spec
        if spec is not None:
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            if not all(isinstance(p, ast.Constant) and isinstance(p.value, str) for p in parts):
                self.error(node, _("Format specifications must be fixed text."))
            elif any(int(n) > MAX_FORMAT_WIDTH for p in parts for n in re.findall(r"\d+", p.value)):
                self.error(node, _format_widths_refused())
        return self.node_contents_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        # Every handler first re-raises what no code may swallow (running out of memory, recursion).
        node = super().visit_ExceptHandler(node)
        check = ast.Expr(ast.Call(func=ast.Name("_check_caught_", ast.Load()), args=[], keywords=[]))
        node.body.insert(0, ast.fix_missing_locations(ast.copy_location(check, node)))
        return node


@functools.lru_cache(maxsize=4096)
def _compile(source: str, mode: str):
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        result = compiler(source, filename=SANDBOX_FILENAME, policy=SandboxPolicy)
    except (RecursionError, MemoryError):
        raise ScriptPolicyError(_("The code is nested too deeply to run.")) from None
    except ValueError as exc:  # e.g. a NUL character in the source
        raise ScriptPolicyError(str(exc)) from None
    if result.errors:
        raise ScriptPolicyError("; ".join(_clean_compile_error(e) for e in result.errors))
    return result.code


def _clean_compile_error(message: str) -> str:
    # RestrictedPython prefixes "Line N: "; keep it, it points the author at the problem.
    message = re.sub(r"^Line (\d+): ", lambda m: _("Line %(line)s: ") % {"line": m.group(1)}, message)
    return message.replace(SANDBOX_FILENAME, "script")


def check_expression(source: str) -> None:
    """Raise ScriptPolicyError if `source` is not an expression the sandbox would run."""
    _compile(source, "eval")


def check_script(source: str) -> None:
    """Raise ScriptPolicyError if `source` is not a script the sandbox would run."""
    _compile(source, "exec")


# --- guards -------------------------------------------------------------------------------

_SEQUENCES = (str, bytes, list, tuple)


def _too_large(what: str) -> ScriptLimitError:
    messages = {
        "concatenation": _("The concatenation would be too large (limit %(limit)s items)."),
        "repetition": _("The repetition would be too large (limit %(limit)s items)."),
        "replacement": _("The replacement would be too large (limit %(limit)s items)."),
    }
    return ScriptLimitError(messages[what] % {"limit": f"{MAX_SEQUENCE_LENGTH:,}"})


def _numbers_too_large() -> ScriptLimitError:
    return ScriptLimitError(_("Numbers are limited to %(bits)s bits.") % {"bits": MAX_INT_BITS})


def _format_widths_refused() -> str:
    return _("Format widths above %(limit)s are not allowed.") % {"limit": MAX_FORMAT_WIDTH}


def _check_int(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise _numbers_too_large()
    return value


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES) and len(a) + len(b) > MAX_SEQUENCE_LENGTH:
        raise _too_large("concatenation")
    return _check_int(a + b)


def _mul(a: Any, b: Any) -> Any:
    for seq, times in ((a, b), (b, a)):
        if isinstance(seq, _SEQUENCES) and isinstance(times, int):
            if len(seq) * max(times, 0) > MAX_SEQUENCE_LENGTH:
                raise _too_large("repetition")
            return seq * times
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS:
        raise _numbers_too_large()
    return a * b


def _pow(a: Any, b: Any) -> Any:
    if (
        isinstance(a, int)
        and isinstance(b, int)
        and b > 0
        and abs(a) > 1
        and b * a.bit_length() > MAX_INT_BITS
    ):
        raise _numbers_too_large()
    return a**b


def _lshift(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b + a.bit_length() > MAX_INT_BITS:
        raise _numbers_too_large()
    return a << b


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, (str, bytes)):
        text = a if isinstance(a, str) else a.decode("latin-1")
        if any(int(n) > MAX_FORMAT_WIDTH for n in re.findall(r"%[-+ #0]*(\d+)", text)):
            raise ScriptLimitError(_format_widths_refused())
        if any(int(n) > MAX_FORMAT_WIDTH for n in re.findall(r"%[-+ #0]*\d*\.(\d+)", text)):
            raise ScriptLimitError(
                _("Format precisions above %(limit)s are not allowed.") % {"limit": MAX_FORMAT_WIDTH}
            )
    return a % b


_INPLACE = {
    "+=": _add,
    "*=": _mul,
    "**=": _pow,
    "<<=": _lshift,
    "%=": _mod,
    "-=": lambda a, b: a - b,
    "/=": lambda a, b: a / b,
    "//=": lambda a, b: a // b,
    ">>=": lambda a, b: a >> b,
    "&=": lambda a, b: a & b,
    "|=": lambda a, b: a | b,
    "^=": lambda a, b: a ^ b,
}


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    try:
        return _INPLACE[op](target, value)
    except KeyError:
        raise ScriptPolicyError(_("The operator %(operator)s is not allowed.") % {"operator": op}) from None


def _guarded_replace(text: str | bytes, old: Any, new: Any, count: int = -1) -> Any:
    occurrences = text.count(old) if count < 0 else min(count, text.count(old))
    if len(text) + occurrences * max(len(new) - len(old), 0) > MAX_SEQUENCE_LENGTH:
        raise _too_large("replacement")
    return text.replace(old, new, count)


def _getattr(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, (str, bytes)):
        if name in _PADDING_METHODS:
            raise ScriptPolicyError(_("The string method %(method)s() is not allowed.") % {"method": name})
        if name == "replace":
            return functools.partial(_guarded_replace, obj)
    return safer_getattr(obj, name, default)


def _apply(func: Callable, *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def _check_caught() -> None:
    caught = sys.exc_info()[1]
    if isinstance(caught, (MemoryError, RecursionError, ScriptLimitError)):
        raise caught


# --- functions available to BPMN code -------------------------------------------------------


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, datetime.min.time())
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value)
    else:
        raise ScriptError(_("Expected a date or date-time, got %(type)s.") % {"type": type(value).__name__})
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.local_timezone())
    return moment


def add_duration(value: Any, duration: str) -> str:
    """`value` (ISO date or date-time) plus an ISO 8601 duration such as "PT48H" or "P7D", as ISO text."""
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

    start = _as_datetime(value)
    try:
        parsed = TimerEventDefinition.parse_iso_duration(duration)
    except Exception:
        raise ScriptError(
            _("%(duration)s is not an ISO 8601 duration (for example 'PT48H' or 'P7D').")
            % {"duration": repr(duration)}
        ) from None
    return (start + TimerEventDefinition.get_timedelta_from_start(parsed, start)).isoformat()


def days_between(start: Any, end: Any) -> int:
    """Whole days from `start` to `end` (negative if `end` is earlier)."""
    return (_as_datetime(end).date() - _as_datetime(start).date()).days


def now() -> str:
    """The engine's current time, ISO 8601 with the server's time zone."""
    return clock.now().astimezone(clock.local_timezone()).isoformat()


def today() -> str:
    """Today's date in the server's time zone, ISO 8601."""
    return clock.now().astimezone(clock.local_timezone()).date().isoformat()


def parse_date(value: Any) -> str:
    """Normalise a date or date-time to an ISO date."""
    return _as_datetime(value).date().isoformat()


def refuse(message: Any) -> None:
    """Refuse the submission of the task whose post-script calls this: the task stays open and the
    person sees `message`."""
    raise SubmissionRefused(str(message)[:500])


SCRIPT_FUNCTIONS: dict[str, Callable] = {
    "add_duration": add_duration,
    "days_between": days_between,
    "now": now,
    "today": today,
    "parse_date": parse_date,
    "refuse": refuse,
    "ceil": math.ceil,
    "floor": math.floor,
}

_SAFE_BUILTINS: dict[str, Any] = {
    "None": None,
    "True": True,
    "False": False,
    "abs": abs,
    "all": all,
    "any": any,
    "bool": bool,
    "chr": chr,
    "dict": dict,
    "divmod": divmod,
    "enumerate": enumerate,
    "filter": filter,
    "float": float,
    "int": int,
    "isinstance": isinstance,
    "len": len,
    "list": limited_list,
    "map": map,
    "max": max,
    "min": min,
    "ord": ord,
    "range": limited_range,
    "reversed": reversed,
    "round": round,
    "set": set,
    "sorted": sorted,
    "str": str,
    "sum": sum,
    "tuple": limited_tuple,
    "zip": zip,
    "frozenset": frozenset,
    "ArithmeticError": ArithmeticError,
    "Exception": Exception,
    "IndexError": IndexError,
    "KeyError": KeyError,
    "LookupError": LookupError,
    "TypeError": TypeError,
    "ValueError": ValueError,
    "ZeroDivisionError": ZeroDivisionError,
}

RESERVED_NAMES = frozenset(SCRIPT_FUNCTIONS) | frozenset(_SAFE_BUILTINS)


def _sandbox_globals() -> dict[str, Any]:
    return {
        "__builtins__": dict(_SAFE_BUILTINS),
        "_getattr_": _getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplacevar,
        "_apply_": _apply,
        "_print_": PrintCollector,
        "_add_": _add,
        "_mul_": _mul,
        "_pow_": _pow,
        "_lshift_": _lshift,
        "_mod_": _mod,
        "_check_caught_": _check_caught,
        **SCRIPT_FUNCTIONS,
    }


# --- running (inside a helper process) --------------------------------------------------------------

_GLOBALS = _sandbox_globals()
# Shared by every run: code can never name `__builtins__`, so none can change it.
_BUILTINS = _GLOBALS["__builtins__"]


def evaluate(source: str, data: dict[str, Any]) -> Any:
    """The value of the expression `source` over `data`."""
    code = _compile(source.strip(), "eval")
    scope = dict(_GLOBALS)
    scope.update(data)
    scope["__builtins__"] = _BUILTINS
    return eval(code, scope)  # noqa: S307 - compiled by RestrictedPython under the policy above


def execute(source: str, data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Run the script `source` over `data`; return the variables it leaves (functions excluded)
    and the names of the variables of `data` it deleted."""
    code = _compile(source, "exec")
    scope = dict(_GLOBALS)
    scope.update(data)
    scope["__builtins__"] = _BUILTINS
    exec(code, scope)  # noqa: S102 - compiled by RestrictedPython under the policy above
    variables = {
        key: value
        for key, value in scope.items()
        if not key.startswith("_") and key not in _GLOBALS and not callable(value)
    }
    return variables, [key for key in data if key not in scope]
