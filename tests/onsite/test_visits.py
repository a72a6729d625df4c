"""A visit's dates: planned no earlier than its programme starts, recorded once made (never in the
future), and "as planned" measured against the date the programme's cadence set."""

from datetime import date, datetime, timedelta

import pytest

from onsite.models import IncentiveRecord, Visit
from onsite.services.summaries import visited_as_planned
from tests.onsite.flow import (
    APPROVE,
    PLAIN_SUMMARY,
    RESOURCES,
    at,
    complete,
    current_visit,
    customer_of,
    enrol,
    new_programme,
    open_task,
    plan,
    record,
    visit_opened,
)
from workflows.clock import frozen
from workflows.exceptions import TaskRejected
from workflows.models import ProcessInstance, Timer

pytestmark = pytest.mark.django_db


def planned_visit(org, *, start: date, today: datetime, planned: str):
    """A visit of a programme starting on `start`, scheduled at `today` and planned once open (a
    week before `start` when that is later)."""
    with frozen(today):
        enrolment = enrol(org, new_programme(org, start=start), customer_of(org))
        opens = Timer.objects.filter(instance=enrolment.instance, bpmn_id="Event_visit_opens").first()
        instance = visit_opened(enrolment) if opens else current_visit(enrolment)
        complete(instance, "Task_plan_visit", org.manager, plan(date=planned))
        complete(instance, "Task_prepare_resources", org.manager, RESOURCES)
    return instance


def test_a_visit_recorded_as_made_in_the_future_is_refused_and_the_task_stays_open(org):
    instance = planned_visit(org, start=date(2026, 11, 2), today=at(2026, 12, 1, 9), planned="2026-12-01")

    with frozen(at(2026, 12, 1, 9)), pytest.raises(TaskRejected) as caught:
        complete(instance, "Task_record_visit", org.manager, record(at(2026, 12, 1, 15)))

    assert list(caught.value.field_errors) == ["visited_at"]
    assert "2026-12-01 15:00 is still to come" in caught.value.field_errors["visited_at"][0]
    assert open_task(instance, "Task_record_visit")
    visit = Visit.objects.get(instance=instance)
    assert (visit.status, visit.visited_at) == (Visit.Status.PLANNED, None)
    instance.refresh_from_db()
    assert instance.status == ProcessInstance.Status.RUNNING


def test_a_visit_recorded_a_few_minutes_ahead_of_the_servers_clock_is_accepted(org):
    instance = planned_visit(org, start=date(2026, 11, 2), today=at(2026, 12, 1, 9), planned="2026-12-01")

    with frozen(at(2026, 12, 1, 15)):
        complete(instance, "Task_record_visit", org.manager, record(at(2026, 12, 1, 15, 5)))

    assert Visit.objects.get(instance=instance).status == Visit.Status.VISITED


def test_a_visit_recorded_before_its_programme_started_is_refused(org):
    instance = planned_visit(org, start=date(2026, 12, 1), today=at(2026, 12, 2, 9), planned="2026-12-02")

    with frozen(at(2026, 12, 2, 12)), pytest.raises(TaskRejected) as caught:
        complete(instance, "Task_record_visit", org.manager, record(at(2026, 11, 30, 10)))

    assert caught.value.field_errors == {
        "visited_at": ["The programme started on 2026-12-01; this visit cannot be before it."]
    }


def test_a_plan_before_the_programme_starts_is_refused(org):
    with frozen(at(2026, 11, 20, 9)):
        enrolment = enrol(org, new_programme(org, start=date(2026, 12, 1)), customer_of(org))
        instance = visit_opened(enrolment)  # on 24 November, a week before the first day
        with pytest.raises(TaskRejected) as caught:
            complete(instance, "Task_plan_visit", org.manager, plan(date="2026-11-25"))

        assert caught.value.field_errors == {
            "planned_date": ["The programme starts on 2026-12-01; plan the visit for then or later."]
        }
        assert open_task(instance, "Task_plan_visit")
        assert Visit.objects.get(instance=instance).status == Visit.Status.SCHEDULED
        complete(instance, "Task_plan_visit", org.manager, plan(date="2026-12-01"))  # the first day is fine


def close(instance, org, visited_at: datetime) -> Visit:
    with frozen(visited_at + timedelta(hours=2)):
        complete(instance, "Task_record_visit", org.manager, record(visited_at))
        complete(instance, "Task_write_summary", org.manager, PLAIN_SUMMARY)
        complete(instance, "Task_review_summary", org.leader, APPROVE)
    return Visit.objects.get(instance=instance)


def test_a_visit_put_off_by_the_managers_own_plan_is_not_as_planned(org):
    # The cadence set the first visit for the programme's first day; the manager planned it ten days on.
    instance = planned_visit(org, start=date(2026, 12, 1), today=at(2026, 11, 20, 9), planned="2026-12-11")

    visit = close(instance, org, at(2026, 12, 11, 10))

    assert (visit.scheduled_date, visit.planned_date) == (date(2026, 12, 1), date(2026, 12, 11))
    assert not visited_as_planned(visit)
    assert not IncentiveRecord.objects.filter(visit=visit, event="visit_as_planned").exists()


def test_a_visit_made_on_the_cadences_date_is_as_planned_whatever_the_plan_said(org):
    instance = planned_visit(org, start=date(2026, 12, 1), today=at(2026, 11, 20, 9), planned="2026-12-11")

    visit = close(instance, org, at(2026, 12, 2, 10))  # within a day of the cadence's date

    assert visited_as_planned(visit)
    assert IncentiveRecord.objects.filter(visit=visit, event="visit_as_planned").exists()
