"""Engine benchmark: `python -m benchmarks.engine` (not a test; prints figures).

For each database (SQLite, then PostgreSQL), in a fresh database and a separate process:

1. The visit cycle driven to completion many times, in alternating rounds, (a) by raw SpiffWorkflow
   in memory, deserializing and serializing the whole workflow at each user task as a web request
   would, and (b) through the engine's services (`start_instance`, `complete_task`: lock, load,
   run, save, projections, audit). Prints task completions per second and `ratio b/a`.
   The same for starting a visit: (a) SpiffWorkflow alone builds the workflow, runs it to its first
   user task and serializes it; (b) `start_instance` also looks the version up, stores the
   instance, its first task and the audit. Both ratios are printed with the database floor of the
   path (the least statements any durable completion or start needs: the engine's own, with no
   engine work between), which b pays and a does not.
2. The same service path with 1,000 and with 100,000 instances already stored (each with an open
   task and an audit event), plus due-timer scanning and the first page of an inbox at both sizes.
3. The cost of a task in a programme that has run 100 visits against the same task at the first
   visits (the programme and its visits are separate, linked instances).
4. The cost of one sandboxed evaluation: a script and an expression sent to a helper process and
   back, against the same code compiled and run in-process under the same RestrictedPython policy,
   and a simple comparison the engine decides itself.

Medians over repetitions; ratios are taken within one run because these machines are shared and
noisy. Exits non-zero only if it cannot run. `--quick` shrinks every size for a smoke run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from benchmarks.fixtures import (
    APPROVE,
    DIAGRAMS,
    LANE_OWNERS,
    RESOURCES,
    SUMMARY,
    make_people,
    plan,
    record,
    stage_review,
    start_programme,
)

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgres://postgres@127.0.0.1:5432"
VISIT_TASKS = (
    "Task_plan_visit",
    "Task_prepare_resources",
    "Task_record_visit",
    "Task_write_summary",
    "Task_review_summary",
)


# --- parent: one child process per database ------------------------------------------------


def main() -> int:
    return run_benchmark("benchmarks.engine", __doc__, measure=measure, report=report)


def run_benchmark(
    module: str,
    doc: str,
    *,
    measure: Callable[..., dict],
    report: Callable[..., str],
) -> int:
    """The command line shared by the benchmarks: as the parent, run `module` once per database in a
    child process and print `report(results, quick=...)`; as the child (`--child`), create a fresh
    database, run `measure(quick=...)` in it and print the result as JSON."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the benchmark runs")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], help="run one database only")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.backend, measure, quick=args.quick)))
        return 0

    backends = [args.backend] if args.backend else ["sqlite", "postgresql"]
    results, failed = {}, []
    for backend in backends:
        command = [sys.executable, "-m", module, "--child", "--backend", backend]
        if args.quick:
            command.append("--quick")
        print(f"running on {backend}...", file=sys.stderr, flush=True)
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            failed.append(backend)
            print(f"{backend}: could not run\n{done.stderr[-3000:]}", file=sys.stderr)
            continue
        results[backend] = json.loads(done.stdout.strip().splitlines()[-1])
    print(report(results, quick=args.quick))
    return 1 if failed else 0


