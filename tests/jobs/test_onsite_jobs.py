"""The domain's background work done by real clusters (`manage.py qcluster` subprocesses) on the
ORM broker, on SQLite and PostgreSQL: an overdue summary reaches the team leader, a recurring visit
opens on its day and once, a notification's e-mail goes out once though its worker died mid-send,
and a mail server that is down undoes nothing and is caught up with later.

The test process enqueues on its own settings' broker (the database): these run on the ORM broker
only; the Redis broker's exactly-once and lost-job behaviour is in test_cluster.py."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_q.models import Task

from onsite.models import Notification, NotificationKind, Visit
from onsite.services.notifications import EMAIL_JOB, notify
from tests.jobs.clusters import RETRY, TIMEOUT, wait_for
from tests.jobs.work import sent_mail
from tests.onsite.flow import (
    PLAIN_SUMMARY,
    RESOURCES,
    REWORK,
    SHANGHAI,
    build_org,
    complete,
    current_visit,
    customer_of,
    deploy_processes,
    enrol,
    new_programme,
    open_task,
    plan,
    record,
    refreshed,
    run_visit,
)
from workflows.clock import frozen
from workflows.models import AuditEvent, HumanTask, ProcessInstance, Timer

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.parametrize("clusters", ["orm"], indirect=True),
]

TIMERS = "workflows.fire_due_timers"  # the engine's every-minute schedule
OWED_EMAILS = "onsite.owed_emails"
ESCALATE = "Task_escalate_summary"
OPENS = "Event_visit_opens"
Kind = NotificationKind


def organisation():
    deploy_processes()
    org = build_org()
    for user in (org.manager, org.leader):
        user.email = f"{user.username}@example.com"
        user.save(update_fields=["email"])
    return org


def outbox(clusters, tmp_path: Path, **env: str) -> Path:
    """The clusters' mail goes to files in a folder of the test's own (`tests.jobs.work.FileOutbox`)."""
    folder = tmp_path / "outbox"
    folder.mkdir(exist_ok=True)
    clusters.env.update(EMAIL_BACKEND="tests.jobs.work.FileOutbox", TEST_OUTBOX=str(folder), **env)
    return folder


def emails_of(notification: Notification, mail: Path) -> list[str]:
    """The e-mails sent of this notification (each links to its own page)."""
    return [m for m in sent_mail(mail) if f"/notifications/{notification.pk}/" in m]


def each_emailed_once(mail: Path) -> bool:
    """Whether every notification e-mailed is e-mailed once."""
    pages = [re.search(r"/notifications/(\d+)/", m).group(1) for m in sent_mail(mail)]
    return len(pages) == len(set(pages))


def test_an_overdue_summary_reaches_the_team_leader_as_a_task_a_notice_and_an_email(clusters, tmp_path):
    org = organisation()
    mail = outbox(clusters, tmp_path)
    # A visit made three days ago whose summary was never written: its 48 hours are over.
    visited = timezone.now() - timedelta(days=3)
    with frozen(visited - timedelta(hours=2)):
        enrolment = enrol(org, new_programme(org, start=timezone.localdate(visited)), customer_of(org))
        visit = current_visit(enrolment)
        complete(visit, "Task_plan_visit", org.manager, plan(date=timezone.localdate(visited).isoformat()))
        complete(visit, "Task_prepare_resources", org.manager, RESOURCES)
    with frozen(visited + timedelta(hours=1)):
        complete(visit, "Task_record_visit", org.manager, record(visited))
    assert Timer.objects.filter(instance=visit, due_at__lte=timezone.now()).exists()
    clusters.start()

    clusters.run_schedule(TIMERS)

    escalation = wait_for(
        lambda: HumanTask.objects.filter(instance=visit, bpmn_id=ESCALATE, status="open").first(), clusters
    )
    assert escalation.assignee == org.leader
    notice = wait_for(
        lambda: Notification.objects.filter(recipient=org.leader, kind=Kind.TASK_ASSIGNED).first(), clusters
    )
    assert notice.link == f"/tasks/{escalation.pk}/"
    (email,) = wait_for(lambda: [m for m in sent_mail(mail) if f"/notifications/{notice.pk}/" in m], clusters)
    assert f"To: {org.leader.email}" in email
    assert open_task(visit, "Task_write_summary").assignee == org.manager  # still the manager's to write


def enrolled_and_visited(org, day: date) -> ProcessInstance:
    """A fortnightly programme whose first visit was made on `day`: the next visit is due 14 days on
    and its cycle opens a week before, at the start of `day` + 7 (local time)."""
    nine = datetime(day.year, day.month, day.day, 9, tzinfo=SHANGHAI)
    with frozen(nine):
        enrolment = enrol(org, new_programme(org, cadence="biweekly", start=day), customer_of(org))
    with frozen(nine + timedelta(hours=6)):
        run_visit(enrolment, org, visited_at=nine + timedelta(hours=1))
    return refreshed(enrolment)


def not_at_midnight() -> None:
    """Wait out the last minute of a local day, so "today" means one day throughout the test."""
    now = timezone.localtime()
    to_midnight = (now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)) - now
    if to_midnight < timedelta(minutes=1):
        time.sleep(to_midnight.total_seconds() + 1)


def test_a_recurring_visit_opens_on_its_day_once_with_two_clusters_and_not_a_day_early(clusters):
    not_at_midnight()
    org = organisation()
    today = timezone.localdate()
    opens_today = enrolled_and_visited(org, today - timedelta(days=7))
    opens_tomorrow = enrolled_and_visited(org, today - timedelta(days=6))
    midnight = datetime(today.year, today.month, today.day, tzinfo=SHANGHAI).astimezone(
        timezone.get_current_timezone()
    )
    assert Timer.objects.get(instance=opens_today.instance, bpmn_id=OPENS).due_at == midnight
    assert Timer.objects.get(instance=opens_tomorrow.instance, bpmn_id=OPENS).due_at == midnight + timedelta(
        days=1
    )
    clusters.start(2)

    # The minute's schedule, and more timer jobs beside it on both clusters at the same moment.
    clusters.run_schedule(TIMERS)
    for _ in range(5):
        clusters.enqueue("workflows.tasks.fire_due_timers")
    assert wait_for(
        lambda: Task.objects.filter(func="workflows.tasks.fire_due_timers").count() >= 6, clusters
    )

    cycles = ProcessInstance.objects.filter(parent_id=opens_today.instance_id).order_by("pk")
    assert cycles.count() == 2  # the first visit's and today's
    second = Visit.objects.get(enrolment=opens_today, number=2)
    assert second.instance == cycles.last()
    planning = open_task(second.instance, "Task_plan_visit")
    assert planning.assignee == org.manager
    fired = AuditEvent.objects.filter(instance=opens_today.instance, kind=AuditEvent.Kind.TIMER_FIRED)
    assert fired.count() == 1
    # Tomorrow's is still waiting: not a day early.
    assert ProcessInstance.objects.filter(parent_id=opens_tomorrow.instance_id).count() == 1
    assert Visit.objects.get(enrolment=opens_tomorrow, number=2).instance is None
    assert Timer.objects.filter(instance=opens_tomorrow.instance, bpmn_id=OPENS).exists()
    # Its manager is told of the planning task once, by the worker.
    told = Notification.objects.filter(recipient=org.manager, key__startswith=f"{planning.pk}:")
    assert wait_for(told.exists, clusters)
    assert told.count() == 1


def test_an_email_whose_worker_is_killed_mid_send_is_sent_once_by_the_retried_job(clusters, tmp_path):
    org = organisation()
    mail = outbox(clusters, tmp_path, TEST_OUTBOX_PAUSE=str(TIMEOUT - 1))
    both = clusters.start(2)

    # Committed here; its e-mail job queued after commit.
    (notification,) = notify(
        recipients=[org.manager],
        kind=Kind.URGENT_LEAD,
        key="lead:1",
        params={"customer": "合肥银行"},
        link="/",
    )
    wait_for((mail / "sending").exists, clusters)
    (sending,) = [cluster for cluster in both if EMAIL_JOB in cluster.output()]
    sending.kill()
    assert sent_mail(mail) == [] and refreshed(notification).emailed_at is None

    # The killed try had claimed the send: the surviving cluster takes the job again once its retry
    # delay has passed, when no try can still be sending, sends it and records that it may have
    # gone out twice (the killed try could have died just after the server took the message).
    assert refreshed(notification).email_sending_since is not None
    assert wait_for(lambda: refreshed(notification).emailed_at, clusters, seconds=RETRY + 20)
    time.sleep(1)  # anything more would have been sent by now
    assert len(sent_mail(mail)) == 1
    assert refreshed(notification).email_sending_since is None
    assert refreshed(notification).email_error.startswith("Uncertain: an earlier try began sending")
    assert Notification.objects.filter(recipient=org.manager, kind=Kind.URGENT_LEAD).count() == 1


def test_a_mail_server_down_undoes_no_review_and_the_email_goes_out_once_it_is_back(clusters, tmp_path):
    org = organisation()
    mail = outbox(clusters, tmp_path, TEST_OUTBOX_DOWN="1")
    enrolment = enrol(org, new_programme(org), customer_of(org))
    visit = current_visit(enrolment)
    complete(visit, "Task_plan_visit", org.manager, plan())
    complete(visit, "Task_prepare_resources", org.manager, RESOURCES)
    complete(visit, "Task_record_visit", org.manager, record(timezone.now() - timedelta(hours=2)))
    complete(visit, "Task_write_summary", org.manager, PLAIN_SUMMARY)
    down = clusters.start()[0]

    complete(visit, "Task_review_summary", org.leader, REWORK)  # the manager is told: in-app and e-mail

    notice = Notification.objects.get(recipient=org.manager, kind=Kind.SUMMARY_REWORK)
    assert wait_for(lambda: refreshed(notice).email_attempts == 1, clusters)
    # The failed job's result, which the cluster's monitor saves a moment after the try.
    job = wait_for(
        lambda: next((job for job in Task.objects.filter(func=EMAIL_JOB) if job.args == (notice.pk,)), None),
        clusters,
    )
    assert job.success is False and "SMTPServerDisconnected" in job.result
    assert sent_mail(mail) == []
    # The review stands: the summary is the manager's to rewrite.
    assert open_task(visit, "Task_write_summary").assignee == org.manager
    assert HumanTask.objects.get(instance=visit, bpmn_id="Task_review_summary").status == "completed"

    # The server is back; the five-minute schedule finds the e-mail still owed.
    down.stop()
    clusters.env.pop("TEST_OUTBOX_DOWN")
    clusters.start()
    Notification.objects.filter(pk=notice.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    clusters.run_schedule(OWED_EMAILS)

    assert wait_for(lambda: refreshed(notice).emailed_at, clusters)
    (email,) = emails_of(notice, mail)
    assert f"To: {org.manager.email}" in email
    clusters.run_schedule(OWED_EMAILS)
    assert wait_for(lambda: Task.objects.filter(group=OWED_EMAILS, success=True).count() >= 2, clusters)
    assert len(emails_of(notice, mail)) == 1
    # The rework also gave the manager the summary to write again: that notice's own e-mail job
    # fails with the server down, or, on a loaded machine, is queued only after the first cluster
    # stopped and goes out with the server back. Either way, no notification is e-mailed twice.
    assert each_emailed_once(mail)
