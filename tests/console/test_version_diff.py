"""The differences between two versions: the elements added, removed and changed (SpiffWorkflow's
SpecDiff) and each deployed file's text, as data and on the page."""

import re

import pytest

from console.selectors.version_diff import Change, version_diff
from tests.conftest import ROOT, text_source
from tests.console.conftest import diagram_text, field_check_files
from tests.pages.clients import signed_in
from workflows.actors import SYSTEM
from workflows.services import deploy

pytestmark = pytest.mark.django_db

DIFF_URL = "/console/models/field_check/diff/"


def by_id(elements):
    return {e.id: e for e in elements}


class TestElements:
    def test_names_the_added_removed_and_changed_elements_with_their_types(self, field_check):
        first, second = field_check

        [main] = version_diff(first, second).processes

        assert (main.process_id, main.status) == ("field_check", "changed")
        assert [(e.id, e.name, e.type) for e in main.added] == [("review", "主管审核", "UserTask")]
        assert [(e.id, e.name, e.type) for e in main.removed] == [("confirm", "确认预约", "UserTask")]
        assert {c.element.id for c in main.changed} == {"plan", "visit", "end"}

    def test_says_which_attributes_of_a_changed_element_changed_and_how(self, field_check):
        first, second = field_check

        [main] = version_diff(first, second).processes

        changed = {c.element.id: c for c in main.changed}
        assert changed["plan"].element.name == "制定计划"  # as it was
        assert Change("bpmn_name", "制定计划", "制定检查计划") in changed["plan"].changes
        assert Change("outputs") in changed["plan"].changes  # now to `visit`, not `confirm`
        assert Change("extension", "P5D", "P7D", detail="dueIn") in changed["visit"].changes
        assert {c.attribute for c in changed["end"].changes} == {"inputs"}

    def test_the_other_way_round_what_was_added_is_removed(self, field_check):
        first, second = field_check

        [main] = version_diff(second, first).processes

        assert [e.id for e in main.added] == ["confirm"]
        assert [e.id for e in main.removed] == ["review"]

    def test_an_element_given_a_new_id_in_its_place_is_changed_not_removed_and_added(self, field_check):
        _, second = field_check
        renamed = diagram_text("v2").replace('"plan"', '"plan_check"')
        third = deploy(user=SYSTEM, files=field_check_files("v2", diagram=renamed)).version

        [main] = version_diff(second, third).processes

        assert (main.added, main.removed) == ([], [])
        [plan] = [c for c in main.changed if c.element.id == "plan"]
        assert plan.new_id == "plan_check"
        assert Change("bpmn_id", "plan", "plan_check") in plan.changes
        assert "name" not in {c.attribute for c in plan.changes}  # the spec's name is its id: said once

    def test_the_same_elements_and_files_make_no_difference(self, field_check):
        first, _ = field_check

        diff = version_diff(first, first)

        assert diff.same
        assert [p.status for p in diff.processes] == ["same"]
        assert {f.status for f in diff.files} == {"same"}


class TestFiles:
    def test_pairs_the_files_by_name_and_says_which_were_added_removed_or_changed(self, field_check):
        first, second = field_check

        files = {f.name: f for f in version_diff(first, second).files}

        assert {name: f.status for name, f in files.items()} == {
            "field_check.bpmn": "changed",
            "check_plan.schema.json": "same",
            "check_record.schema.json": "changed",
            "check_review.schema.json": "added",
            "check_confirm.schema.json": "removed",
        }
        assert files["check_review.schema.json"].old_id is None
        assert files["check_confirm.schema.json"].new_id is None
        assert files["check_plan.schema.json"].lines == []

    def test_a_changed_files_lines_are_its_unified_diff(self, field_check):
        first, second = field_check

        files = {f.name: f for f in version_diff(first, second).files}

        record = files["check_record.schema.json"].lines
        assert record[0][0] == "hunk"
        added = [text for kind, text in record if kind == "add"]
        assert any('"photos_taken"' in line for line in added)
        assert not [text for kind, text in record if kind == "del" and "findings" in text]
        diagram = files["field_check.bpmn"].lines
        assert ("del", '          <spiffworkflow:property name="dueIn" value="P5D" />') in diagram
        assert ("add", '          <spiffworkflow:property name="dueIn" value="P7D" />') in diagram