def report(results: dict, *, quick: bool) -> str:
    lines = [f"# Engine benchmark{' (quick)' if quick else ''}", "", machine(), ""]
    for backend, r in results.items():
        a, b = r["raw_ms"], r["services_ms"]
        lines += [
            f"## {backend} ({r['database']})",
            "",
            "| path | ms per task completion | completions/s |",
            "|---|---:|---:|",
            f"| a: raw SpiffWorkflow, in memory only | {r['raw_memory_ms']:.2f} | {1000 / r['raw_memory_ms']:.0f} |",
            f"| a: raw SpiffWorkflow, deserialize + serialize per task | {a:.2f} | {1000 / a:.0f} |",
            f"| b: engine services (lock, load, run, save, projections, audit) | {b:.2f} | {1000 / b:.0f} |",
            "",
            f"ratio b/a = {b / a:.2f} (target <= 1.5); raw state {r['raw_state_bytes']:,} bytes, "
            f"stored state {r['stored_state_bytes']:,} bytes",
            "",
            f"database floor (lock and read an instance, write its state back, commit; no engine work): "
            f"{r['floor_ms']:.2f} ms = {r['floor_ms'] / a:.2f} a; "
            f"engine work beyond the floor: b - floor = {(b - r['floor_ms']) / a:.2f} a (target <= 1.5)",
            "",
            "| path | ms per start (visit to its first task) | starts/s |",
            "|---|---:|---:|",
            f"| a: raw SpiffWorkflow: new workflow, run to the first wait, serialize | {r['raw_start_ms']:.2f} | {1000 / r['raw_start_ms']:.0f} |",
            f"| b: `start_instance` (version, run, store instance, first task, audit) | {r['services_start_ms']:.2f} | {1000 / r['services_start_ms']:.0f} |",
            "",
            f"start: ratio b/a = {r['services_start_ms'] / r['raw_start_ms']:.2f}; database floor of a start "
            f"(version lookup, insert of the instance with its state, commit; no engine work): "
            f"{r['start_floor_ms']:.2f} ms = "
            f"{r['start_floor_ms'] / r['raw_start_ms']:.2f} a; "
            f"b - floor = {(r['services_start_ms'] - r['start_floor_ms']) / r['raw_start_ms']:.2f} a (target <= 1.5)",
            "",
            "| instances stored | ms per task completion | due-timer scan ms | inbox first page ms |",
            "|---:|---:|---:|---:|",
        ]
        for size in r["scale"]:
            s = r["scale"][size]
            lines.append(
                f"| {int(size):,} | {s['task_ms']:.2f} | {s['timer_scan_ms']:.2f} | {s['inbox_ms']:.2f} |"
            )
        (small_size, small), (large_size, large) = r["scale"].items()
        lines += [
            "",
            f"ratio {large_size} / {small_size} stored: task {large['task_ms'] / small['task_ms']:.2f}, "
            f"timer scan {large['timer_scan_ms'] / small['timer_scan_ms']:.2f}, "
            f"inbox {large['inbox_ms'] / small['inbox_ms']:.2f} (target: no growth)",
            "",
            "| programme age | ms per task (median, visit tasks + stage review) | programme state bytes |",
            "|---|---:|---:|",
            f"| visits 1-{r['age']['window']} | {r['age']['young_ms']:.2f} | {r['age']['young_state']:,} |",
            f"| visits {r['age']['old_from']}-{r['age']['old_from'] + r['age']['window'] - 1} | "
            f"{r['age']['old_ms']:.2f} | {r['age']['old_state']:,} |",
            "",
            f"ratio old/young = {r['age']['old_ms'] / r['age']['young_ms']:.2f} (target <= 1.2)",
            "",
        ]
        sandbox = r["sandbox"]
        lines += [
            "| one evaluation | µs |",
            "|---|---:|",
            f"| script in a helper process (round trip) | {sandbox['script_us']:.0f} |",
            f"| expression in a helper process (round trip) | {sandbox['expression_us']:.0f} |",
            f"| the same script in-process, no OS boundary | {sandbox['in_process_us']:.0f} |",
            f"| straight-line script run by the engine itself | {sandbox['straight_us']:.0f} |",
            f"| simple comparison decided by the engine | {sandbox['simple_us']:.1f} |",
            "",
            f"helper calls per visit task: {r['helper_calls_per_task']:.2f}",
            "",
        ]
    return "\n".join(lines)


def machine() -> str:
    from importlib.metadata import version

    import SpiffWorkflow  # noqa: F401

    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SpiffWorkflow {version('SpiffWorkflow')}, "
        f"Django {version('Django')}"
    )


# --- child: one database ----------------------------------------------------------------------


