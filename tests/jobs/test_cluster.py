"""Real clusters (`manage.py qcluster` subprocesses) run the jobs: on the ORM broker on SQLite and
PostgreSQL, and on Redis on PostgreSQL. Exactly once holds with two clusters at the same moment and
when a worker dies in the middle of a job."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from django_q.models import Task

from tests.conftest import source
from tests.jobs.clusters import RETRY, TIMEOUT, wait_for
from workflows import clock
from workflows.actors import SYSTEM
from workflows.models import AuditEvent, ProcessInstance, Timer
from workflows.services import deploy, start_instance

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BPMN = Path(__file__).resolve().parent / "bpmn"
TIMERS = "workflows.fire_due_timers"  # the engine's every-minute schedule
HALVES = "tests.jobs.work.write_in_two_halves"


def test_a_job_enqueued_runs_in_a_real_cluster(clusters):
    clusters.start()

    task_id = clusters.enqueue("tests.jobs.work.mark", "ran in the cluster")

    task = wait_for(lambda: Task.objects.filter(id=task_id).first(), clusters)
    assert task.success, task.result
    assert Group.objects.filter(name="ran in the cluster").count() == 1


def test_a_due_timer_fires_exactly_once_with_two_clusters_running(clusters):
    deploy(user=SYSTEM, files=[source(BPMN / "wait_an_hour.bpmn")])
    with clock.frozen(timezone.now() - timedelta(hours=2)):  # started two hours ago: due an hour ago
        instance = start_instance(user=SYSTEM, process_id="wait_an_hour")
    assert Timer.objects.filter(instance=instance, due_at__lt=timezone.now()).count() == 1
    clusters.start(2)

    # The every-minute schedule comes due and becomes its job, as the clusters' scheduler does it;
    # more timer jobs beside it, so that both clusters fire timers at the same moment.
    clusters.run_schedule(TIMERS)
    extra = [clusters.enqueue("workflows.tasks.fire_due_timers") for _ in range(5)]

    ran = wait_for(lambda: Task.objects.filter(func="workflows.tasks.fire_due_timers").count() == 6, clusters)
    assert ran
    runs = Task.objects.filter(func="workflows.tasks.fire_due_timers")
    assert all(run.success for run in runs), [run.result for run in runs]
    assert sum(run.result for run in runs) == 1  # one of the six fired it, the others found nothing
    assert runs.filter(group=TIMERS).count() == 1 and runs.filter(id__in=extra).count() == 5
    assert AuditEvent.objects.filter(instance=instance, kind=AuditEvent.Kind.TIMER_FIRED).count() == 1
    instance.refresh_from_db()
    assert instance.status == ProcessInstance.Status.COMPLETED


def kill_the_cluster_running(clusters, both, started) -> str:
    """Enqueue the two-halves job and SIGKILL the cluster running it, in its pause; the job's id."""
    task_id = clusters.enqueue(HALVES, "halves", str(started), TIMEOUT - 1)
    wait_for(started.exists, clusters)
    (taking,) = [cluster for cluster in both if HALVES in cluster.output()]  # its log says so
    taking.kill()
    return task_id


@pytest.mark.parametrize("clusters", ["orm"], indirect=True)
def test_a_worker_killed_mid_job_leaves_nothing_half_done_and_the_retried_job_completes_it(
    clusters, tmp_path
):
    both = clusters.start(2)

    # The database broker keeps the job, taken but not acknowledged; the surviving cluster takes
    # it again once its retry delay has passed.
    task_id = kill_the_cluster_running(clusters, both, tmp_path / "started")

    assert not Group.objects.filter(name__startswith="halves").exists()  # the first half rolled back
    task = wait_for(lambda: Task.objects.filter(id=task_id).first(), clusters, seconds=RETRY + 20)
    assert task.success, task.result
    assert sorted(Group.objects.filter(name__startswith="halves").values_list("name", flat=True)) == [
        "halves 1",
        "halves 2",
    ]


@pytest.mark.parametrize("clusters", ["redis"], indirect=True)
def test_on_redis_a_job_whose_worker_is_killed_is_lost_whole_and_enqueued_again_completes(clusters, tmp_path):
    both = clusters.start(2)

    # Redis hands a job out once and keeps no receipt (django-q2's documented limit): the job is
    # gone with its worker. Nothing is half-done, and the same job enqueued again does it all.
    lost = kill_the_cluster_running(clusters, both, tmp_path / "started")
    time.sleep(RETRY + 1)
    assert not Task.objects.filter(id=lost).exists()
    assert not Group.objects.filter(name__startswith="halves").exists()

    again = clusters.enqueue(HALVES, "halves", str(tmp_path / "again"), 0.1)
    assert wait_for(lambda: Task.objects.filter(id=again, success=True).exists(), clusters)
    assert Group.objects.filter(name__startswith="halves").count() == 2
