"""What an approved summary leads to starts after the approval committed, on the engine event the
worker handles: never inside the approval, and once however often it is handled."""

import pytest

from onsite.models import Lead, Notification, NotificationKind, SupportRequest, Visit
from onsite.services.summaries import start_summary_follow_ups
from tests.onsite.flow import APPROVE, SUMMARY, customer_of, enrol, new_programme, open_task, visit_made
from workflows.events import handle_pending_events
from workflows.models import EngineEvent, ProcessInstance
from workflows.services import complete_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(org):
    """A visit whose summary (with leads and a resource need) the team leader approved, the worker
    not yet run."""
    visit = visit_made(enrol(org, new_programme(org), customer_of(org)))
    for bpmn_id, user, data in (
        ("Task_write_summary", org.manager, SUMMARY),
        ("Task_review_summary", org.leader, APPROVE),
    ):
        complete_task(task_id=open_task(visit, bpmn_id).pk, data=data, user=user)
    return Visit.objects.get(instance=visit)


def test_the_approval_stores_the_leads_and_requests_but_starts_no_process(approved):
    assert approved.status == Visit.Status.CLOSED
    assert Lead.objects.filter(source_visit=approved).count() == len(SUMMARY["leads"])
    assert not Lead.objects.filter(follow_up__isnull=False).exists()
    assert not SupportRequest.objects.filter(instance__isnull=False).exists()
    assert EngineEvent.objects.filter(kind=EngineEvent.Kind.TASK_COMPLETED, handled_at=None).exists()


def test_the_worker_starts_each_leads_follow_up_and_each_requests_process_once(approved):
    processes = ProcessInstance.objects.count()

    handle_pending_events()
    again = start_summary_follow_ups(visit_id=approved.pk)  # a retried or duplicated job
    handle_pending_events()

    leads = Lead.objects.filter(source_visit=approved)
    requests = SupportRequest.objects.filter(source_visit=approved)
    assert again == 0
    assert all(lead.follow_up_id for lead in leads) and all(request.instance_id for request in requests)
    assert ProcessInstance.objects.count() == processes + leads.count() + requests.count()
    assert not EngineEvent.objects.filter(handled_at=None).exists()


def test_a_visit_not_yet_closed_starts_nothing(org):
    visit = Visit.objects.get(instance=visit_made(enrol(org, new_programme(org), customer_of(org))))

    assert start_summary_follow_ups(visit_id=visit.pk) == 0


def test_a_new_task_tells_its_assignee_once_when_the_worker_handles_its_event(org):
    enrolment = enrol(org, new_programme(org), customer_of(org))
    plan = open_task(ProcessInstance.objects.get(parent_id=enrolment.instance_id), "Task_plan_visit")
    assert not Notification.objects.exists()  # nothing until the worker handles the event

    handle_pending_events()
    EngineEvent.objects.update(handled_at=None)  # as if the job ran again
    handle_pending_events()

    told = Notification.objects.filter(kind=NotificationKind.TASK_ASSIGNED)
    assert [(n.recipient, n.link) for n in told] == [(org.manager, f"/tasks/{plan.pk}/")]
