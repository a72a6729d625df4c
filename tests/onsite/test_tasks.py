"""The domain's background jobs (onsite/tasks.py) and their schedules: each job does its work on
the right day and only once however often it runs - run twice, or by two clusters at the same
moment (threads on PostgreSQL). Real services, engine and database; the day is the engine's
clock, frozen where it matters."""

from __future__ import annotations

import threading
from datetime import date, time

import pytest
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from onsite import tasks
from onsite.models import (
    Appraisal,
    IncentiveRecord,
    IncentiveReview,
    Ownership,
    RenewalTarget,
    Visit,
    WinBackTarget,
)
from onsite.services.incentives import award
from onsite.services.programmes import end_enrolment_early
from tests.onsite.factories import ProductHoldingFactory
from tests.onsite.flow import at, current_visit, customer_of, enrol, new_programme, open_task, run_visit
from workflows import tasks as engine_tasks
from workflows.clock import frozen
from workflows.models import ProcessInstance, Timer
from workflows.services.timers import fire_due_timers

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SQLite serialises writers")
concurrent = pytest.mark.django_db(transaction=True, serialized_rollback=True)
OPENS = "Event_visit_opens"


def at_once(*calls) -> list:
    """Run the calls in threads released together (two clusters running one schedule); each
    outcome is what the call returned or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # judged by the caller
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


# --- the schedules -------------------------------------------------------------------------------


def test_the_domains_jobs_are_scheduled_after_migrate_daily_monthly_and_every_five_minutes():
    rows = {s.name: s for s in Schedule.objects.filter(name__startswith="onsite.")}

    assert {name: (s.func, s.schedule_type, s.minutes, s.repeats) for name, s in rows.items()} == {
        "onsite.win_back_targets": ("onsite.tasks.start_win_back_targets", "D", None, -1),
        "onsite.renewal_targets": ("onsite.tasks.start_renewal_targets", "D", None, -1),
        "onsite.early_warnings": ("onsite.tasks.notify_early_warnings", "D", None, -1),
        "onsite.missed_deadlines": ("onsite.tasks.notify_missed_deadlines", "I", 5, -1),
        "onsite.owed_emails": ("onsite.tasks.send_owed_emails", "I", 5, -1),
        "onsite.incentive_reviews": ("onsite.tasks.request_incentive_reviews", "M", None, -1),
        "onsite.appraisals": ("onsite.tasks.generate_appraisals", "M", None, -1),
        "onsite.programme_reports": ("onsite.tasks.request_monthly_reports", "M", None, -1),
    }
    first = {name: timezone.localtime(s.next_run) for name, s in rows.items()}
    assert first["onsite.win_back_targets"] <= timezone.now()  # at once after the first migrate
    assert first["onsite.renewal_targets"] <= timezone.now()
    assert first["onsite.early_warnings"].time() == time(7)
    assert (first["onsite.incentive_reviews"].day, first["onsite.incentive_reviews"].time()) == (1, time(2))
    assert (first["onsite.appraisals"].day, first["onsite.appraisals"].time()) == (1, time(3))
    assert (first["onsite.programme_reports"].day, first["onsite.programme_reports"].time()) == (1, time(4))


def test_every_scheduled_job_of_the_domain_is_a_function_of_onsite_tasks_but_the_notifications():
    # The notification jobs are named by path only: their module's functions arrive separately.
    funcs = Schedule.objects.filter(name__startswith="onsite.").values_list("func", flat=True)
    names = {func.removeprefix("onsite.tasks.") for func in funcs}

    assert {name for name in names if not callable(getattr(tasks, name, None))} <= {
        "notify_early_warnings",
        "notify_missed_deadlines",
    }


# --- recurring visits: the programme's timer, fired by the engine's every-minute job -------------


def monthly_enrolment_visited_on_the_second(org):
    """A monthly programme from 2 November; the first visit made that day, its stage reviewed."""
    with frozen(at(2026, 11, 2, 9)):
        enrolment = enrol(org, new_programme(org, cadence="monthly"), customer_of(org))
    with frozen(at(2026, 11, 2, 15)):
        run_visit(enrolment, org, visited_at=at(2026, 11, 2, 10))
    return enrolment


def visit_cycles(enrolment) -> int:
    return ProcessInstance.objects.filter(parent_id=enrolment.instance_id).count()


def test_the_next_monthly_visit_is_scheduled_at_once_but_opens_only_a_week_before_its_date(org):
    enrolment = monthly_enrolment_visited_on_the_second(org)

    following = Visit.objects.get(enrolment=enrolment, number=2)
    assert (following.scheduled_date, following.status, following.instance_id) == (
        date(2026, 12, 2),
        Visit.Status.SCHEDULED,
        None,
    )
    assert visit_cycles(enrolment) == 1  # the first visit's, closed: no planning task a month ahead
    assert Timer.objects.get(instance=enrolment.instance, bpmn_id=OPENS).due_at == at(2026, 11, 25, 0)

    assert fire_due_timers(now=at(2026, 11, 24, 23, 59)) == []
    fired = fire_due_timers(now=at(2026, 11, 25, 0, 1))

    assert [(f.instance_id, f.bpmn_id) for f in fired] == [(enrolment.instance_id, OPENS)]
    instance = current_visit(enrolment)
    assert open_task(instance, "Task_plan_visit").assignee == enrolment.customer.account_manager
    assert Visit.objects.get(pk=following.pk).instance == instance


def test_a_visit_opens_once_however_often_the_timer_job_runs(org):
    enrolment = monthly_enrolment_visited_on_the_second(org)

    # The job runs on the wall clock, long past 25 November: the first run opens it, a retry or the
    # next minute's run finds nothing more to do.
    assert engine_tasks.fire_due_timers() == 1
    assert engine_tasks.fire_due_timers() == 0

    assert visit_cycles(enrolment) == 2
    assert Visit.objects.filter(enrolment=enrolment).count() == 2
    assert Visit.objects.filter(enrolment=enrolment, instance__isnull=False).count() == 2


def test_the_lead_time_is_a_setting(org, settings):
    settings.ONSITE = {**settings.ONSITE, "VISIT_LEAD_DAYS": 3}

    enrolment = monthly_enrolment_visited_on_the_second(org)

    assert Timer.objects.get(instance=enrolment.instance, bpmn_id=OPENS).due_at == at(2026, 11, 29, 0)


def test_a_programme_ended_before_its_next_visit_opens_never_opens_it(org):
    enrolment = monthly_enrolment_visited_on_the_second(org)

    end_enrolment_early(enrolment=enrolment, reason="客户机构调整", user=org.coordinator)

    assert engine_tasks.fire_due_timers() == 0
    assert visit_cycles(enrolment) == 1
    assert Visit.objects.get(enrolment=enrolment, number=2).status == Visit.Status.CANCELLED


@on_postgresql
@concurrent
def test_two_clusters_firing_the_timers_at_the_same_moment_open_the_visit_once(org):
    enrolment = monthly_enrolment_visited_on_the_second(org)

    outcomes = at_once(engine_tasks.fire_due_timers, engine_tasks.fire_due_timers)

    assert sorted(outcomes) == [0, 1]
    assert visit_cycles(enrolment) == 2


# --- win-back targets, daily ---------------------------------------------------------------------


def expiring_contracts(org):
    """A competitor's contract inside the 90-day window from 1 October, and one outside it."""
    customer = customer_of(org)
    soon = ProductHoldingFactory(customer=customer, product="视频会议", expiry_date=date(2026, 12, 15))
    later = ProductHoldingFactory(customer=customer, product="政务云", expiry_date=date(2027, 2, 15))
    return soon, later


