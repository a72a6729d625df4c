"""Domain benchmark: `python -m benchmarks.domain` (not a test; prints figures).

What the on-site domain adds to a task completion. For each database (SQLite, then PostgreSQL), in a
fresh database and a separate process (the machinery of `benchmarks.engine`), a programme's visits
are driven through the engine's `complete_task`: the five tasks of a visit and the team leader's
stage review ("continue", which schedules and starts the next visit). Alternating rounds of

- engine: the engine-only diagrams of `benchmarks/bpmn/` (deployed as `engine_onsite_programme`
  and `engine_visit_cycle`, so that they live next to the real ones): the baseline;
- domain: the real diagrams of `bpmn/`, for a customer created and enrolled through
  `onsite.services`: every `onsite.*` service task, the domain's assignee resolver, the approved
  summary applied to the customer's records and the processes it starts;

each for (1) a visit whose summary changes nothing (the same status, key persons and decision
chain as the visit before) and (2) a visit whose summary creates two leads (each starts its
follow-up process), a support request (which starts its process) and moves the expiry of
two products. Each engine series submits the same forms as its domain series.

Prints ms per task completion (mean over a round, median over rounds) and the ratio domain/engine;
where the time goes: executing SQL statements, the domain's operations and resolver (each wrapped to
time it), per task and per operation; the SQL statements per task completion and per operation,
counted in one more, untimed visit of each series. Ratios are taken within one run because these
machines are shared and noisy. Exits non-zero only if it cannot run. `--quick` shrinks every size
for a smoke run.
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime

from benchmarks.engine import VISIT_TASKS, actor_for, database_label, machine, open_task_id, run_benchmark
from benchmarks.fixtures import (
    APPROVE,
    DIAGRAMS,
    DOMAIN_DIAGRAMS,
    RESOURCES,
    busy_summary,
    enrol_new_customer,
    make_organisation,
    make_people,
    plain_summary,
    plan,
    record,
    stage_review,
    start_programme,
)

# The engine-only copies are deployed under other process ids, so that the real diagrams keep theirs.
ENGINE_PROCESS_IDS = {"onsite_programme": "engine_onsite_programme", "visit_cycle": "engine_visit_cycle"}
TASKS = (*VISIT_TASKS, "Task_stage_review")
CASES = {
    "plain": "1: plain summary",
    "busy": "2: summary with 2 leads (1 high urgency), a support request, 2 product updates",
}
RESOLVER = "assignee resolver"


def main() -> int:
    return run_benchmark("benchmarks.domain", __doc__, measure=measure, report=report)


# --- parent: the report ---------------------------------------------------------------------------


def report(results: dict, *, quick: bool) -> str:
    lines = [f"# Domain benchmark{' (quick)' if quick else ''}", "", machine(), ""]
    per_task = len(TASKS)
    for backend, r in results.items():
        series = r["series"]
        lines += [
            f"## {backend} ({r['database']})",
            "",
            f"{r['rounds']} alternating rounds of {r['visits']} visits per series; a visit is {per_task} "
            "task completions (the five visit tasks and the stage review).",
            "",
            "| visit | engine only, ms per task | domain, ms per task | ratio domain/engine "
            "| SQL statements per task, engine / domain (of them SAVEPOINT + RELEASE) |",
            "|---|---:|---:|---:|---:|",
        ]
        for case, title in CASES.items():
            engine, domain = series[f"engine_{case}"], series[f"domain_{case}"]
            lines.append(
                f"| {title} | {engine['ms']:.2f} | {domain['ms']:.2f} "
                f"| **{domain['ms'] / engine['ms']:.2f}** | "
                + " / ".join(
                    f"{s['queries'] / per_task:.1f} ({s['savepoints'] / per_task:.1f})"
                    for s in (engine, domain)
                )
                + " |"
            )
        spreads = []
        for case, title in CASES.items():
            ratios = [
                d / e
                for e, d in zip(
                    series[f"engine_{case}"]["rounds_ms"], series[f"domain_{case}"]["rounds_ms"], strict=True
                )
            ]
            spreads.append(f"visit {title.split(':')[0]} {min(ratios):.2f}–{max(ratios):.2f}")
        lines += [
            "",
            f"Ratio domain/engine within each round: {', '.join(spreads)}.",
            "",
            "| ms per task (medians over rounds) | total | executing SQL statements | the rest (Python) "
            "| of it in onsite operations and resolver (own time, SQL included) |",
            "|---|---:|---:|---:|---:|",
        ]
        for case, title in CASES.items():
            for side in ("engine", "domain"):
                s = series[f"{side}_{case}"]
                lines.append(
                    f"| {side}, visit {title.split(':')[0]} | {s['ms']:.2f} | {s['sql_ms']:.2f} | "
                    f"{s['ms'] - s['sql_ms']:.2f} | {s['own_ms']:.2f} |"
                )
        lines += [
            "",
            f"Visit state before the review: {series['engine_plain']['state']:,} bytes (engine), "
            f"{series['domain_plain']['state']:,} / {series['domain_busy']['state']:,} "
            "(domain, visit 1 / 2).",
            "",
            "| task: ms (median); SQL statements | engine 1 | domain 1 | engine 2 | domain 2 |",
            "|---|---:|---:|---:|---:|",
        ]
        for task in TASKS:
            cells = []
            for case in CASES:
                for side in ("engine", "domain"):
                    s = series[f"{side}_{case}"]
                    cells.append(f"{s['task_ms'][task]:.2f}; {s['task_queries'][task]}")
            lines.append(f"| {task} | {' | '.join(cells)} |")
        lines += [
            "",
            "| domain operation (own time and statements; nested operations excluded) "
            "| calls per visit 1 / 2 | ms per call (median) 1 / 2 | SQL statements per call 1 / 2 |",
            "|---|---:|---:|---:|",
        ]
        names = sorted({name for case in CASES for name in series[f"domain_{case}"]["operations"]})
        for name in names:
            found = [series[f"domain_{case}"]["operations"].get(name) for case in CASES]
            lines.append(
                f"| {name} | "
                + " | ".join(
                    " / ".join("-" if op is None else f"{op[field]:{spec}}" for op in found)
                    for field, spec in (("per_visit", ".1f"), ("ms", ".2f"), ("queries", ".1f"))
                )
                + " |"
            )
        lines.append("")
    return "\n".join(lines)


# --- child: one database --------------------------------------------------------------------------


def measure(*, quick: bool) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from workflows.models import ProcessInstance

    call_command("migrate", verbosity=0)
    deploy()
    people = make_people()
    organisation = make_organisation(people)
    sizes = dict(rounds=2, visits=1) if quick else dict(rounds=9, visits=5)

    attribution = Attribution()
    attribution.install()
    series = {}
    for case, summary in (("plain", lambda n: plain_summary()), ("busy", busy_summary)):
        series[f"engine_{case}"] = Series(
            people,
            start_programme(
                people, key=f"ENGINE-{case}", process_id=ENGINE_PROCESS_IDS["onsite_programme"]
            ).pk,
            summary,
        )
        enrolment = enrol_new_customer(people, organisation, code=f"BENCH-{case}")
        series[f"domain_{case}"] = Series(people, enrolment.instance_id, summary, customer=enrolment.customer)
    for runner in series.values():  # untimed: caches warm, the customers' records as after a visit
        runner.visit()

    rounds: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    completions = sizes["visits"] * len(TASKS)
    with connection.execute_wrapper(attribution.execute):
        for number in range(sizes["rounds"]):
            names = list(series)
            names = names[number % len(names) :] + names[: number % len(names)]  # each goes first in turn
            for name in names:
                attribution.series = name
                own, sql = attribution.own_ms(name), attribution.sql_ms[name]
                rounds[name]["ms"].append(series[name].per_task_ms(sizes["visits"]))
                rounds[name]["own_ms"].append((attribution.own_ms(name) - own) / completions)
                rounds[name]["sql_ms"].append((attribution.sql_ms[name] - sql) / completions)

    counted = {}
    attribution.counting = True
    for name, runner in series.items():
        attribution.series = name
        counted[name] = runner.count_queries()
    attribution.counting = False
    attribution.uninstall()

    failed = ProcessInstance.objects.filter(status=ProcessInstance.Status.ERROR).values_list(
        "process_id", "error"
    )
    assert not failed, f"instances in error: {list(failed)}"
    check_domain_work(series, visits=1 + sizes["rounds"] * sizes["visits"] + 1)

    result = {
        "database": database_label(),
        "rounds": sizes["rounds"],
        "visits": sizes["visits"],
        "series": {},
    }
    for name, runner in series.items():
        queries, savepoints, state = counted[name]
        result["series"][name] = {
            **{figure: statistics.median(samples) for figure, samples in rounds[name].items()},
            "rounds_ms": rounds[name]["ms"],
            "task_ms": {task: statistics.median(samples) for task, samples in runner.samples.items()},
            "task_queries": queries,
            "queries": sum(queries.values()),
            "savepoints": savepoints,
            "state": state,
            "operations": attribution.operations(name, visits=sizes["rounds"] * sizes["visits"]),
        }
    return result


def deploy() -> None:
    """The real diagrams as they are, and the engine-only copies under their own process ids."""
    from workflows.actors import SYSTEM
    from workflows.documents import SourceFile
    from workflows.services.deployment import deploy_files

    sources = [SourceFile(p.name, p.read_bytes()) for p in sorted(DOMAIN_DIAGRAMS.glob("*.bpmn"))]
    for path in sorted(DIAGRAMS.glob("*.bpmn")):
        text = path.read_text(encoding="utf-8")
        for old, new in ENGINE_PROCESS_IDS.items():
            text = text.replace(f'"{old}"', f'"{new}"')
        sources.append(SourceFile(f"engine_{path.name}", text.encode("utf-8")))
    deploy_files(user=SYSTEM, files=sources)


class Series:
    """One programme instance whose visits are driven one after the other, all with the same forms
    but for the summary (`summary(visit_no)`)."""

    def __init__(self, people: dict, programme_id: int, summary: Callable[[int], dict], customer=None):
        self.people = people
        self.programme_id = programme_id
        self.summary = summary
        self.customer = customer
        self.visits = 0
        self.samples: dict[str, list[float]] = defaultdict(list)

    def steps(self) -> list[tuple[int, str, dict]]:
        from workflows.models import ProcessInstance

        visit = ProcessInstance.objects.get(
            parent_id=self.programme_id, status__in=ProcessInstance.ACTIVE_STATUSES
        )
        self.visits += 1
        forms = (plan(), RESOURCES, record(datetime.now().astimezone()), self.summary(self.visits), APPROVE)
        steps = [(visit.pk, task, data) for task, data in zip(VISIT_TASKS, forms, strict=True)]
        return [*steps, (self.programme_id, "Task_stage_review", stage_review("continue"))]

    def complete(self, instance_id: int, task: str, data: dict) -> float:
        from workflows.services import complete_task

        task_id = open_task_id(instance_id, task)  # the page already knows the task
        started = time.perf_counter()
        complete_task(task_id=task_id, data=data, user=actor_for(task, self.people))
        return (time.perf_counter() - started) * 1000

    def visit(self) -> None:
        for instance_id, task, data in self.steps():
            self.complete(instance_id, task, data)

    def per_task_ms(self, visits: int) -> float:
        elapsed = []
        for _ in range(visits):
            for instance_id, task, data in self.steps():
                elapsed.append(self.complete(instance_id, task, data))
                self.samples[task].append(elapsed[-1])
        return sum(elapsed) / len(elapsed)

    def count_queries(self) -> tuple[dict[str, int], int, int]:
        """One more visit, untimed: the SQL queries of each task completion, how many of them are
        savepoints (SAVEPOINT, RELEASE), and the size of the visit's state before the review."""
        from django.db import connection, reset_queries
        from django.test.utils import CaptureQueriesContext

        from workflows.models import ProcessInstance

        queries, savepoints, state = {}, 0, 0
        reset_queries()
        for instance_id, task, data in self.steps():
            if task == "Task_review_summary":
                state = len(ProcessInstance.objects.values_list("state", flat=True).get(pk=instance_id))
            with CaptureQueriesContext(connection) as captured:
                self.complete(instance_id, task, data)
            queries[task] = len(captured.captured_queries)
            savepoints += sum(
                q["sql"].lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))
                for q in captured.captured_queries
            )
        return queries, savepoints, state


