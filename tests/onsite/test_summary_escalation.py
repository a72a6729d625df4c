"""The team leader's escalation of an overdue closed-loop summary, through the real services and
engine: every choice does what it says and the leader is asked again for as long as the summary
stays unwritten (at the new deadline after an extension, a follow-up period after a reminder or a
hand-over; never after an excused delay), and the escalation never outlives its summary: once the
summary is submitted it ends, and the visit closes as it always did."""

from datetime import datetime, timedelta

import pytest

from onsite.models import Visit, VisitSummary
from onsite.services import summaries
from tests.onsite.flow import (
    APPROVE,
    PLAIN_SUMMARY,
    REWORK,
    complete,
    customer_of,
    enrol,
    new_programme,
    open_task,
    refreshed,
    visit_made,
)
from workflows.clock import frozen
from workflows.models import HumanTask, ProcessInstance, Timer
from workflows.services import fire_due_timers

pytestmark = pytest.mark.django_db
ESCALATE, WRITE, REVIEW = "Task_escalate_summary", "Task_write_summary", "Task_review_summary"
FOLLOW_UP = "Event_escalation_follow_up"
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


@pytest.fixture
def visit(org):
    """A visit made, its summary to write."""
    return visit_made(enrol(org, new_programme(org), customer_of(org)))


def deadline(instance: ProcessInstance) -> datetime:
    return Visit.objects.get(instance=instance).summary_due_at


def overdue(instance: ProcessInstance) -> datetime:
    """Let the summary's deadline pass by an hour: the team leader is asked; returns that moment."""
    now = deadline(instance) + HOUR
    assert [t.bpmn_id for t in fire_due_timers(now=now)] == ["Event_summary_overdue"]
    assert open_task(instance, ESCALATE)
    return now


def answer(instance: ProcessInstance, leader, when: datetime, data: dict) -> None:
    with frozen(when):
        complete(instance, ESCALATE, leader, data)


def extend(instance: ProcessInstance, leader, when: datetime, until: datetime) -> None:
    answer(instance, leader, when, {"escalation_action": "extend", "new_due_at": until.isoformat()})


def escalations(instance: ProcessInstance, status: str | None = None) -> int:
    tasks = HumanTask.objects.filter(instance=instance, bpmn_id=ESCALATE)
    return (tasks.filter(status=status) if status else tasks).count()


def timers(instance: ProcessInstance) -> list[tuple[str, datetime]]:
    return [(t.bpmn_id, t.due_at) for t in Timer.objects.filter(instance=instance).order_by("due_at")]


def assert_closed_with_nothing_left(instance: ProcessInstance) -> None:
    instance.refresh_from_db()
    assert instance.status == ProcessInstance.Status.COMPLETED
    assert not HumanTask.objects.filter(instance=instance, status=HumanTask.Status.OPEN).exists()
    assert timers(instance) == []
    assert Visit.objects.get(instance=instance).status == Visit.Status.CLOSED


# --- extend ---------------------------------------------------------------------------------------


def test_after_an_extension_the_leader_is_asked_again_each_time_the_new_deadline_passes(visit, org):
    asked = overdue(visit)
    first = (asked + 24 * HOUR).replace(microsecond=0)

    extend(visit, org.leader, asked, first)

    assert escalations(visit, HumanTask.Status.OPEN) == 0
    assert timers(visit) == [(FOLLOW_UP, first)]
    assert open_task(visit, WRITE).due_at == first
    assert fire_due_timers(now=first - MINUTE) == []
    assert [t.bpmn_id for t in fire_due_timers(now=first + MINUTE)] == [FOLLOW_UP]
    assert open_task(visit, ESCALATE).assignee == org.leader

    second = first + 24 * HOUR
    extend(visit, org.leader, first + 2 * MINUTE, second)

    assert deadline(visit) == second
    assert fire_due_timers(now=second - MINUTE) == []
    assert [t.bpmn_id for t in fire_due_timers(now=second + MINUTE)] == [FOLLOW_UP]
    assert open_task(visit, ESCALATE).assignee == org.leader
    assert escalations(visit) == 3
    assert open_task(visit, WRITE).assignee == org.manager  # the summary is still the manager's