def test_the_daily_win_back_job_starts_each_contract_entering_the_window_once(org):
    soon, later = expiring_contracts(org)

    with frozen(at(2026, 10, 1, 1)):
        assert tasks.start_win_back_targets() == 1
        assert tasks.start_win_back_targets() == 0
    assert list(WinBackTarget.objects.values_list("product", flat=True)) == [soon.pk]

    # The other contract enters the window on 17 November, not before.
    with frozen(at(2026, 11, 16, 1)):
        assert tasks.start_win_back_targets() == 0
    with frozen(at(2026, 11, 17, 1)):
        assert tasks.start_win_back_targets() == 1
        assert tasks.start_win_back_targets() == 0
    assert WinBackTarget.objects.filter(product=later).count() == 1


@on_postgresql
@concurrent
def test_two_clusters_running_the_win_back_job_at_once_start_each_target_once(org):
    expiring_contracts(org)

    def run():
        with frozen(at(2026, 10, 1, 1)):
            return tasks.start_win_back_targets()

    assert sorted(at_once(run, run)) == [0, 1]
    assert WinBackTarget.objects.count() == 1


def contracts_up_for_renewal(org):
    """Two contracts of ours: inside the 90-day window from 1 October, and outside it."""
    customer = customer_of(org)
    ours = {"provider": "我方", "ownership": Ownership.OURS}
    soon = ProductHoldingFactory(
        customer=customer, product="互联网专线", expiry_date=date(2026, 12, 15), **ours
    )
    later = ProductHoldingFactory(customer=customer, product="政务云", expiry_date=date(2027, 2, 15), **ours)
    return soon, later