def run_child(backend: str, measure: Callable[..., dict], *, quick: bool) -> dict:
    database_url, cleanup = create_database(backend)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    try:
        return measure(quick=quick)
    finally:
        from django.db import connections

        connections.close_all()
        cleanup()


def create_database(backend: str):
    if backend == "sqlite":
        directory = tempfile.mkdtemp(prefix="onsite-bench-")
        path = Path(directory) / "bench.sqlite3"

        def remove():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            os.rmdir(directory)

        return f"sqlite:///{path}", remove
    import psycopg

    name = f"onsite_bench_{os.getpid()}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{POSTGRES}/{name}", drop


def database_label() -> str:
    from django.db import connection

    version = connection.Database.sqlite_version if connection.vendor == "sqlite" else connection.pg_version
    return f"{connection.vendor} {version}"


def measure(*, quick: bool) -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("deploy_bpmn", *[str(p) for p in sorted(DIAGRAMS.glob("*.bpmn"))], stdout=quiet)

    people = make_people()
    sizes = (
        dict(rounds=2, visits=2, starts=5, fill=(50, 200), age=(2, 12), window=2)
        if quick
        else dict(rounds=7, visits=6, starts=30, fill=(1_000, 100_000), age=(3, 101), window=5)
    )

    raw = RawVisits()
    raw_ms, services_ms, memory_ms = [], [], []
    raw_start_ms, services_start_ms = [], []
    for _ in range(sizes["rounds"]):
        # Each round from a collected heap: garbage one path leaves is not charged to the other.
        gc.collect()
        raw_ms.append(raw.per_task_ms(sizes["visits"], persist=True))
        gc.collect()
        memory_ms.append(raw.per_task_ms(sizes["visits"], persist=False))
        gc.collect()
        services_ms.append(per_task_services_ms(people, sizes["visits"]))
        gc.collect()
        raw_start_ms.append(raw.per_start_ms(sizes["starts"]))
        gc.collect()
        services_start_ms.append(per_start_services_ms(people, sizes["starts"]))

    scale = {}
    for target in sizes["fill"]:
        fill_instances(target, people)
        scale[str(target)] = {
            "task_ms": statistics.median(
                per_task_services_ms(people, sizes["visits"]) for _ in range(max(2, sizes["rounds"] // 2))
            ),
            "timer_scan_ms": timer_scan_ms(),
            "inbox_ms": inbox_ms(people["manager"]),
        }

    return {
        "database": database_label(),
        "sandbox": sandbox_costs(quick=quick),
        "raw_ms": statistics.median(raw_ms),
        "raw_memory_ms": statistics.median(memory_ms),
        "services_ms": statistics.median(services_ms),
        "raw_state_bytes": raw.state_bytes,
        "stored_state_bytes": stored_state_bytes(),
        "floor_ms": database_floor_ms(people),
        "raw_start_ms": statistics.median(raw_start_ms),
        "services_start_ms": statistics.median(services_start_ms),
        "start_floor_ms": start_floor_ms(people),
        "helper_calls_per_task": helper_calls_per_task(people),
        "scale": scale,
        "age": programme_age(people, *sizes["age"], window=sizes["window"]),
    }


# --- (a) raw SpiffWorkflow ----------------------------------------------------------------------


class RawVisits:
    """The visit cycle with SpiffWorkflow alone: its parser, its serializer, its script engine (with
    the same helper functions the diagrams call, unsandboxed)."""

    def __init__(self) -> None:
        from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
        from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

        from workflows.sandbox import SCRIPT_FUNCTIONS

        parser = SpiffBpmnParser()
        parser.add_bpmn_file(str(DIAGRAMS / "visit_cycle.bpmn"))
        self.spec = parser.get_spec("visit_cycle")
        self.subprocess_specs = parser.get_subprocess_specs("visit_cycle")
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(dict(SPIFF_CONFIG)))
        self.engine = PythonScriptEngine(environment=TaskDataEnvironment(dict(SCRIPT_FUNCTIONS)))
        self.state_bytes = 0

    def per_task_ms(self, visits: int, *, persist: bool) -> float:
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
        from SpiffWorkflow.util.task import TaskState

        elapsed, completed = 0.0, 0
        for _ in range(visits):
            workflow = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=self.engine)
            workflow.get_next_task(state=TaskState.READY).set_data(**start_data())
            workflow.do_engine_steps()
            state = self.serializer.serialize_json(workflow)
            for bpmn_id, data in visit_answers():
                started = time.perf_counter()
                if persist:
                    workflow = self.serializer.deserialize_json(state)
                    workflow.script_engine = self.engine
                task = workflow.get_next_task(state=TaskState.READY, manual=True, spec_name=bpmn_id)
                task.task_spec.add_data_from_form(task, data)
                task.run()
                workflow.do_engine_steps()
                if persist:
                    state = self.serializer.serialize_json(workflow)
                elapsed += time.perf_counter() - started
                completed += 1
                self.state_bytes = max(self.state_bytes, len(state))
            assert workflow.is_completed(), "the raw visit did not finish"
        return elapsed * 1000 / completed

    def per_start_ms(self, starts: int) -> float:
        """A new visit: build the workflow, run it to its first user task, serialize it."""
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
        from SpiffWorkflow.util.task import TaskState

        elapsed = 0.0
        for _ in range(starts):
            data = start_data()
            started = time.perf_counter()
            workflow = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=self.engine)
            workflow.get_next_task(state=TaskState.READY).set_data(**data)
            workflow.do_engine_steps()
            self.serializer.serialize_json(workflow)
            elapsed += time.perf_counter() - started
            assert workflow.get_next_task(state=TaskState.READY, manual=True) is not None
        return elapsed * 1000 / starts


