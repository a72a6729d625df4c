"""Chinese is what users see by default; the rest of the suite asserts the English msgids.

`tests/conftest.py` activates English for every test. These tests switch to Simplified Chinese (or to
no language at all, as a management command or background job runs) where people read the engine's
messages, and check that the catalog translates every message the project marks.
"""

import re
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.utils import translation

from tests.conftest import ROOT, TEST_BPMN_DIR, source
from tests.workflows.conftest import open_task
from tests.workflows.diagrams import linear, process, script_task
from tests.workflows.diagrams import source as text
from workflows.documents import DeploymentError
from workflows.exceptions import FormValidationError, TaskAlreadyCompleted, TaskNotYours
from workflows.operations import register_operation, unregister_operation
from workflows.services import complete_task, deploy, start_instance

CATALOG = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]")

# Msgids whose translation comes from Django's own catalog, left empty in ours on purpose.
DJANGO_PROVIDED = {"This field is required."}

pytestmark = pytest.mark.django_db


@contextmanager
def chinese():
    with translation.override("zh-hans"):
        yield


@contextmanager
def no_language_activated():
    """What a management command or background job sees: settings.LANGUAGE_CODE."""
    previous = translation.get_language()
    translation.deactivate()
    try:
        yield
    finally:
        translation.activate(previous)


def deployment_problems(files):
    with pytest.raises(DeploymentError) as caught:
        deploy(files=files)
    return caught.value.problems


# --- where users read messages ------------------------------------------------------------------


def test_without_an_active_language_messages_are_in_chinese():
    assert settings.LANGUAGE_CODE == "zh-hans"
    with no_language_activated():
        assert str(TaskNotYours()) == "该任务已分配给其他人。"


def test_form_errors_for_a_missing_field_and_a_too_small_number_are_chinese(approval, people):
    with chinese(), pytest.raises(FormValidationError) as caught:
        complete_task(task_id=open_task(approval, "submit").pk, data={"amount": 0}, user=people["alice"])
    assert caught.value.errors == {"amount": ["不能小于 1。"], "reason": ["这个字段是必填项。"]}


def test_a_task_completed_by_someone_else_says_so_in_chinese(approval, people):
    complete_task(
        task_id=open_task(approval, "submit").pk,
        data={"amount": 5, "reason": "pens"},
        user=people["alice"],
    )
    review = open_task(approval, "review")
    complete_task(task_id=review.pk, data={"approved": False}, user=people["bob"])
    with chinese(), pytest.raises(TaskAlreadyCompleted) as caught:
        complete_task(task_id=review.pk, data={"approved": True}, user=people["carol"])
    message = str(caught.value)
    assert message.startswith("该任务已由建国 王于 ") and message.endswith(" 完成。"), message


def test_a_deployment_calling_an_undeployed_process_is_refused_in_chinese():
    with chinese():
        problems = deployment_problems([source(TEST_BPMN_DIR / "linked_parent.bpmn")])
        described = str(problems[0])
    assert "元素“call_child”" in described, described
    assert "流程“linked_child”" in described and "尚未部署；请先部署它。" in described, described


def test_a_process_without_start_event_is_refused_in_chinese():
    with chinese():
        problems = deployment_problems([text("nostart.bpmn", process('<bpmn:userTask id="t" />'))])
        described = str(problems[0])
    assert described.startswith("nostart.bpmn，元素“test_process”（第 "), described
    assert described.endswith("行）：该流程没有开始事件。"), described


def test_a_refused_script_names_what_was_refused_in_chinese():
    with chinese():
        problems = deployment_problems([text("imports.bpmn", linear(script_task("s", "import os")))])
    assert problems[0].element == "s"
    assert problems[0].message.startswith("该脚本不被允许：第 1 行：BPMN 脚本中不允许使用 import"), problems


def test_an_operation_failing_unexpectedly_leaves_a_chinese_error_on_the_instance():
    @register_operation("tests.lookup")
    def buggy(context, key, suffix):
        raise KeyError("/srv/secret/path")

    try:
        deploy(files=[source(TEST_BPMN_DIR / "service_call.bpmn")])
        with chinese():
            instance = start_instance(process_id="service_call", data={"customer_key": "x"})
    finally:
        unregister_operation("tests.lookup")
    instance.refresh_from_db()
    assert re.search(r"服务操作“tests\.lookup”意外失败（参考编号 [0-9a-f]{12}）。", instance.error["message"])


# --- the catalog ---------------------------------------------------------------------------------


def _unquote(text):
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes[m.group(1)], text)


def catalog_entries():
    """(flags, msgid, msgstr) for every live entry of the .po file, header excluded."""
    entries, flags, parts, current = [], set(), {}, None

    def finish():
        if "msgstr" in parts and parts["msgid"]:
            entries.append((set(flags), _unquote(parts["msgid"]), _unquote(parts["msgstr"])))

    for line in [*CATALOG.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip() or (line.startswith("#") and "msgstr" in parts):
            finish()
            flags, parts, current = set(), {}, None
        if line.startswith("#,"):
            flags.update(flag.strip() for flag in line[2:].split(","))
        elif match := re.match(r'^(msgid|msgstr|msgctxt|msgid_plural)\s+"(.*)"$', line):
            current = match.group(1)
            parts[current] = match.group(2)
        elif match := re.match(r'^"(.*)"$', line):
            parts[current] += match.group(1)
    return entries


def test_every_message_has_a_chinese_translation_with_the_same_placeholders():
    entries = catalog_entries()
    assert len(entries) > 200
    for flags, msgid, msgstr in entries:
        assert "fuzzy" not in flags, msgid
        if msgid in DJANGO_PROVIDED:
            assert msgstr == "", f"{msgid!r} is Django's to translate"
            continue
        assert msgstr.strip(), f"{msgid!r} is not translated"
        assert sorted(PLACEHOLDER.findall(msgstr)) == sorted(PLACEHOLDER.findall(msgid)), msgid


def test_the_compiled_catalog_matches_the_po_file():
    """The .mo is committed (Django needs only it); it must say what the .po says."""
    with chinese():
        for _flags, msgid, msgstr in catalog_entries():
            if msgid in DJANGO_PROVIDED:
                assert translation.gettext(msgid) not in ("", msgid), msgid
            else:
                assert translation.gettext(msgid) == msgstr, msgid