def test_the_daily_renewal_job_starts_each_contract_of_ours_entering_the_window_once(org):
    soon, later = contracts_up_for_renewal(org)

    with frozen(at(2026, 10, 1, 1)):
        assert tasks.start_renewal_targets() == 1
        assert tasks.start_renewal_targets() == 0
    assert list(RenewalTarget.objects.values_list("product", flat=True)) == [soon.pk]
    with frozen(at(2026, 11, 17, 1)):
        assert tasks.start_renewal_targets() == 1
        assert tasks.start_renewal_targets() == 0
    assert RenewalTarget.objects.filter(product=later).count() == 1
    assert not WinBackTarget.objects.exists()


@on_postgresql
@concurrent
def test_two_clusters_running_the_renewal_job_at_once_start_each_target_once(org):
    contracts_up_for_renewal(org)

    def run():
        with frozen(at(2026, 10, 1, 1)):
            return tasks.start_renewal_targets()

    assert sorted(at_once(run, run)) == [0, 1]
    assert RenewalTarget.objects.count() == 1


# --- incentive reviews and appraisals, monthly ---------------------------------------------------


def october_and_november_records(org) -> None:
    for month, day in ((10, 20), (10, 28), (11, 3)):
        award(
            "lead_created",
            person=org.manager,
            key=f"lead:{month}-{day}",
            description=f"线索 {month}-{day}",
            at=at(2026, month, day, 10),
        )


def test_on_the_first_the_team_leader_gets_the_review_of_the_month_just_ended_once(org):
    october_and_november_records(org)

    with frozen(at(2026, 11, 1, 2)):
        assert tasks.request_incentive_reviews() == 1
        assert tasks.request_incentive_reviews() == 0

    review = IncentiveReview.objects.get()
    assert (review.team, review.period) == (org.team, date(2026, 10, 1))
    assert open_task(review.instance, "Task_review_incentives").assignee == org.leader
    assert sorted(r.period.month for r in review.records.all()) == [10, 10]  # November's waits
    assert IncentiveRecord.objects.filter(review__isnull=True).count() == 1


def test_a_month_with_nothing_pending_starts_no_review(org):
    october_and_november_records(org)

    with frozen(at(2026, 10, 1, 2)):  # September: nothing recorded
        assert tasks.request_incentive_reviews() == 0

    assert not IncentiveReview.objects.exists()


def test_on_the_first_the_months_appraisals_are_made_once_per_person(org):
    with frozen(at(2026, 11, 1, 3)):
        made = tasks.generate_appraisals()
        assert tasks.generate_appraisals() == 0

    appraised = Appraisal.objects.filter(period=date(2026, 10, 1))
    assert made == appraised.count() > 0
    assert appraised.filter(person=org.leader).exists() and appraised.filter(person=org.manager).exists()
    assert appraised.filter(instance__isnull=True).count() == 0


@on_postgresql
@concurrent
def test_two_clusters_running_the_monthly_jobs_at_once_create_each_review_and_appraisal_once(org):
    october_and_november_records(org)

    def on_the_first(job):
        def run():
            with frozen(at(2026, 11, 1, 2)):
                return job()

        return run

    reviews = at_once(
        on_the_first(tasks.request_incentive_reviews), on_the_first(tasks.request_incentive_reviews)
    )
    appraisals = at_once(on_the_first(tasks.generate_appraisals), on_the_first(tasks.generate_appraisals))

    assert sorted(reviews) == [0, 1]
    assert IncentiveReview.objects.count() == 1
    assert all(isinstance(made, int) for made in appraisals), appraisals
    people = Appraisal.objects.filter(period=date(2026, 10, 1)).values_list("person_id", flat=True)
    assert len(people) == len(set(people)) == sum(appraisals) > 0
