"""Task forms rendered from their JSON Schema on the server, and the posted fields read back into the
nested data validation checks: every project form, both languages, errors at their fields, rows
added and removed without JavaScript, hostile field names ignored."""

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils import translation

from tests.conftest import ROOT
from workflows import clock
from workflows.forms import FormValidationError, example_submission, validate_submission
from workflows.forms.posted import apply_row_action, row_action, submission_from_post
from workflows.forms.rendering import render_form

FORMS = sorted((ROOT / "forms").glob("*.schema.json"))


def load(name):
    return json.loads((ROOT / "forms" / f"{name}.schema.json").read_text(encoding="utf-8"))


def fields_by_name(view):
    """Every field of a FormView (in groups and rows too) by its HTML name."""
    found = {}

    def walk(fields):
        for field in fields:
            found[field.name] = field
            walk(field.fields)
            for row in field.rows:
                walk(row.fields)

    walk(view.fields)
    return found


def html_of(view):
    return render_to_string("forms/form_fields.html", {"form": view})


def post(pairs):
    query = QueryDict(mutable=True)
    for name, value in pairs:
        query.appendlist(name, value)
    return query


class _Browser(HTMLParser):
    """What a browser posts for a form's fields (the submit button aside)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pairs = []
        self.textarea = None
        self.select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind == "checkbox":
                if "checked" in attrs:
                    self.pairs.append((name, attrs.get("value", "on")))
            else:
                self.pairs.append((name, attrs.get("value", "")))
        elif tag == "textarea" and name:
            self.textarea = [name, ""]
        elif tag == "select" and name:
            self.select = [name, None, None]
        elif tag == "option" and self.select is not None:
            value = attrs.get("value", "")
            if self.select[2] is None:
                self.select[2] = value
            if "selected" in attrs:
                self.select[1] = value

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self.textarea is not None:
            name, text = self.textarea
            self.pairs.append((name, text.removeprefix("\n")))  # as the HTML parser drops it
            self.textarea = None
        elif tag == "select" and self.select is not None:
            name, chosen, first = self.select
            self.pairs.append((name, chosen if chosen is not None else first))
            self.select = None


def browser_post(html):
    browser = _Browser()
    browser.feed(html)
    return post(browser.pairs)


TWO_LEADS = {
    "informatization_status": "已上云办公系统",
    "product_expiries": [
        {
            "product": "专线 100M",
            "provider": "竞争对手甲",
            "ownership": "competitor",
            "start_date": "2025-01-01",
            "expiry_date": "2027-03-31",
        }
    ],
    "decision_chain": [],
    "key_persons": [],
    "leads": [
        {"description": "扩容专线", "urgency": "high", "estimated_value": 120000, "win_back": True},
        {
            "description": "视频监控",
            "product": "云监控",
            "urgency": "low",
            "estimated_value": 0.5,
            "win_back": False,
        },
    ],
    "resource_needs": [],
    "none_reasons": {"decision_chain": "无：已掌握", "key_persons": "无：同上次"},
    "next_goals": "下周演示方案",
}

TWO_LEADS_POSTED = [
    ("csrfmiddlewaretoken", "x"),
    ("informatization_status", "已上云办公系统"),
    ("product_expiries.0.product", "专线 100M"),
    ("product_expiries.0.provider", "竞争对手甲"),
    ("product_expiries.0.ownership", "competitor"),
    ("product_expiries.0.start_date", "2025-01-01"),
    ("product_expiries.0.expiry_date", "2027-03-31"),
    ("leads.0.description", "扩容专线"),
    ("leads.0.product", ""),
    ("leads.0.urgency", "high"),
    ("leads.0.estimated_value", "120000"),
    ("leads.0.win_back", "false"),
    ("leads.0.win_back", "true"),
    ("leads.1.description", "视频监控"),
    ("leads.1.product", "云监控"),
    ("leads.1.urgency", "low"),
    ("leads.1.estimated_value", " 0.5 "),
    ("leads.1.win_back", "false"),
    ("none_reasons.product_expiries", ""),
    ("none_reasons.decision_chain", "无：已掌握"),
    ("none_reasons.key_persons", "无：同上次"),
    ("next_goals", "下周演示方案\r\n"),
]


# --- rendering ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("path", FORMS, ids=lambda p: p.name)
def test_every_project_form_renders_in_both_languages(path, language):
    schema = json.loads(path.read_text(encoding="utf-8"))

    view = render_form(schema, {}, {}, language=language)
    html = html_of(view)

    assert view.title == (schema["title_en"] if language == "en" else schema["title"])
    assert all(field.label for field in fields_by_name(view).values())
    for name in schema["properties"]:
        assert f'name="{name}' in html or f'name="_add" value="{name}"' in html
    assert "<script" not in html
    assert "style=" not in html
    assert not re.search(r"\son\w+=", html)


def test_labels_and_descriptions_follow_the_language_and_fall_back_to_the_other_then_the_name():
    schema = load("visit_summary")
    schema["properties"]["next_goals"].pop("title_en")
    schema["properties"]["informatization_status"].pop("title")
    schema["properties"]["informatization_status"].pop("title_en")

    chinese = fields_by_name(render_form(schema, {}, {}, language="zh-hans"))
    english = fields_by_name(render_form(schema, {}, {}, language="en-us"))

    assert chinese["leads"].label == "近期营销线索"
    assert english["leads"].label == "Recent marketing leads"
    assert chinese["none_reasons.leads"].label == "近期营销线索"
    assert english["none_reasons"].description.startswith("For each part with nothing to report")
    assert chinese["none_reasons"].description.startswith("某部分本次确无内容时")
    assert english["next_goals"].label == "下一步跟进目标"
    assert english["informatization_status"].label == "informatization_status"
    assert render_form(schema, {}, {}, language="en").description.startswith("Due within the hours")


def test_each_type_gets_its_widget_and_html_hints():
    schema = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 2, "maxLength": 100},
            "notes": {"type": "string", "maxLength": 2000},
            "remarks": {"type": "string", "format": "textarea"},
            "count": {"type": "integer", "minimum": 1, "maximum": 5},
            "share": {"type": "number", "minimum": 0, "multipleOf": 0.5},
            "day": {"type": "string", "format": "date"},
            "at": {"type": "string", "format": "date-time"},
            "mail": {"type": "string", "format": "email"},
            "level": {"oneOf": [{"const": "a", "title": "甲", "title_en": "A"}, {"const": "b"}]},
            "size": {"type": "string", "enum": ["s", "m"]},
            "done": {"type": "boolean"},
            "tags": {"type": "array", "uniqueItems": True, "items": {"enum": ["x", "y"]}},
            "place": {"type": "object", "properties": {"city": {"type": "string"}}},
            "rows": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
            "words": {"type": "array", "items": {"type": "string"}},
            "anything": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "nested": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
        },
    }

    fields = fields_by_name(render_form(schema, {}, {}, language="en"))

    kinds = {name: field.kind for name, field in fields.items()}
    assert kinds == {
        "name": "text",
        "notes": "textarea",
        "remarks": "textarea",
        "count": "integer",
        "share": "number",
        "day": "date",
        "at": "datetime",
        "mail": "text",
        "level": "select",
        "size": "select",
        "done": "checkbox",
        "tags": "checkboxes",
        "place": "group",
        "place.city": "text",
        "rows": "list",
        "words": "list",
        "anything": "json",
        "nested": "json",
    }
    assert fields["name"].required and not fields["notes"].required
    assert fields["name"].hints == {"minlength": "2", "maxlength": "100"}
    assert fields["count"].hints == {"min": "1", "max": "5", "step": "1"}
    assert fields["count"].input_type == "number" and fields["count"].inputmode == "numeric"
    assert fields["share"].hints == {"min": "0", "step": "0.5"}
    assert fields["day"].input_type == "date"
    assert fields["at"].input_type == "datetime-local"
    assert fields["mail"].input_type == "email"
    assert [(c.value, c.label) for c in fields["level"].choices] == [("a", "A"), ("b", "b")]
    assert [c.label for c in render_form(schema, {}, {}, language="zh-hans").fields[8].choices] == ["甲", "b"]
    assert [c.value for c in fields["tags"].choices] == ["x", "y"]


def test_values_come_from_the_data_else_from_the_schemas_defaults():
    plan = load("win_back_plan")
    confirmation = load("support_confirmation")

    defaulted = fields_by_name(render_form(plan, {}, {}, language="en"))
    given = fields_by_name(render_form(plan, {"urgency": "high", "estimated_value": 5}, {}, language="en"))

    assert [c.value for c in defaulted["urgency"].choices if c.selected] == ["medium"]
    assert [c.value for c in given["urgency"].choices if c.selected] == ["high"]
    assert defaulted["estimated_value"].value == ""
    assert given["estimated_value"].value == "5"
    assert fields_by_name(render_form(confirmation, {}, {}, language="en"))["resolved"].checked is True
    unticked = render_form(confirmation, {"resolved": False}, {}, language="en")
    assert fields_by_name(unticked)["resolved"].checked is False


def test_rows_of_a_list_carry_their_number_title_and_values():
    view = render_form(load("visit_summary"), TWO_LEADS, {}, language="en")

    leads = fields_by_name(view)["leads"]

    assert leads.rows[1].item_title == "Recent marketing leads"
    assert [(row.number, row.name, row.title) for row in leads.rows] == [
        (1, "leads.0", "Entry 1 of Recent marketing leads"),
        (2, "leads.1", "Entry 2 of Recent marketing leads"),
    ]
    second = {field.name: field for field in leads.rows[1].fields}
    assert second["leads.1.product"].value == "云监控"
    assert second["leads.1.estimated_value"].value == "0.5"
    assert [c.value for c in second["leads.1.urgency"].choices if c.selected] == ["low"]
    assert second["leads.1.win_back"].checked is False
    assert leads.rows[0].fields[-1].checked is True
    assert leads.can_add


def test_a_list_at_its_maximum_offers_no_add_button():
    schema = {
        "type": "object",
        "properties": {"words": {"type": "array", "maxItems": 2, "items": {"type": "string"}}},
    }

    view = render_form(schema, {"words": ["a", "b"]}, {}, language="en")

    assert not view.fields[0].can_add
    assert 'name="_add"' not in html_of(view)
    assert [row.fields[0].name for row in view.fields[0].rows] == ["words.0", "words.1"]


def test_validation_errors_land_at_their_field_row_and_the_summary_in_english():
    schema = load("visit_summary")
    data = {**TWO_LEADS, "leads": [TWO_LEADS["leads"][0], {"description": "视频监控"}]}
    with pytest.raises(FormValidationError) as refused:
        validate_submission(schema, data)

    view = render_form(
        schema, data, {**refused.value.errors, "": ["Try again."], "gone": ["Lost."]}, language="en"
    )

    urgency = fields_by_name(view)["leads.1.urgency"]
    assert urgency.errors == ["This field is required."]
    assert urgency.described_by == "field-leads-1-urgency-error"
    assert fields_by_name(view)["leads.0.urgency"].errors == []
    assert view.errors == ["Try again.", "gone — Lost."]
    assert [(line.text, line.target) for line in view.error_lines] == [
        ("Try again.", ""),
        ("gone — Lost.", ""),
        (
            "Entry 2 of Recent marketing leads: Urgency — This field is required.",
            "field-leads-1-urgency",
        ),
    ]


def test_the_error_summary_reads_in_chinese():
    schema = load("visit_summary")
    data = {**TWO_LEADS, "leads": [TWO_LEADS["leads"][0], {"description": "视频监控"}]}
    data["none_reasons"] = {"leads": "x" * 501}
    with translation.override("zh-hans"), pytest.raises(FormValidationError) as refused:
        validate_submission(schema, data)

    view = render_form(schema, data, refused.value.errors, language="zh-hans")

    assert [line.text for line in view.error_lines] == [
        "近期营销线索第 2 条：紧急程度 — 这个字段是必填项。",
        "无可报告的部分：近期营销线索 — 最多只能有 500 个字符。",
    ]
    assert 'href="#field-leads-1-urgency"' in html_of(view)


def test_errors_of_a_whole_row_or_inside_a_choice_list_stay_beside_it():
    schema = load("visit_resources")
    summary = load("visit_summary")

    choices = render_form(schema, {"materials": ["x"]}, {"materials.0": ["Choose one."]}, language="en")
    row = render_form(summary, TWO_LEADS, {"leads.1": ["Too much."], "leads": ["Few."]}, language="en")

    assert choices.fields[0].errors == ["Choose one."]
    assert fields_by_name(row)["leads"].errors == ["Few."]
    assert fields_by_name(row)["leads"].rows[1].errors == ["Too much."]
    assert [line.target for line in row.error_lines] == ["field-leads", "field-leads-1"]


def test_the_template_marks_invalid_fields_and_names_every_input():
    schema = load("visit_summary")
    errors = {"leads.1.urgency": ["This field is required."], "next_goals": ["Too short."]}

    html = html_of(render_form(schema, TWO_LEADS, errors, language="en"))

    for name in (
        "leads.0.description",
        "leads.1.urgency",
        "leads.1.win_back",
        "none_reasons.leads",
        "next_goals",
    ):
        assert f'name="{name}"' in html
    assert html.count("is-invalid") == 2
    assert re.search(r'<select class="form-select is-invalid" id="field-leads-1-urgency"', html)
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="field-leads-1-urgency-error"' in html
    assert '<div id="field-leads-1-urgency-error" class="invalid-feedback d-block">' in html
    assert 'name="_remove" value="leads.1"' in html
    assert 'name="_add" value="leads"' in html
    assert html.index('name="_refresh"') < html.index('name="_remove"')
    assert "btn-touch" in html
    assert '<span class="visually-hidden"> (required)</span>' in html
    assert "<script" not in html and "style=" not in html
    assert not re.search(r"\son\w+=", html)


def test_the_template_escapes_what_people_typed():
    schema = load("support_handling")

    html = html_of(
        render_form(schema, {"support_result": '</textarea><script>alert("x")</script>'}, {}, language="en")
    )

    assert "<script" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;" in html


def test_the_row_buttons_and_labels_read_in_chinese():
    with translation.override("zh-hans"):
        html = html_of(render_form(load("visit_summary"), TWO_LEADS, {}, language="zh-hans"))

    assert "添加一条" in html
    assert "删除" in html
    assert "近期营销线索第 2 条" in html


# --- reading the post -------------------------------------------------------------------------------


def test_a_posted_visit_summary_with_two_leads_becomes_the_nested_submission():
    schema = load("visit_summary")

    submission = submission_from_post(schema, post(TWO_LEADS_POSTED))

    assert submission == {**TWO_LEADS, "none_reasons": TWO_LEADS["none_reasons"]}
    assert validate_submission(schema, submission) == submission


def test_rows_are_read_in_index_order_with_gaps_closed():
    schema = load("visit_summary")

    submission = submission_from_post(
        schema,
        post(
            [
                ("leads.7.description", "third"),
                ("leads.2.description", "second"),
                ("leads.0.description", "first"),
                ("leads.0.urgency", "high"),
                ("leads.10.win_back", "false"),
            ]
        ),
    )

    assert submission["leads"] == [
        {"description": "first", "urgency": "high"},
        {"description": "second"},
        {"description": "third"},
        {"win_back": False},
    ]


def test_an_empty_row_stays_so_that_its_required_fields_are_reported():
    schema = load("visit_summary")

    submission = submission_from_post(schema, post([("leads.0.description", ""), ("leads.0.urgency", "")]))

    assert submission["leads"] == [{}]
    with pytest.raises(FormValidationError) as refused:
        validate_submission(schema, submission)
    assert refused.value.errors["leads.0.description"] == ["This field is required."]
    assert refused.value.errors["leads.0.urgency"] == ["This field is required."]


def test_an_unparsable_number_is_kept_reported_and_shown_as_typed():
    schema = load("visit_summary")
    pairs = [*TWO_LEADS_POSTED, ("leads.0.estimated_value", "12万")]

    submission = submission_from_post(schema, post(pairs))

    assert submission["leads"][0]["estimated_value"] == "12万"
    with pytest.raises(FormValidationError) as refused:
        validate_submission(schema, submission)
    assert refused.value.errors == {"leads.0.estimated_value": ["Expected number."]}
    field = fields_by_name(render_form(schema, submission, refused.value.errors, language="en"))[
        "leads.0.estimated_value"
    ]
    assert (field.value, field.input_type, field.errors) == ("12万", "text", ["Expected number."])
    assert 'value="12万"' in html_of(render_form(schema, submission, refused.value.errors, language="en"))


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("3", 3),
        ("-2.5", -2.5),
        ("1e3", 1000.0),
        ("１２", 12),
        ("nan", "nan"),
        ("inf", "inf"),
        ("1e999", "1e999"),
        ("1_000", "1_000"),
        ("9" * 5000, "9" * 5000),
    ],
)
def test_numbers_are_parsed_and_anything_else_is_kept_as_text(typed, read):
    schema = {"type": "object", "properties": {"n": {"type": "number"}}}

    assert submission_from_post(schema, post([("n", typed)])) == {"n": read}


def test_an_integer_field_keeps_a_decimal_as_text_for_validation_to_refuse():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}

    submission = submission_from_post(schema, post([("n", "2.5")]))

    assert submission == {"n": "2.5"}
    with pytest.raises(FormValidationError) as refused:
        validate_submission(schema, submission)
    assert refused.value.errors == {"n": ["Expected integer."]}


def test_an_unticked_checkbox_is_false_a_ticked_one_true_an_absent_one_left_to_its_default():
    schema = load("support_confirmation")

    assert submission_from_post(schema, post([("resolved", "false")])) == {"resolved": False}
    assert submission_from_post(schema, post([("resolved", "false"), ("resolved", "true")])) == {
        "resolved": True
    }
    assert submission_from_post(schema, post([])) == {}


def test_empty_boxes_are_left_out_so_that_required_fields_are_reported():
    schema = load("support_handling")

    submission = submission_from_post(schema, post([("support_result", "  "), ("hours_spent", "")]))

    assert submission == {}
    with pytest.raises(FormValidationError) as refused:
        validate_submission(schema, submission)
    assert refused.value.errors == {"support_result": ["This field is required."]}


def test_an_empty_list_is_sent_where_the_form_requires_or_defaults_it():
    summary = submission_from_post(load("visit_summary"), post([]))
    resources = submission_from_post(load("visit_resources"), post([]))

    assert summary["leads"] == []
    assert summary["none_reasons"] == {}
    assert "materials" not in resources


def test_a_choice_list_posts_each_ticked_value():
    schema = load("visit_resources")

    submission = submission_from_post(
        schema, post([("materials", "quotation"), ("materials", "contract"), ("materials", "bogus")])
    )

    assert submission["materials"] == ["quotation", "contract", "bogus"]
    with pytest.raises(FormValidationError) as refused:
        validate_submission(schema, submission)
    assert list(refused.value.errors) == ["materials.2"]


def test_a_local_date_time_takes_the_sites_time_zone_and_shows_again_as_typed():
    schema = load("visit_record")

    submission = submission_from_post(
        schema, post([("visited_at", "2026-11-30T09:30"), ("information_collected", "需求")])
    )

    assert submission["visited_at"] == "2026-11-30T09:30:00+08:00"
    validate_submission(schema, submission)
    shown = fields_by_name(render_form(schema, {"visited_at": "2026-11-30T01:30:05Z"}, {}, language="en"))
    assert shown["visited_at"].value == "2026-11-30T09:30:05"
    assert shown["visited_at"].hints == {"step": "1"}


def test_a_construct_without_a_widget_is_edited_as_json():
    schema = {"type": "object", "properties": {"x": {"anyOf": [{"type": "object"}, {"type": "string"}]}}}

    view = render_form(schema, {"x": {"a": [1, 2]}}, {}, language="en")
    assert view.fields[0].kind == "json"
    assert json.loads(view.fields[0].value) == {"a": [1, 2]}
    assert 'class="form-control font-monospace"' in html_of(view)
    assert submission_from_post(schema, post([("x", '{"a": [1, 2]}')])) == {"x": {"a": [1, 2]}}
    assert submission_from_post(schema, post([("x", "plain words")])) == {"x": "plain words"}
    assert render_form(schema, {"x": "plain words"}, {}, language="en").fields[0].value == "plain words"


@pytest.mark.parametrize(
    "name",
    [
        "leads.999999.x",
        "leads.9999999.description",
        "leads.01.description",
        "leads.-1.description",
        "leads.１.description",
        "__proto__",
        "leads.__proto__",
        "constructor.prototype",
        "x" * 100_000,
        "leads." + "." * 50_000,
        "none_reasons.__class__",
    ],
)
def test_names_the_form_does_not_declare_are_ignored(name):
    schema = load("visit_summary")

    submission = submission_from_post(schema, post([*TWO_LEADS_POSTED, (name, "boom")]))

    assert submission == TWO_LEADS


def test_no_more_rows_are_read_than_the_form_allows():
    schema = load("visit_summary")
    unbounded = {"type": "object", "properties": {"w": {"type": "array", "items": {"type": "string"}}}}

    leads = submission_from_post(schema, post([(f"leads.{n}.description", "d") for n in range(80)]))
    words = submission_from_post(unbounded, post([(f"w.{n}", "d") for n in range(300)]))

    assert len(leads["leads"]) == 50
    assert len(words["w"]) == 200


# --- adding and removing rows -----------------------------------------------------------------------------


def test_the_pressed_row_button_is_read_from_the_post():
    assert row_action(post([("_add", "leads")])) == ("add", "leads")
    assert row_action(post([("_remove", "leads.1")])) == ("remove", "leads.1")
    assert row_action(post([("_refresh", "1")])) == ("refresh", "")
    assert row_action(post([("leads.0.description", "x")])) is None


def test_add_appends_an_empty_row_and_remove_drops_the_named_one():
    schema = load("visit_summary")
    data = submission_from_post(schema, post(TWO_LEADS_POSTED))

    added = apply_row_action(data, ("add", "leads"), schema=schema)
    removed = apply_row_action(data, ("remove", "leads.0"), schema=schema)

    assert added["leads"] == [*TWO_LEADS["leads"], {}]
    assert removed["leads"] == [TWO_LEADS["leads"][1]]
    assert data == TWO_LEADS
    view = render_form(schema, added, {}, language="en")
    assert len(fields_by_name(view)["leads"].rows) == 3
    assert fields_by_name(view)["leads.2.win_back"].checked is False


def test_rows_of_a_list_of_texts_are_added_and_removed_too():
    schema = load("visit_plan")

    added = apply_row_action({"topics": ["a"]}, ("add", "topics"), schema=schema)
    created = apply_row_action({}, ("add", "contacts_to_meet"), schema=schema)

    assert added == {"topics": ["a", ""]}
    assert created == {"contacts_to_meet": [""]}
    assert apply_row_action({"topics": ["a", "b"]}, ("remove", "topics.0"), schema=schema) == {
        "topics": ["b"]
    }
    assert submission_from_post(schema, post([("topics.0", "a"), ("topics.1", "")]))["topics"] == ["a"]


@pytest.mark.parametrize(
    "action",
    [
        ("add", "next_goals"),
        ("add", "nothing"),
        ("add", "none_reasons"),
        ("add", "leads.0"),
        ("remove", "leads.5"),
        ("remove", "leads"),
        ("remove", "leads.x"),
        ("remove", "next_goals.0"),
        ("add", "__proto__"),
        ("add", ""),
        ("explode", "leads"),
        ("refresh", ""),
    ],
)
def test_a_row_action_naming_no_list_or_row_changes_nothing(action):
    schema = load("visit_summary")

    assert apply_row_action(TWO_LEADS, action, schema=schema) == TWO_LEADS


def test_no_row_is_added_beyond_the_forms_maximum():
    schema = {
        "type": "object",
        "properties": {"w": {"type": "array", "maxItems": 1, "items": {"type": "string"}}},
    }

    assert apply_row_action({"w": ["a"]}, ("add", "w"), schema=schema) == {"w": ["a"]}


def test_rows_of_a_list_inside_a_row_are_reachable():
    schema = {
        "type": "object",
        "properties": {
            "sites": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"rooms": {"type": "array", "items": {"type": "string"}}},
                },
            }
        },
    }

    data = apply_row_action({"sites": [{}, {}]}, ("add", "sites.1.rooms"), schema=schema)

    assert data == {"sites": [{}, {"rooms": [""]}]}
    html = html_of(
        render_form(schema, {"sites": [{"rooms": ["a"]}, {"rooms": ["b", "c"]}]}, {}, language="en")
    )
    assert 'name="sites.1.rooms.1" value="c"' in html
    assert submission_from_post(schema, browser_post(html)) == {
        "sites": [{"rooms": ["a"]}, {"rooms": ["b", "c"]}]
    }


# --- the round trip -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FORMS, ids=lambda p: p.name)
def test_every_forms_example_survives_render_post_and_parse(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    with clock.frozen(datetime(2026, 11, 30, 2, 15, tzinfo=UTC)):
        example = example_submission(schema)

    html = html_of(render_form(schema, example, {}, language="zh-hans"))

    assert submission_from_post(schema, browser_post(html)) == example


def test_a_visit_summary_with_rows_survives_render_post_and_parse():
    schema = load("visit_summary")

    html = html_of(render_form(schema, TWO_LEADS, {}, language="en"))

    assert submission_from_post(schema, browser_post(html)) == TWO_LEADS


def test_what_was_typed_survives_a_rejected_submission():
    schema = load("visit_summary")
    pairs = [*TWO_LEADS_POSTED, ("leads.1.estimated_value", "about 5"), ("next_goals", "多行\r\n目标")]
    submission = submission_from_post(schema, post(pairs))
    with pytest.raises(FormValidationError) as refused:
        validate_submission(schema, submission)

    html = html_of(render_form(schema, submission, refused.value.errors, language="en"))

    assert submission_from_post(schema, browser_post(html)) == submission


def test_a_schema_that_refers_to_itself_renders_and_parses_to_a_bounded_depth():
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "child": {"$ref": "#"}, "loop": {"$ref": "#/$defs/a"}},
        "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
    }

    view = render_form(schema, {"child": {"child": {"name": "deep"}}}, {}, language="en")
    names = fields_by_name(view)

    assert names["child.child.name"].value == "deep"
    assert names["loop"].kind == "json"
    assert max(name.count(".") for name in names) < 20
    assert submission_from_post(schema, post([("child.child.name", "deep")])) == {
        "child": {"child": {"name": "deep"}}
    }