# --- (b) the engine's services ------------------------------------------------------------------


def start_data() -> dict:
    return {
        "customer_name": "基准测试客户",
        "stage": "publicity",
        "visit_no": 1,
        "lane_owners": LANE_OWNERS,
    }


def visit_answers() -> list[tuple[str, dict]]:
    from datetime import datetime

    return list(
        zip(
            VISIT_TASKS,
            (plan(), RESOURCES, record(datetime.now().astimezone()), SUMMARY, APPROVE),
            strict=True,
        )
    )


def actor_for(bpmn_id: str, people: dict):
    return people["leader"] if bpmn_id in ("Task_review_summary", "Task_stage_review") else people["manager"]


def open_task_id(instance_id: int, bpmn_id: str):
    from workflows.models import HumanTask

    return HumanTask.objects.values_list("pk", flat=True).get(
        instance_id=instance_id, bpmn_id=bpmn_id, status=HumanTask.Status.OPEN
    )


def per_task_services_ms(people: dict, visits: int) -> float:
    from workflows.services import complete_task, start_instance

    elapsed, completed = 0.0, 0
    for _ in range(visits):
        instance = start_instance(process_id="visit_cycle", data=start_data(), user=people["coordinator"])
        for bpmn_id, data in visit_answers():
            task_id = open_task_id(instance.pk, bpmn_id)  # the page already knows the task
            started = time.perf_counter()
            complete_task(task_id=task_id, data=data, user=actor_for(bpmn_id, people))
            elapsed += time.perf_counter() - started
            completed += 1
        instance.refresh_from_db()
        assert instance.status == "completed", instance.error
    return elapsed * 1000 / completed


def per_start_services_ms(people: dict, starts: int) -> float:
    from workflows.services import start_instance

    elapsed = 0.0
    for _ in range(starts):
        data = start_data()
        started = time.perf_counter()
        instance = start_instance(process_id="visit_cycle", data=data, user=people["coordinator"])
        elapsed += time.perf_counter() - started
        assert instance.status == "running", instance.error
    return elapsed * 1000 / starts