def test_a_summary_written_after_an_extension_ends_the_escalation_and_the_visit_closes_as_before(visit, org):
    asked = overdue(visit)
    new_due = (asked + 24 * HOUR).replace(microsecond=0)
    extend(visit, org.leader, asked, new_due)
    with frozen(asked + 2 * HOUR):
        complete(visit, WRITE, org.manager, PLAIN_SUMMARY)

    # The check at the new deadline finds the summary written: nobody is asked, nothing waits.
    assert [t.bpmn_id for t in fire_due_timers(now=new_due + MINUTE)] == [FOLLOW_UP]
    assert escalations(visit) == 1
    assert timers(visit) == []
    assert VisitSummary.objects.get(visit__instance=visit).on_time

    with frozen(new_due + HOUR):
        complete(visit, REVIEW, org.leader, APPROVE)

    assert_closed_with_nothing_left(visit)


def test_approving_the_summary_before_the_new_deadline_leaves_no_follow_up_waiting(visit, org):
    asked = overdue(visit)
    new_due = (asked + 24 * HOUR).replace(microsecond=0)
    extend(visit, org.leader, asked, new_due)
    with frozen(asked + 2 * HOUR):
        complete(visit, WRITE, org.manager, PLAIN_SUMMARY)
        assert timers(visit) == [(FOLLOW_UP, new_due)]
        complete(visit, REVIEW, org.leader, APPROVE)

    assert_closed_with_nothing_left(visit)
    assert fire_due_timers(now=new_due + MINUTE) == []


def test_an_escalation_nobody_answered_is_cancelled_when_the_visit_closes(visit, org):
    asked = overdue(visit)
    extend(visit, org.leader, asked, asked + 24 * HOUR)
    fire_due_timers(now=asked + 25 * HOUR)
    unanswered = open_task(visit, ESCALATE)

    with frozen(asked + 26 * HOUR):
        complete(visit, WRITE, org.manager, PLAIN_SUMMARY)
        complete(visit, REVIEW, org.leader, APPROVE)

    assert_closed_with_nothing_left(visit)
    assert HumanTask.objects.get(pk=unanswered.pk).status == HumanTask.Status.CANCELLED


# --- remind, hand over, excuse ----------------------------------------------------------------------


def test_after_a_reminder_the_leader_is_asked_again_a_day_later_if_the_summary_is_still_not_written(
    visit, org
):
    asked = overdue(visit)
    summary_task = open_task(visit, WRITE)

    answer(visit, org.leader, asked, {"escalation_action": "reminded", "escalation_note": "已电话提醒"})

    after = open_task(visit, WRITE)
    assert (after.pk, after.assignee, after.due_at) == (summary_task.pk, org.manager, summary_task.due_at)
    assert timers(visit) == [(FOLLOW_UP, asked + 24 * HOUR)]
    assert fire_due_timers(now=asked + 24 * HOUR - MINUTE) == []
    assert [t.bpmn_id for t in fire_due_timers(now=asked + 24 * HOUR + MINUTE)] == [FOLLOW_UP]
    assert open_task(visit, ESCALATE).assignee == org.leader
    assert escalations(visit) == 2


def test_the_follow_up_period_is_a_threshold_a_region_tunes(visit, org, settings):
    settings.ONSITE = {**settings.ONSITE, "ESCALATION_FOLLOW_UP_HOURS": 4}
    asked = overdue(visit)

    answer(visit, org.leader, asked, {"escalation_action": "reminded"})

    assert timers(visit) == [(FOLLOW_UP, asked + 4 * HOUR)]


