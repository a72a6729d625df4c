"""The form editor's checks: a form's JSON Schema as typed, read the way a deploy reads it, each
problem located (a line and column for JSON that does not parse, a JSON path for a schema problem),
and previewed by the renderer task pages use."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from workflows.forms import render_form, schema_problems, schema_warnings

PREVIEW_LANGUAGES = ("zh-hans", "en")


@dataclass
class FormCheck:
    schema: dict | None
    problems: list[dict[str, Any]] = field(default_factory=list)  # {"message", "line"?, "column"?}
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_form(text: str) -> FormCheck:
    """What a deploy would say about this form (the file name aside)."""
    limit = settings.WORKFLOWS["MAX_FORM_BYTES"]
    size = len(text.encode("utf-8"))
    if size > limit:
        message = _("The form is %(size)s bytes; the limit is %(limit)s bytes.") % {
            "size": f"{size:,}",
            "limit": f"{limit:,}",
        }
        return FormCheck(None, [{"message": message}])
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        message = _("This is not JSON: %(error)s (line %(line)s, column %(column)s).") % {
            "error": exc.msg,
            "line": exc.lineno,
            "column": exc.colno,
        }
        return FormCheck(None, [{"message": message, "line": exc.lineno, "column": exc.colno}])
    except RecursionError:
        return FormCheck(None, [{"message": _("The form nests its brackets too deeply to read.")}])
    if not isinstance(schema, dict):
        return FormCheck(None, [{"message": _("A form schema must be a JSON object.")}])
    problems = [{"message": message} for message in schema_problems(schema)]
    warnings = [] if problems else schema_warnings(schema)
    return FormCheck(schema, problems, warnings)


def preview_html(schema: dict, *, language: str) -> str:
    """The form's fields as a task page shows them (disabled), labels in `language`."""
    language = language if language in PREVIEW_LANGUAGES else PREVIEW_LANGUAGES[0]
    with translation.override(language):
        form = render_form(schema, {}, None, language=language)
        return render_to_string("console/modeler/_preview.html", {"form": form})
