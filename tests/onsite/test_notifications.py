"""Notifications: told once per event, as each person chose, in their language; the e-mail sent by
a job after commit, once, and a mail server's failure never undoing what caused it."""

from __future__ import annotations

import smtplib
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.core.mail.backends.base import BaseEmailBackend
from django.db import OperationalError, connection, transaction
from django.utils import timezone, translation
from django_q.models import OrmQ

from onsite import tasks
from onsite.models import (
    Channel,
    Notification,
    NotificationKind,
    NotificationSetting,
    SupportRequest,
    Urgency,
)
from onsite.selectors.notifications import describe, language_of, settings_of
from onsite.services import notices, notifications
from onsite.services.leads import create_lead
from onsite.services.notices import (
    notify_early_warnings,
    notify_missed_deadlines,
    notify_task_waiting,
)
from onsite.services.notifications import (
    EMAIL_JOB,
    mark_all_read,
    mark_read,
    notify,
    remember_language,
    save_settings,
)
from onsite.services.support import request_support
from tests.onsite.factories import ProductHoldingFactory, support_engineer
from tests.onsite.flow import (
    REWORK,
    SUMMARY,
    complete,
    current_visit,
    customer_of,
    enrol,
    new_programme,
    open_task,
    refreshed,
    survey_requested,
    visit_made,
)

Kind = NotificationKind
pytestmark = pytest.mark.django_db


