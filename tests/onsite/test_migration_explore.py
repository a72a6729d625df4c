from SpiffWorkflow.util.task import TaskState
import pytest
from tests.onsite.flow import *
from tests.onsite.changed_diagrams import *
from workflows.services.migration import plan_migration, migrate_instance
from workflows import runtime

pytestmark = pytest.mark.django_db

def test_explore(org):
    programme = new_programme(org)
    enrolment = enrol(org, programme, customer_of(org))
    visit = current_visit(enrolment)
    v1 = visit.version
    v2 = deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))
    s = runtime.open_session(visit, actor=None)
    for t in s.workflow.tasks.values():
        print(t.task_spec.name, TaskState.get_name(t.state))
    plan = plan_migration(from_version=v1, to_version=v2, user=org.coordinator)
    print(plan)
    migrate_instance(instance_id=visit.pk, to_version=v2, user=org.coordinator, reason="x")
    visit.refresh_from_db()
    print(visit.version.number, visit.status)
    close_visit(enrolment, org)
    visit.refresh_from_db()
    print(visit.status, list(visit.human_tasks.values_list("bpmn_id","status")))
    assert 0