class TestPage:
    def test_by_default_compares_the_latest_version_with_the_one_before(self, coordinator, field_check):
        response = signed_in(coordinator).get(DIFF_URL)

        assert response.status_code == 200
        assert (response.context["old"].number, response.context["new"].number) == (1, 2)
        html = response.content.decode()
        changes = dict(re.findall(r'data-element="([^"]+)" data-change="([^"]+)"', html))
        assert changes == {
            "review": "added",
            "confirm": "removed",
            "plan": "changed",
            "visit": "changed",
            "end": "changed",
        }
        assert "主管审核" in html and "用户任务" in html  # the added element's name and type, in words
        assert 'data-attribute="extension:dueIn"' in html and "P5D" in html and "P7D" in html

    def test_shows_each_files_differences_and_links_its_downloads(self, coordinator, field_check):
        first, _ = field_check

        html = signed_in(coordinator).get(DIFF_URL).content.decode()

        assert re.search(r'data-file="check_review.schema.json" data-status="added"', html)
        assert re.search(r'data-file="check_confirm.schema.json" data-status="removed"', html)
        assert '<span class="diff-line is-add">' in html
        removed_form = first.files.get(name="check_confirm.schema.json")
        assert f'href="/console/models/field_check/v1/files/{removed_form.pk}/"' in html

    def test_marks_the_changes_on_both_diagrams(self, coordinator, field_check):
        html = signed_in(coordinator).get(DIFF_URL).content.decode()

        assert 'data-markers="old-markers"' in html and 'data-markers="new-markers"' in html
        assert '"confirm": ["diff-removed"]' in html
        assert '"review": ["diff-added"]' in html

    def test_compares_the_versions_chosen_either_way(self, coordinator, field_check):
        response = signed_in(coordinator).get(DIFF_URL, {"from": 2, "to": 1})

        assert (response.context["old"].number, response.context["new"].number) == (2, 1)
        [main] = response.context["diff"].processes
        assert [e.id for e in main.added] == ["confirm"]

    def test_offers_every_version_to_choose_from(self, coordinator, field_check):
        html = signed_in(coordinator).get(DIFF_URL).content.decode()

        assert re.findall(r'<select[^>]*name="(from|to)"', html) == ["from", "to"]
        assert '<option value="1" selected>v1</option>' in html  # from
        assert '<option value="2" selected>v2</option>' in html  # to

    def test_a_version_against_itself_asks_for_two_different_ones(self, coordinator, field_check):
        response = signed_in(coordinator).get(DIFF_URL, {"from": 2, "to": 2})

        assert response.status_code == 200
        assert response.context["diff"] is None

    def test_a_single_version_has_nothing_before_it(self, coordinator):
        deploy(user=SYSTEM, files=field_check_files("v1"))

        response = signed_in(coordinator).get(DIFF_URL)

        assert response.status_code == 200
        assert response.context["diff"] is None

    @pytest.mark.parametrize("query", [{"from": 9}, {"to": 3}, {"from": "x"}, {"to": "-1"}])
    def test_an_unknown_version_is_not_found(self, coordinator, field_check, query):
        assert signed_in(coordinator).get(DIFF_URL, query).status_code == 404

    def test_an_unknown_model_is_not_found(self, coordinator, field_check):
        assert signed_in(coordinator).get("/console/models/no_such_process/diff/").status_code == 404


ON_SITE_DIAGRAMS = sorted(p.name for p in (ROOT / "bpmn").glob("*.bpmn"))
RENAMED_TASK = re.compile(r'(<bpmn:(?:userTask|serviceTask|scriptTask) id="([^"]+)" name="[^"]*)"')


@pytest.mark.parametrize("name", ON_SITE_DIAGRAMS)
def test_each_on_site_diagram_with_its_tasks_renamed_shows_only_those_renames(coordinator, deployed, name):
    # The real diagrams: subprocesses, boundary timers, multi-instance tasks, collaborations, calls.
    text = (ROOT / "bpmn" / name).read_text(encoding="utf-8")
    renamed = {m.group(2) for m in RENAMED_TASK.finditer(text)}
    second = deploy(user=SYSTEM, files=[text_source(name, RENAMED_TASK.sub(r"\1（改）\"", text))]).version
    first = second.model.versions.get(number=1)

    diff = version_diff(first, second)

    assert [(p.added, p.removed) for p in diff.processes] == [([], [])] * len(diff.processes)
    names_changed = {
        c.element.id
        for p in diff.processes
        for c in p.changed
        if any(change.attribute == "bpmn_name" for change in c.changes)
    }
    assert names_changed == renamed
    old_markers, new_markers = diff.markers()
    assert renamed <= set(old_markers) and renamed <= set(new_markers)
    assert [(f.name, f.status) for f in diff.files if f.status != "same"] == [(name, "changed")]
    process_id = second.model.process_id
    client = signed_in(coordinator)
    assert client.get(f"/console/models/{process_id}/diff/").status_code == 200
    assert client.get(f"/console/models/{process_id}/v2/").status_code == 200


def test_a_collaborations_changes_are_shown_under_its_pools_process(coordinator, deployed):
    text = (ROOT / "bpmn" / "win_back.bpmn").read_text(encoding="utf-8")
    deploy(user=SYSTEM, files=[text_source("win_back.bpmn", RENAMED_TASK.sub(r"\1（改）\"", text))])

    html = signed_in(coordinator).get("/console/models/win_back/diff/").content.decode()

    assert re.findall(r'data-process="([^"]+)"', html) == ["win_back"]
    assert 'data-element="Task_plan_win_back" data-change="changed"' in html


def test_a_form_changed_alone_changes_no_element(coordinator, field_check):
    files = field_check_files("v2")
    files = [
        text_source(f.name, f.content.decode().replace("主管审核", "主管复核"))
        if f.name == "check_review.schema.json"
        else f
        for f in files
    ]
    deploy(user=SYSTEM, files=files)

    html = signed_in(coordinator).get(DIFF_URL).content.decode()

    assert "没有新增、删除或修改任何元素。" in html
    assert 'data-file="check_review.schema.json" data-status="changed"' in html
