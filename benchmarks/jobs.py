"""Background jobs benchmark: `python -m benchmarks.jobs` (not a test; prints figures).

BPMN timers fired by the worker, for each database (SQLite, then PostgreSQL) in a fresh database and
a separate process (the machinery of `benchmarks.engine`). Two kinds of timer:

- `wait_an_hour`: a minimal diagram, one intermediate timer between the start and the end;
- the visit cycle's summary SLA (`Event_summary_overdue`, the non-interrupting boundary timer on
  "write the summary", in `benchmarks/bpmn/visit_cycle.bpmn`): firing it opens the escalation task
  for the team leader, with its engine event and the job that handles it.

For each, 10,000 instances (200 with `--quick`) wait on a timer that is due. They are copies of one
instance started (and, for the visit, driven to its summary) through the engine's services, each
with fresh task ids, its task and timer rows: what the services would have stored, without the
minutes it takes them.

(a) Baseline: `fire_due_timers()` called once in this process: one loop over the instances.
(b) The same number of fresh copies fired by a real cluster (`manage.py qcluster`, a subprocess
    against the same database, the settings' worker count) on the database broker; on PostgreSQL
    also on Redis. The cluster is started and running first; then the every-minute schedule
    (`workflows.fire_due_timers`) is made due and turned into its job by django-q2's scheduler, as
    the cluster's sentinel does it. Timed from that job's enqueueing until the database holds no
    due timer of the copies. Timers per second for a and b, and `ratio b/a`. Then the events the
    firings made, handled by the timer jobs themselves once their firings committed
    (`workflows.events.handled_in_this_job`), watched for up to a minute more (20 s with `--quick`):
    when the last was handled, or how many were by then.
(c) The delay from a timer's due time to its firing with the one-minute schedule: timers due at
    moments spread over a minute, the schedule left to the running cluster's own scheduler; each
    firing observed in the database (polled every 0.2 s). Median and maximum. The sentinel looks at
    the schedules every 30 s, and the schedule runs every minute: a delay up to about 90 s plus the
    firing is expected. With `--quick`: timers due over 2 s, then the schedule made due once.

Exits non-zero only if it cannot run.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.engine import ROOT, database_label, machine, run_benchmark, start_data
from benchmarks.fixtures import DIAGRAMS, RESOURCES, make_people, plan, record

TIMER_DIAGRAM = DIAGRAMS / "timers" / "wait_an_hour.bpmn"
SCHEDULE = "workflows.fire_due_timers"  # the engine's every-minute schedule
REDIS_URL = "redis://127.0.0.1:6379/5"
RUNNING = re.compile(r"running\.|正在运行")  # django-q2's "ready" line, in English or Chinese
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
KINDS = {
    "wait_an_hour": "minimal diagram: one intermediate timer",
    "visit_summary": "visit cycle: summary SLA boundary timer (opens the escalation task)",
}
TARGET_PER_SECOND = 1_000


def main() -> int:
    return run_benchmark("benchmarks.jobs", __doc__, measure=measure, report=report)


# --- parent: the report ---------------------------------------------------------------------------


def report(results: dict, *, quick: bool) -> str:
    lines = [f"# Background jobs benchmark: timers{' (quick)' if quick else ''}", "", machine(), ""]
    for backend, r in results.items():
        lines += [
            f"## {backend} ({r['database']})",
            "",
            f"{r['count']:,} due timers per run; the cluster: {r['workers']} workers, {r['cpus']} CPUs.",
            "",
            "| timer | path | seconds | timers/s | ratio b/a |",
            "|---|---|---:|---:|---:|",
        ]
        for kind, runs in r["firing"].items():
            a = runs["a"]
            lines.append(f"| {KINDS[kind]} | a: one loop in-process | {a:.2f} | {r['count'] / a:,.0f} | |")
            for broker, b in runs["b"].items():
                seconds = b["fired"]
                lines.append(
                    f"| {KINDS[kind]} | b: cluster, {broker} broker, from the schedule's job | "
                    f"{seconds:.2f} | {r['count'] / seconds:,.0f} | {a / seconds:.2f} |"
                )
        lines += [
            "",
            "b's clock stops when the database holds no due timer of the run. The events the firings "
            "made (the instance's end; the escalation task) are handled by the timer jobs themselves, "
            "at the end of each batch; watched for up to a minute more:",
            "",
            "| timer | broker | all timers fired, s | events | handled by | events handled/s |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for kind, runs in r["firing"].items():
            for broker, b in runs["b"].items():
                lines.append(
                    f"| {kind} | {broker} | {b['fired']:.2f} | {b['events']:,} | "
                    f"{b['handled']:,} at {b['watched']:.0f} s | {b['handled'] / b['watched']:.0f} |"
                )
        lines.append("")
        for kind, runs in r["firing"].items():
            for broker, b in runs["b"].items():
                seconds = b["fired"]
                rate = r["count"] / seconds
                lines.append(
                    f"{kind}, {broker}: b {rate:,.0f} timers/s, ratio b/a = {runs['a'] / seconds:.2f} "
                    f"(target >= {TARGET_PER_SECOND:,} timers/s: {'met' if rate >= TARGET_PER_SECOND else 'not met'})"
                )
        d = r["delay"]
        lines += [
            "",
            f"delay from due time to firing ({d['timers']} timers due over {d['spread']:.0f} s, "
            f"{d['how']}): median {d['median']:.1f} s, max {d['max']:.1f} s",
            "",
        ]
    return "\n".join(lines)


# --- child: one database --------------------------------------------------------------------------


def measure(*, quick: bool) -> dict:
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("deploy_bpmn", str(DIAGRAMS / "visit_cycle.bpmn"), str(TIMER_DIAGRAM), stdout=quiet)
    people = make_people()
    hold_schedules()
    count = 200 if quick else 10_000
    from django.db import connection

    brokers = ["orm", "redis"] if connection.vendor == "postgresql" else ["orm"]
    firing = {}
    for kind in KINDS:
        template = Template(kind, people)
        firing[kind] = {"a": in_process_seconds(template, count), "b": {}}
        for broker in brokers:
            firing[kind]["b"][broker] = cluster_seconds(template, count, broker, quick=quick)
    return {
        "database": database_label(),
        "count": count,
        "workers": settings.Q_CLUSTER["workers"],
        "cpus": os.cpu_count(),
        "firing": firing,
        "delay": schedule_delay(quick=quick),
    }


def hold_schedules() -> None:
    """Every schedule far ahead: a cluster runs none until the benchmark makes one due."""
    from django.utils import timezone
    from django_q.models import Schedule

    Schedule.objects.update(next_run=timezone.now() + timedelta(days=1))


# --- the instances -------------------------------------------------------------------------------


class Template:
    """One instance waiting on a due timer, kept in memory (instance row, task rows, timer rows)
    and then removed; `copy(n)` stores n copies of it, each with its own task ids."""

    def __init__(self, kind: str, people: dict) -> None:
        from django.utils import timezone

        from workflows import clock
        from workflows.actors import SYSTEM
        from workflows.models import HumanTask, ProcessInstance, Timer
        from workflows.services import complete_task, start_instance

        past = timezone.now() - timedelta(hours=49)
        with clock.frozen(past):
            if kind == "wait_an_hour":
                instance = start_instance(user=SYSTEM, process_id="wait_an_hour")
            else:
                instance = start_instance(
                    process_id="visit_cycle", data=start_data(), user=people["coordinator"]
                )
                # Visited 49 hours ago: the summary was due an hour ago.
                for bpmn_id, data in (
                    ("Task_plan_visit", plan()),
                    ("Task_prepare_resources", RESOURCES),
                    ("Task_record_visit", record(past)),
                ):
                    task = HumanTask.objects.get(instance=instance, bpmn_id=bpmn_id, status="open")
                    complete_task(task_id=task.pk, data=data, user=people["manager"])
        instance = ProcessInstance.objects.get(pk=instance.pk)
        self.instance = instance
        self.tasks = list(HumanTask.objects.filter(instance=instance))
        self.timers = list(Timer.objects.filter(instance=instance))
        assert len(self.timers) == 1 and self.timers[0].due_at < timezone.now(), self.timers
        ProcessInstance.objects.filter(pk=instance.pk).delete()

    def copy(self, count: int) -> list[int]:
        from workflows.models import HumanTask, ProcessInstance, Timer

        ids: list[int] = []
        while len(ids) < count:
            batch = min(count - len(ids), 1_000)
            maps: list[dict[str, str]] = [{} for _ in range(batch)]
            rows = ProcessInstance.objects.bulk_create(
                [
                    ProcessInstance(
                        version_id=self.instance.version_id,
                        process_id=self.instance.process_id,
                        business_key=f"TIMER-{uuid.uuid4().hex[:10]}",
                        status=self.instance.status,
                        state=_renamed(self.instance.state, mapping),
                        serializer_version=self.instance.serializer_version,
                        revision=self.instance.revision,
                        started_by_id=self.instance.started_by_id,
                    )
                    for mapping in maps
                ]
            )
            HumanTask.objects.bulk_create(
                [
                    _copied(task, instance=row, id=uuid.UUID(_fresh(mapping, str(task.pk))))
                    for row, mapping in zip(rows, maps, strict=True)
                    for task in self.tasks
                ]
            )
            Timer.objects.bulk_create(
                [
                    _copied(timer, instance=row, task_id=uuid.UUID(_fresh(mapping, str(timer.task_id))))
                    for row, mapping in zip(rows, maps, strict=True)
                    for timer in self.timers
                ]
            )
            ids += [row.pk for row in rows]
        return ids


def _renamed(state: str, mapping: dict[str, str]) -> str:
    """The state with every task id (any UUID in it) replaced by a fresh one, noted in `mapping`."""
    return UUID.sub(lambda match: _fresh(mapping, match.group()), state)


def _fresh(mapping: dict[str, str], old: str) -> str:
    if old not in mapping:
        mapping[old] = str(uuid.uuid4())
    return mapping[old]


def _copied(row: Any, **values: Any) -> Any:
    """An unsaved copy of a model row with `values` changed (a task id kept as it is if the state no
    longer holds it: a completed task pruned from the workflow)."""
    fields = {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields if not f.primary_key}
    fields.pop("instance_id")
    return type(row)(**{**fields, **values})


def check_fired(ids: list[int]) -> None:
    """Every copy's timer fired exactly once."""
    from django.db.models import Count

    from workflows.models import AuditEvent

    fired = (
        AuditEvent.objects.filter(instance_id__in=ids, kind=AuditEvent.Kind.TIMER_FIRED)
        .values("instance_id")
        .annotate(n=Count("id"))
    )
    counts = [row["n"] for row in fired]
    assert len(counts) == len(ids) and set(counts) == {1}, (len(counts), len(ids), set(counts))


