"""A helper process: runs BPMN code for the engine behind OS limits that the code cannot lift.

Started by `workflows.sandbox.pool` as a fresh interpreter (`python -I`, an environment without the
server's settings or secrets, only stdin/stdout open). After loading what it needs it limits
itself - address space (`RLIMIT_AS`), no file written or opened, no socket, no process started,
no core dump - and then, for each request, its CPU time (`RLIMIT_CPU`, a SIGXCPU it cannot
catch). The engine also
kills it when a request outlasts the wall-clock limit. Either way the engine starts a new one.

Protocol: length-prefixed JSON on stdin/stdout (`wire`). The first message is `{"ready": true}`;
then one response per request. A request carries only the variables the code names.
"""

from __future__ import annotations

import json
import math
import os
import re
import resource
import sys
import traceback
from datetime import datetime
from typing import Any

_OUT = 1
_IN = 0
RETIRE_AFTER_REQUESTS = 10_000
_language: str | None = None


def main() -> None:
    config = json.loads(sys.argv[1])
    _configure_django(config)
    _import_runtime()
    from workflows.sandbox import policy, wire

    _warm_up(policy, config)
    global _IN, _OUT
    _IN, _OUT = _private_channel()
    baseline = _limit_resources(config["memory_mb"])
    wire.send(_OUT, json.dumps({"ready": True, "pid": os.getpid()}).encode())
    served = 0
    while True:
        try:
            request = wire.receive(_IN, max_bytes=config["max_message_bytes"])
        except wire.WireClosed:
            return  # the engine is gone or has retired this helper
        response, retire = _handle(request)
        served += 1
        if retire or served >= RETIRE_AFTER_REQUESTS:
            retire = True
        elif served % 32 == 0:
            # Memory a script left behind (fragmented, or cached by the allocator) is returned by
            # starting afresh once it reaches half the limit.
            grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - baseline
            retire = grown > config["memory_mb"] * 1024 * 1024 // 2
        if retire:
            response = response[:-1] + b',"retire":true}'
        wire.send(_OUT, response)
        if retire:
            return


def _configure_django(config: dict) -> None:
    sys.path.insert(0, config["base_dir"])
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        USE_I18N=True,
        USE_TZ=True,
        TIME_ZONE=config["time_zone"],
        LANGUAGE_CODE=config["language_code"],
        LANGUAGES=[tuple(pair) for pair in config["languages"]],
        LOCALE_PATHS=config["locale_paths"],
        INSTALLED_APPS=[],
        LOGGING_CONFIG=None,
    )
    import django

    django.setup()


def _import_runtime() -> None:
    """Bind, once Django is configured, what every request uses (imports inside the request loop
    would cost more than many requests do)."""
    global translation, clock, policy, wire, timer_values, bounds, errors, gettext
    from django.utils import translation
    from django.utils.translation import gettext

    from workflows import bounds, clock, timer_values
    from workflows.sandbox import errors, policy, wire


def _warm_up(policy: Any, config: dict) -> None:
    """Load everything a request can need while files may still be opened."""
    from django.utils import translation

    import workflows.timer_values  # noqa: F401
    from workflows.sandbox import wire  # noqa: F401

    for code, _name in config["languages"]:
        with translation.override(code):
            translation.gettext(code)  # loads the language's catalogues
    policy.evaluate("add_duration(today(), 'P1M') + str(days_between(now(), now()))", {})
    policy.execute("x = [1]\ntry:\n    y = x[2]\nexcept IndexError:\n    y = 0", {})
    re.compile(r"x").search("x")
    json.dumps(datetime.now().isoformat())


def _private_channel() -> tuple[int, int]:
    """Move the protocol pipes off fds 0 and 1, so nothing can write to the engine by accident."""
    inp, out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    return inp, out


def _limit_resources(memory_mb: int) -> int:
    """Apply the limits for the rest of the process's life; return the resident size now (bytes)."""
    address_space = _virtual_size() + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    # No descriptor beyond those open now: no file can be opened and no socket made, should code
    # ever get past the policy (everything a request needs was loaded by the warm-up).
    highest = max(int(fd) for fd in os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 1, highest + 1))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _virtual_size() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _limit_cpu(seconds: float) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    soft = math.ceil(used) + math.ceil(seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))


# --- one request --------------------------------------------------------------------------------------

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")


def _scrub(text: str) -> str:
    """Object reprs carry memory addresses; they say nothing to a person and leak the layout."""
    return _ADDRESS.sub(">", text) if " at 0x" in text else text