def sandbox_costs(*, quick: bool) -> dict:
    """Microseconds per evaluation, median of rounds (the first call of each kind warms up)."""
    from workflows.sandbox import SandboxEnvironment, policy

    environment = SandboxEnvironment()
    data = {
        "visited_at": "2026-11-20T09:00:00+08:00",
        "rework_count": 1,
        "decision": "rework",
        "leads": [{"urgency": "high"}, {"urgency": "low"}],
    }
    # A loop is not straight-line code: it goes to a helper.
    script = (
        'high_urgency = 0\nfor lead in leads:\n    if lead["urgency"] == "high":\n        high_urgency += 1'
    )
    straight = 'summary_due_at = add_duration(visited_at, "PT48H")\nrework_count = rework_count + 1'
    cases = {
        "script_us": lambda: environment.execute(script, dict(data)),
        "expression_us": lambda: environment.evaluate("sum([rework_count, 1])", data),
        "in_process_us": lambda: policy.execute(script, dict(data)),
        "straight_us": lambda: environment.execute(straight, dict(data)),
        "simple_us": lambda: environment.evaluate("decision == 'rework'", data),
    }
    repeats, rounds = (50, 3) if quick else (500, 7)
    result = {}
    for name, case in cases.items():
        case()
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(repeats):
                case()
            samples.append((time.perf_counter() - started) * 1e6 / repeats)
        result[name] = statistics.median(samples)
    return result


def helper_calls_per_task(people: dict) -> float:
    """How many evaluations of one visit go to a helper, per task completed."""
    from workflows.sandbox.pool import HelperPool

    calls = 0
    original = HelperPool.run

    def counting(self, request, **kwargs):
        nonlocal calls
        calls += 1
        return original(self, request, **kwargs)

    HelperPool.run = counting
    try:
        per_task_services_ms(people, 1)
    finally:
        HelperPool.run = original
    return calls / len(VISIT_TASKS)


def database_floor_ms(people: dict) -> float:
    """The least a task completion costs the database: the locked read of a task with its instance,
    writing the state back, commit - the engine's own statements, with no engine work between."""
    from django.db import transaction

    from workflows import store
    from workflows.services import start_instance

    visit = start_instance(process_id="visit_cycle", data=start_data(), user=people["coordinator"])
    task_id = open_task_id(visit.pk, VISIT_TASKS[0])
    samples = []
    for _ in range(200):
        started = time.perf_counter()
        with transaction.atomic():
            _task, instance = store.read_task(task_id, lock=True)
            store.execute([], checked=store.update_instance(instance, state=instance.state))
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def start_floor_ms(people: dict) -> float:
    """The least any durable start costs the database, as `database_floor_ms` is for a completion:
    look the latest version up, insert the instance with its state, commit - the engine's own
    statements, with no engine work between. Its first task and audit event are the engine's work
    (on PostgreSQL they travel in the same statement as the instance), as a completion's are."""
    from django.db import transaction

    from workflows import store
    from workflows.models import ProcessInstance
    from workflows.services import start_instance

    visit = start_instance(process_id="visit_cycle", data=start_data(), user=people["coordinator"])
    samples = []
    for _ in range(200):
        started = time.perf_counter()
        with transaction.atomic():
            version = store.read_version("visit_cycle")
            instance = ProcessInstance(
                version_id=version.pk,
                process_id="visit_cycle",
                status="running",
                state=visit.state,
                serializer_version=visit.serializer_version,
                revision=2,
            )
            store.insert_instance(instance)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def stored_state_bytes() -> int:
    from workflows.models import ProcessInstance

    return max(
        len(s)
        for s in ProcessInstance.objects.filter(process_id="visit_cycle").values_list("state", flat=True)[:50]
    )


# --- scale: instances already stored ------------------------------------------------------------