def settle() -> None:
    """Between runs: the events the last run left marked handled and its queue emptied, so that the
    next run's cluster does not work off the previous run's jobs."""
    from django.utils import timezone
    from django_q.brokers.orm import ORM

    from workflows.models import EngineEvent

    EngineEvent.objects.filter(handled_at=None).update(handled_at=timezone.now())
    ORM(list_key="onsite").purge_queue()
    gc.collect()


# --- (a) one loop, in-process ---------------------------------------------------------------------


def in_process_seconds(template: Template, count: int) -> float:
    from workflows.services import fire_due_timers

    ids = template.copy(count)
    settle()
    started = time.perf_counter()
    fired = fire_due_timers()
    seconds = time.perf_counter() - started
    assert len(fired) == count, len(fired)
    check_fired(ids)
    return seconds


# --- (b) a real cluster ---------------------------------------------------------------------------


class Cluster:
    """`manage.py qcluster` against this process's database (and Redis database 5 for "redis"), in
    its own session so that every process of it can be stopped; its log in a temporary file."""

    def __init__(self, broker: str) -> None:
        from django.db import connection

        values = connection.settings_dict
        if connection.vendor == "sqlite":
            url = f"sqlite:///{values['NAME']}"
        else:
            url = f"postgres://{values['USER']}@{values['HOST']}:{values['PORT'] or 5432}/{values['NAME']}"
        env = {**os.environ, "DATABASE_URL": url, "Q_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"}
        env.pop("Q_REDIS_URL", None)
        if broker == "redis":
            env["Q_REDIS_URL"] = REDIS_URL
        self.log = Path(tempfile.mkstemp(prefix="onsite-bench-cluster-", suffix=".log")[1])
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                # The benchmark's own settings; the checks refuse their development key with DEBUG
                # off, which is no matter here.
                [sys.executable, "manage.py", "qcluster", "--skip-checks"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while not RUNNING.search(self.output()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"The cluster did not start:\n{self.output()[-3000:]}")
            time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):  # killed below
                self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever the sentinel left behind
        self.process.wait(timeout=10)
        self.log.unlink(missing_ok=True)


