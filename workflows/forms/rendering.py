"""A task's form, from its JSON Schema, as a tree of plain objects the templates walk.

Server-side rendering keeps task pages working without JavaScript (and under a Content-Security-
Policy that forbids inline script): the page includes `forms/form_fields.html` with the `FormView`
that `render_form` builds, and `workflows.forms.posted` turns the POST back into the nested data
`validate_submission` checks. Both sides agree on one naming rule: a field's HTML `name` is its
dotted path, the same path validation reports errors at (`leads.1.urgency`).

The widget follows the schema: `enum` or labelled `oneOf`/`anyOf` consts give a select, `format:
date` a date picker, a long `maxLength` a textarea, a nested object a group, an array of objects a
list of rows. Anything this module does not understand still renders, as a textarea holding JSON,
so a form written for another modeler never breaks its task page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from workflows.forms.references import follow_refs

# Widget kinds. The scalar kinds are one HTML control each; `group`, `list` hold other fields.
TEXT = "text"
TEXTAREA = "textarea"
INTEGER = "integer"
NUMBER = "number"
DATE = "date"
DATETIME = "datetime"
SELECT = "select"
CHECKBOX = "checkbox"
CHECKBOXES = "checkboxes"  # an array of choices: several may be ticked
GROUP = "group"
LIST = "list"
JSON = "json"  # a construct without a widget: its JSON in a textarea

# Kinds a list of plain values (an array of strings, numbers, dates) can hold, one per row.
SCALAR_ROW_KINDS = frozenset({TEXT, TEXTAREA, INTEGER, NUMBER, DATE, DATETIME})

# Strings longer than this get a textarea: a visit's notes, not a product name.
TEXTAREA_FROM_LENGTH = 200
# Rows a list may hold when its schema sets no `maxItems`, and at most whatever it sets: the
# parser reads no more (indexes come from the browser), the renderer shows no more.
DEFAULT_MAX_ROWS = 200
MAX_ROWS = 1_000
# How deep objects and lists nest before the rest shows as JSON; far beyond any real form.
MAX_DEPTH = 16

_INPUT_TYPES = {TEXT: "text", INTEGER: "number", NUMBER: "number", DATE: "date", DATETIME: "datetime-local"}
_TEXT_FORMATS = {"email": "email", "uri": "url", "time": "time"}
_TEMPLATES = {
    TEXT: "forms/widgets/input.html",
    INTEGER: "forms/widgets/input.html",
    NUMBER: "forms/widgets/input.html",
    DATE: "forms/widgets/input.html",
    DATETIME: "forms/widgets/input.html",
    TEXTAREA: "forms/widgets/textarea.html",
    JSON: "forms/widgets/textarea.html",
    SELECT: "forms/widgets/select.html",
    CHECKBOX: "forms/widgets/checkbox.html",
    CHECKBOXES: "forms/widgets/checkboxes.html",
    GROUP: "forms/widgets/group.html",
    LIST: "forms/widgets/list.html",
}


@dataclass(frozen=True)
class Choice:
    """One option of a select or checkbox list; `value` is what the browser posts back."""

    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class ErrorLine:
    """One line of the error summary at the top of the form; `target` is the id to link to."""

    text: str
    target: str = ""


@dataclass
class Field:
    """A form field: for scalar kinds one control, for `group` its `fields`, for `list` its `rows`.

    `value` is the text to show (what was typed, else the data, else the schema's default), so a
    rejected submission comes back exactly as typed; `checked` is a checkbox's state.
    """

    name: str
    kind: str
    label: str
    description: str = ""
    required: bool = False
    value: str = ""
    checked: bool = False
    choices: list[Choice] = field(default_factory=list)
    hints: dict[str, str] = field(default_factory=dict)
    input_type: str = ""
    inputmode: str = ""
    errors: list[str] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    can_add: bool = False

    @property
    def id(self) -> str:
        return _html_id(self.name)

    @property
    def help_id(self) -> str:
        return f"{self.id}-help"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"

    @property
    def described_by(self) -> str:
        """The ids `aria-describedby` names: the description, then the errors."""
        ids = [self.help_id] if self.description else []
        return " ".join([*ids, self.error_id] if self.errors else ids)

    @property
    def template(self) -> str:
        return _TEMPLATES[self.kind]

    @property
    def is_json(self) -> bool:
        return self.kind == JSON


@dataclass
class Row:
    """One entry of a list: its 0-based `index` is in the HTML names, its 1-based `number` in the
    headings people read. `name` (`leads.1`) is also what the remove button posts; `title` is the
    heading ("Entry 2 of Recent marketing leads"), `item_title` the items' title (else the list's)."""

    name: str
    index: int
    title: str
    item_title: str
    fields: list[Field]
    errors: list[str] = field(default_factory=list)

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def id(self) -> str:
        return _html_id(self.name)

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"


@dataclass
class FormView:
    """What a task page needs to show a form: its title and description, the fields in order, the
    errors no field can show (`errors`), and every error as a line for a summary (`error_lines`).
    `has_lists` says whether the form has row buttons (see `forms/form_fields.html`)."""

    title: str
    description: str
    fields: list[Field]
    errors: list[str]
    error_lines: list[ErrorLine]
    has_lists: bool

    @property
    def has_errors(self) -> bool:
        return bool(self.error_lines)


def render_form(schema: dict, data: Any, errors: dict[str, list[str]] | None, *, language: str) -> FormView:
    """The form `schema` describes, filled with `data` (a submission, possibly rejected, or {}),
    with validation's `errors` (dotted path -> messages) at their fields, labels in `language`."""
    with translation.override(language):
        builder = _Builder(schema, english=language.lower().startswith("en"))
        root = builder.resolve(schema, 0)
        fields = builder.object_fields(root, data if isinstance(data, dict) else {}, prefix="", depth=0)
        form_errors, lines = builder.place_errors(fields, errors or {})
        return FormView(
            title=builder.text(root, "title"),
            description=builder.text(root, "description"),
            fields=fields,
            errors=form_errors,
            error_lines=lines,
            has_lists=builder.has_lists,
        )


