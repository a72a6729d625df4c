"""The modeler in Chromium: a coordinator opens visit_cycle v1, edits a form in the form editor and
sees the preview follow, breaks a sequence flow and sees it marked and listed, fixes it, deploys
version 2; unsaved work survives a reload, leaving asks first; the page on a phone."""

import json
from pathlib import Path

import pytest

from workflows.models import ProcessVersion

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

MODELER = "/console/modeler/visit_cycle/v1/"


def modeler_ready(watched):
    watched.page.wait_for_selector("#modeler-canvas.is-ready", timeout=20_000)


def select(page, element_id):
    """Select an element as a click on it does (the palette may cover it at the diagram's zoom)."""
    page.evaluate(
        """(id) => {
          const modeler = window.OnsiteConsole.modeler;
          modeler.get('selection').select(modeler.get('elementRegistry').get(id));
        }""",
        element_id,
    )


def test_a_coordinator_edits_a_form_breaks_and_fixes_a_flow_and_deploys_version_two(desktop, org):
    page = desktop.page
    questions = []

    def answer(dialog):
        questions.append(dialog.type)
        if dialog.type == "prompt":  # the new form's file name
            dialog.accept("contacts.schema.json")
        else:
            dialog.accept()

    page.on("dialog", answer)
    desktop.sign_in(org.coordinator.username)
    desktop.goto(MODELER)
    modeler_ready(desktop)

    # Selecting the planning task opens its form in the form editor, previewed as the task page shows it.
    select(page, "Task_plan_visit")
    assert page.input_value("#form-editor-name") == "visit_plan.schema.json"
    page.wait_for_selector("#form-editor-preview [name=objectives]")
    assert page.locator('[data-group-id="group-onsite-form"]', has_text="表单").count() == 1
    schema = json.loads(page.input_value("#form-editor-text"))
    schema["properties"]["objectives"]["title"] = "本次走访的目标（必填）"
    page.fill("#form-editor-text", json.dumps(schema, ensure_ascii=False, indent=2))
    page.wait_for_selector("#form-editor-preview >> text=本次走访的目标（必填）")
    page.click("label[for=preview-en]")
    page.wait_for_selector("#form-editor-preview[data-language=en]")
    page.fill("#form-editor-text", '{"type": "object", "properties": {')
    page.wait_for_selector("#form-editor-problems >> text=不是有效的 JSON")
    page.fill("#form-editor-text", json.dumps(schema, ensure_ascii=False, indent=2))
    page.wait_for_selector("#form-editor-problems .text-success")

    # A user task added in a lane, after planning, gets a new form written in the form editor.
    page.evaluate(
        """() => {
          const modeler = window.OnsiteConsole.modeler;
          const source = modeler.get('elementRegistry').get('Task_plan_visit');
          const task = modeler.get('modeling').appendShape(
            source, { type: 'bpmn:UserTask' }, { x: source.x + 60, y: source.y + 160 });
          modeler.get('modeling').updateProperties(task, { id: 'Task_confirm_contacts', name: '确认联系人' });
          // Between planning and saving the plan: the plan's flow to saving now starts at the new task.
          const onward = modeler.get('elementRegistry').get('Flow_plan_save');
          const centre = { x: task.x + task.width / 2, y: task.y + task.height / 2 };
          modeler.get('modeling').reconnectStart(onward, task, centre);
          modeler.get('selection').select(task);
        }"""
    )
    page.select_option("#modeler-properties select[name=onsite-form]", "__new__")
    page.wait_for_function(
        "() => document.querySelector('#form-editor-name').value === 'contacts.schema.json'"
    )
    contacts = {
        "title": "确认联系人",
        "title_en": "Confirm the contacts",
        "type": "object",
        "properties": {"contact": {"type": "string", "title": "联系人", "title_en": "Contact"}},
        "required": ["contact"],
    }
    page.fill("#form-editor-text", json.dumps(contacts, ensure_ascii=False, indent=2))
    page.wait_for_selector("#form-editor-preview [name=contact]")
    lane = page.evaluate(
        """() => window.OnsiteConsole.modeler.get('elementRegistry').filter(
             e => e.type === 'bpmn:Lane' && e.businessObject.flowNodeRef.some(n => n.id === 'Task_confirm_contacts')
           ).map(e => e.id)"""
    )
    assert len(lane) == 1
    desktop.screenshot("console-modeler-new-task")

    # Unsaved work survives a reload, and leaving asks first.
    page.reload()
    modeler_ready(desktop)
    assert "beforeunload" in questions
    assert page.is_visible("#modeler-draft")
    page.select_option("#form-editor-name", "visit_plan.schema.json")
    assert "本次走访的目标（必填）" in page.input_value("#form-editor-text")
    page.wait_for_selector("#form-editor-preview >> text=本次走访的目标（必填）")

    # A sequence flow loses its target: validation lists it and marks it on the canvas.
    page.evaluate(
        """() => {
          const modeler = window.OnsiteConsole.modeler;
          const flow = modeler.get('elementRegistry').get('Flow_open_plan');
          window.savedTarget = flow.businessObject.targetRef;
          modeler.get('modeling').updateProperties(flow, { targetRef: undefined });
        }"""
    )
    page.click("[data-modeler-action=validate]")
    page.wait_for_selector("#modeler-problems .modeler-problem-link")
    item = page.locator("#modeler-problems .modeler-problem-link").first
    assert "Flow_open_plan" in item.inner_text()
    assert page.locator('.djs-connection.has-problem[data-element-id="Flow_open_plan"]').count() == 1
    assert page.locator(".modeler-problem-badge").count() >= 1
    item.click()
    selected = page.evaluate("() => window.OnsiteConsole.modeler.get('selection').get().map(e => e.id)")
    assert selected == ["Flow_open_plan"]
    desktop.screenshot("console-modeler-problem")

    # Fixed, it validates; deployed, it is version 2 with the edited form, and the kept copy is gone.
    page.evaluate(
        """() => {
          const modeler = window.OnsiteConsole.modeler;
          const flow = modeler.get('elementRegistry').get('Flow_open_plan');
          modeler.get('modeling').updateProperties(flow, { targetRef: window.savedTarget });
        }"""
    )
    page.click("[data-modeler-action=validate]")
    page.wait_for_selector("#modeler-status .alert-success, #modeler-status .alert-danger")
    assert page.locator("#modeler-status .alert-success").count() == 1, page.inner_text("#modeler-problems")
    assert page.locator(".has-problem").count() == 0
    page.click("[data-modeler-action=deploy]")
    page.wait_for_selector("#modeler-status .alert-success a")
    assert "v2" in page.inner_text("#modeler-status")
    version = ProcessVersion.objects.get(model__process_id="visit_cycle", number=2)
    form = json.loads(version.files.get(name="visit_plan.schema.json").content)
    assert form["properties"]["objectives"]["title"] == "本次走访的目标（必填）"
    assert "contact" in json.loads(version.files.get(name="contacts.schema.json").content)["properties"]
    main = version.files.get(is_main=True).content
    assert 'id="Task_confirm_contacts"' in main and 'value="contacts.schema.json"' in main
    assert page.evaluate("() => window.localStorage.getItem('onsite.modeler.visit_cycle/v1')") is None
    assert not page.is_visible("#modeler-draft")
    desktop.screenshot("console-modeler")