@contextlib.contextmanager
def running_cluster(broker: str) -> Iterator[Cluster]:
    cluster = Cluster(broker)
    try:
        yield cluster
    finally:
        cluster.stop()


def queue(broker: str) -> Any:
    """The broker the cluster reads, as this process reaches it."""
    from django_q.brokers.orm import ORM
    from django_q.brokers.redis_broker import Redis

    if broker == "orm":
        return ORM(list_key="onsite")

    class Database5(Redis):
        def get_connection(self, list_key: str | None = None) -> Any:  # type: ignore[override]
            import redis

            return redis.from_url(REDIS_URL)

    return Database5(list_key="onsite")


def run_schedule_now(broker: Any) -> None:
    """The every-minute schedule made due and turned into its job by django-q2's scheduler (what
    the cluster's sentinel calls every 30 s)."""
    from django.utils import timezone
    from django_q.models import Schedule
    from django_q.scheduler import scheduler

    Schedule.objects.filter(name=SCHEDULE).update(next_run=timezone.now() - timedelta(seconds=1))
    scheduler(broker=broker)
    hold_schedules()


def cluster_seconds(template: Template, count: int, broker_kind: str, *, quick: bool) -> dict:
    broker = queue(broker_kind)
    broker.purge_queue()
    ids = Copies(template.copy(count))
    settle()
    with running_cluster(broker_kind) as cluster:
        started = time.perf_counter()
        run_schedule_now(broker)
        deadline = started + max(120, count * 0.05)
        while ids.due_left():
            if time.perf_counter() > deadline:
                raise RuntimeError(
                    f"{ids.due_left()} timers still due. The cluster said:\n{cluster.output()[-3000:]}"
                )
            time.sleep(0.2)
        fired = time.perf_counter() - started
        # The events of the firings (the escalation task, the instance's end), handled by the timer
        # jobs at the end of each batch: for a while longer, not forever.
        events = ids.events()
        watch_until = time.perf_counter() + (20 if quick else 60)
        while ids.pending_events() and time.perf_counter() < watch_until:
            time.sleep(0.2)
        watched = time.perf_counter() - started
        handled = events - ids.pending_events()
    broker.purge_queue()
    check_fired(list(ids))
    return {"fired": fired, "watched": watched, "events": events, "handled": handled}


