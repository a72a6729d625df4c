"""The coordinators' operations page: failed and retried jobs with their error, a retry that queues
the same job again (run here by a real cluster), each schedule's last success, and the banner when
the worker has stalled. Anyone else: 404, also for the retry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task

from onsite.views.navigation import navigation_for
from tests.jobs.clusters import wait_for
from tests.pages.clients import signed_in
from workflows.worker_health import HEARTBEAT

ERROR = "RuntimeError: the mail server refused the connection"


def failed_job(func="tests.jobs.work.mark", args=("after the retry",), **values) -> Task:
    """A job as django-q2 keeps one that failed: its error, then the traceback, as its result."""
    now = timezone.now()
    fields = {
        "id": "0f" * 16,
        "name": "hotel-alpha-nine-oscar",
        "func": func,
        "args": args,
        "kwargs": {},
        "started": now - timedelta(seconds=2),
        "stopped": now - timedelta(seconds=1),
        "success": False,
        "result": f"the mail server refused the connection : Traceback (most recent call last):\n  File ...\n{ERROR}\n",
        "attempt_count": 1,
        **values,
    }
    return Task.objects.create(**fields)


def succeeded(group: str, minutes_ago: float, **values) -> Task:
    stopped = timezone.now() - timedelta(minutes=minutes_ago)
    return Task.objects.create(
        id=values.pop("id", f"{int(minutes_ago * 100):032x}"),
        name="a-run",
        func="workflows.tasks.fire_due_timers",
        group=group,
        started=stopped - timedelta(seconds=1),
        stopped=stopped,
        success=True,
        result=0,
        attempt_count=values.pop("attempt_count", 1),
        **values,
    )


def in_english(user) -> Client:
    # The pages' default is Chinese; these tests read the English text.
    return signed_in(user, headers={"accept-language": "en"})


@pytest.fixture
def people(org):
    return {
        "account_manager": org.manager,
        "support_staff": org.support["network"],
        "team_leader": org.leader,
        "coordinator": org.coordinator,
        "leadership": org.director,
    }


@pytest.mark.django_db
class TestAccess:
    def test_the_page_is_in_the_coordinators_header_only(self, people):
        for role, user in people.items():
            shown = "/operations/" in {item.url for item in navigation_for(user) if item.menu == "main"}
            assert shown == (role == "coordinator"), role

    @pytest.mark.parametrize("role", ["account_manager", "support_staff", "team_leader", "leadership"])
    def test_anyone_but_a_coordinator_finds_neither_the_page_nor_the_retry(self, people, role):
        job = failed_job()
        client = signed_in(people[role])

        assert client.get("/operations/").status_code == 404
        assert client.post(f"/operations/jobs/{job.id}/retry/").status_code == 404
        assert not OrmQ.objects.exists()
        assert not LogEntry.objects.exists()

    def test_an_anonymous_visitor_is_sent_to_sign_in(self):
        response = Client().get("/operations/")
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")

    def test_the_retry_only_answers_a_post_and_only_for_a_failed_job(self, people):
        client = signed_in(people["coordinator"])
        done = succeeded(HEARTBEAT, 1)

        assert client.get(f"/operations/jobs/{failed_job().id}/retry/").status_code == 405
        assert client.post(f"/operations/jobs/{done.id}/retry/").status_code == 404
        assert client.post("/operations/jobs/no-such-job/retry/").status_code == 404


@pytest.mark.django_db
class TestPage:
    def test_a_failed_job_is_listed_with_its_error_and_a_retry_button(self, people):
        job = failed_job()

        page = in_english(people["coordinator"]).get("/operations/").content.decode()

        assert "tests.jobs.work.mark" in page and ERROR in page
        assert f'action="/operations/jobs/{job.id}/retry/"' in page

    def test_a_job_that_succeeded_on_a_later_attempt_is_listed_without_a_retry(self, people):
        job = succeeded("some.schedule", 3, attempt_count=3)

        page = in_english(people["coordinator"]).get("/operations/").content.decode()

        assert "succeeded after retries" in page and "3 attempts" in page
        assert f"/operations/jobs/{job.id}/retry/" not in page

    def test_each_schedule_shows_its_last_successful_run(self, people):
        last = succeeded(HEARTBEAT, 0.5)
        succeeded(HEARTBEAT, 1.5, id="1" * 32)
        failed_job(group=HEARTBEAT, stopped=timezone.now())  # a later failure is not a success

        page = in_english(people["coordinator"]).get("/operations/").content.decode()

        local = timezone.localtime(last.stopped, timezone.get_fixed_timezone(480))
        assert f"Last successful run {local:%Y-%m-%d %H:%M}" in page
        assert "The background worker is running" in page and "worker-stalled" not in page

    def test_each_schedule_says_what_it_does_in_words_and_in_chinese_by_default(self, people):
        client = Client()
        client.force_login(people["coordinator"])

        chinese = client.get("/operations/").content.decode()
        english = in_english(people["coordinator"]).get("/operations/").content.decode()

        assert "Fire the BPMN timers that are due" in english and "Renewal tasks for our contracts" in english
        assert "触发到期的 BPMN 定时器" in chinese and "我方合同续约任务" in chinese
        assert "onsite.renewal_targets" in chinese  # its name beside, for the log and the admin

    def test_a_worker_that_has_not_run_the_minute_schedule_for_5_minutes_shows_the_stalled_banner(
        self, people
    ):
        succeeded(HEARTBEAT, 6)

        page = in_english(people["coordinator"]).get("/operations/").content.decode()

        assert "The background worker has stalled." in page and "6\xa0minutes" in page

    def test_a_schedule_written_a_minute_ago_and_never_run_is_not_a_stalled_worker(self, people):
        Schedule.objects.filter(name=HEARTBEAT).update(next_run=timezone.now() - timedelta(minutes=1))

        page = in_english(people["coordinator"]).get("/operations/").content.decode()

        assert "worker-stalled" not in page

    def test_the_page_is_in_chinese_by_default(self, people):
        failed_job()
        succeeded(HEARTBEAT, 6)

        page = signed_in(people["coordinator"]).get("/operations/").content.decode()

        assert "后台任务处理程序已停滞" in page and "失败和重试的任务" in page and "重试" in page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("clusters", ["orm"], indirect=True)
def test_a_retry_queues_the_same_job_again_which_then_runs_and_is_recorded(people, clusters):
    job = failed_job()
    client = in_english(people["coordinator"])

    response = client.post(f"/operations/jobs/{job.id}/retry/", follow=True)

    assert response.redirect_chain[-1][0] == "/operations/"
    assert "is queued again" in response.content.decode()
    clusters.start()
    assert wait_for(lambda: Group.objects.filter(name="after the retry").exists(), clusters)
    rerun = wait_for(lambda: Task.objects.filter(func=job.func, success=True).first(), clusters)
    assert rerun.id != job.id and rerun.args == ("after the retry",)
    entry = LogEntry.objects.get()
    assert (entry.user, entry.object_id) == (people["coordinator"], job.id)
    page = client.get("/operations/").content.decode()
    assert "Retried by" in page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("clusters", ["orm"], indirect=True)
def test_a_job_that_failed_in_a_real_cluster_is_listed_with_its_exception(people, clusters):
    clusters.start()
    task_id = clusters.enqueue("tests.jobs.work.fail", "the mail server is down")
    wait_for(lambda: Task.objects.filter(id=task_id).exists(), clusters)

    page = in_english(people["coordinator"]).get("/operations/").content.decode()

    assert "RuntimeError: the mail server is down" in page
    assert f'action="/operations/jobs/{task_id}/retry/"' in page