def test_after_a_hand_over_the_leader_is_asked_again_a_day_later_if_the_new_holder_has_not_written_it(
    visit, org
):
    asked = overdue(visit)

    answer(visit, org.leader, asked, {"escalation_action": "reassign", "reassign_to": "wu"})

    assert open_task(visit, WRITE).assignee == org.other_manager
    assert [t.bpmn_id for t in fire_due_timers(now=asked + 24 * HOUR + MINUTE)] == [FOLLOW_UP]
    assert open_task(visit, ESCALATE).assignee == org.leader


def test_a_summary_the_new_holder_wrote_within_the_day_is_not_escalated_again(visit, org):
    asked = overdue(visit)
    answer(visit, org.leader, asked, {"escalation_action": "reassign", "reassign_to": "wu"})
    with frozen(asked + 3 * HOUR):
        complete(visit, WRITE, org.other_manager, PLAIN_SUMMARY)

    assert [t.bpmn_id for t in fire_due_timers(now=asked + 24 * HOUR + MINUTE)] == [FOLLOW_UP]

    assert escalations(visit) == 1
    assert timers(visit) == []
    assert open_task(visit, REVIEW).assignee == org.leader


def test_an_excused_delay_is_not_chased_again(visit, org):
    asked = overdue(visit)

    answer(visit, org.leader, asked, {"escalation_action": "excused", "escalation_note": "客户临时停业"})

    assert timers(visit) == []
    assert fire_due_timers(now=asked + 30 * 24 * HOUR) == []
    assert escalations(visit) == 1
    assert open_task(visit, WRITE).assignee == org.manager  # still to be written, without chasing


# --- the escalation chases its own round's summary only ---------------------------------------------


def test_an_escalation_from_before_a_rework_leaves_the_reworked_summary_to_its_own_deadline(visit, org):
    asked = overdue(visit)
    extended = (asked + 24 * HOUR).replace(microsecond=0)
    extend(visit, org.leader, asked, extended)
    sent_back = asked + 2 * HOUR
    with frozen(asked + HOUR):
        complete(visit, WRITE, org.manager, PLAIN_SUMMARY)
    with frozen(sent_back):
        complete(visit, REVIEW, org.leader, REWORK)
    rework_due = sent_back + 48 * HOUR
    assert open_task(visit, WRITE).due_at == rework_due

    # The first round's follow-up comes before the rework's deadline: the reworked summary is not late.
    assert extended < rework_due
    assert [t.bpmn_id for t in fire_due_timers(now=extended + MINUTE)] == [FOLLOW_UP]
    assert escalations(visit) == 1
    assert [t.bpmn_id for t in fire_due_timers(now=rework_due + MINUTE)] == ["Event_summary_overdue"]
    assert escalations(visit, HumanTask.Status.OPEN) == 1


def test_answering_an_escalation_after_the_summary_was_submitted_changes_nothing(visit, org):
    asked = overdue(visit)
    due = deadline(visit)
    with frozen(asked + HOUR):
        complete(visit, WRITE, org.manager, PLAIN_SUMMARY)

    extend(visit, org.leader, asked + 2 * HOUR, asked + 48 * HOUR)

    assert deadline(visit) == due
    assert timers(visit) == []
    assert escalations(visit, HumanTask.Status.OPEN) == 0
    assert refreshed(visit).status == ProcessInstance.Status.RUNNING
    assert open_task(visit, REVIEW).assignee == org.leader


def test_an_escalation_that_names_no_round_acts_on_the_current_summary(visit, org):
    """What instances still running an earlier version of the diagram ask (no `rework_count`)."""
    asked = overdue(visit)
    new_due = (asked + 24 * HOUR).replace(microsecond=0)

    outcome = summaries.act_on_escalation(
        visit=Visit.objects.get(instance=visit),
        rework_count=None,
        action="extend",
        new_due_at=new_due.isoformat(),
        actor=org.leader,
        at=asked,
    )

    assert outcome == {"action": "extend", "due_at": new_due.isoformat()}
    assert (deadline(visit), open_task(visit, WRITE).due_at) == (new_due, new_due)
