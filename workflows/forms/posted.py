"""A posted task form back into the nested data its JSON Schema describes.

The inverse of `workflows.forms.rendering`: a field named `leads.1.urgency` is the `urgency` of the
second lead. The browser's fields are read through the schema, never the other way round, so a name
the form does not declare (`__proto__`, `leads.999999.x`, a megabyte of dots) is simply not looked
up, and indexes only order rows: rows come out numbered from 0 without gaps, at most as many as the
schema allows.

What validation needs to report well is kept: an empty box is left out (so `required` names it),
text that is not a number stays text (so the error says "Expected number" at that field and the
page shows what was typed), an unticked checkbox is `false` (its hidden marker is posted).

Rows are added and removed without JavaScript by plain submit buttons (`_add` = a list's path,
`_remove` = a row's path); `row_action` reads which was pressed and `apply_row_action` applies it, so
the view re-renders the form instead of completing the task.
"""

from __future__ import annotations

import copy
import json
import math
import re
from datetime import datetime
from typing import Any

from django.http import QueryDict
from django.utils import timezone

from workflows.forms.rendering import (
    CHECKBOX,
    CHECKBOXES,
    DATETIME,
    GROUP,
    INTEGER,
    JSON,
    LIST,
    NUMBER,
    SELECT,
    TEXTAREA,
    SchemaReader,
    choice_text,
)

# The buttons that change a form's rows instead of submitting it (see forms/widgets/list.html);
# REFRESH is the form's first, hidden button, which Enter in a text box presses (not "remove").
ADD = "_add"
REMOVE = "_remove"
REFRESH = "_refresh"
# A row index is a plain decimal of at most 6 digits: "01", "１" or 10**100 name no row.
_INDEX = re.compile(r"0|[1-9][0-9]{0,5}")
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# A row action names a path; nothing longer than this is a path of a real form.
_MAX_ACTION_LENGTH = 500


def submission_from_post(schema: dict, post: QueryDict) -> dict:
    """The submission a posted form makes: nested as the schema says, typed where it can be."""
    reader = SchemaReader(schema)
    root = reader.resolve(schema, 0)
    return _Parser(reader, post).object(root, prefix="", depth=0)


def row_action(post: QueryDict) -> tuple[str, str] | None:
    """The row button pressed: ("add", list path), ("remove", row path), ("refresh", "") or None
    when the form was submitted. The path is not checked here; `apply_row_action` checks it."""
    for button, action in ((REMOVE, "remove"), (ADD, "add")):
        value = post.get(button)
        if isinstance(value, str) and value:
            return action, value[:_MAX_ACTION_LENGTH]
    if REFRESH in post:
        return "refresh", ""
    return None


def apply_row_action(data: dict, action: tuple[str, str], *, schema: dict) -> dict:
    """`data` with the row added or removed; unchanged if the path names no list (or row) of the
    form, or the list is already as long as the form allows."""
    result = copy.deepcopy(data)
    verb, path = action
    parts = path.split(".")
    if verb == "remove" and len(parts) >= 2 and _INDEX.fullmatch(parts[-1]):
        found = _locate(SchemaReader(schema), result, parts[:-1])
        if found is not None:
            rows, _item_kind, _limit = found
            if int(parts[-1]) < len(rows):
                del rows[int(parts[-1])]
    elif verb == "add":
        found = _locate(SchemaReader(schema), result, parts, create=True)
        if found is not None:
            rows, item_kind, limit = found
            if len(rows) < limit:
                rows.append({} if item_kind == GROUP else "")
    return result


def _locate(
    reader: SchemaReader, data: dict, parts: list[str], *, create: bool = False
) -> tuple[list, str, int] | None:
    """The list at `parts` in `data` (created if missing and `create`), with its items' widget kind
    and row limit, or None if the form has no list of rows there."""
    schema = reader.resolve(reader.root, 0)
    node: Any = data
    kind = GROUP
    for depth, part in enumerate(parts):
        if kind == GROUP:
            declared = dict(reader.properties(schema, depth))
            if not isinstance(node, dict) or part not in declared:
                return None
            schema = declared[part]
            kind = reader.kind(schema, depth + 1)
            if kind not in (GROUP, LIST):
                return None
            if not isinstance(node.get(part), (dict if kind == GROUP else list)):
                if not create:
                    return None
                node[part] = {} if kind == GROUP else []
            node = node[part]
        elif kind == LIST and _INDEX.fullmatch(part) and int(part) < len(node):
            node = node[int(part)]
            schema = reader.items(schema, depth)
            kind = reader.kind(schema, depth + 1)
        else:
            return None
    if kind != LIST or not parts:
        return None
    depth = len(parts)
    return node, reader.kind(reader.items(schema, depth), depth + 1), reader.max_rows(schema)


