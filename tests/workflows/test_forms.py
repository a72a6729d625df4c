"""Forms against hostile input: patterns run on RE2, references cannot loop or explode, costly
keywords are bounded, open forms cannot overwrite process data, numbers are finite.

Elapsed times are loose bounds (a second where the old code took from seconds to minutes), not
benchmarks.
"""

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import ROOT, TEST_BPMN_DIR
from workflows.forms import (
    MAX_SCHEMA_DEPTH,
    MAX_UNIQUE_ITEMS,
    FormValidationError,
    schema_problems,
    schema_warnings,
    validate_submission,
)

SHIPPED_FORMS = sorted((ROOT / "forms").glob("*.json")) + sorted(TEST_BPMN_DIR.glob("*.schema.json"))


def form(**properties) -> dict:
    return {"type": "object", "properties": properties}


def errors_of(schema: dict, data, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(FormValidationError) as refused:
        validate_submission(schema, data, **kwargs)
    return refused.value.errors


class timed:
    """Fails the test if the block takes a second or more."""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self.start
        assert self.elapsed < 1, f"took {self.elapsed:.2f} s"


def nested(depth: int, leaf: dict, wrap) -> dict:
    schema = leaf
    for _ in range(depth):
        schema = wrap(schema)
    return schema


class TestCatastrophicPatterns:
    @pytest.mark.parametrize(
        ("pattern", "hostile", "matching"),
        [
            ("^(a+)+$", "a" * 30 + "!", "a" * 30),
            ("^(a+)+$", "a" * 5_000 + "!", "aaa"),
            ("(a|aa)+$", "a" * 5_000 + "!", "aa"),
            ("(x+x+)+y", "x" * 5_000, "xxy"),
            ("^(\\w+\\s?)*$", "word " * 1_000 + "!", "two words"),
        ],
    )
    def test_a_backtracking_pattern_refuses_a_hostile_value_at_once(self, pattern, hostile, matching):
        schema = form(code={"type": "string", "pattern": pattern})
        assert schema_problems(schema) == []
        with timed():
            assert errors_of(schema, {"code": hostile}) == {"code": ["Does not have the expected format."]}
        assert validate_submission(schema, {"code": matching}) == {"code": matching}

    def test_a_backtracking_pattern_property_refuses_a_hostile_key_at_once(self):
        schema = {
            "type": "object",
            "patternProperties": {"^(a+)+$": {"type": "integer"}},
            "additionalProperties": False,
        }
        assert schema_problems(schema) == []
        with timed():
            errors = errors_of(schema, {"a" * 5_000 + "!": 1})
        assert errors == {"a" * 5_000 + "!": ["This form has no such field."]}
        assert validate_submission(schema, {"aaa": 1}) == {"aaa": 1}

    def test_a_nested_pattern_property_checks_hostile_keys_at_once(self):
        schema = form(
            readings={
                "type": "object",
                "patternProperties": {"^(x+x+)+y$": {"type": "number"}},
                "additionalProperties": False,
            }
        )
        with timed():
            errors = errors_of(schema, {"readings": {"x" * 5_000: 1, "xxy": "high"}})
        assert errors == {"readings": ["This form has no such field."], "readings.xxy": ["Expected number."]}

    def test_unevaluated_properties_match_pattern_properties_at_once(self):
        schema = {
            "type": "object",
            "patternProperties": {"^(a|aa)+$": {"type": "integer"}},
            "unevaluatedProperties": False,
        }
        with timed():
            errors = errors_of(schema, {"a" * 5_000 + "!": 1})
        assert errors == {"a" * 5_000 + "!": ["This form has no such field."]}

    @pytest.mark.parametrize("value", ["^(a+)+$", "(x+x+)+y", "(" * 500 + "a*" + ")*" * 500])
    def test_a_submitted_regex_is_compiled_on_re2_at_once(self, value):
        schema = form(rule={"type": "string", "format": "regex"})
        with timed():
            assert validate_submission(schema, {"rule": value}) == {"rule": value}

    @pytest.mark.parametrize("value", ["(a)\\1", "(?=a)", "a{1001}", "[z-a]"])
    def test_a_submitted_regex_that_re2_cannot_run_is_refused(self, value):
        schema = form(rule={"type": "string", "format": "regex"})
        assert errors_of(schema, {"rule": value}) == {"rule": ["Not a valid regular expression."]}

    def test_pattern_work_beyond_the_budget_is_refused_rather_than_done(self):
        schema = form(text={"type": "string", "pattern": "[ab]*a[ab]{900}c"})
        with timed():
            errors = errors_of(schema, {"text": "ab" * 50_000})
        assert errors == {"": ["The submission's text is too long to check against this form's patterns."]}

    def test_a_form_deployed_with_a_pattern_re2_refuses_cannot_be_submitted(self):
        # Forms deployed before the RE2 check may hold one; the task says so instead of crashing.
        schema = form(code={"type": "string", "pattern": "^(?!admin)"})
        assert errors_of(schema, {"code": "x"}) == {
            "": [
                "This form has a pattern that cannot be checked; the form must be corrected and deployed again."
            ]
        }


class TestPatternsAreEcmaRegexes:
    def test_unicode_escapes_select_chinese_characters(self):
        schema = form(name={"type": "string", "pattern": "^[\\u4e00-\\u9fa5]{2,4}$"})
        assert validate_submission(schema, {"name": "王建国"}) == {"name": "王建国"}
        assert errors_of(schema, {"name": "Wang"}) == {"name": ["Does not have the expected format."]}

    def test_a_surrogate_pair_escape_is_one_character(self):
        schema = form(mark={"type": "string", "pattern": "^\\ud83d\\ude00$"})
        assert validate_submission(schema, {"mark": "😀"}) == {"mark": "😀"}

    def test_not_blank_treats_the_ideographic_space_as_blank(self):
        schema = form(reason={"type": "string", "pattern": "\\S"})
        assert errors_of(schema, {"reason": "\u3000\u3000"}) == {
            "reason": ["Does not have the expected format."]
        }
        assert validate_submission(schema, {"reason": " 好 "}) == {"reason": " 好 "}

    def test_white_space_classes_include_unicode_spaces(self):
        schema = form(
            gap={"type": "string", "pattern": "^a[\\s]b$"}, solid={"type": "string", "pattern": "^[\\S]+$"}
        )
        assert validate_submission(schema, {"gap": "a\u3000b", "solid": "abc"})
        assert errors_of(schema, {"solid": "a\u00a0b"}) == {"solid": ["Does not have the expected format."]}

    def test_patterns_are_unanchored_and_dollar_ends_the_text(self):
        schema = form(number={"type": "string", "pattern": "[0-9]{3}$"})
        assert validate_submission(schema, {"number": "No. 123"})
        assert errors_of(schema, {"number": "123\n"}) == {"number": ["Does not have the expected format."]}


class TestPatternsRefusedAtDeploy:
    @pytest.mark.parametrize(
        ("pattern", "reason"),
        [
            ("(a)\\1", "backreferences are not supported"),
            ("(?<n>a)\\k<n>", "backreferences are not supported"),
            ("(?=a)b", "lookahead and lookbehind are not supported"),
            ("a(?!b)", "lookahead and lookbehind are not supported"),
            ("(?<=a)b", "lookahead and lookbehind are not supported"),
            ("(?<!a)b", "lookahead and lookbehind are not supported"),
            ("a{1001}", "invalid repetition size: {1001}"),
            ("(", "missing ): ("),
            (
                "\\p{Greek}{100}",
                "it is too complex to check quickly (6,204 steps; the limit is 2,000); use minLength and "
                "maxLength rather than long repetitions",
            ),
        ],
    )
    def test_a_pattern_re2_cannot_run_is_refused_with_its_path_and_reason(self, pattern, reason):
        problems = schema_problems(form(code={"type": "string", "pattern": pattern}))
        assert problems == [f"#/properties/code/pattern: the pattern {pattern!r} cannot be used: {reason}."]

    def test_a_pattern_property_names_its_key_in_the_path(self):
        schema = {"type": "object", "patternProperties": {"^x/(?=y)": {}}}
        assert schema_problems(schema) == [
            "#/patternProperties/^x~1(?=y): the pattern '^x/(?=y)' cannot be used: "
            "lookahead and lookbehind are not supported."
        ]

    def test_patterns_in_definitions_and_array_items_are_checked(self):
        schema = {
            "type": "object",
            "$defs": {"code": {"type": "string", "pattern": "(a)\\1"}},
            "properties": {"tags": {"type": "array", "items": {"pattern": "(?=t)"}}},
        }
        assert schema_problems(schema) == [
            "#/$defs/code/pattern: the pattern '(a)\\\\1' cannot be used: backreferences are not supported.",
            "#/properties/tags/items/pattern: the pattern '(?=t)' cannot be used: "
            "lookahead and lookbehind are not supported.",
        ]

    def test_a_form_full_of_unusable_patterns_reports_the_first_ones(self):
        schema = form(**{f"f{i}": {"type": "string", "pattern": f"(?=x{i})"} for i in range(200)})
        with timed():
            problems = schema_problems(schema)
        assert len(problems) == 11
        assert problems[-1] == "The form has more unusable patterns; correct these first."


class TestReferences:
    def test_a_field_referring_to_itself_is_refused(self):
        problems = schema_problems(form(a={"$ref": "#/properties/a"}))
        assert problems == ["The references form a loop: #/properties/a → #/properties/a."]

    def test_definitions_referring_to_each_other_are_refused(self):
        schema = {
            "type": "object",
            "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}},
            "properties": {"x": {"$ref": "#/$defs/a"}},
        }
        assert schema_problems(schema) == [
            "The references form a loop: #/$defs/a → #/$defs/b → #/$defs/b/allOf/0 → #/$defs/a."
        ]

    def test_a_loop_through_draft_7_definitions_is_refused(self):
        schema = {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "definitions": {
                "node": {"type": "object", "properties": {"next": {"$ref": "#/definitions/node"}}}
            },
            "properties": {"head": {"$ref": "#/definitions/node"}},
        }
        assert schema_problems(schema) == [
            "The references form a loop: #/definitions/node/properties/next → #/definitions/node."
        ]

    def test_fields_referring_to_each_other_are_refused(self):
        schema = form(a={"$ref": "#/properties/b"}, b={"items": {"$ref": "#/properties/a"}})
        assert schema_problems(schema) == [
            "The references form a loop: #/properties/a → #/properties/b → #/properties/b/items → #/properties/a."
        ]

    def test_a_field_referring_to_the_whole_form_is_refused(self):
        assert schema_problems(form(a={"$ref": "#"})) == ["The references form a loop: #/properties/a → #."]

    def test_a_loop_among_unused_definitions_is_refused(self):
        schema = {"type": "object", "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}}
        assert schema_problems(schema) == ["The references form a loop: #/$defs/a → #/$defs/b → #/$defs/a."]

    @pytest.mark.parametrize(
        "ref",
        [
            "#/$defs/missing",
            "#/properties/a/items/5",
            "#/properties/pair/prefixItems/-1",
            "#/properties/pair/prefixItems/01",
        ],
    )
    def test_a_reference_to_nothing_is_refused(self, ref):
        schema = form(a={"type": "array", "items": {}}, pair={"prefixItems": [{}, {}]}, b={"$ref": ref})
        assert schema_problems(schema) == [f"#/properties/b: $ref {ref!r} points at nothing in this form."]

    def test_a_reference_to_something_that_is_not_a_schema_is_refused(self):
        schema = form(a={"type": "string"}, b={"$ref": "#/properties/a/type"})
        assert schema_problems(schema) == [
            "#/properties/b: $ref '#/properties/a/type' does not point at a schema."
        ]

    def test_escaped_and_percent_encoded_pointers_resolve(self):
        schema = {
            "type": "object",
            "$defs": {"a/b": {"type": "integer"}, "c d": {"type": "string"}},
            "properties": {"n": {"$ref": "#/$defs/a~1b"}, "s": {"$ref": "#/$defs/c%20d"}},
        }
        assert schema_problems(schema) == []
        assert errors_of(schema, {"n": "1", "s": 1}) == {
            "n": ["Expected integer."],
            "s": ["Expected string."],
        }

    def test_a_reference_to_an_anchor_is_refused(self):
        schema = {
            "type": "object",
            "$defs": {"a": {"$anchor": "code"}},
            "properties": {"x": {"$ref": "#code"}},
        }
        assert schema_problems(schema) == [
            "#/properties/x: $ref '#code' names an anchor; a form may only use references like \"#/$defs/name\"."
        ]

    def test_dynamic_references_are_refused(self):
        schema = form(x={"$dynamicRef": "#/properties/y"}, y={"type": "string"})
        assert schema_problems(schema) == ["#/properties/x: $dynamicRef is not supported in forms; use $ref."]

    def test_recursive_references_are_refused(self):
        schema = {
            "$schema": "https://json-schema.org/draft/2019-09/schema",
            "type": "object",
            "properties": {"x": {"$recursiveRef": "#"}},
        }
        assert schema_problems(schema) == [
            "#/properties/x: $recursiveRef is not supported in forms; use $ref."
        ]

    def test_remote_references_are_refused(self):
        schema = form(x={"$ref": "https://example.com/x.json"})
        assert schema_problems(schema) == [
            "Form schemas may not reference other documents ($ref to a URL or file)."
        ]

    def test_an_inner_id_that_would_change_what_references_mean_is_refused(self):
        schema = form(x={"$id": "https://example.com/inner", "$ref": "#/properties/y"}, y={})
        assert schema_problems(schema) == ["#/properties/x: $id is only allowed at the top of a form."]

    def test_a_definition_shared_by_several_fields_is_accepted_and_validates(self):
        schema = {
            "type": "object",
            "$defs": {"phone": {"type": "string", "pattern": "^1[3-9][0-9]{9}$"}},
            "properties": {"mobile": {"$ref": "#/$defs/phone"}, "backup": {"$ref": "#/$defs/phone"}},
        }
        assert schema_problems(schema) == []
        assert errors_of(schema, {"mobile": "13800000000", "backup": "12"}) == {
            "backup": ["Does not have the expected format."]
        }

    def test_references_that_double_at_every_level_are_refused_for_their_expanded_size(self):
        levels = 25  # shallow enough for the depth limit, 2**25 schemas once inlined
        defs = {
            f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]}
            for i in range(levels)
        }
        defs[f"d{levels}"] = {"type": "string"}
        schema = {"type": "object", "$defs": defs, "properties": {"x": {"$ref": "#/$defs/d0"}}}
        with timed():
            problems = schema_problems(schema)
        assert problems == [
            "The form is too large to check quickly: with every $ref inlined (and the parts "
            "unevaluatedProperties/unevaluatedItems check again) it has more than 5,000 parts."
        ]

    def test_forty_levels_of_doubling_references_are_refused_without_expanding_them(self):
        defs = {
            f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]}
            for i in range(40)
        }
        defs["d40"] = {"type": "string"}
        schema = {"type": "object", "$defs": defs, "properties": {"x": {"$ref": "#/$defs/d0"}}}
        with timed():
            problems = schema_problems(schema)
        assert any("too large to check quickly" in problem for problem in problems)

    def test_nested_unevaluated_properties_are_refused_for_the_work_they_repeat(self):
        # jsonschema re-validates every level for each level above it: 16 levels took 80 s.
        schema = nested(16, {"type": "object"}, lambda s: {"allOf": [s], "unevaluatedProperties": False})
        with timed():
            problems = schema_problems({**schema, "type": "object"})
        assert problems == [
            "The form is too large to check quickly: with every $ref inlined (and the parts "
            "unevaluatedProperties/unevaluatedItems check again) it has more than 5,000 parts."
        ]

    def test_a_long_chain_of_references_is_refused_for_its_expanded_depth(self):
        defs = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(100)}
        defs["d100"] = {"type": "string"}
        schema = {"type": "object", "$defs": defs, "properties": {"x": {"$ref": "#/$defs/d0"}}}
        assert schema_problems(schema) == [
            "With its references followed, the form nests deeper than 64 levels."
        ]

    def test_a_chain_of_references_within_the_limits_validates(self):
        hops = MAX_SCHEMA_DEPTH - 4
        defs = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(hops)}
        defs[f"d{hops}"] = {"type": "string", "minLength": 2}
        schema = {
            "type": "object",
            "$defs": defs,
            "properties": {"x": {"$ref": "#/$defs/d0"}},
            "unevaluatedProperties": False,
        }
        assert schema_problems(schema) == []
        assert validate_submission(schema, {"x": "ok"}) == {"x": "ok"}
        assert errors_of(schema, {"x": "o"}) == {"x": ["Must be at least 2 characters."]}

    @pytest.mark.parametrize(
        "wrap",
        [
            lambda s: {"not": s},
            lambda s: {"type": "object", "properties": {"a": s}},
            lambda s: {"allOf": [s]},
            lambda s: {"items": s},
        ],
    )
    def test_a_deeply_nested_form_is_refused_before_anything_recurses(self, wrap):
        schema = {"type": "object", "properties": {"x": nested(10_000, {"type": "string"}, wrap)}}
        with timed():
            assert schema_problems(schema) == ["The form nests deeper than 64 levels."]

    def test_a_form_at_the_nesting_limit_is_accepted_and_validates(self):
        # 61 negations of "a string": anything but a string.
        schema = {
            "type": "object",
            "properties": {"x": nested(MAX_SCHEMA_DEPTH - 3, {"type": "string"}, lambda s: {"not": s})},
        }
        assert schema_problems(schema) == []
        assert validate_submission(schema, {"x": 1}) == {"x": 1}
        assert list(errors_of(schema, {"x": "text"})) == ["x"]


