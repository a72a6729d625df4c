"""Regular expressions in forms: JSON Schema's ECMA-262 patterns run on RE2, in linear time.

`pattern`, `patternProperties` and the `format: "regex"` check are all matched here. RE2's program
size bounds each pattern's cost, and one submission has a budget of pattern work, so a long answer
checked against many patterns stays fast too.
"""

from __future__ import annotations

import functools
import string
from contextvars import ContextVar
from typing import Any

import re2
from django.utils.translation import gettext as _
from jsonschema import FormatChecker

# RE2 program instructions in one pattern: matching costs up to text length x this when RE2's
# cache of states overflows. `^.{1,200}$` is 1,801; the shipped `\S` is 44.
MAX_PATTERN_SIZE = 2_000
# Pattern work one submission may cause (characters matched x program size), about half a second
# in the worst case; a `\S` check on a 500-character answer uses about 22,000.
MAX_PATTERN_WORK = 20_000_000


class PatternError(ValueError):
    """A regular expression that RE2 cannot run; the message says why, for the form's author."""


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


def re2_syntax(pattern: str) -> str:
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
def compiled(pattern: str) -> tuple[Any, int]:
    try:
        regexp = re2.compile(re2_syntax(pattern), _PATTERN_OPTIONS)
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


class PatternWorkSpent(Exception):
    """The submission has used up its budget of pattern work."""


# The work left for the submission being validated (a one-item list, so keywords can spend it).
pattern_budget: ContextVar[list[int] | None] = ContextVar("form_pattern_budget", default=None)


def search(pattern: str, text: str) -> bool:
    """Whether the ECMA-262 `pattern` matches somewhere in `text` (JSON Schema patterns are not
    anchored)."""
    regexp, size = compiled(pattern)
    budget = pattern_budget.get()
    if budget is not None:
        budget[0] -= size * max(len(text), 1)
        if budget[0] < 0:
            raise PatternWorkSpent
    return regexp.search(text) is not None


FORMAT_CHECKER = FormatChecker()


@FORMAT_CHECKER.checks("regex", raises=(PatternError, re2.error))
def _is_regex(instance: object) -> bool:
    if isinstance(instance, str):
        re2.compile(re2_syntax(instance), _SUBMITTED_REGEX_OPTIONS)
    return True


# The meta-schema's `format: regex` would compile a form's patterns with Python's `re`; the graph
# walk checks them with RE2 instead and says where they are.
META_FORMAT_CHECKER = FormatChecker([name for name in FormatChecker.checkers if name != "regex"])
