"""Pages benchmark: `python -m benchmarks.pages` (not a test; prints figures).

The server time of the work pages with 100,000 open tasks and 10,000 customers stored, against the
time of Django's own admin change list of the same table (`HumanTask`) in the same run: the inbox
(its default tab, a manager's), a task page (a visit plan, with its form and the customer's
briefing) and a customer page, each through Django's test client — the whole request, every
middleware, template rendering — in a fresh database per backend and a separate process (the
machinery of `benchmarks.engine`).

The data, written with `bulk_create` as the services leave it: the organisation of
`benchmarks.funnel` (4 branches, 20 teams, 160 account managers) with 63 customers per manager
(10,080), then 100,000 visit cycles each waiting at its planning task: nine in ten for the
customer's manager (about 560 a manager, a fifth of them overdue), one in ten unclaimed in the
managers' role (10,000 to claim for every manager), copies of one started through the engine.
Statistics refreshed (`ANALYZE`; `VACUUM ANALYZE` on PostgreSQL, as autovacuum would).

For each page: the SQL statements of one request and p50 / p95 of `CALLS` requests rotating over
the managers, and the p95 as a multiple of the admin change list's p95 (the target: p95 ≤ 50 ms and
no page slower than the admin list). Exits non-zero only if it cannot run. `--quick` shrinks every
size for a smoke run.

The console's heat-map of the visit cycle, read by the coordinator, against the admin's change list
of the same instances (`ProcessInstance`), with the same 100,000 visits given a history: 1,000,000
audit events (10 a visit: started, then four tasks each claimed and completed, one timer fired —
the summary's overdue reminder, or the escalation's follow-up) at times spread over the last 180 days,
each step's duration drawn from a log-normal law with its own median per element (planning a day,
preparing two, the visit five, the summary three, its review one), and 400,000 completed task rows
to match; 20,000 visits also have a timer armed, and one in 200 (500) is in error at its planning
task. The engine's waits (`workflows.models.Wait`: 500,000 ended, 120,000 open) are then rebuilt
from that history by the code of the migration that adds them (`workflows.wait_history`). (The
histories are figures for the heat-map's query, not replayable: each visit also waits at its
planning task.) The
heat-map of the default period (the last 30 days), the same filtered by one team (a facet: a
subquery on the customers), the drill-down to the 100,000 waiting at the planning task (its first
200), and the console's instance search (unfiltered, by status, by one team, by a business key
prefix) and its incidents list, each as p50 / p95 against the admin list's (target p95 ≤ 200 ms).
"""

from __future__ import annotations

import functools
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta

from benchmarks.engine import database_label, machine, run_benchmark

CALLS = 30
TARGET_P95_MS = 50.0
VARIANTS = {
    "admin": "Django admin: the human tasks' change list (baseline)",
    "inbox": "task inbox, a manager's tasks",
    "pool": "task inbox, the managers' tasks to claim",
    "task": "task page: a visit plan with the customer's briefing",
    "customer": "customer page",
}
HEAT_TARGET_P95_MS = 200.0
HEAT_VARIANTS = {
    "admin_instances": "Django admin: the process instances' change list (baseline)",
    "heatmap": "heat-map of the visit cycle, last 30 days",
    "heatmap_team": "heat-map of the visit cycle, one team's customers",
    "heatmap_element": "heat-map drill-down: the visits waiting at their planning task",
    "instances": "instance search, unfiltered (newest first)",
    "instances_waiting": "instance search, status waiting",
    "instances_team": "instance search, one team's customers",
    "instances_key": "instance search, a business key prefix (one manager's `GC-0123-*`)",
    "incidents": "incidents (instances in error)",
}
HISTORY_EVENTS_PER_VISIT = 10
_REBUILT_SECONDS: list[float] = []  # how long the migration's rebuild of the waits took
# (element, median hours) of the visit cycle's tasks each history went through, in order.
HISTORY_STEPS = [
    ("Task_plan_visit", 24),
    ("Task_prepare_resources", 48),
    ("Task_record_visit", 120),
    ("Task_write_summary", 72),
]


