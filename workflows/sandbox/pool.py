"""The engine's side of the helper processes: start them ahead of need, give each request one,
enforce the wall-clock limit, and replace any helper that was killed, crashed or retired.

Each server process (a web worker, a background worker, a test run) has its own pool; a process
forked from one starts with an empty pool, because pipes to another process's helpers must not be
shared. Helpers are fresh interpreters (`python -I`), never forks of the server, so they hold none
of its memory, connections or secrets.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from workflows.sandbox import wire
from workflows.sandbox.errors import SandboxUnavailable, ScriptLimitError

logger = logging.getLogger("workflows")

STARTUP_TIMEOUT = 30.0  # seconds for a new helper to load; far above the ~0.3 s it takes


@dataclass(frozen=True)
class HelperConfig:
    memory_mb: int
    max_message_bytes: int
    time_zone: str
    language_code: str

    @classmethod
    def current(cls) -> HelperConfig:
        limits = settings.WORKFLOWS
        return cls(
            memory_mb=limits["SCRIPT_MEMORY_MB"],
            # A request carries variables of the task's data, an answer at most as much again.
            max_message_bytes=2 * max(limits["MAX_STATE_BYTES"], limits["MAX_DATA_BYTES"]) + 65_536,
            time_zone=settings.TIME_ZONE,
            language_code=settings.LANGUAGE_CODE,
        )

    def command(self) -> list[str]:
        base_dir = str(settings.BASE_DIR)
        config = {
            "base_dir": base_dir,
            "memory_mb": self.memory_mb,
            "max_message_bytes": self.max_message_bytes,
            "time_zone": self.time_zone,
            "language_code": self.language_code,
            "languages": [list(pair) for pair in settings.LANGUAGES],
            "locale_paths": [str(p) for p in settings.LOCALE_PATHS],
        }
        bootstrap = (
            f"import sys; sys.path.insert(0, {base_dir!r}); from workflows.sandbox.helper import main; main()"
        )
        return [sys.executable, "-I", "-c", bootstrap, json.dumps(config)]


class Helper:
    """One helper process, used by one request at a time."""

    def __init__(self, config: HelperConfig) -> None:
        self.config = config
        self.ready = False
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            config.command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
            cwd=str(settings.BASE_DIR),
            # Nothing of the server's environment (database URL, secret key) reaches diagram code.
            env={"PATH": os.defpath, "LANG": "C.UTF-8"},
            # Its own session: a Ctrl-C meant for the server does not hit a helper mid-request.
            start_new_session=True,
        )
        self._to = self.process.stdin.fileno()
        self._from = self.process.stdout.fileno()

    def call(self, request: bytes, *, seconds: float) -> bytes:
        """Send a request and wait at most `seconds` for the answer; the helper is dead after a
        ScriptLimitError or SandboxUnavailable."""
        if not self.ready:
            self._wait_until_ready()
        wire.send(self._to, request)
        try:
            return wire.receive(
                self._from, max_bytes=self.config.max_message_bytes, deadline=time.monotonic() + seconds
            )
        except wire.WireTimeout:
            self.kill()
            raise ScriptLimitError(
                _("The script ran longer than the %(seconds)s s limit.") % {"seconds": f"{seconds:g}"}
            ) from None
        except wire.WireClosed:
            raise self._death() from None
        except wire.WireError:
            self.kill()
            raise ScriptLimitError(_("The script's result is larger than the engine accepts.")) from None

    def _wait_until_ready(self) -> None:
        try:
            message = wire.receive(self._from, max_bytes=4096, deadline=time.monotonic() + STARTUP_TIMEOUT)
            if not json.loads(message).get("ready"):
                raise wire.WireError()
        except (wire.WireError, ValueError):
            self.kill()
            logger.error("A script helper process did not start (exit status %s)", self.process.returncode)
            raise SandboxUnavailable(
                _("The engine could not start a process to run the diagram's code; try again later.")
            ) from None
        self.ready = True

    def _death(self) -> ScriptLimitError:
        try:
            status = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:  # it closed its output but kept running
            self.kill()
            status = self.process.returncode
        if status == -signal.SIGXCPU:
            return ScriptLimitError(_("The script used more CPU time than its limit."))
        logger.warning("A script helper process ended with status %s", status)
        return ScriptLimitError(
            _(
                "The script stopped the process running it: it needed more than the %(limit)s MB of "
                "memory scripts may use, or went too deep."
            )
            % {"limit": self.config.memory_mb}
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.close()

    def close(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()

    def retire(self) -> None:
        """Let an idle helper finish: closing its input ends it."""
        self.close()
        try:
            self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.kill()


class HelperPool:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._idle: list[Helper] = []
        self._count = 0

    def run(self, request: dict[str, Any], *, seconds: float) -> dict[str, Any]:
        """Run one request in a helper and return its decoded response."""
        encoded = json.dumps(request, ensure_ascii=False).encode()
        if len(encoded) > HelperConfig.current().max_message_bytes:
            raise ScriptLimitError(_("The variables the code uses are too large to run it."))
        for attempt in range(2):
            helper = self._acquire()
            healthy = False
            try:
                raw = helper.call(encoded, seconds=seconds)
            except BrokenPipeError:
                # It died while idle (not this request's doing): once more with another one.
                helper.kill()
                self._release(helper, healthy=False)
                if attempt:
                    raise SandboxUnavailable(
                        _("The engine could not start a process to run the diagram's code; try again later.")
                    ) from None
                continue
            except BaseException:
                self._release(helper, healthy=False)
                raise
            try:
                response = wire.loads(raw)
                if not isinstance(response, dict):
                    raise wire.WireError()
                healthy = not response.get("retire")
                return response
            except (ValueError, TypeError, RecursionError, wire.WireError):
                raise ScriptLimitError(_("The script's result could not be read.")) from None
            finally:
                self._release(helper, healthy=healthy)
        raise AssertionError("unreachable")

    def _acquire(self) -> Helper:
        config = HelperConfig.current()
        with self._lock:
            while True:
                while self._idle:
                    helper = self._idle.pop()
                    if helper.config == config and helper.alive():
                        return helper
                    self._count -= 1
                    helper.retire() if helper.alive() else helper.kill()
                if self._count < settings.WORKFLOWS["SCRIPT_HELPERS"]:
                    self._count += 1
                    break
                self._lock.wait()
        try:
            return Helper(config)
        except BaseException:
            with self._lock:
                self._count -= 1
                self._lock.notify()
            raise

    def _release(self, helper: Helper, *, healthy: bool) -> None:
        if not healthy:
            if helper.alive():
                helper.kill()
            else:
                helper.process.wait()
                helper.close()
        with self._lock:
            if healthy:
                self._idle.append(helper)
            else:
                self._count -= 1
                self._prestart_locked()
            self._lock.notify()

    def _prestart_locked(self) -> None:
        """Keep one helper loading in the background, so the next request does not wait for it."""
        if self._idle or self._count >= settings.WORKFLOWS["SCRIPT_HELPERS"]:
            return
        try:
            self._idle.append(Helper(HelperConfig.current()))
            self._count += 1
        except OSError:
            logger.exception("Could not start a script helper process")

    def prestart(self) -> None:
        with self._lock:
            self._prestart_locked()

    def shutdown(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for helper in idle:
            helper.retire()

    def forget(self) -> None:
        """In a forked child: the helpers belong to the parent; drop them without touching them."""
        for helper in self._idle:
            helper.close()
        self.__init__()


_POOL = HelperPool()
atexit.register(_POOL.shutdown)
os.register_at_fork(after_in_child=_POOL.forget)


def pool() -> HelperPool:
    return _POOL