def check_domain_work(series: dict, *, visits: int) -> None:
    """The domain visits did what they claim: every visit closed, the busy summaries created their
    leads with the follow-ups, support requests with their processes and product changes. (The
    follow-ups and processes start in the worker once an approval committed: run here, untimed.)"""
    from onsite.models import CustomerChange, Lead, SupportRequest, Visit
    from workflows.events import handle_pending_events

    while handle_pending_events():
        pass

    for case in CASES:
        customer = series[f"domain_{case}"].customer
        closed = Visit.objects.filter(customer=customer, status=Visit.Status.CLOSED).count()
        assert closed == visits, (case, closed, visits)
    busy = series["domain_busy"].customer
    assert Lead.objects.filter(customer=busy).count() == 2 * visits
    assert Lead.objects.filter(customer=busy, follow_up__isnull=False).count() == 2 * visits
    assert SupportRequest.objects.filter(customer=busy, instance__isnull=False).count() == visits
    product_changes = CustomerChange.objects.filter(
        customer=busy, entity=CustomerChange.Entity.PRODUCT, source=CustomerChange.Source.SUMMARY
    ).count()
    assert product_changes == 2 * visits, product_changes
    plain = series["domain_plain"].customer
    assert not Lead.objects.filter(customer=plain).exists()
    assert not SupportRequest.objects.filter(customer=plain).exists()