class BrokenMailServer(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class SlowMailServer(locmem.EmailBackend):
    """A mail server that takes the message only when the test lets it: `talking` while it waits,
    `answered` once it is let go (or gave up waiting)."""

    talking, go_on, answered = threading.Event(), threading.Event(), threading.Event()

    def send_messages(self, email_messages):
        self.talking.set()
        self.go_on.wait(30)
        self.answered.set()
        return super().send_messages(email_messages)


@pytest.fixture
def customer(org):
    return customer_of(org, name="合肥银行")


@pytest.fixture
def plan_task(org, customer):
    """The first visit's planning task, assigned to the customer's account manager."""
    enrolment = enrol(org, new_programme(org), customer)
    return open_task(current_visit(enrolment), "Task_plan_visit")


def queued_emails() -> list[int]:
    return [q.task["args"][0] for q in OrmQ.objects.all() if q.task["func"] == EMAIL_JOB]


def with_email(*users):
    for user in users:
        user.email = f"{user.username}@example.com"
        user.save(update_fields=["email"])


# notify: once per event, as each person chose


def test_the_same_event_notifies_each_person_once(org):
    first = notify(recipients=[org.manager], kind=Kind.URGENT_LEAD, key="7", params={}, link="/")
    again = notify(recipients=[org.manager, org.leader], kind=Kind.URGENT_LEAD, key="7", params={}, link="/")

    assert [n.recipient for n in first] == [org.manager]
    assert [n.recipient for n in again] == [org.leader]
    assert Notification.objects.filter(kind=Kind.URGENT_LEAD, key="7").count() == 2


def test_a_person_who_chose_none_is_not_told(org):
    save_settings(user=org.manager, channels={Kind.URGENT_LEAD: Channel.NONE})

    assert notify(recipients=[org.manager], kind=Kind.URGENT_LEAD, key="1", params={}, link="/") == []
    assert not Notification.objects.exists()


def test_email_only_is_kept_out_of_the_app_but_queued(org, django_capture_on_commit_callbacks):
    with_email(org.manager)
    save_settings(user=org.manager, channels={Kind.URGENT_LEAD: Channel.EMAIL})

    with django_capture_on_commit_callbacks(execute=True):
        [notification] = notify(recipients=[org.manager], kind=Kind.URGENT_LEAD, key="1", params={}, link="/")

    assert notification.in_app is False
    assert queued_emails() == [notification.pk]


def test_in_app_only_queues_no_email(org, django_capture_on_commit_callbacks):
    save_settings(user=org.manager, channels={Kind.URGENT_LEAD: Channel.IN_APP})

    with django_capture_on_commit_callbacks(execute=True):
        [notification] = notify(recipients=[org.manager], kind=Kind.URGENT_LEAD, key="1", params={}, link="/")

    assert notification.in_app is True
    assert queued_emails() == []


def test_an_inactive_person_is_not_told(org):
    org.manager.is_active = False
    org.manager.save()

    assert notify(recipients=[org.manager, None], kind=Kind.URGENT_LEAD, key="1", params={}, link="/") == []


def test_settings_default_per_kind_and_keep_what_was_chosen(org):
    save_settings(user=org.manager, channels={Kind.EARLY_WARNING: Channel.BOTH})
    save_settings(user=org.manager, channels={Kind.TASK_IN_POOL: Channel.NONE})

    chosen = settings_of(org.manager)
    assert chosen[Kind.EARLY_WARNING] == Channel.BOTH
    assert chosen[Kind.TASK_IN_POOL] == Channel.NONE
    assert chosen[Kind.TASK_ASSIGNED] == Channel.BOTH
    assert NotificationSetting.objects.filter(user=org.manager).count() == 2


def test_an_unknown_kind_or_channel_is_refused(org):
    from onsite.exceptions import InvalidInput

    with pytest.raises(InvalidInput):
        save_settings(user=org.manager, channels={Kind.URGENT_LEAD: "pigeon"})
    with pytest.raises(InvalidInput):
        save_settings(user=org.manager, channels={"gossip": Channel.BOTH})


def test_mark_read_and_mark_all_read_touch_only_the_persons_own(org):
    mine = notify(recipients=[org.manager], kind=Kind.URGENT_LEAD, key="1", params={}, link="/")[0]
    notify(recipients=[org.manager], kind=Kind.URGENT_LEAD, key="2", params={}, link="/")
    theirs = notify(recipients=[org.leader], kind=Kind.URGENT_LEAD, key="1", params={}, link="/")[0]

    assert mark_read(user=org.manager, notification_id=mine.pk).read_at is not None
    with pytest.raises(Notification.DoesNotExist):
        mark_read(user=org.manager, notification_id=theirs.pk)
    assert mark_all_read(user=org.manager) == 1
    assert refreshed(theirs).read_at is None


# The events


def test_a_task_assigned_tells_its_assignee_once(org, plan_task, django_capture_on_commit_callbacks):
    notify_task_waiting(task_id=plan_task.pk)
    notify_task_waiting(task_id=plan_task.pk)  # a retried job

    [notification] = Notification.objects.filter(kind=Kind.TASK_ASSIGNED)
    assert notification.recipient == org.manager
    assert notification.link == f"/tasks/{plan_task.pk}/"
    assert describe(notification) == f"The task “{plan_task.name}” for 合肥银行 is assigned to you."


def test_a_task_reassigned_tells_the_new_assignee(org, plan_task):
    from workflows.services.tasks import reassign_task

    notify_task_waiting(task_id=plan_task.pk)
    reassign_task(task_id=plan_task.pk, to_user=org.other_manager, user=org.leader)
    notify_task_waiting(task_id=plan_task.pk)

    assert {n.recipient for n in Notification.objects.filter(kind=Kind.TASK_ASSIGNED)} == {
        org.manager,
        org.other_manager,
    }


def test_pool_work_tells_only_the_engineers_of_its_speciality(org, customer):
    # No IT engineer when the request is made: nobody to dispatch it to, so it waits in the pool.
    request = request_support(
        customer=customer,
        kind=SupportRequest.Kind.SOLUTION,
        speciality="it",
        description="机房监控系统方案",
        due_date=timezone.localdate() + timedelta(days=10),
        user=org.manager,
    )
    task = open_task(refreshed(request).instance, "Task_handle_support")
    assert task.assignee_id is None
    it_engineer = support_engineer("it", org.county)

    notify_task_waiting(task_id=task.pk)
    notify_task_waiting(task_id=task.pk)

    [notification] = Notification.objects.filter(kind=Kind.TASK_IN_POOL)
    assert notification.recipient == it_engineer
    assert describe(notification).endswith("is waiting for someone of your role.")


def test_a_summary_sent_back_tells_its_writer(org, customer, django_capture_on_commit_callbacks):
    instance = visit_made(enrol(org, new_programme(org), customer))
    complete(instance, "Task_write_summary", org.manager, SUMMARY)

    with django_capture_on_commit_callbacks(execute=True):
        complete(instance, "Task_review_summary", org.leader, REWORK)

    [notification] = Notification.objects.filter(kind=Kind.SUMMARY_REWORK)
    assert notification.recipient == org.manager
    assert notification.link == f"/tasks/{open_task(instance, 'Task_write_summary').pk}/"
    assert describe(notification).endswith("was sent back for rework: 请补充关键人联系方式")


def test_a_rework_rolled_back_tells_nobody(org, customer, django_capture_on_commit_callbacks):
    instance = visit_made(enrol(org, new_programme(org), customer))
    complete(instance, "Task_write_summary", org.manager, SUMMARY)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        complete(instance, "Task_review_summary", org.leader, REWORK)
        raise RuntimeError("the request failed after the review")

    assert not Notification.objects.filter(kind=NotificationKind.SUMMARY_REWORK).exists()


def test_a_notice_that_fails_after_commit_leaves_the_action_as_it_was_and_the_worker_gives_it_again(
    org, customer, django_capture_on_commit_callbacks, caplog, monkeypatch
):
    def database_gone(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(notices, "notify", database_gone)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        lead = create_lead(customer=customer, description="专线扩容", urgency=Urgency.HIGH, user=org.manager)

    assert refreshed(lead).follow_up is not None  # the lead and its follow-up stand
    assert "server closed the connection unexpectedly" in caplog.text
    assert not Notification.objects.exists()
    (job,) = [q.task for q in OrmQ.objects.all() if q.task["func"] == notices.NOTICE_JOB]
    assert job["args"] == ("notify_urgent_leads", {"lead_ids": [lead.pk]})

    monkeypatch.undo()
    tasks.give_notice(*job["args"])
    tasks.give_notice(*job["args"])  # run twice: told once

    assert sorted(n.recipient.username for n in Notification.objects.filter(kind=Kind.URGENT_LEAD)) == sorted(
        [org.manager.username, org.leader.username]
    )


def test_support_dispatched_tells_the_engineer(org, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = survey_requested(org, customer)

    engineer = refreshed(request).assignee
    assert engineer == org.support["network"]
    [notification] = Notification.objects.filter(kind=Kind.SUPPORT_DISPATCHED)
    assert notification.recipient == engineer
    assert (
        describe(notification)
        == "Site survey support for 合肥银行 is dispatched to you, needed by 2026-12-15."
    )


def test_a_high_urgency_lead_tells_its_owner_and_the_team_leader(
    org, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        create_lead(customer=customer, description="专线扩容", urgency=Urgency.HIGH, user=org.manager)
        create_lead(customer=customer, description="短信平台", urgency=Urgency.MEDIUM, user=org.manager)

    told = Notification.objects.filter(kind=Kind.URGENT_LEAD)
    assert {n.recipient for n in told} == {org.manager, org.leader}
    assert {n.link for n in told} == {f"/customers/{customer.pk}/"}


def test_a_missed_deadline_tells_the_assignee_and_the_team_leader_once(org, plan_task):
    plan_task.due_at = timezone.now() - timedelta(hours=1)
    plan_task.save(update_fields=["due_at"])

    assert notify_missed_deadlines(now=timezone.now()) == 2
    assert notify_missed_deadlines(now=timezone.now()) == 0

    told = {n.recipient: n.link for n in Notification.objects.filter(kind=Kind.DEADLINE_MISSED)}
    assert told == {org.manager: f"/tasks/{plan_task.pk}/", org.leader: "/tasks/?tab=team"}


def test_a_deadline_moved_and_missed_again_is_a_new_notice(org, plan_task):
    plan_task.due_at = timezone.now() - timedelta(days=2)
    plan_task.save(update_fields=["due_at"])
    notify_missed_deadlines(now=timezone.now())
    plan_task.due_at = timezone.now() - timedelta(hours=1)
    plan_task.save(update_fields=["due_at"])

    assert notify_missed_deadlines(now=timezone.now()) == 2


def test_an_early_warning_tells_the_account_manager_once_a_day(org, customer):
    today = timezone.localdate()
    ProductHoldingFactory(
        customer=customer, product="专线", provider="电信", expiry_date=today + timedelta(days=10)
    )

    assert notify_early_warnings(day=today) == 1
    assert notify_early_warnings(day=today) == 0
    [notification] = Notification.objects.filter(kind=Kind.EARLY_WARNING)
    assert notification.recipient == org.manager
    expiry = (today + timedelta(days=10)).isoformat()
    assert describe(notification) == f"The 电信 contract for 专线 at 合肥银行 ends in 10 days ({expiry})."
    assert notify_early_warnings(day=today + timedelta(days=1)) == 1


# The e-mail


def test_the_email_is_written_in_the_language_the_person_chose(org):
    with_email(org.manager)
    [notification] = notify(
        recipients=[org.manager],
        kind=Kind.SUPPORT_DISPATCHED,
        key="1",
        params={"kind": "survey", "customer": "合肥银行", "date": "2026-12-15"},
        link="/support/",
    )
    assert language_of(org.manager) == "zh-hans"  # until they choose

    tasks.send_notification_email(notification.pk)

    [sent] = mail.outbox
    assert sent.to == ["qian@example.com"]
    assert "合肥银行的现场勘察支撑已派给您" in sent.body, sent.body

    remember_language(user=org.manager, language="en")
    Notification.objects.filter(pk=notification.pk).update(emailed_at=None)
    with translation.override("zh-hans"):
        tasks.send_notification_email(notification.pk)
    assert "Site survey support for 合肥银行 is dispatched to you" in mail.outbox[1].body
    assert f"/notifications/{notification.pk}/" in mail.outbox[1].body


def test_the_email_job_run_twice_sends_once(org):
    with_email(org.manager)
    [notification] = notify(recipients=[org.manager], kind=Kind.URGENT_LEAD, key="1", params={}, link="/")

    assert tasks.send_notification_email(notification.pk) is True
    assert tasks.send_notification_email(notification.pk) is False

    assert len(mail.outbox) == 1
    assert refreshed(notification).emailed_at is not None


# Committed for real: the two tries are two connections, as two workers are.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_try_finding_the_email_being_sent_by_another_leaves_it_to_that_one(org, settings):
    with_email(org.manager)
    [notification] = notify(recipients=[org.manager], kind=Kind.URGENT_LEAD, key="1", params={}, link="/")
    settings.EMAIL_BACKEND = "tests.onsite.test_notifications.SlowMailServer"
    for event in (SlowMailServer.talking, SlowMailServer.go_on, SlowMailServer.answered):
        event.clear()
    first = []

    def first_try():
        try:
            first.append(tasks.send_notification_email(notification.pk))
        finally:
            connection.close()

    thread = threading.Thread(target=first_try)
    thread.start()
    try:
        assert SlowMailServer.talking.wait(10)
        # The first try is talking to the mail server: the second sends nothing, and waits for nobody
        # (no lock is held while the server talks: the first try is still at it when this returns).
        assert tasks.send_notification_email(notification.pk) is False
        assert not SlowMailServer.answered.is_set()
        assert refreshed(notification).email_sending_since is not None
    finally:
        SlowMailServer.go_on.set()
        thread.join(30)

    assert first == [True]
    assert len(mail.outbox) == 1
    sent = refreshed(notification)
    assert sent.emailed_at is not None and sent.email_sending_since is None and sent.email_error == ""


def test_a_claim_a_dead_try_left_is_taken_over_once_no_try_can_be_running_and_recorded_as_uncertain(org):
    with_email(org.manager)
    [notification] = notify(recipients=[org.manager], kind=Kind.URGENT_LEAD, key="1", params={}, link="/")
    died = timezone.now() - notifications.claim_expiry() + timedelta(seconds=30)
    Notification.objects.filter(pk=notification.pk).update(email_sending_since=died)

    # Its job could still be running: whether it sent the message is not known yet.
    assert tasks.send_notification_email(notification.pk) is False
    assert notifications.send_owed_emails(now=timezone.now() + timedelta(minutes=5)) == 0
    assert mail.outbox == []

    Notification.objects.filter(pk=notification.pk).update(email_sending_since=died - timedelta(seconds=31))
    assert tasks.send_notification_email(notification.pk) is True
    assert len(mail.outbox) == 1
    sent = refreshed(notification)
    assert sent.emailed_at is not None and sent.email_sending_since is None
    assert sent.email_error.startswith("Uncertain: an earlier try began sending and never finished")
    assert tasks.send_notification_email(notification.pk) is False


def test_a_person_without_an_address_is_sent_nothing_and_no_job_is_queued_for_it(
    org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = notify(recipients=[org.manager], kind=Kind.URGENT_LEAD, key="1", params={}, link="/")

    assert queued_emails() == []
    assert tasks.send_notification_email(notification.pk) is False
    assert mail.outbox == []


# Committed for real: the dispatch's transaction ends before the job runs, as in production.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_mail_server_down_fails_the_job_and_leaves_the_dispatch_committed(org, customer, settings):
    with_email(org.support["network"])
    settings.EMAIL_BACKEND = "tests.onsite.test_notifications.BrokenMailServer"

    request = survey_requested(org, customer)  # committed; the notice made after commit

    [notification] = Notification.objects.filter(kind=Kind.SUPPORT_DISPATCHED)
    assert queued_emails() == [notification.pk]
    with pytest.raises(smtplib.SMTPServerDisconnected):
        tasks.send_notification_email(notification.pk)
    assert refreshed(request).status == SupportRequest.Status.DISPATCHED
    assert refreshed(notification).emailed_at is None

    # The retry, once the server is back, sends it.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.send_notification_email(notification.pk) is True
    assert tasks.send_notification_email(notification.pk) is False
    assert len(mail.outbox) == 1


class TestOwedEmails:
    """A failed e-mail is counted on its notification and sent by the five-minute schedule later."""

    def notice(self, org, key="1"):
        [notification] = notify(recipients=[org.manager], kind=Kind.URGENT_LEAD, key=key, params={}, link="/")
        return notification

    def later(self, minutes=5):
        return timezone.now() + timedelta(minutes=minutes)

    def test_a_failed_email_is_counted_and_sent_by_the_next_run_once_the_server_is_back(self, org, settings):
        with_email(org.manager)
        notification = self.notice(org)
        settings.EMAIL_BACKEND = "tests.onsite.test_notifications.BrokenMailServer"
        with pytest.raises(smtplib.SMTPServerDisconnected):
            tasks.send_notification_email(notification.pk)
        assert notifications.send_owed_emails(now=self.later()) == 0  # still down: counted again

        failed = refreshed(notification)
        assert (failed.emailed_at, failed.email_attempts, failed.email_sending_since) == (None, 2, None)
        assert failed.email_error.startswith("SMTPServerDisconnected")
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        assert notifications.send_owed_emails(now=self.later()) == 1
        assert notifications.send_owed_emails(now=self.later(10)) == 0
        assert len(mail.outbox) == 1 and refreshed(notification).emailed_at is not None

    def test_a_server_that_is_down_is_tried_once_a_run_not_once_per_email(self, org, settings):
        with_email(org.manager)
        owed = [self.notice(org, key=str(i)) for i in range(3)]
        settings.EMAIL_BACKEND = "tests.onsite.test_notifications.BrokenMailServer"

        assert notifications.send_owed_emails(now=self.later()) == 0

        assert sorted(refreshed(n).email_attempts for n in owed) == [0, 0, 1]

    def test_an_email_is_given_up_after_its_attempts_and_in_app_only_or_addressless_ones_are_not_owed(
        self, org, settings
    ):
        with_email(org.manager)
        given_up = self.notice(org, key="given up")
        Notification.objects.filter(pk=given_up.pk).update(email_attempts=notifications.EMAIL_ATTEMPTS)
        save_settings(user=org.manager, channels={Kind.DEADLINE_MISSED: "in_app"})
        [in_app] = notify(recipients=[org.manager], kind=Kind.DEADLINE_MISSED, key="d", params={}, link="/")
        [no_address] = notify(recipients=[org.leader], kind=Kind.URGENT_LEAD, key="x", params={}, link="/")

        assert notifications.send_owed_emails(now=self.later()) == 0
        assert mail.outbox == []
        assert (in_app.by_email, no_address.by_email, given_up.by_email) == (False, True, True)

    def test_a_notice_just_made_is_left_to_its_own_job(self, org):
        with_email(org.manager)
        self.notice(org)

        assert notifications.send_owed_emails(now=timezone.now()) == 0
        assert notifications.send_owed_emails(now=self.later(2)) == 1


def test_the_scheduled_jobs_return_what_they_made(org, plan_task):
    plan_task.due_at = timezone.now() - timedelta(hours=1)
    plan_task.save(update_fields=["due_at"])

    assert tasks.notify_missed_deadlines() == 2
    assert tasks.notify_early_warnings() == 0