# --- the schema, read the same way by the renderer and the parser ---------------------------------


class SchemaReader:
    """Follows a form's local `$ref`s and finds each field's widget kind; `workflows.forms.posted`
    reads the schema through this too, so a field is parsed as the widget that was shown."""

    def __init__(self, root: dict) -> None:
        self.root = root if isinstance(root, dict) else {}

    def resolve(self, schema: Any, depth: int) -> dict:
        """The schema with its local `$ref` (if any) followed; anything unusable becomes {}."""
        return follow_refs(self.root, schema, hops=MAX_DEPTH)

    def properties(self, schema: dict, depth: int) -> list[tuple[str, dict]]:
        """An object's declared fields in order, with those of plain `allOf` parts (no `if`)."""
        found: dict[str, dict] = {}
        for part in [schema, *(self.resolve(p, depth + 1) for p in _list(schema.get("allOf")))]:
            if part is not schema and "if" in part:
                continue
            declared = part.get("properties")
            if isinstance(declared, dict):
                for name, sub in declared.items():
                    if isinstance(name, str):
                        found[name] = {**found.get(name, {}), **self.resolve(sub, depth + 1)}
        return list(found.items())

    def required(self, schema: dict, depth: int) -> set[str]:
        names = set(n for n in _list(schema.get("required")) if isinstance(n, str))
        for part in _list(schema.get("allOf")):
            part = self.resolve(part, depth + 1)
            if "if" not in part:
                names.update(n for n in _list(part.get("required")) if isinstance(n, str))
        return names

    def choices(self, schema: dict, depth: int) -> list[tuple[Any, dict]]:
        """(value, its option schema) for an `enum` or a `oneOf`/`anyOf` made only of consts."""
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return [(value, {}) for value in schema["enum"]]
        options = [self.resolve(o, depth + 1) for o in _list(schema.get("oneOf") or schema.get("anyOf"))]
        if options and all("const" in option for option in options):
            return [(option["const"], option) for option in options]
        return []

    def items(self, schema: dict, depth: int) -> dict:
        return self.resolve(schema.get("items"), depth + 1)

    def kind(self, schema: dict, depth: int) -> str:
        """The widget for a field's (resolved) schema."""
        if depth > MAX_DEPTH:
            return JSON
        if self.choices(schema, depth):
            return SELECT
        kind = _type(schema)
        if kind == "boolean":
            return CHECKBOX
        if kind in ("integer", "number"):
            return INTEGER if kind == "integer" else NUMBER
        if kind == "string":
            return _string_kind(schema)
        if kind == "object" or (kind is None and isinstance(schema.get("properties"), dict)):
            return GROUP if self.properties(schema, depth) else JSON
        if kind == "array":
            items = self.items(schema, depth)
            if self.choices(items, depth + 1):
                return CHECKBOXES
            if self.kind(items, depth + 1) in (GROUP, *SCALAR_ROW_KINDS):
                return LIST
        return JSON

    def max_rows(self, schema: dict) -> int:
        limit = schema.get("maxItems")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0:
            return min(limit, MAX_ROWS)
        return DEFAULT_MAX_ROWS


def _type(schema: dict) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and schema.get("format") in ("date", "date-time", "email", "uri", "time"):
        return "string"
    return kind if isinstance(kind, str) else None