class Copies(list):
    """The ids of one run's copies (consecutive: stored together), read as a range."""

    def _range(self) -> dict:
        return {"instance_id__gte": min(self), "instance_id__lte": max(self)}

    def due_left(self) -> int:
        from django.utils import timezone

        from workflows.models import Timer

        return Timer.objects.filter(**self._range(), due_at__lte=timezone.now()).count()

    def events(self) -> int:
        from workflows.models import EngineEvent

        return EngineEvent.objects.filter(**self._range()).count()

    def pending_events(self) -> int:
        from workflows.models import EngineEvent

        return EngineEvent.objects.filter(**self._range(), handled_at=None).count()


# --- (c) the delay with the one-minute schedule ---------------------------------------------------


def schedule_delay(*, quick: bool) -> dict:
    """Timers due at spread moments, each firing observed in the database."""
    from django.utils import timezone
    from django_q.models import Schedule

    from workflows import clock
    from workflows.actors import SYSTEM
    from workflows.models import Timer
    from workflows.services import start_instance

    settle()
    timers, spread = (5, 2.0) if quick else (24, 60.0)
    lead = 3.0  # seconds before the first is due: the cluster starts meanwhile
    first_due = timezone.now() + timedelta(seconds=lead + (0 if quick else 10))
    due = {}
    for number in range(timers):
        moment = first_due + timedelta(seconds=spread * number / (timers - 1))
        with clock.frozen(moment - timedelta(hours=1)):
            instance = start_instance(user=SYSTEM, process_id="wait_an_hour")
        due[instance.pk] = Timer.objects.get(instance=instance).due_at
    fired_at: dict[int, Any] = {}
    with running_cluster("orm"):
        if quick:
            how = "the schedule made due once after the last timer came due"
            time.sleep(max(0.0, (max(due.values()) - timezone.now()).total_seconds()) + 0.1)
            run_schedule_now(queue("orm"))
        else:
            how = "the cluster's own scheduler running the every-minute schedule"
            # Due from now on, every minute, as after a deploy; the sentinel finds it within 30 s.
            Schedule.objects.filter(name=SCHEDULE).update(next_run=timezone.now())
        deadline = time.monotonic() + (30 if quick else spread + 180)
        while len(fired_at) < len(due):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(due) - len(fired_at)} timers did not fire")
            left = set(Timer.objects.filter(instance_id__in=list(due)).values_list("instance_id", flat=True))
            now = timezone.now()
            for instance_id in due:
                if instance_id not in left and instance_id not in fired_at:
                    fired_at[instance_id] = now
            time.sleep(0.2)
    hold_schedules()
    delays = [(fired_at[pk] - due[pk]).total_seconds() for pk in due]
    return {
        "timers": timers,
        "spread": spread,
        "how": how,
        "median": statistics.median(delays),
        "max": max(delays),
    }


if __name__ == "__main__":
    sys.exit(main())
