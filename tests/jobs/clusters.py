"""Real django-q2 clusters for the tests: `manage.py qcluster` processes started against the test
database (and, for the Redis variant, a Redis database of this xdist worker's own), waited for until
they run, stopped with SIGTERM — or killed with SIGKILL, all their processes at once, as when a
machine dies.

The subprocesses read the same settings as the suite (`config.settings_test`) with the test
database's URL, short job timeouts and retries (Q_TIMEOUT, Q_RETRY, EMAIL_TIMEOUT) so a killed job
is handed out again within seconds, and their log in a file the tests show when something goes wrong."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils import timezone
from django_q.brokers import Broker
from django_q.brokers.orm import ORM
from django_q.brokers.redis_broker import Redis
from django_q.models import Schedule
from django_q.scheduler import scheduler
from django_q.tasks import async_task

from tests.conftest import ROOT

REDIS_HOST = "127.0.0.1:6379"
# Redis databases 10, 11, … one per xdist worker (gw0, gw1, …); the other suites on this machine
# use the low numbers.
REDIS_FIRST_DB = 10
# Seconds, as production's are related (config.checks): a job runs at most TIMEOUT and is handed
# out again RETRY after it was taken, once a claim to send its killed try left has expired
# (`claim_expiry`, TIMEOUT + 5 s) with time to spare for a loaded machine; a mail server's every
# step is given EMAIL_TIMEOUT, so that a send fits in a job twice over.
TIMEOUT, RETRY, EMAIL_TIMEOUT = 6, 16, 2
STARTUP_SECONDS = 30
# django-q2 says so in English or, under our settings' Chinese, in Chinese.
RUNNING = re.compile(r"running\.|正在运行")


def database_url() -> str:
    """The URL of the test database this process uses (a file on SQLite, `test_…` on PostgreSQL)."""
    values = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{values['NAME']}"
    auth = values["USER"] + (f":{values['PASSWORD']}" if values["PASSWORD"] else "")
    return f"postgres://{auth}@{values['HOST'] or '127.0.0.1'}:{values['PORT'] or 5432}/{values['NAME']}"


def xdist_worker_number() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) if worker[2:].isdigit() else 0


def redis_url() -> str:
    return f"redis://{REDIS_HOST}/{REDIS_FIRST_DB + xdist_worker_number()}"


class _TestRedis(Redis):
    """The Redis broker at this worker's database, whatever this process's own settings say."""

    url = ""

    def get_connection(self, list_key: str | None = None) -> Any:  # type: ignore[override]
        import redis

        return redis.from_url(self.url)


class Cluster:
    """One `manage.py qcluster` process (with its sentinel, pusher, monitor and workers)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            # Its own process group: a SIGKILL reaches every process of the cluster, not only the
            # parent (whose children would otherwise finish the job).
            self.process = subprocess.Popen(
                # The suite's own settings, whose development key signs the jobs on both sides (the
                # system checks refuse that key with DEBUG off; they are tested elsewhere).
                [sys.executable, "manage.py", "qcluster", "--skip-checks"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_until_running(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not RUNNING.search(self.output()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"The cluster did not start:\n{self.output()}")
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM, as a supervisor stops it: it finishes its running jobs and exits."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
        # Whatever the sentinel left behind (its own group).
        self._signal_group(signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL to every process of the cluster at once: nothing is finished or cleaned up."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # all gone already
            os.killpg(self.process.pid, sig)


class Clusters:
    """Starts clusters on one broker ("orm" or "redis") and enqueues jobs on it."""

    def __init__(self, broker: str, logs: Path) -> None:
        self.kind = broker
        self.logs = logs
        self.started: list[Cluster] = []
        # The site's queue (its name also salts the jobs' signatures); on Redis, in this xdist
        # worker's own database.
        self.name = "onsite"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": database_url(),
            "Q_TIMEOUT": str(TIMEOUT),
            "Q_RETRY": str(RETRY),
            "EMAIL_TIMEOUT": str(EMAIL_TIMEOUT),
            "Q_WORKERS": "2",
            "Q_LOG_LEVEL": "INFO",  # its "running" line tells when it is ready
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("Q_REDIS_URL", None)
        if broker == "redis":
            self.env["Q_REDIS_URL"] = redis_url()
            _TestRedis.url = redis_url()
            self.broker: Broker = _TestRedis(list_key=self.name)
        else:
            self.broker = ORM(list_key=self.name)
        self.broker.purge_queue()  # nothing left from an earlier run

    def start(self, count: int = 1) -> list[Cluster]:
        """`count` more clusters, each running when this returns."""
        new = [Cluster(self.env, self.logs / f"cluster-{len(self.started) + i}.log") for i in range(count)]
        self.started += new
        for cluster in new:
            cluster.wait_until_running()
        return new

    def enqueue(self, func: str, *args: Any, **kwargs: Any) -> str:
        """A job on this broker, as `async_task` enqueues it (the caller commits first)."""
        return async_task(func, *args, broker=self.broker, **kwargs)

    def run_schedule(self, name: str) -> None:
        """The schedule `name` comes due and becomes its job, as a cluster's scheduler does it."""
        Schedule.objects.filter(name=name).update(next_run=timezone.now() - timedelta(seconds=1))
        scheduler(broker=self.broker)

    def stop_all(self) -> None:
        for cluster in self.started:
            cluster.stop()
        self.broker.purge_queue()

    def logs_text(self) -> str:
        return "\n".join(f"--- {c.log.name}\n{c.output()}" for c in self.started)


def wait_for(condition: Callable[[], Any], clusters: Clusters, seconds: float = 30) -> Any:
    """Poll the database until `condition()` is true; fail with the clusters' logs otherwise."""
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"Not within {seconds} s. The clusters said:\n{clusters.logs_text()}")
        time.sleep(0.1)