def _string_kind(schema: dict) -> str:
    fmt = schema.get("format")
    if fmt == "date":
        return DATE
    if fmt == "date-time":
        return DATETIME
    length = schema.get("maxLength")
    if fmt == "textarea" or (isinstance(length, int) and length > TEXTAREA_FROM_LENGTH):
        return TEXTAREA
    return TEXT


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def choice_text(value: Any) -> str:
    """What a choice posts: a string const as itself, any other const as its JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def _html_id(name: str) -> str:
    return "field-" + (re.sub(r"[^A-Za-z0-9_-]", "-", name) or "form")


def _same(a: Any, b: Any) -> bool:
    # 1 == True in Python; a choice of true must not select the const 1.
    return type(a) is type(b) and a == b


def local_datetime_text(value: str) -> str | None:
    """An ISO date-time as a `datetime-local` input shows it (local time, no offset), or None."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    text = moment.strftime("%Y-%m-%dT%H:%M")
    return text + moment.strftime(":%S") if moment.second or moment.microsecond else text


# --- building the tree ------------------------------------------------------------------------------


class _Builder(SchemaReader):
    def __init__(self, root: dict, *, english: bool) -> None:
        super().__init__(root)
        self.english = english
        self.has_lists = False
        # path -> the field or row that shows its errors; and where that is, as people read it
        self.places: dict[str, Field | Row] = {}
        self.place_of: dict[int, str] = {}

    def register(self, path: str, target: Field | Row, place: str) -> None:
        self.places[path] = target
        self.place_of[id(target)] = place

    def text(self, schema: dict, key: str, fallback: str = "") -> str:
        """`title`/`description` in the reader's language, else in the other one."""
        own, other = (f"{key}_en", key) if self.english else (key, f"{key}_en")
        for candidate in (schema.get(own), schema.get(other)):
            if isinstance(candidate, str) and candidate:
                return candidate
        return fallback

    def object_fields(self, schema: dict, data: dict, *, prefix: str, depth: int, place: str = "") -> list:
        needed = self.required(schema, depth)
        fields = []
        for name, sub in self.properties(schema, depth):
            path = f"{prefix}{name}"
            present = name in data
            fields.append(
                self.field(
                    sub,
                    data[name] if present else sub.get("default"),
                    path=path,
                    key=name,
                    required=name in needed,
                    depth=depth + 1,
                    place=place,
                    given=present or "default" in sub,
                )
            )
        return fields

    def field(
        self,
        schema: dict,
        value: Any,
        *,
        path: str,
        key: str,
        required: bool,
        depth: int,
        place: str,
        given: bool,
    ) -> Field:
        kind = self.kind(schema, depth)
        label = self.text(schema, "title", key)
        result = Field(
            name=path,
            kind=kind,
            label=label,
            description=self.text(schema, "description"),
            required=required,
        )
        here = _("%(place)s: %(field)s") % {"place": place, "field": label} if place else label
        self.register(path, result, here)
        if kind == GROUP:
            data = value if isinstance(value, dict) else {}
            result.fields = self.object_fields(schema, data, prefix=f"{path}.", depth=depth, place=here)
        elif kind == LIST:
            self.has_lists = True
            self.fill_list(result, schema, value, depth=depth)
        elif kind in (SELECT, CHECKBOXES):
            self.fill_choices(result, schema, value, depth=depth)
        elif kind == CHECKBOX:
            result.checked = value is True
        else:
            self.fill_text(result, schema, value, given=given)
        return result

    def fill_choices(self, result: Field, schema: dict, value: Any, *, depth: int) -> None:
        many = result.kind == CHECKBOXES
        options = self.choices(self.items(schema, depth) if many else schema, depth)
        picked = value if many and isinstance(value, list) else [value]
        result.choices = [
            Choice(
                value=choice_text(const),
                label=self.text(option, "title", choice_text(const)),
                selected=any(_same(const, p) for p in picked),
            )
            for const, option in options
        ]

    def fill_text(self, result: Field, schema: dict, value: Any, *, given: bool) -> None:
        kind = result.kind
        result.value = _display(kind, value) if given and value is not None else ""
        result.input_type = _INPUT_TYPES.get(kind, "")
        if kind == TEXT and schema.get("format") in _TEXT_FORMATS:
            result.input_type = _TEXT_FORMATS[schema["format"]]
        hints: dict[str, str] = {}
        if kind in (TEXT, TEXTAREA):
            for keyword, attribute in (("minLength", "minlength"), ("maxLength", "maxlength")):
                if _is_int(schema.get(keyword)):
                    hints[attribute] = str(schema[keyword])
        elif kind in (INTEGER, NUMBER):
            for keyword, attribute in (("minimum", "min"), ("maximum", "max")):
                if _is_number(schema.get(keyword)):
                    hints[attribute] = _number_text(schema[keyword])
            step = schema.get("multipleOf")
            hints["step"] = _number_text(step) if _is_number(step) else ("1" if kind == INTEGER else "any")
            result.inputmode = "numeric" if kind == INTEGER else "decimal"
        elif kind == DATETIME and len(result.value) > len("2000-01-01T00:00"):
            hints["step"] = "1"  # the value has seconds: the browser's default step is a minute
        result.hints = hints
        # Text the typed control cannot hold is shown as typed, in a plain text box, with its error.
        if kind in (INTEGER, NUMBER, DATE, DATETIME) and isinstance(value, str) and given:
            shown = local_datetime_text(value) if kind == DATETIME else value
            if shown is None or not _fits(kind, shown):
                result.input_type, result.value = "text", value
                result.hints = {}
            else:
                result.value = shown
        if kind == TEXT and "\n" in result.value:
            result.kind = TEXTAREA
            result.input_type = ""

    def fill_list(self, result: Field, schema: dict, value: Any, *, depth: int) -> None:
        items = self.items(schema, depth)
        item_kind = self.kind(items, depth + 1)
        limit = self.max_rows(schema)
        entries = value[:limit] if isinstance(value, list) else []
        for index, entry in enumerate(entries):
            path = f"{result.name}.{index}"
            item_title = self.text(items, "title", result.label)
            title = _("Entry %(n)s of %(list)s") % {"n": index + 1, "list": item_title}
            row = Row(name=path, index=index, title=title, item_title=item_title, fields=[])
            if item_kind == GROUP:
                self.register(path, row, title)
                data = entry if isinstance(entry, dict) else {}
                row.fields = self.object_fields(items, data, prefix=f"{path}.", depth=depth + 1, place=title)
            else:
                cell = self.field(
                    items,
                    entry,
                    path=path,
                    key=str(index),
                    required=False,
                    depth=depth + 1,
                    place="",
                    given=True,
                )
                cell.label = title
                self.register(path, cell, title)
                self.place_of[id(row)] = title  # errors at the path are the cell's; the row has none
                row.fields = [cell]
            result.rows.append(row)
        result.can_add = len(result.rows) < limit

    def place_errors(
        self, fields: list[Field], errors: dict[str, list[str]]
    ) -> tuple[list[str], list[ErrorLine]]:
        """Put each error at its field (or row, or the nearest one holding its path) and return the
        form-level messages and the summary lines, form-level first, then in document order."""
        form_errors: list[str] = []
        for path, messages in errors.items():
            texts = [str(m) for m in (messages if isinstance(messages, (list, tuple)) else [messages])]
            target = self._nearest(str(path)) if path else None
            if target is None:
                form_errors.extend(
                    _("%(field)s — %(message)s") % {"field": path, "message": m} if path else m for m in texts
                )
            else:
                target.errors.extend(m for m in texts if m not in target.errors)
        lines = [ErrorLine(m) for m in form_errors]
        for target in _walk(fields):
            place = self.place_of[id(target)]
            lines.extend(
                ErrorLine(_("%(field)s — %(message)s") % {"field": place, "message": m}, target.id)
                for m in target.errors
            )
        return form_errors, lines

    def _nearest(self, path: str) -> Field | Row | None:
        parts = path.split(".")
        while parts:
            found = self.places.get(".".join(parts))
            if found is not None:
                return found
            parts.pop()
        return None


def _walk(fields: list[Field]) -> Iterator[Field | Row]:
    """Every field and row in document order."""
    for item in fields:
        yield item
        for row in item.rows:
            yield row
            yield from _walk(row.fields)
        yield from _walk(item.fields)


def _display(kind: str, value: Any) -> str:
    if kind == JSON:
        if isinstance(value, str) and not _parses_as_json(value):
            return value  # typed text that is not JSON comes back as typed (and is kept as a string)
        return json.dumps(value, ensure_ascii=False, indent=2)
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number_text(value)
    return json.dumps(value, ensure_ascii=False)


def _parses_as_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _fits(kind: str, text: str) -> bool:
    """Whether a browser's typed control would show `text` (else it shows an empty box)."""
    patterns = {
        INTEGER: r"[+-]?[0-9]+",
        NUMBER: r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?",
        DATE: r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
        DATETIME: r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,3})?)?",
    }
    return re.fullmatch(patterns[kind], text, flags=re.ASCII) is not None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number_text(value: int | float) -> str:
    return repr(value) if isinstance(value, float) else str(value)
