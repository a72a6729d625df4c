"""PDF reports as a service: asked for (checked, stored queued, the job queued after commit), made by
the job once however often it runs, a failure stored with its reason and retried, a report left by a
worker that stopped shown as failed; and who may read which report."""

from datetime import timedelta

import pytest
from django.db import connection  # noqa: F401 - the on_postgresql mark reads it
from django.test import override_settings
from django.utils import timezone
from django_q.models import OrmQ

from onsite import tasks
from onsite.access import reports_visible_to, sees_report
from onsite.exceptions import InvalidInput, NotPermitted, OnsiteError
from onsite.models import Report, ReportKind, Visit
from onsite.selectors.reports import STOPPED, report_for, running_expiry
from onsite.services.reports import REPORT_JOB, request_report, request_visit_report_on_approval, retry_report
from tests.factories import UserFactory
from tests.onsite.factories import TeamFactory, manager_in
from tests.onsite.flow import close_visit, customer_of, enrol, new_programme, visit_made
from tests.onsite.test_tasks import at_once, concurrent, on_postgresql
from workflows.events import handle_pending_events
from workflows.models import EngineEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(org):
    instance = close_visit(enrol(org, new_programme(org), customer_of(org, name="合肥银行")), org)
    return Visit.objects.get(instance=instance)


@pytest.fixture
def other_team(org):
    """A second team of the branch: its leader and one of its account managers."""
    team = TeamFactory(name="政企客户二组", region=org.branch)
    return team, manager_in(team, "feng")


def ask(visit, user) -> Report:
    return request_report(kind=ReportKind.VISIT, params={"visit": visit.pk}, user=user)


def queued_jobs() -> list[int]:
    return [q.task["args"][0] for q in OrmQ.objects.all() if q.task["func"] == REPORT_JOB]


# asking


