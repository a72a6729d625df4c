"""Chinese is what users see by default; the rest of the suite asserts the English msgids.

`tests/conftest.py` activates English for every test. These tests switch to Simplified Chinese (or to
no language at all, as a management command or background job runs) where people read the engine's
messages, and check that the catalog translates every message the project marks.
"""

import ast
import re
from contextlib import contextmanager
from typing import NamedTuple

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import translation

from onsite.models import Customer, Industry, Lead, Programme, Stage, Team, Urgency, VisitSummary
from onsite.stages import describe as describe_suggestion
from onsite.stages import suggest_stage
from tests.conftest import ROOT, TEST_BPMN_DIR, source
from tests.workflows.conftest import open_task
from tests.workflows.diagrams import linear, process, script_task
from tests.workflows.diagrams import source as text
from workflows.actors import SYSTEM
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
        deploy(user=SYSTEM, files=files)
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
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "service_call.bpmn")])
        with chinese():
            instance = start_instance(user=SYSTEM, process_id="service_call", data={"customer_key": "x"})
    finally:
        unregister_operation("tests.lookup")
    instance.refresh_from_db()
    assert re.search(r"服务操作“tests\.lookup”意外失败（参考编号 [0-9a-f]{12}）。", instance.error["message"])


def test_a_limit_hit_in_a_helper_process_is_reported_in_the_callers_language(settings):
    settings.WORKFLOWS = {**settings.WORKFLOWS, "SCRIPT_TIME_LIMIT": 0.3}
    deploy(
        user=SYSTEM,
        files=[text("spin.bpmn", linear(script_task("spin_forever", "while True: pass"), process_id="spin"))],
    )
    with no_language_activated():
        instance = start_instance(user=SYSTEM, process_id="spin")
    instance.refresh_from_db()
    assert "脚本运行时间超过了 0.3 秒的上限。" in instance.error["message"], instance.error


def test_a_policy_refusal_made_in_a_helper_process_is_chinese():
    from workflows.sandbox import SandboxEnvironment, ScriptPolicyError

    with chinese(), pytest.raises(ScriptPolicyError) as caught:
        SandboxEnvironment().execute("import os", {})
    assert "BPMN 脚本中不允许使用 import" in str(caught.value)


def test_data_beyond_the_limits_is_refused_in_chinese(approval, people):
    with chinese(), pytest.raises(FormValidationError) as caught:
        complete_task(
            task_id=open_task(approval, "submit").pk,
            data={"amount": float("nan"), "reason": "pens"},
            user=people["alice"],
        )
    assert caught.value.errors == {"amount": ["数字必须是有限值（不能是 NaN 或无穷大）。"]}


# --- the catalog ---------------------------------------------------------------------------------


def _unquote(text):
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes[m.group(1)], text)


class Entry(NamedTuple):
    flags: set
    msgid: str
    msgstr: str  # msgstr[0] for a plural entry: Chinese has one form
    plural: str | None = None
    context: str | None = None