class TestCostlyKeywords:
    def test_unique_items_refuses_to_compare_too_many_entries(self):
        schema = form(tags={"type": "array", "uniqueItems": True})
        entries = [{"n": i} for i in range(MAX_UNIQUE_ITEMS + 1)]
        with timed():
            errors = errors_of(schema, {"tags": entries})
        assert errors == {"tags": ["Too many entries to check for duplicates: 1,001; the limit is 1,000."]}

    def test_unique_items_checks_the_most_entries_it_allows_at_once(self):
        schema = form(tags={"type": "array", "uniqueItems": True})
        entries = [{"n": i, "tags": [str(i)] * 20} for i in range(MAX_UNIQUE_ITEMS)]
        with timed():
            assert validate_submission(schema, {"tags": entries}) == {"tags": entries}

    @pytest.mark.parametrize(
        ("entries", "unique"),
        [
            ([{"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}], False),
            ([1, 1.0], False),
            ([{"n": 1}, {"n": 1.0}], False),
            ([True, 1], True),
            ([[False], [0]], True),
            ([None, "null"], True),
            ([[1, 2], [2, 1]], True),
            (["a", "a"], False),
        ],
    )
    def test_unique_items_uses_json_schema_equality(self, entries, unique):
        schema = form(tags={"type": "array", "uniqueItems": True})
        if unique:
            assert validate_submission(schema, {"tags": entries}) == {"tags": entries}
        else:
            assert errors_of(schema, {"tags": entries}) == {"tags": ["The entries must all be different."]}

    def test_unevaluated_items_are_checked_in_linear_time(self):
        schema = form(rows={"type": "array", "prefixItems": [{"type": "integer"}], "unevaluatedItems": False})
        with timed():
            errors = errors_of(schema, {"rows": list(range(20_000))})
        assert errors == {"rows": ["This list has entries the form does not allow."]}

    def test_unevaluated_properties_are_checked_in_linear_time(self):
        schema = {
            "type": "object",
            "additionalProperties": True,
            "properties": {"bag": {"type": "object", "unevaluatedProperties": {"type": "integer"}}},
        }
        bag = {f"k{i}": i for i in range(20_000)}
        with timed():
            assert validate_submission(schema, {"bag": bag}) == {"bag": bag}
        assert errors_of(schema, {"bag": {"k": "x"}}) == {"bag.k": ["Expected integer."]}

    def test_a_multiple_of_check_on_a_huge_integer_gives_an_answer(self):
        schema = form(count={"type": "number", "multipleOf": 0.5})
        assert validate_submission(schema, {"count": 10**400}) == {"count": 10**400}
        assert errors_of(form(count={"multipleOf": 2.0}), {"count": 10**400 + 1}) == {
            "count": ["Must be a multiple of 2.0."]
        }


OPENING = [
    {"additionalProperties": True},
    {"additionalProperties": {}},
    {"additionalProperties": {"type": "string"}},
    {"patternProperties": {"^note_": {"type": "string"}}},
    {"unevaluatedProperties": True},
    {"unevaluatedProperties": {"type": "string"}},
]


class TestOpenForms:
    @pytest.mark.parametrize("opening", OPENING)
    def test_an_open_form_deploys_with_a_warning(self, opening):
        schema = {"type": "object", "properties": {"a": {"type": "string"}}, **opening}
        (keyword,) = opening
        assert schema_problems(schema) == []
        assert schema_warnings(schema) == [
            f'The form is open: "{keyword}" lets a submission add fields the form does not declare. They '
            "become process variables, unless the process already holds or reads a variable of that name."
        ]

    @pytest.mark.parametrize(
        "closing",
        [{}, {"additionalProperties": False}, {"unevaluatedProperties": False}, {"patternProperties": {}}],
    )
    def test_a_closed_form_has_no_warning(self, closing):
        assert schema_warnings({"type": "object", "properties": {"a": {}}, **closing}) == []

    def test_each_way_of_opening_a_form_is_named(self):
        schema = {"type": "object", "additionalProperties": True, "patternProperties": {"^x": {}}}
        assert [w.split('"')[1] for w in schema_warnings(schema)] == [
            "additionalProperties",
            "patternProperties",
        ]

    @pytest.mark.parametrize("opening", OPENING)
    def test_an_open_form_accepts_a_new_plain_field(self, opening):
        schema = {"type": "object", "properties": {"a": {"type": "string"}}, **opening}
        submitted = {"a": "x", "note_extra": "y"}
        assert validate_submission(schema, submitted, protected={"amount"}) == submitted

    @pytest.mark.parametrize("opening", OPENING)
    def test_an_open_form_refuses_a_field_that_would_overwrite_process_data(self, opening):
        schema = {"type": "object", "properties": {"a": {"type": "string"}}, **opening}
        errors = errors_of(schema, {"note_amount": "9"}, protected={"note_amount", "approved"})
        assert errors == {
            "note_amount": ["This field would overwrite process data; the form does not declare it."]
        }

    @pytest.mark.parametrize("name", ["now", "len", "True"])
    def test_an_open_form_refuses_a_reserved_name(self, name):
        schema = {"type": "object", "additionalProperties": True}
        assert errors_of(schema, {name: 1}) == {
            name: ["This field name is reserved for a built-in function."]
        }

    @pytest.mark.parametrize("name", ["_secret", "__class__", "a-b", "1st", "note\n", "", "名字"])
    def test_an_open_form_refuses_a_name_that_is_not_a_plain_identifier(self, name):
        schema = {"type": "object", "additionalProperties": True}
        assert errors_of(schema, {name: 1}) == {
            name: [
                "A field the form does not declare must be named with a letter, then letters, digits or '_'."
            ]
        }

    def test_a_declared_field_may_still_set_process_data(self):
        schema = {
            "type": "object",
            "properties": {"amount": {"type": "integer"}},
            "additionalProperties": True,
        }
        assert validate_submission(schema, {"amount": 5}, protected={"amount"}) == {"amount": 5}

    def test_a_closed_form_refuses_undeclared_fields_whatever_their_name(self):
        schema = form(a={"type": "string"})
        assert errors_of(schema, {"a": "x", "b": 1, "_c": 2}) == {
            "b": ["This form has no such field."],
            "_c": ["This form has no such field."],
        }

    def test_pattern_properties_admit_only_the_fields_they_match(self):
        schema = {"type": "object", "patternProperties": {"^note_": {"type": "string"}}}
        assert validate_submission(schema, {"note_1": "x"}) == {"note_1": "x"}
        assert errors_of(schema, {"other": "x", "note_2": 3}) == {
            "other": ["This form has no such field."],
            "note_2": ["Expected string."],
        }

    def test_additional_properties_false_keeps_pattern_properties_the_only_way_in(self):
        schema = {
            "type": "object",
            "patternProperties": {"^note_": {}},
            "unevaluatedProperties": True,
            "additionalProperties": False,
        }
        assert errors_of(schema, {"other": 1}) == {"other": ["This form has no such field."]}

    def test_the_schema_for_additional_properties_still_checks_their_values(self):
        schema = {"type": "object", "additionalProperties": {"type": "string"}}
        assert errors_of(schema, {"remark": 3}) == {"remark": ["Expected string."]}

    def test_a_declared_field_name_ending_in_a_newline_is_refused_at_deploy(self):
        assert schema_problems(form(**{"ok\n": {}})) == [
            "Field name 'ok\\n' must start with a letter and use only letters, digits and '_', "
            "so that scripts and conditions can use it."
        ]


class TestNumbers:
    @pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf"), Decimal("NaN")])
    def test_a_number_that_is_not_finite_is_refused(self, number):
        schema = form(amount={"type": "number", "minimum": 0, "maximum": 100})
        assert errors_of(schema, {"amount": number}) == {
            "amount": ["Enter a finite number (not NaN or infinity)."]
        }

    def test_a_number_that_is_not_finite_is_refused_inside_a_list_of_objects(self):
        schema = form(
            lines={
                "type": "array",
                "items": {"type": "object", "properties": {"price": {"type": "number", "multipleOf": 0.01}}},
            }
        )
        data = {"lines": [{"price": 1.5}, {"price": float("nan")}, {"price": float("inf")}]}
        assert errors_of(schema, data) == {
            "lines.1.price": ["Enter a finite number (not NaN or infinity)."],
            "lines.2.price": ["Enter a finite number (not NaN or infinity)."],
        }

    def test_a_number_that_is_not_finite_is_refused_even_where_the_form_allows_anything(self):
        schema = {"type": "object", "properties": {"blob": {}}}
        assert errors_of(schema, {"blob": {"a": [[float("-inf")]]}}) == {
            "blob.a.0.0": ["Enter a finite number (not NaN or infinity)."]
        }

    def test_a_submission_nested_too_deep_is_refused_without_recursing(self):
        deep: list = []
        for _ in range(100_000):
            deep = [deep]
        errors = errors_of({"type": "object", "properties": {"blob": {"type": "string"}}}, {"blob": deep})
        ((path, messages),) = errors.items()
        assert path.startswith("blob.0.0") and messages == ["The data nests deeper than 64 levels."]


@pytest.mark.parametrize("path", SHIPPED_FORMS, ids=lambda p: p.name)
def test_a_shipped_form_has_no_problems_and_no_warnings(path: Path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert (schema_problems(schema), schema_warnings(schema)) == ([], [])


def test_the_shipped_forms_were_found():
    assert len(SHIPPED_FORMS) >= 16


class TestLabelledChoices:
    SCHEMA = {
        "type": "object",
        "properties": {
            "urgency": {
                "oneOf": [
                    {"const": "high", "title": "高", "title_en": "High"},
                    {"const": "low", "title": "低", "title_en": "Low"},
                    {"const": 1, "title": "一"},
                ]
            }
        },
    }

    @pytest.mark.parametrize("value", ["high", "low", 1, 1.0])
    def test_a_choice_among_labelled_constants_is_accepted(self, value):
        assert validate_submission(self.SCHEMA, {"urgency": value}) == {"urgency": value}

    @pytest.mark.parametrize("value", ["medium", True, None, ["high"], {"const": "high"}])
    def test_anything_else_is_refused_with_the_choice_message(self, value):
        assert errors_of(self.SCHEMA, {"urgency": value}) == {
            "urgency": ["Choose one of the offered values."]
        }


def test_a_schema_the_meta_schema_refuses_is_named_by_the_json_path_of_the_mistake():
    schema = {"type": "object", "properties": {"age": {"type": "numbr"}}}

    (problem,) = schema_problems(schema)

    assert problem.startswith("Not a valid JSON Schema at #/properties/age/type: ")
