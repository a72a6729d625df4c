"""SpiffWorkflow's script environment, with every evaluation sent to a helper process.

SpiffWorkflow calls `evaluate` for conditions, timer, cardinality, loop, payload, correlation and
DMN expressions and `execute` for scripts. Each call becomes one request to a helper (`pool`),
carrying only the variables the code names; the answer comes back as plain data, is checked
against the data limits again, and an error comes back as an exception of the same kind, so
SpiffWorkflow reports it as it would its own.
"""

from __future__ import annotations

import builtins
import functools
import re
import unicodedata
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment

from workflows import clock, timer_values
from workflows.bounds import DataRefused, check_data, data_limits
from workflows.sandbox import simple, wire
from workflows.sandbox.errors import (
    ScriptError,
    ScriptLimitError,
    ScriptPolicyError,
    SubmissionRefused,
)
from workflows.sandbox.policy import SCRIPT_FUNCTIONS
from workflows.sandbox.pool import pool

_IDENTIFIER = re.compile(r"[^\W\d]\w*")
# Exceptions a script may raise that reach SpiffWorkflow as themselves; anything else arrives as a
# ScriptError naming it. Not the ones that steer control flow or mean "the interpreter failed".
_NOT_REPORTED = frozenset(
    {"StopIteration", "StopAsyncIteration", "SyntaxError", "IndentationError", "TabError", "MemoryError"}
)
_REPORTED = {
    name: cls
    for name, cls in vars(builtins).items()
    if isinstance(cls, type)
    and issubclass(cls, Exception)
    and not issubclass(cls, OSError)
    and name not in _NOT_REPORTED
}


@functools.lru_cache(maxsize=4096)
def names_in(source: str) -> frozenset[str]:
    """Every identifier-like word in `source` (a superset of the variables it reads), normalised the
    way Python normalises identifiers. Never parses the code: that happens in the helper."""
    return frozenset(
        word if word.isascii() else unicodedata.normalize("NFKC", word)
        for word in _IDENTIFIER.findall(source)
    )


class SandboxEnvironment(TaskDataEnvironment):
    """Runs BPMN code in helper processes; `check` names what the engine will do with a value."""

    def __init__(self, time_limit_seconds: float | None = None) -> None:
        # Only the names matter here: data may not overwrite a script function (SpiffWorkflow's check).
        super().__init__(dict.fromkeys(SCRIPT_FUNCTIONS))
        self.time_limit_seconds = time_limit_seconds

    def evaluate(
        self,
        expression: str,
        context: dict,
        external_context: dict | None = None,
        *,
        check: str | None = None,
    ) -> Any:
        try:
            value = simple.evaluate(expression, context, external_context or {})
        except simple.NotSimple:
            value = self._run("eval", expression.strip(), context, external_context, check=check)["value"]
            _recheck(value)
        if check in timer_values.KINDS.values():
            value = timer_values.check_timer_value(check, value, timer_values.timer_bounds())
        return value

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        external = external_context or {}
        self.check_for_overwrite(context, external)
        try:
            assigned = simple.execute(script, context, external)
        except simple.NotSimple:
            pass
        else:
            # As in a helper: a variable only the external context has is not stored.
            context.update((k, v) for k, v in assigned.items() if k in context or k not in external)
            return True
        response = self._run("exec", script, context, external_context)
        changed = response["set"]
        _recheck(changed)
        for key in response["deleted"]:
            if isinstance(key, str):
                context.pop(key, None)
        context.update((k, v) for k, v in changed.items() if not k.startswith("_"))
        return True

    def _run(
        self, op: str, code: str, context: dict, external_context: dict | None, *, check: str | None = None
    ) -> dict:
        names = names_in(code)
        limits = data_limits()
        data = _encoded(context, names, limits)
        external = {k: v for k, v in _encoded(external_context or {}, names, limits).items() if k not in data}
        seconds = self.time_limit_seconds or settings.WORKFLOWS["SCRIPT_TIME_LIMIT"]
        request = _request(op, code, limits, seconds)
        request.update(data=data, external=external, check=check)
        return _answer(pool().run(request, seconds=seconds))


def check_code(source: str, *, script: bool) -> None:
    """Raise ScriptPolicyError if `source` is not code the sandbox would run (compiled in a helper,
    so hostile code cannot exhaust the caller)."""
    seconds = settings.WORKFLOWS["SCRIPT_TIME_LIMIT"]
    request = _request("check", source, data_limits(), seconds)
    request["mode"] = "exec" if script else "eval"
    _answer(pool().run(request, seconds=seconds))


def _request(op: str, code: str, limits: Any, seconds: float) -> dict:
    config = settings.WORKFLOWS
    return {
        "op": op,
        "code": code,
        "now": clock.now().isoformat(),
        "language": translation.get_language() or settings.LANGUAGE_CODE,
        "cpu": seconds,
        "limits": limits.as_list(),
        "timer_bounds": [config["MIN_TIMER_CYCLE_SECONDS"], config["MAX_TIMER_SPAN_DAYS"]],
        "max_instances": config["MAX_MULTI_INSTANCE"],
    }


def _encoded(values: dict, names: frozenset[str], limits: Any) -> dict[str, str]:
    encoded = {}
    for key in names.intersection(values):
        if key.startswith("_"):
            continue  # task data can never reach the guards
        try:
            encoded[key] = wire.dumps(values[key], limits)
        except DataRefused as exc:
            raise ScriptError(
                _("The variable %(name)s cannot be used by scripts: %(reason)s")
                % {"name": repr(key), "reason": exc}
            ) from None
    return encoded


def _recheck(value: Any) -> None:
    """A helper is not trusted to have kept to the limits."""
    try:
        check_data(value, data_limits())
    except DataRefused as exc:
        raise ScriptLimitError(str(exc)) from None


def _answer(response: dict) -> dict:
    if response.get("ok") is True:
        return response
    kind = response.get("kind")
    message = str(response.get("message", ""))
    line = response.get("line") if isinstance(response.get("line"), int) else 0
    if kind == "refused":
        raise SubmissionRefused(message)
    if kind == "policy":
        raise ScriptPolicyError(message)
    if kind == "limit":
        raise ScriptLimitError(message)
    if kind == "memory":
        raise ScriptLimitError(
            _("The script needed more than the %(limit)s MB of memory scripts may use.")
            % {"limit": settings.WORKFLOWS["SCRIPT_MEMORY_MB"]}
        )
    if kind == "recursion":
        raise _with_line(
            ScriptLimitError(
                _("The script went too deep (recursion or nesting): %(error)s") % {"error": message}
            ),
            line,
        )
    if kind == "error" and response.get("type") in _REPORTED:
        error = _reported_class(response["type"])(message)
        if isinstance(error, NameError) and isinstance(response.get("name"), str):
            error.name = response["name"]
        raise _with_line(error, line)
    raise _with_line(
        ScriptError(f"{response.get('type', 'Error')}: {message}" if kind == "error" else message), line
    )


def _with_line(error: Exception, line: int) -> Exception:
    error.sandbox_line = line  # the script's own line, for SpiffWorkflow's error report
    return error


@functools.cache
def _reported_class(name: str) -> type[Exception]:
    # The builtin class (so `except KeyError` and SpiffWorkflow's NameError hints still work) whose
    # text is exactly what the script saw.
    base = _REPORTED[name]
    return type(
        name,
        (base,),
        {"__str__": lambda self: str(self.args[0]) if self.args else "", "__module__": "builtins"},
    )
