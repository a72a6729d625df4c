"""What crosses between the engine and a helper process: length-prefixed JSON messages.

JSON, never pickle: a helper runs diagram code, so the engine reads what it says as plain data
that cannot make the engine run anything. Values that JSON lacks (dates, times, durations,
decimals) are tagged objects under a key no stored data may use (`\\x00`; `bounds` refuses
control characters in keys). Both sides check every value against the data limits before sending
it, and the engine checks again after reading: a helper is not trusted to have done so.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from workflows.bounds import DataLimits, check_data

TAG = "\x00"
_HEADER = struct.Struct(">I")


class WireError(Exception):
    """The other side sent something that is not a message, or nothing in time."""


class WireTimeout(WireError):
    pass


class WireClosed(WireError):
    pass


# --- values ---------------------------------------------------------------------------------------


def _tag(value: Any) -> dict:
    if isinstance(value, datetime):
        return {TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {TAG: "date", "v": value.isoformat()}
    if isinstance(value, timedelta):
        return {TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, Decimal):
        return {TAG: "decimal", "v": str(value)}
    if isinstance(value, UUID):
        return {TAG: "uuid", "v": str(value)}
    raise TypeError(type(value).__name__)


def _untag(obj: dict) -> Any:
    kind = obj.get(TAG)
    if kind is None:
        return obj
    value = obj.get("v")
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "timedelta":
        return timedelta(days=value[0], seconds=value[1], microseconds=value[2])
    if kind == "decimal":
        return Decimal(value)
    if kind == "uuid":
        return UUID(value)
    raise WireError(f"unknown tag {kind!r}")


def dumps(value: Any, limits: DataLimits) -> str:
    """`value` as JSON text; DataRefused if it is not plain data within `limits`."""
    check_data(value, limits)
    return json.dumps(value, default=_tag, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    return json.loads(text, object_hook=_untag, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> Any:
    raise WireError(f"{name} is not a number")


# --- messages -------------------------------------------------------------------------------------


def send(fd: int, message: bytes) -> None:
    data = _HEADER.pack(len(message)) + message
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def receive(fd: int, *, max_bytes: int, deadline: float | None = None) -> bytes:
    """One message from `fd`; WireTimeout after `deadline` (a `time.monotonic()` value), WireClosed
    if the other side is gone, WireError if the message is larger than `max_bytes`."""
    (length,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    if length > max_bytes:
        raise WireError(f"message of {length} bytes; the limit is {max_bytes}")
    return _read_exactly(fd, length, deadline)


def _read_exactly(fd: int, count: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    while count:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not _readable(fd, remaining):
                raise WireTimeout()
        chunk = os.read(fd, min(count, 1 << 20))
        if not chunk:
            raise WireClosed()
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def _readable(fd: int, seconds: float) -> bool:
    # poll, not select: a busy server's descriptors can be numbered above select's 1024.
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    return bool(poller.poll(max(seconds * 1000, 0)))