def main() -> int:
    return run_benchmark("benchmarks.pages", __doc__, measure=measure, report=report)


def report(results: dict, *, quick: bool) -> str:
    lines = [f"# Pages benchmark{' (quick)' if quick else ''}", "", machine(), ""]
    for backend, r in results.items():
        admin = r["variants"]["admin"]["p95"]
        lines += [
            f"## {backend} ({r['database']})",
            "",
            f"{r['records']}. {r['calls']} requests per page.",
            "",
            "| page | statements | p50 ms | p95 ms | p95 / admin list |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, title in VARIANTS.items():
            v = r["variants"][name]
            lines.append(
                f"| {title} | {v['queries']} | {v['p50']:.1f} | {v['p95']:.1f} | {v['p95'] / admin:.2f}× |"
            )
        pages = [v for name, v in r["variants"].items() if name != "admin"]
        worst = max(v["p95"] for v in pages)
        slower = [name for name, v in r["variants"].items() if name != "admin" and v["p95"] > admin]
        lines += [
            "",
            f"worst page p95 = {worst:.1f} ms (target <= {TARGET_P95_MS:.0f}); "
            f"slower than the admin list: {', '.join(slower) or 'none'}",
            "",
        ]
        heat = r["heat_map"]
        admin = heat["variants"]["admin_instances"]["p95"]
        lines += [
            f"### The console's heat-map ({heat['records']})",
            "",
            "| page | statements | p50 ms | p95 ms | p95 / admin list |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, title in HEAT_VARIANTS.items():
            v = heat["variants"][name]
            lines.append(
                f"| {title} | {v['queries']} | {v['p50']:.1f} | {v['p95']:.1f} | {v['p95'] / admin:.2f}× |"
            )
        lines.append("")
        for label, prefix in (("heat-map", "heatmap"), ("instance search", "instances")):
            worst = max(
                v["p95"]
                for name, v in heat["variants"].items()
                if name.startswith(prefix) or (prefix == "instances" and name == "incidents")
            )
            lines.append(f"worst {label} page p95 = {worst:.1f} ms (target <= {HEAT_TARGET_P95_MS:.0f})")
        lines.append("")
    return "\n".join(lines)


# --- child: one database --------------------------------------------------------------------------


def measure(*, quick: bool) -> dict:
    from django.core.management import call_command

    from benchmarks.funnel import analyze, build_organisation

    call_command("migrate", verbosity=0)
    shape = (
        dict(branches=1, teams_per_branch=1, managers=2, engineers=1, customers_per_manager=5)
        if quick
        else dict(branches=4, teams_per_branch=5, managers=8, engineers=2, customers_per_manager=63)
    )
    tasks = 1_000 if quick else 100_000
    org = build_organisation(**shape)
    deploy_diagrams()
    fill_tasks(org, tasks, random.Random(20261130))
    analyze()
    pages = measure_pages(org, calls=5 if quick else CALLS)
    fill_history(random.Random(20261201), timers=tasks // 5)
    analyze()
    return {
        "database": database_label(),
        "calls": 5 if quick else CALLS,
        "records": census(),
        "variants": pages,
        "heat_map": {
            "records": history_census(),
            "variants": measure_heat_map(org, calls=5 if quick else CALLS),
        },
    }


def deploy_diagrams() -> None:
    from pathlib import Path

    from workflows.actors import SYSTEM
    from workflows.documents import SourceFile
    from workflows.services.deployment import deploy_files

    root = Path(__file__).resolve().parent.parent / "bpmn"
    deploy_files(user=SYSTEM, files=[SourceFile(p.name, p.read_bytes()) for p in sorted(root.glob("*.bpmn"))])


def fill_tasks(org, target: int, rng: random.Random) -> None:
    """`target` visit cycles waiting at their planning task, each for a customer's manager."""
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from onsite.models import Customer
    from workflows.models import HumanTask, ProcessInstance

    customers = list(Customer.objects.values_list("code", "account_manager_id"))
    template = started_visit(org)
    role = Group.objects.get(name="account_manager")
    now = timezone.now()
    made = 0
    while made < target:
        batch = [customers[(made + n) % len(customers)] for n in range(min(5_000, target - made))]
        rows = ProcessInstance.objects.bulk_create(
            [
                ProcessInstance(
                    version_id=template.version_id,
                    process_id=template.process_id,
                    business_key=code,
                    status=template.status,
                    state=template.state,
                    serializer_version=template.serializer_version,
                    revision=2,
                )
                for code, _ in batch
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
                    # One in ten waits in the managers' pool (a customer between managers).
                    assignee_id=None if (made + n) % 10 == 0 else manager,
                    form_file="visit_plan.schema.json",
                    # A fifth overdue, the rest due within the next weeks.
                    due_at=now
                    + timedelta(hours=rng.randint(-240, 60) if rng.random() < 0.2 else rng.randint(1, 720)),
                )
                for n, (row, (_, manager)) in enumerate(zip(rows, batch, strict=True))
            ],
            batch_size=1_000,
        )
        made += len(batch)


def started_visit(org):
    """A visit cycle started as the services start one: a customer created and enrolled in a new
    programme, whose first visit waits at its planning task. Its rows are the copies' template."""
    from django.utils import timezone

    from benchmarks.fixtures import PUBLICITY_FACTORS
    from onsite.services.customers import create_customer
    from onsite.services.programmes import create_programme, enrol_customer
    from workflows.models import ProcessInstance

    manager, _team = org.managers[0]
    customer = create_customer(
        values={
            "code": "BENCH-TEMPLATE",
            "name": "基准测试模板客户",
            "industry": "finance",
            "tier": "B",
            "monthly_value": "10000",
            "potential": 3,
            "region": org.branches[0],
            "account_manager": manager,
        },
        user=org.coordinator,
    )
    programme = create_programme(
        name="页面基准",
        region=org.branches[0],
        start_date=timezone.localdate(),
        cadence="weekly",
        user=org.coordinator,
    )
    enrolment = enrol_customer(
        programme=programme, customer=customer, factors=PUBLICITY_FACTORS, user=org.coordinator
    )
    return ProcessInstance.objects.get(
        parent_id=enrolment.instance_id, status__in=ProcessInstance.ACTIVE_STATUSES
    )


def census() -> str:
    from onsite.models import Customer
    from workflows.models import HumanTask

    return (
        f"{Customer.objects.count():,} customers, "
        f"{HumanTask.objects.filter(status=HumanTask.Status.OPEN).count():,} open tasks"
    )


def measure_pages(org, *, calls: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from onsite.models import Customer
    from workflows.models import HumanTask

    managers = [m for m, _ in org.managers]
    admin = get_user_model().objects.create_superuser("bench-admin", "", "bench-admin-password")
    clients = {}

    def client_for(user) -> Client:
        if user.pk not in clients:
            clients[user.pk] = Client(HTTP_HOST="127.0.0.1")
            clients[user.pk].force_login(user)
        return clients[user.pk]

    task_ids = {
        m.pk: HumanTask.objects.filter(assignee=m, status=HumanTask.Status.OPEN)
        .values_list("pk", flat=True)
        .first()
        for m in managers
    }
    customer_ids = {
        m.pk: Customer.objects.filter(account_manager=m).values_list("pk", flat=True).first()
        for m in managers
    }
    requests = {
        "admin": lambda i: (client_for(admin), reverse("admin:workflows_humantask_changelist")),
        "inbox": lambda i: (client_for(managers[i % len(managers)]), reverse("inbox")),
        "pool": lambda i: (client_for(managers[i % len(managers)]), reverse("inbox") + "?tab=pool"),
        "task": lambda i: (
            client_for(managers[i % len(managers)]),
            reverse("task", args=[task_ids[managers[i % len(managers)].pk]]),
        ),
        "customer": lambda i: (
            client_for(managers[i % len(managers)]),
            reverse("customer", args=[customer_ids[managers[i % len(managers)].pk]]),
        ),
    }
    return timed(requests, calls=calls)


def timed(requests: dict, *, calls: int) -> dict:
    """For each named request (a function of the call number giving a client and a URL): its SQL
    statements and p50 / p95 of `calls` requests."""
    from django.db import connection

    results = {}
    for name, request in requests.items():
        client, url = request(0)
        assert client.get(url).status_code == 200, (name, url)  # warm, and a page that answers
        # Counted by a wrapper: a request resets Django's own query log when it starts.
        statements: list[str] = []
        with connection.execute_wrapper(functools.partial(_counted, statements)):
            client.get(url)
        samples = []
        for i in range(calls):
            client, url = request(i)
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (name, url, response.status_code)
        samples.sort()
        results[name] = {
            "queries": len(statements),
            "p50": statistics.median(samples),
            "p95": samples[max(0, -(-len(samples) * 95 // 100) - 1)],
        }
    return results


def fill_history(rng: random.Random, *, timers: int) -> None:
    """The visits' history (see the module's doc): audit events, completed tasks and timers armed,
    written as rows in batches."""
    import math

    from django.db import connection
    from django.utils import timezone

    from workflows.models import AuditEvent, HumanTask, ProcessInstance, Timer, Wait
    from workflows.wait_history import fill_from_history

    now = timezone.now()
    visits = list(
        ProcessInstance.objects.filter(process_id="visit_cycle").order_by("pk").values_list("pk", flat=True)
    )
    kinds = AuditEvent.Kind

    def hours(median: float) -> timedelta:
        return timedelta(hours=min(median * math.exp(rng.gauss(0, 0.8)), 24 * 60))

    events: list = []
    tasks: list = []

    def flush() -> None:
        AuditEvent.objects.bulk_create(events, batch_size=5_000)
        HumanTask.objects.bulk_create(tasks, batch_size=2_000)
        events.clear()
        tasks.clear()

    created_at = HumanTask._meta.get_field("created_at")
    created_at.auto_now_add = False  # the history's tasks were opened in the past
    try:
        for pk in visits:
            moment = now - timedelta(days=rng.uniform(0, 180))
            events.append(AuditEvent(instance_id=pk, kind=kinds.STARTED, at=moment))
            for bpmn_id, median in HISTORY_STEPS:
                opened = moment
                moment += hours(median)
                events.append(
                    AuditEvent(instance_id=pk, kind=kinds.CLAIMED, at=opened + (moment - opened) / 3)
                )
                events.append(
                    AuditEvent(instance_id=pk, kind=kinds.COMPLETED, at=moment, details={"bpmn_id": bpmn_id})
                )
                tasks.append(
                    HumanTask(
                        id=uuid.uuid4(),
                        instance_id=pk,
                        bpmn_id=bpmn_id,
                        name=bpmn_id,
                        status=HumanTask.Status.COMPLETED,
                        created_at=opened,
                        completed_at=moment,
                    )
                )
            if rng.random() < 0.7:
                moment += hours(168)
                events.append(
                    AuditEvent(
                        instance_id=pk,
                        kind=kinds.TIMER_FIRED,
                        at=moment,
                        details={"bpmn_id": "Event_summary_overdue", "due_at": moment.isoformat()},
                    )
                )
            else:
                moment += hours(48)
                events.append(
                    AuditEvent(
                        instance_id=pk,
                        kind=kinds.TIMER_FIRED,
                        at=moment,
                        details={"bpmn_id": "Event_escalation_follow_up", "due_at": moment.isoformat()},
                    )
                )
            if len(events) >= 50_000:
                flush()
        flush()
    finally:
        created_at.auto_now_add = True
    Timer.objects.bulk_create(
        [
            Timer(
                instance_id=pk,
                task_id=uuid.uuid4(),
                bpmn_id="Event_summary_overdue",
                kind="TimeDateEventDefinition",
                due_at=now + timedelta(hours=rng.randint(-48, 240)),
            )
            for pk in visits[:timers]
        ],
        batch_size=5_000,
    )
    # One visit in 200 failed at its planning task (the incidents page's and the heat-map's errors).
    failed = visits[::200]
    error = {
        "message": "bench failure",
        "bpmn_id": "Task_plan_visit",
        "task_name": "制定走访计划",
        "line": None,
    }
    ProcessInstance.objects.filter(pk__in=failed).update(status=ProcessInstance.Status.ERROR, error=error)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(instance_id=pk, kind=kinds.ERROR, at=now - timedelta(minutes=n), details=error)
            for n, pk in enumerate(failed)
        ],
        batch_size=5_000,
    )
    # The waits the engine would have recorded, rebuilt from that history by the migration's own
    # code (the copies above were written without theirs).
    Wait.objects.all().delete()
    started = time.perf_counter()
    fill_from_history(connection)
    _REBUILT_SECONDS.append(time.perf_counter() - started)


def history_census() -> str:
    from workflows.models import AuditEvent, HumanTask, ProcessInstance, Wait

    return (
        f"{ProcessInstance.objects.count():,} instances, {AuditEvent.objects.count():,} audit events, "
        f"{HumanTask.objects.count():,} task rows, {Wait.objects.count():,} waits"
        + (f" rebuilt from that history in {_REBUILT_SECONDS[-1]:.1f} s" if _REBUILT_SECONDS else "")
    )


def measure_heat_map(org, *, calls: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from onsite.models import Customer, Team

    admin = get_user_model().objects.get(username="bench-admin")
    admin_client, coordinator = Client(HTTP_HOST="127.0.0.1"), Client(HTTP_HOST="127.0.0.1")
    admin_client.force_login(admin)
    coordinator.force_login(org.coordinator)
    heat_map = reverse("console:heatmap", args=["visit_cycle", 1])
    teams = list(Team.objects.order_by("pk").values_list("pk", flat=True))
    instances = reverse("console:instances")
    # One account manager's customers (`GC-<manager>-<n>`): about 60 customers, 600 visits.
    prefixes = sorted(
        {code.rsplit("-", 1)[0] + "-*" for code in Customer.objects.values_list("code", flat=True)}
    )
    prefixes = [p for p in prefixes if not p.startswith("BENCH")] or prefixes
    requests = {
        "admin_instances": lambda i: (admin_client, reverse("admin:workflows_processinstance_changelist")),
        "heatmap": lambda i: (coordinator, heat_map),
        "heatmap_team": lambda i: (coordinator, f"{heat_map}?team={teams[i % len(teams)]}"),
        "heatmap_element": lambda i: (
            coordinator,
            reverse("console:heatmap_element", args=["visit_cycle", 1, "Task_plan_visit"]),
        ),
        "instances": lambda i: (coordinator, instances),
        "instances_waiting": lambda i: (coordinator, f"{instances}?status=waiting"),
        "instances_team": lambda i: (coordinator, f"{instances}?team={teams[i % len(teams)]}"),
        "instances_key": lambda i: (coordinator, f"{instances}?business_key={prefixes[i % len(prefixes)]}"),
        "incidents": lambda i: (coordinator, reverse("console:incidents")),
    }
    return timed(requests, calls=calls)


def _counted(statements: list[str], execute, sql, *rest):
    statements.append(sql)
    return execute(sql, *rest)


if __name__ == "__main__":
    sys.exit(main())
