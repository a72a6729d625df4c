"""The coordinator's workbench end to end in Chromium, as issue 12 walks it: a visit waits for its
plan on visit_cycle v1; the coordinator opens v1 in the modeler, adds a user task in a lane with a
form written in the form editor, breaks a sequence flow and sees it marked, fixes it and deploys
v2; runs the migration's dry run and migrates the waiting visit; finds it in the instance monitor
with its waiting task marked; and sees the waiting counts on v2's heat-map. The manager then plans
the migrated visit and it goes on to the new task."""

import json

import pytest

from tests.onsite.flow import complete, current_visit, customer_of, enrol, new_programme, plan, refreshed
from tests.pages.test_modeler_browser import modeler_ready
from workflows.models import AuditEvent, HumanTask, ProcessVersion

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PLAN = "Task_plan_visit"
NEW_TASK = "Task_confirm_contacts"
CONTACTS_FORM = {
    "title": "确认联系人",
    "title_en": "Confirm the contacts",
    "type": "object",
    "properties": {"contact": {"type": "string", "title": "联系人", "title_en": "Contact"}},
    "required": ["contact"],
}


def run(page, script: str, *args):
    """The modeler's own API (what a drag on the canvas does), exposed to tests by the page."""
    return page.evaluate(script, *args) if args else page.evaluate(script)


def test_a_coordinator_changes_the_visit_cycle_and_moves_a_waiting_visit_onto_it(desktop, org):
    programme = new_programme(org)
    visit = current_visit(enrol(org, programme, customer_of(org, code="HF-100", name="合肥供电公司")))
    waiting = HumanTask.objects.get(instance=visit, bpmn_id=PLAN, status=HumanTask.Status.OPEN)
    page = desktop.page
    page.on(
        "dialog", lambda dialog: dialog.accept("contacts.schema.json" if dialog.type == "prompt" else None)
    )
    desktop.sign_in(org.coordinator.username)

    # The modeler: a new user task after planning, in the planner's lane, with its own form.
    desktop.goto("/console/modeler/visit_cycle/v1/")
    modeler_ready(desktop)
    run(
        page,
        """([source, id]) => {
          const modeler = window.OnsiteConsole.modeler;
          const plan = modeler.get('elementRegistry').get(source);
          const task = modeler.get('modeling').appendShape(
            plan, { type: 'bpmn:UserTask' }, { x: plan.x + 60, y: plan.y + 160 });
          modeler.get('modeling').updateProperties(task, { id: id, name: '确认联系人' });
          const onward = modeler.get('elementRegistry').get('Flow_plan_save');
          modeler.get('modeling').reconnectStart(
            onward, task, { x: task.x + task.width / 2, y: task.y + task.height / 2 });
          modeler.get('selection').select(task);
        }""",
        [PLAN, NEW_TASK],
    )
    page.select_option("#modeler-properties select[name=onsite-form]", "__new__")
    page.wait_for_function(
        "() => document.querySelector('#form-editor-name').value === 'contacts.schema.json'"
    )
    page.fill("#form-editor-text", json.dumps(CONTACTS_FORM, ensure_ascii=False, indent=2))
    page.wait_for_selector("#form-editor-preview [name=contact]")

    # A flow without its target: listed and marked; fixed, the diagram deploys as v2.
    run(
        page,
        """() => {
          const flow = window.OnsiteConsole.modeler.get('elementRegistry').get('Flow_open_plan');
          window.savedTarget = flow.businessObject.targetRef;
          window.OnsiteConsole.modeler.get('modeling').updateProperties(flow, { targetRef: undefined });
        }""",
    )
    page.click("[data-modeler-action=validate]")
    page.wait_for_selector("#modeler-problems .modeler-problem-link")
    # (a flow without its target has no line to draw: marked, but not visible)
    assert page.locator('.djs-connection.has-problem[data-element-id="Flow_open_plan"]').count() == 1
    assert "Flow_open_plan" in page.locator("#modeler-problems .modeler-problem-link").first.inner_text()
    desktop.screenshot("workbench-1-problem")
    run(
        page,
        """() => {
          const flow = window.OnsiteConsole.modeler.get('elementRegistry').get('Flow_open_plan');
          window.OnsiteConsole.modeler.get('modeling').updateProperties(flow, { targetRef: window.savedTarget });
        }""",
    )
    page.click("[data-modeler-action=deploy]")
    page.wait_for_selector("#modeler-status .alert-success a")
    v2 = ProcessVersion.objects.get(model__process_id="visit_cycle", number=2)
    assert f'id="{NEW_TASK}"' in v2.files.get(is_main=True).content

    # The migration: the dry run finds the waiting visit movable; moved, it keeps its task.
    desktop.goto("/console/models/visit_cycle/v2/migrate/?from=1")
    assert page.locator(f"#instance-{visit.pk}").is_checked()
    desktop.screenshot("workbench-2-dry-run")
    page.fill("#migration-reason", "走访计划后增加确认联系人")
    page.click("button[value=migrate]")
    page.wait_for_load_state()
    assert "已迁移 1 个实例" in page.locator("#migration-outcome").inner_text()
    assert refreshed(visit).version_id == v2.pk
    kept = HumanTask.objects.get(pk=waiting.pk)
    assert (kept.status, kept.assignee_id, kept.due_at) == (
        HumanTask.Status.OPEN,
        waiting.assignee_id,
        waiting.due_at,
    )
    assert AuditEvent.objects.filter(instance=visit, kind=AuditEvent.Kind.MIGRATED).count() == 1

    # The monitor: found by its customer's code, its waiting task marked on v2's diagram.
    desktop.goto("/console/instances/?business_key=HF-100&process=visit_cycle")
    page.click(f'a[href="/console/instances/{visit.pk}/"]')
    page.wait_for_selector(f'.djs-element.active[data-element-id="{PLAN}"]')
    desktop.screenshot("workbench-3-instance")

    # The heat-map of v2: one visit waiting at planning.
    desktop.goto("/console/models/visit_cycle/v2/heat-map/")
    page.wait_for_selector(f'.djs-overlays[data-container-id="{PLAN}"] .diagram-overlay')
    assert (
        "1" in page.locator(f'.djs-overlays[data-container-id="{PLAN}"] .diagram-overlay').first.inner_text()
    )
    desktop.screenshot("workbench-4-heat-map")

    # The migrated visit goes on into the new task once planned.
    complete(refreshed(visit), PLAN, org.manager, plan())
    assert HumanTask.objects.filter(instance=visit, bpmn_id=NEW_TASK, status=HumanTask.Status.OPEN).exists()