def test_the_modeler_starts_from_a_template_fits_a_phone_and_discards_kept_changes(phone, org):
    page = phone.page
    phone.sign_in(org.coordinator.username)
    phone.goto("/console/modeler/")
    modeler_ready(phone)

    page.wait_for_selector("#form-editor-preview [name=note]")
    assert not page.is_visible("#modeler-draft")  # nothing changed yet
    assert phone.no_horizontal_scroll()
    phone.screenshot("console-modeler-new")
    page.click("[data-modeler-action=validate]")
    page.wait_for_selector("#modeler-status .alert-success")

    # A change is kept through a reload until it is discarded.
    page.on("dialog", lambda dialog: dialog.accept())
    page.fill("#form-editor-text", page.input_value("#form-editor-text").replace("备注", "处理意见"))
    page.wait_for_function(
        "() => (window.localStorage.getItem('onsite.modeler.new') || '').includes('处理意见')"
    )
    page.reload()
    modeler_ready(phone)
    assert page.is_visible("#modeler-draft")
    assert "处理意见" in page.input_value("#form-editor-text")
    page.click("[data-modeler-action=discard]")
    page.wait_for_load_state()
    modeler_ready(phone)
    assert not page.is_visible("#modeler-draft")
    assert "处理意见" not in page.input_value("#form-editor-text")


def test_a_lane_shows_its_role_and_the_diagram_downloads_as_bpmn_and_svg(desktop, org):
    page = desktop.page
    desktop.sign_in(org.coordinator.username)
    desktop.goto(MODELER)
    modeler_ready(desktop)

    select(page, "Lane_account_manager")
    page.wait_for_selector("#modeler-properties select[name=onsite-lane-role]")
    assert page.input_value("#modeler-properties select[name=onsite-lane-role]") == "客户经理"
    desktop.screenshot("console-modeler-lane")

    with page.expect_download() as bpmn:
        page.click("[data-modeler-action=download-bpmn]")
    with page.expect_download() as svg:
        page.click("[data-modeler-action=download-svg]")
    assert bpmn.value.suggested_filename == "visit_cycle.bpmn"
    assert 'id="Flow_open_plan"' in Path(bpmn.value.path()).read_text(encoding="utf-8")
    assert svg.value.suggested_filename == "visit_cycle.svg"
    assert Path(svg.value.path()).read_text(encoding="utf-8").lstrip().startswith(("<?xml", "<svg"))