def _handle(raw: bytes) -> tuple[bytes, bool]:
    global _language
    request = json.loads(raw)
    _limit_cpu(request["cpu"])
    limits = bounds.DataLimits(*request["limits"])
    if request["language"] != _language:
        translation.activate(request["language"])
        _language = request["language"]
    retire = False
    with clock.frozen(datetime.fromisoformat(request["now"])):
        try:
            return _run(request, limits), False
        except errors.SubmissionRefused as exc:
            kind, error = "refused", exc
        except errors.ScriptPolicyError as exc:
            kind, error = "policy", exc
        except errors.ScriptLimitError as exc:
            kind, error = "limit", exc
        except MemoryError as exc:
            kind, error, retire = "memory", exc, True
        except RecursionError as exc:
            kind, error = "recursion", exc
        except bounds.DataRefused as exc:
            kind, error = "data", exc
        except Exception as exc:
            kind, error = "error", exc
        try:
            response = {
                "ok": False,
                "kind": kind,
                "type": type(error).__name__,
                "message": _scrub(_message(error))[:1000],
                "line": _line(error),
            }
            if isinstance(error, NameError) and isinstance(error.name, str):
                response["name"] = error.name[:200]
            return json.dumps(response, ensure_ascii=False).encode(), retire
        except MemoryError:
            return b'{"ok":false,"kind":"memory","type":"MemoryError","message":"","line":0}', True


def _message(error: BaseException) -> str:
    if isinstance(error, bounds.DataRefused):
        return error.reason  # it names the variable; the path inside it can be long
    if isinstance(error, KeyError) and len(error.args) == 1:
        return repr(error.args[0])  # what str(KeyError) shows
    return str(error.args[0]) if len(error.args) == 1 else str(error)


def _line(error: BaseException) -> int:
    line = 0
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == policy.SANDBOX_FILENAME:
            line = frame.lineno or 0
    return line


def _run(request: dict, limits: Any) -> bytes:
    op, code = request["op"], request["code"]
    if op == "check":
        policy.check_script(code) if request["mode"] == "exec" else policy.check_expression(code)
        return b'{"ok":true}'
    sent = request["data"]
    external = request.get("external", {})
    scope = {key: wire.loads(text) for key, text in external.items()}
    scope.update((key, wire.loads(text)) for key, text in sent.items())
    if op == "eval":
        value = _checked_value(policy.evaluate(code, scope), request.get("check"), request)
        return b'{"ok":true,"value":' + _scrub(wire.dumps(value, limits)).encode() + b"}"
    variables, deleted = policy.execute(code, scope)
    changed = []
    for key, value in variables.items():
        if key in external and key not in sent:
            continue
        text = _scrub(_variable_text(key, value, limits))
        if text != sent.get(key):
            changed.append(f"{json.dumps(key, ensure_ascii=False)}:{text}")
    body = '{"ok":true,"set":{' + ",".join(changed) + '},"deleted":' + json.dumps(deleted) + "}"
    return body.encode()


def _variable_text(name: str, value: Any, limits: Any) -> str:
    try:
        return wire.dumps(value, limits)
    except bounds.DataRefused as exc:
        if not isinstance(value, (dict, list, tuple, *bounds.SCALARS)):
            raise bounds.DataRefused(
                name,
                gettext(
                    "The variable %(name)s holds a %(type)s, which cannot be stored in task data; "
                    "use numbers, text, lists or dictionaries."
                )
                % {"name": repr(name), "type": type(value).__name__},
            ) from None
        raise bounds.DataRefused(
            f"{name}.{exc.path}" if exc.path else name,
            gettext("The variable %(name)s cannot be stored: %(reason)s")
            % {"name": repr(name), "reason": exc.reason},
        ) from None


def _checked_value(value: Any, check: str | None, request: dict) -> Any:
    """An expression's value, made plain data and checked for what the engine will do with it."""
    if isinstance(value, (set, frozenset, range, type({}.keys()), type({}.values()), type({}.items()))):
        value = list(value)
    if check in timer_values.KINDS.values():
        bounds = timer_values.TimerBounds(*request["timer_bounds"])
        text = timer_values.check_timer_value(check, value, bounds)
        timer_values.run_spiff_parse(check, text, bounds)
        return text
    if check == "cardinality":
        count = (
            value if isinstance(value, int) else len(value) if isinstance(value, (list, tuple, dict)) else 0
        )
        if count > request["max_instances"]:
            raise errors.ScriptLimitError(
                gettext("The multi-instance would start %(count)s instances; the limit is %(limit)s.")
                % {"count": f"{count:,}", "limit": f"{request['max_instances']:,}"}
            )
    return value


if __name__ == "__main__":
    main()