def test_a_request_is_stored_queued_with_what_it_is_about_and_its_job_queued_after_commit(
    visit, org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = ask(visit, org.manager)

    assert (report.status, report.requested_by, report.customer) == ("queued", org.manager, visit.customer)
    assert report.params == {"visit": visit.pk} and report.language == "en"
    assert report.title == f"Visit report: 合肥银行, visit {visit.number}"
    assert queued_jobs() == [report.pk]


def test_a_request_naming_nothing_or_a_visit_not_made_yet_is_refused_in_words(org):
    with pytest.raises(InvalidInput) as refused:
        request_report(kind=ReportKind.VISIT, params={"visit": "x"}, user=org.manager)
    assert refused.value.errors == {"visit": ["Choose what the report is about."]}
    with pytest.raises(InvalidInput):
        request_report(kind="annual", params={}, user=org.manager)
    not_made = Visit.objects.get(instance__parent=enrol(org, new_programme(org), customer_of(org)).instance)
    with pytest.raises(OnsiteError, match="has not been made yet: there is nothing to report"):
        ask(not_made, org.manager)
    assert not Report.objects.exists()


def test_a_manager_of_another_team_cannot_ask_for_a_report_of_a_visit_they_may_not_read(visit, other_team):
    with pytest.raises(NotPermitted, match=f"There is no visit #{visit.pk} that you may read."):
        ask(visit, other_team[1])
    assert not Report.objects.filter(requested_by=other_team[1]).exists()


def test_an_identical_request_on_its_way_is_shared_but_a_finished_one_is_made_anew(visit, org):
    first = ask(visit, org.manager)
    assert ask(visit, org.leader) == first  # queued: the same report
    tasks.generate_report(first.pk)

    again = ask(visit, org.manager)

    assert again != first and again.status == "queued"


# making


def test_the_job_makes_the_report_once_however_often_it_runs(visit, org):
    report = ask(visit, org.manager)

    assert tasks.generate_report(report.pk) is True
    made = Report.objects.get(pk=report.pk)
    assert tasks.generate_report(report.pk) is False  # done: never rendered again

    report.refresh_from_db()
    assert report.status == "done" and report.attempts == 1
    assert bytes(report.content).startswith(b"%PDF") and report.size == len(bytes(report.content))
    assert len(report.sha256) == 64 and report.finished_at == made.finished_at


def test_a_second_run_while_the_first_is_generating_neither_waits_nor_renders(visit, org):
    report = ask(visit, org.manager)
    Report.objects.filter(pk=report.pk).update(status="running", started_at=timezone.now())  # the first run

    assert tasks.generate_report(report.pk) is False
    report.refresh_from_db()
    assert report.status == "running" and report.content is None


def test_a_visit_deleted_before_the_job_fails_the_report_with_its_reason_and_nothing_is_retried(org):
    visit = Visit.objects.get(instance=visit_made(enrol(org, new_programme(org), customer_of(org))))
    report = ask(visit, org.manager)
    visit.delete()

    assert tasks.generate_report(report.pk) is False  # the job ends normally: django-q retries nothing

    report.refresh_from_db()
    assert report.status == "failed" and report.content is None and report.finished_at is not None
    assert report.error == (
        "What the report is about no longer exists: it was deleted after the report was asked for."
    )


def test_a_failed_report_is_retried_by_a_person_recorded_and_then_made(
    visit, org, settings, django_capture_on_commit_callbacks
):
    report = ask(visit, org.manager)
    no_report_templates = [{**settings.TEMPLATES[0], "DIRS": []}]
    with override_settings(TEMPLATES=no_report_templates):  # a deployment missing its templates
        tasks.generate_report(report.pk)
    report.refresh_from_db()
    assert report.status == "failed" and "TemplateDoesNotExist" in report.error
    assert "Retry it; if it fails again, tell a coordinator." in report.error

    with django_capture_on_commit_callbacks(execute=True):
        retried = retry_report(report_id=report.pk, user=org.leader)
    assert (retried.status, retried.retried_by, retried.error) == ("queued", org.leader, "")
    assert queued_jobs() == [report.pk]
    assert tasks.generate_report(report.pk) is True
    report.refresh_from_db()
    assert report.status == "done" and report.attempts == 2


def test_a_report_that_has_not_failed_is_not_retried(visit, org):
    report = ask(visit, org.manager)
    with pytest.raises(OnsiteError, match="This report has not failed"):
        retry_report(report_id=report.pk, user=org.manager)


def test_a_report_left_running_by_a_worker_that_stopped_reads_as_failed_and_can_be_retried(visit, org):
    report = ask(visit, org.manager)
    long_ago = timezone.now() - running_expiry() - timedelta(seconds=1)
    Report.objects.filter(pk=report.pk).update(status="running", started_at=long_ago)

    shown = report_for(report_id=report.pk, user=org.manager)
    assert (shown.shown_status, shown.shown_error) == (STOPPED, "The worker stopped while generating it.")
    assert tasks.generate_report(report.pk) is False  # the dead worker's job handed out again: left alone
    assert ask(visit, org.manager) != report  # not shared: it is not on its way any more

    retry_report(report_id=report.pk, user=org.manager)
    assert tasks.generate_report(report.pk) is True


# the system's report of an approved summary


def test_the_approval_makes_one_visit_report_however_often_its_event_is_handled(visit):
    EngineEvent.objects.update(handled_at=None)
    handle_pending_events()
    request_visit_report_on_approval(visit_id=visit.pk)

    report = Report.objects.get()
    assert (report.kind, report.requested_by, report.language) == ("visit", None, "zh-hans")
    assert report.params == {"visit": visit.pk}


# who reads which report


def test_a_visit_report_is_read_as_its_customer(visit, org, other_team):
    report = ask(visit, org.manager)
    readers = {org.manager, org.leader, org.coordinator, org.director}

    assert all(sees_report(user, report) for user in readers)
    assert not sees_report(other_team[1], report) and not sees_report(other_team[0].leader, report)
    assert not sees_report(org.other_manager, report)
    assert list(reports_visible_to(other_team[1])) == []
    with pytest.raises(Report.DoesNotExist):
        report_for(report_id=report.pk, user=other_team[1])


def test_a_statement_is_read_as_its_person(org, other_team):
    period = {"person": org.manager.pk, "period": "2026-12"}
    report = request_report(kind=ReportKind.INCENTIVE_STATEMENT, params=period, user=org.manager)

    assert report.person == org.manager
    assert all(sees_report(user, report) for user in (org.manager, org.leader, org.coordinator, org.director))
    assert not sees_report(org.other_manager, report) and not sees_report(other_team[0].leader, report)
    with pytest.raises(NotPermitted):
        request_report(kind=ReportKind.INCENTIVE_STATEMENT, params=period, user=other_team[0].leader)


def test_a_monthly_report_is_read_by_coordinators_leadership_and_the_leader_of_its_team(org, other_team):
    def monthly(team):
        return Report.objects.create(
            kind=ReportKind.MONTHLY,
            params={},
            request_key=f"monthly-{team}",
            title="月度报告",
            language="zh-hans",
            requested_at=timezone.now(),
            region=org.branch,
            team=team,
        )

    ours, theirs, everyone = monthly(org.team), monthly(other_team[0]), monthly(None)

    for user in (org.coordinator, org.director):
        assert {r for r in reports_visible_to(user)} == {ours, theirs, everyone}
    assert list(reports_visible_to(org.leader)) == [ours]
    assert list(reports_visible_to(other_team[0].leader)) == [theirs]
    assert list(reports_visible_to(org.manager)) == []
    assert list(reports_visible_to(UserFactory(roles=["support_staff"]))) == []


# at the same moment (PostgreSQL: SQLite serialises writers)


@on_postgresql
@concurrent
def test_two_workers_running_the_same_report_at_once_make_it_once(visit, org):
    report = ask(visit, org.manager)

    outcomes = at_once(lambda: tasks.generate_report(report.pk), lambda: tasks.generate_report(report.pk))

    assert sorted(outcomes) == [False, True]
    report.refresh_from_db()
    assert report.status == "done" and report.attempts == 1


@on_postgresql
@concurrent
def test_the_approvals_event_handled_twice_at_once_asks_for_one_report(visit):
    Report.objects.all().delete()

    outcomes = at_once(*[lambda: request_visit_report_on_approval(visit_id=visit.pk)] * 2)

    assert outcomes[0] == outcomes[1] == Report.objects.get()