class _Parser:
    def __init__(self, reader: SchemaReader, post: QueryDict) -> None:
        self.reader = reader
        self.post = post

    def object(self, schema: dict, *, prefix: str, depth: int) -> dict:
        result = {}
        needed = self.reader.required(schema, depth)
        for name, sub in self.reader.properties(schema, depth):
            value = self.value(sub, f"{prefix}{name}", required=name in needed, depth=depth + 1)
            if value is not _MISSING:
                result[name] = value
        return result

    def value(self, schema: dict, path: str, *, required: bool, depth: int) -> Any:
        kind = self.reader.kind(schema, depth)
        if kind == GROUP:
            value = self.object(schema, prefix=f"{path}.", depth=depth)
            return value if value or required or "default" in schema else _MISSING
        if kind == LIST:
            value = self.rows(schema, path, depth=depth)
            return value if value or required or "default" in schema else _MISSING
        if kind == CHECKBOXES:
            options = self.reader.choices(self.reader.items(schema, depth), depth + 1)
            posted = self.post.getlist(path)[: self.reader.max_rows(schema)]
            value = [_choice(options, text) for text in posted]
            return value if value or required or "default" in schema else _MISSING
        values = self.post.getlist(path)
        if not values:
            return _MISSING
        if kind == CHECKBOX:
            # The hidden marker posts "false", the box (after it) "true" when ticked.
            return "true" in values
        return self.scalar(kind, schema, values[-1], depth=depth)

    def scalar(self, kind: str, schema: dict, text: str, *, depth: int) -> Any:
        if kind in (TEXTAREA, JSON):
            text = text.replace("\r\n", "\n")
        if not text.strip():
            return _MISSING
        text = text.strip()
        if kind == SELECT:
            return _choice(self.reader.choices(schema, depth), text)
        if kind == INTEGER:
            return _integer(text)
        if kind == NUMBER:
            return _number(text)
        if kind == DATETIME:
            return _datetime(text)
        if kind == JSON:
            try:
                return json.loads(text)
            except ValueError:
                return text  # validation says what the field expects; the text is shown again
        return text

    def rows(self, schema: dict, path: str, *, depth: int) -> list:
        items = self.reader.items(schema, depth)
        item_kind = self.reader.kind(items, depth + 1)
        fields = (
            {name for name, _sub in self.reader.properties(items, depth + 1)} if item_kind == GROUP else set()
        )
        prefix = f"{path}."
        indexes = set()
        for key in self.post:
            if not key.startswith(prefix):
                continue
            index, _dot, rest = key[len(prefix) :].partition(".")
            if not _INDEX.fullmatch(index):
                continue
            # A row exists if the browser posted one of its declared fields (a marker, an empty box).
            if (rest.partition(".")[0] in fields) if item_kind == GROUP else not rest:
                indexes.add(int(index))
        result = []
        for index in sorted(indexes)[: self.reader.max_rows(schema)]:
            value = self.value(items, f"{path}.{index}", required=True, depth=depth + 1)
            if item_kind == GROUP:
                result.append(value)
            elif value is not _MISSING:
                result.append(value)  # an empty entry of a list of texts is no entry
        return result


_MISSING = object()


def _choice(options: list[tuple[Any, dict]], text: str) -> Any:
    for value, _option in options:
        if choice_text(value) == text:
            return value
    return text  # not offered: validation refuses it


def _integer(text: str) -> int | str:
    if _INTEGER.fullmatch(text):
        try:
            return int(text)
        except ValueError:  # more digits than Python converts
            return text
    return text


def _number(text: str) -> int | float | str:
    if _INTEGER.fullmatch(text):
        return _integer(text)
    if _DECIMAL.fullmatch(text):
        number = float(text)
        if math.isfinite(number):
            return number
    return text


def _datetime(text: str) -> str:
    """A `datetime-local` value (no offset) as a date-time in the site's time zone, as JSON Schema
    requires one; anything else as typed, for validation to judge."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment.isoformat()