def catalog_entries():
    """Every live entry of the .po file, header excluded."""
    entries, flags, parts, current = [], set(), {}, None

    def finish():
        if "msgstr" in parts and parts["msgid"]:
            entries.append(
                Entry(
                    set(flags),
                    _unquote(parts["msgid"]),
                    _unquote(parts["msgstr"]),
                    _unquote(parts["msgid_plural"]) if "msgid_plural" in parts else None,
                    _unquote(parts["msgctxt"]) if "msgctxt" in parts else None,
                )
            )

    for line in [*CATALOG.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip() or (line.startswith("#") and "msgstr" in parts):
            finish()
            flags, parts, current = set(), {}, None
        if line.startswith("#,"):
            flags.update(flag.strip() for flag in line[2:].split(","))
        elif match := re.match(r'^(msgid|msgstr|msgctxt|msgid_plural|msgstr\[\d+\])\s+"(.*)"$', line):
            current = "msgstr" if match.group(1) == "msgstr[0]" else match.group(1)
            parts[current] = match.group(2)
        elif match := re.match(r'^"(.*)"$', line):
            parts[current] += match.group(1)
    return entries


def test_every_message_has_a_chinese_translation_with_the_same_placeholders():
    entries = catalog_entries()
    assert len(entries) > 600
    for entry in entries:
        assert "fuzzy" not in entry.flags, entry.msgid
        if entry.msgid in DJANGO_PROVIDED:
            assert entry.msgstr == "", f"{entry.msgid!r} is Django's to translate"
            continue
        assert entry.msgstr.strip(), f"{entry.msgid!r} is not translated"
        expected = PLACEHOLDER.findall(entry.plural or entry.msgid)
        assert sorted(PLACEHOLDER.findall(entry.msgstr)) == sorted(expected), entry.msgid


# How the project's code marks a message: the function, and where its msgid (and context) sit.
_MARKERS = {
    "_": (None, 0),
    "gettext": (None, 0),
    "gettext_lazy": (None, 0),
    "ngettext": (None, 0),
    "ngettext_lazy": (None, 0),
    "pgettext": (0, 1),
    "pgettext_lazy": (0, 1),
    "npgettext": (0, 1),
    "npgettext_lazy": (0, 1),
}
_TEMPLATE_MARK = re.compile(
    r"""{%\s*(?:translate|trans)\s+(["'])(.*?)\1(?:[^%]*?\scontext\s+(["'])(.*?)\3)?"""
)


def marked_messages():
    """(context, msgid) of every message the project's code and templates mark for translation."""
    found = set()
    for path in [*ROOT.glob("workflows/**/*.py"), *ROOT.glob("onsite/**/*.py"), *ROOT.glob("config/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id not in _MARKERS:
                continue
            context_at, msgid_at = _MARKERS[node.func.id]
            arguments = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
            if len(arguments) > msgid_at and isinstance(arguments[msgid_at], str):
                found.add((None if context_at is None else arguments[context_at], arguments[msgid_at]))
    for path in ROOT.glob("**/templates/**/*.html"):
        if ".venv" not in path.parts and "node_modules" not in path.parts:
            found.update(
                (m.group(4), m.group(2)) for m in _TEMPLATE_MARK.finditer(path.read_text(encoding="utf-8"))
            )
    return found


def test_the_catalog_holds_every_message_the_code_marks():
    """A message added without running makemessages would reach a Chinese user in English."""
    marked = marked_messages()
    assert len(marked) > 600
    in_catalog = {(entry.context, entry.msgid) for entry in catalog_entries()}
    assert sorted(marked - in_catalog, key=str) == []


def compiled(entry):
    if entry.plural is not None and entry.context is not None:
        return translation.npgettext(entry.context, entry.msgid, entry.plural, 2)
    if entry.plural is not None:
        return translation.ngettext(entry.msgid, entry.plural, 2)
    if entry.context is not None:
        return translation.pgettext(entry.context, entry.msgid)
    return translation.gettext(entry.msgid)


def test_the_compiled_catalog_matches_the_po_file():
    """The .mo is committed (Django needs only it); it must say what the .po says."""
    with chinese():
        for entry in catalog_entries():
            if entry.msgid in DJANGO_PROVIDED:
                assert compiled(entry) not in ("", entry.msgid), entry.msgid
            else:
                assert compiled(entry) == entry.msgstr, entry.msgid


# --- the on-site domain ----------------------------------------------------------------------------


def test_the_onsite_choices_read_in_chinese():
    with chinese():
        assert [str(label) for label in Industry.labels] == [
            "党政军",
            "金融",
            "医疗医药",
            "教育",
            "商超零售",
            "文旅",
            "电力能源",
            "工业制造",
            "交通物流",
            "通信",
            "其他",
        ]
        assert [str(label) for label in Stage.labels] == ["服务宣传", "信息获取", "精准策反"]
        assert [str(label) for label in Lead.Status.labels] == ["新建", "跟进中", "已成交", "已丢单"]
        assert [str(label) for label in Urgency.labels] == ["高", "中", "低"]


def test_the_onsite_records_are_named_in_chinese():
    with chinese():
        assert apps.get_app_config("onsite").verbose_name == "驻点服务"
        assert str(Customer._meta.verbose_name) == "集团客户"
        assert str(Customer._meta.get_field("account_manager").verbose_name) == "客户经理"
        assert str(Programme._meta.verbose_name) == "驻点服务方案"
        assert str(VisitSummary._meta.verbose_name) == "驻点服务总结"
        assert str(Lead._meta.verbose_name) == "营销线索"
        assert str(Team._meta.get_field("leader").verbose_name) == "班组长"


def test_a_suggested_starting_stage_is_explained_in_chinese_without_an_active_language():
    factors = {"economic_development": 3, "informatization_level": 1, "competition": 2, "our_capability": 3}
    with no_language_activated():
        suggestion = suggest_stage(factors)
        reason = describe_suggestion(suggestion)
    assert suggestion.stage == Stage.PUBLICITY
    assert reason == "客户信息化水平、我方能力或当地经济发展水平仍较低：从服务宣传阶段开始。"
