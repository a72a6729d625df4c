"""Task forms are JSON Schemas: checked at deploy, rendered as HTML fields (`render_form`), read back
from a POST (`submission_from_post`) and used to validate every submission.

Conventions: `title`/`description` are Simplified Chinese, `title_en`/`description_en` English;
labelled choices are `oneOf: [{"const": ..., "title": ..., "title_en": ...}]`. A form is closed
by default: only the fields it declares reach the task data, so a submission cannot set other
process variables. A form that opens itself at the top (`additionalProperties` true or a schema,
`patternProperties`, or `unevaluatedProperties` other than false) is warned about at deploy, and
an undeclared field must still be a plain, unreserved name that the process does not already use.

Forms and submissions both come from people, so nothing here may take time or stack out of
proportion to their size:
- every regular expression (`pattern`, `patternProperties`, `format: "regex"`) runs on RE2, which
  matches in linear time, and a submission's pattern work has a budget;
- a form's `$ref`s must be local JSON pointers that resolve and never loop, and the form expanded
  through them must stay small and shallow (checked at deploy, iteratively);
- keywords whose cost jsonschema makes grow faster than the submission (`uniqueItems`,
  `unevaluatedItems`, `unevaluatedProperties`) are reimplemented or bounded;
- NaN and infinities are refused before jsonschema sees them.
"""

from workflows.forms.examples import example_submission
from workflows.forms.keywords import MAX_UNIQUE_ITEMS
from workflows.forms.patterns import MAX_PATTERN_SIZE, MAX_PATTERN_WORK, PatternError
from workflows.forms.posted import apply_row_action, row_action, submission_from_post
from workflows.forms.rendering import FormView, render_form
from workflows.forms.schemas import MAX_SCHEMA_DEPTH, MAX_SCHEMA_SIZE, schema_problems, schema_warnings
from workflows.forms.submissions import (
    DEFAULT_FORM,
    MAX_SUBMISSION_DEPTH,
    FormValidationError,
    validate_submission,
)

__all__ = [
    "DEFAULT_FORM",
    "MAX_PATTERN_SIZE",
    "MAX_PATTERN_WORK",
    "MAX_SCHEMA_DEPTH",
    "MAX_SCHEMA_SIZE",
    "MAX_SUBMISSION_DEPTH",
    "MAX_UNIQUE_ITEMS",
    "FormValidationError",
    "FormView",
    "PatternError",
    "apply_row_action",
    "example_submission",
    "render_form",
    "row_action",
    "schema_problems",
    "schema_warnings",
    "submission_from_post",
    "validate_submission",
]
