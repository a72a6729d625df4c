"""The data the dry run submits for a form without answers: built from its JSON Schema, and accepted
by the engine's own validation."""

import json

import pytest

from tests.conftest import ROOT
from workflows.forms import example_submission, validate_submission

FORMS = sorted((ROOT / "forms").glob("*.json"))


@pytest.mark.parametrize("path", FORMS, ids=lambda p: p.name)
def test_the_example_of_every_project_form_passes_its_validation(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    validate_submission(schema, example_submission(schema))


def test_a_field_a_condition_requires_is_filled_once_the_condition_holds():
    schema = {
        "type": "object",
        "required": ["decision"],
        "properties": {
            "decision": {"oneOf": [{"const": "pursue"}, {"const": "decline"}]},
            "approach": {"type": "string"},
            "reason": {"type": "string"},
        },
        "allOf": [
            {
                "if": {"properties": {"decision": {"const": "pursue"}}, "required": ["decision"]},
                "then": {"required": ["approach"], "properties": {"approach": {"minLength": 3}}},
                "else": {"required": ["reason"]},
            }
        ],
        "additionalProperties": False,
    }

    example = example_submission(schema)

    assert example == {"decision": "pursue", "approach": "xxx"}
    validate_submission(schema, example)


def test_examples_enums_bounds_and_formats_are_honoured():
    schema = {
        "type": "object",
        "required": ["code", "level", "share", "count", "tags", "day", "note"],
        "properties": {
            "code": {"type": "string", "examples": ["GC-0001"]},
            "level": {"type": "string", "enum": ["low", "high"]},
            "share": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.5},
            "count": {"type": "integer", "minimum": 3, "multipleOf": 2},
            "tags": {"type": "array", "minItems": 2, "uniqueItems": True, "items": {"type": "string"}},
            "day": {"$ref": "#/$defs/day"},
            "note": {"type": "string", "minLength": 4},
            "optional": {"type": "string"},
        },
        "$defs": {"day": {"type": "string", "format": "date"}},
    }

    example = example_submission(schema)

    assert example["code"] == "GC-0001"
    assert example["level"] == "low"
    assert example["share"] == 0.5
    assert example["count"] == 4
    assert len(set(example["tags"])) == 2
    assert "optional" not in example
    validate_submission(schema, example)