# --- where the domain's time and queries go -------------------------------------------------------


class Attribution:
    """Wraps every `onsite.*` operation and the domain's assignee resolver (the real functions, one
    call deeper) to add up, per series, their own time while timed and their own SQL queries while
    counted; an operation called inside another (a process started by an approved summary) is
    taken out of its caller's figures."""

    def __init__(self) -> None:
        self.series = ""
        self.counting = False
        self.ms: dict[tuple[str, str], list[float]] = defaultdict(list)  # own time of each call
        self.sql_ms: dict[str, float] = defaultdict(float)
        self.queries: Counter = Counter()
        self.counted_calls: Counter = Counter()
        self._stack: list[list] = []
        self._installed: list[tuple[str, Callable, Callable]] = []

    def install(self) -> None:
        from onsite.assignment import resolve_assignee
        from workflows import assignment, operations

        for name in operations.operation_names():
            if name.startswith("onsite."):
                original = operations.get_operation(name)
                operations.unregister_operation(name)
                operations.register_operation(name, description=original.description)(
                    self.wrap(name, original.func)
                )
                self._installed.append((name, original.func, original.description))
        wrapped = self.wrap(RESOLVER, resolve_assignee)
        assignment.unregister_assignee_resolver(resolve_assignee)
        assignment.register_assignee_resolver(wrapped)
        self._installed.append((RESOLVER, resolve_assignee, wrapped))

    def uninstall(self) -> None:
        from workflows import assignment, operations

        for name, func, extra in self._installed:
            if name == RESOLVER:
                assignment.unregister_assignee_resolver(extra)
                assignment.register_assignee_resolver(func)
            else:
                operations.unregister_operation(name)
                operations.register_operation(name, description=extra)(func)
        self._installed.clear()

    def wrap(self, name: str, func: Callable) -> Callable:
        from django.db import connection

        @functools.wraps(func)
        def run(*args, **kwargs):
            frame = [0.0, 0]  # nested calls' time and queries
            self._stack.append(frame)
            queries = len(connection.queries_log)
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent = time.perf_counter() - started
                ran = len(connection.queries_log) - queries
                self._stack.pop()
                if self._stack:
                    self._stack[-1][0] += spent
                    self._stack[-1][1] += ran
                key = (self.series, name)
                if self.counting:
                    self.queries[key] += ran - frame[1]
                    self.counted_calls[key] += 1
                else:
                    self.ms[key].append((spent - frame[0]) * 1000)

        return run

    def execute(self, execute: Callable, sql: str, params, many: bool, context: dict):
        """A `connection.execute_wrapper`: the time the database driver spends executing statements
        (every series, timed rounds only; commits are not statements and are left out)."""
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.sql_ms[self.series] += (time.perf_counter() - started) * 1000

    def own_ms(self, series: str) -> float:
        return sum(sum(calls) for (owner, _), calls in self.ms.items() if owner == series)

    def operations(self, series: str, *, visits: int) -> dict:
        return {
            name: {
                "per_visit": len(calls) / visits,
                "ms": statistics.median(calls),
                "queries": self.queries[(series, name)] / max(1, self.counted_calls[(series, name)]),
            }
            for (owner, name), calls in self.ms.items()
            if owner == series
        }


if __name__ == "__main__":
    sys.exit(main())