def fill_instances(target: int, people: dict) -> None:
    """Store copies of a visit waiting at its first task, each with its open task, a waiting SLA-like
    timer a year ahead and a start event, until `target` instances exist."""
    from datetime import timedelta

    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from workflows.models import AuditEvent, HumanTask, ProcessInstance, Timer
    from workflows.services import start_instance

    template = start_instance(process_id="visit_cycle", data=start_data(), user=people["coordinator"])
    role = Group.objects.get(name="account_manager")
    missing = target - ProcessInstance.objects.count()
    later = timezone.now() + timedelta(days=365)
    while missing > 0:
        batch = min(missing, 5_000)
        rows = ProcessInstance.objects.bulk_create(
            [
                ProcessInstance(
                    version_id=template.version_id,
                    process_id=template.process_id,
                    business_key=f"FILL-{uuid.uuid4().hex[:10]}",
                    status=template.status,
                    state=template.state,
                    serializer_version=template.serializer_version,
                    revision=2,
                )
                for _ in range(batch)
            ],
            batch_size=1_000,
        )
        HumanTask.objects.bulk_create(
            [
                HumanTask(
                    id=uuid.uuid4(),
                    instance=row,
                    bpmn_id="Task_plan_visit",
                    name="制定走访计划",
                    lane="客户经理",
                    role=role,
                    form_file="visit_plan.schema.json",
                )
                for row in rows
            ],
            batch_size=1_000,
        )
        Timer.objects.bulk_create(
            [
                Timer(
                    instance=row,
                    task_id=uuid.uuid4(),
                    bpmn_id="Event_fill",
                    kind="TimeDateEventDefinition",
                    due_at=later,
                )
                for row in rows
            ],
            batch_size=1_000,
        )
        AuditEvent.objects.bulk_create(
            [AuditEvent(instance=row, kind="started", at=timezone.now(), details={}) for row in rows],
            batch_size=1_000,
        )
        missing -= batch
    # What autovacuum would have done by now on a real database: plans need statistics.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timer_scan_ms() -> float:
    from workflows.services import fire_due_timers

    samples = []
    for _ in range(5):
        started = time.perf_counter()
        fire_due_timers()  # nothing is due: the cost of looking
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def inbox_ms(user) -> float:
    from workflows.selectors import inbox

    samples = []
    for _ in range(5):
        started = time.perf_counter()
        inbox(user, limit=50)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


# --- programme age ------------------------------------------------------------------------------


def programme_age(people: dict, programmes: int, old_from: int, *, window: int) -> dict:
    """Per pair: one programme is run (untimed) to visit `old_from`, then its visits and a fresh
    programme's first visits are timed alternately, so both sides see the same machine."""
    from workflows.models import ProcessInstance

    young, old = [], []
    young_state = old_state = 0

    def run_visit(programme, samples: list | None) -> int:
        visit = ProcessInstance.objects.get(parent=programme, status__in=ProcessInstance.ACTIVE_STATUSES)
        steps = [(visit.pk, bpmn_id, data) for bpmn_id, data in visit_answers()]
        steps.append((programme.pk, "Task_stage_review", stage_review("continue")))
        for instance_id, bpmn_id, data in steps:
            task_id = open_task_id(instance_id, bpmn_id)
            started = time.perf_counter()
            complete_task(task_id=task_id, data=data, user=actor_for(bpmn_id, people))
            if samples is not None:
                samples.append((time.perf_counter() - started) * 1000)
        return len(ProcessInstance.objects.values_list("state", flat=True).get(pk=programme.pk))

    from workflows.services import complete_task

    for number in range(programmes):
        aged = start_programme(people, key=f"AGE-OLD-{number}")
        for _ in range(1, old_from):
            run_visit(aged, None)
        fresh = start_programme(people, key=f"AGE-NEW-{number}")
        for _ in range(window):
            young_state = max(young_state, run_visit(fresh, young))
            old_state = max(old_state, run_visit(aged, old))
    return {
        "window": window,
        "old_from": old_from,
        "young_ms": statistics.median(young),
        "old_ms": statistics.median(old),
        "young_state": young_state,
        "old_state": old_state,
    }


if __name__ == "__main__":
    sys.exit(main())
