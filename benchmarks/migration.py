"""Running-instance migration benchmark: `python -m benchmarks.migration` (not a test; prints figures).

Instances moved to another version per second, for each database (SQLite; PostgreSQL too when
DATABASE_URL is set, or with `--backend postgresql`) in a fresh database and a separate process (the
machinery of `benchmarks.engine`).

1,000 visit cycles (50 with `--quick`) wait at "write the summary" with its SLA timer: copies of one
visit driven there through the engine's services, each with fresh task ids, its task and timer rows.
Version 2 of the visit cycle renames that task, so each move resets the waiting task onto its new
spec (keeping its id, data and the timer's due time) and rewrites the task row's name.

(a) Baseline: each instance re-saved without moving, as `migrate_instance` saves it - its own
    transaction, the family lock, load, save - to show what the move itself adds.
(b) The dry run (`plan_migration`): every instance loaded and diffed against version 2, nothing
    written.
(c) The move (`migrate_instances`): each instance on its own, as the page and the command do.
Instances per second for each, `ratio b/a` and `ratio c/a`.

Exits non-zero only if it cannot run.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from datetime import timedelta

from benchmarks.engine import database_label, machine, run_benchmark, start_data
from benchmarks.fixtures import DIAGRAMS, RESOURCES, make_people, plan, record
from benchmarks.jobs import _copied, _fresh, _renamed


def main() -> int:
    if "--backend" not in sys.argv and not os.environ.get("DATABASE_URL"):
        sys.argv += ["--backend", "sqlite"]  # PostgreSQL only when there is one to use
    return run_benchmark("benchmarks.migration", __doc__, measure=measure, report=report)


def report(results: dict, *, quick: bool) -> str:
    lines = [f"# Migration benchmark: moving waiting visits{' (quick)' if quick else ''}", "", machine(), ""]
    for backend, r in results.items():
        a, b, c = r["resave"], r["dry_run"], r["migrate"]
        count = r["count"]
        lines += [
            f"## {backend} ({r['database']})",
            "",
            f"{count:,} visit cycles waiting at the summary (open task, SLA timer); version 2 renames "
            "the waiting task.",
            "",
            "| path | seconds | instances/s | ratio to a |",
            "|---|---:|---:|---:|",
            f"| a: re-save each, unchanged (baseline) | {a:.2f} | {count / a:,.0f} | |",
            f"| b: dry run | {b:.2f} | {count / b:,.0f} | {a / b:.2f} |",
            f"| c: migrate each | {c:.2f} | {count / c:,.0f} | {a / c:.2f} |",
            "",
            f"ratio b/a = {a / b:.2f}, ratio c/a = {a / c:.2f} (rates: higher is faster)",
            "",
        ]
    return "\n".join(lines)


def measure(*, quick: bool) -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("deploy_bpmn", *[str(p) for p in sorted(DIAGRAMS.glob("*.bpmn"))], stdout=quiet)
    people = make_people()
    count = 50 if quick else 1_000
    template = waiting_visit(people)
    baseline_ids, ids = copies(template, count), copies(template, count)
    target = deploy_renamed(people)

    gc.collect()
    resave = timed(lambda: [resave_instance(pk) for pk in baseline_ids])
    gc.collect()
    dry_run = timed(lambda: check_plan(template, target, people, ids))
    gc.collect()
    migrate = timed(lambda: check_moved(ids, target, people))
    return {
        "database": database_label(),
        "count": count,
        "resave": resave,
        "dry_run": dry_run,
        "migrate": migrate,
    }


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def waiting_visit(people: dict):
    """One visit at "write the summary", as the services left it; its rows, then deleted."""
    from django.utils import timezone

    from workflows.models import HumanTask, ProcessInstance, Timer
    from workflows.services import complete_task, start_instance

    instance = start_instance(process_id="visit_cycle", data=start_data(), user=people["coordinator"])
    for bpmn_id, data in (
        ("Task_plan_visit", plan()),
        ("Task_prepare_resources", RESOURCES),
        ("Task_record_visit", record(timezone.now() - timedelta(hours=1))),
    ):
        task = HumanTask.objects.get(instance=instance, bpmn_id=bpmn_id, status="open")
        complete_task(task_id=task.pk, data=data, user=people["manager"])
    instance = ProcessInstance.objects.get(pk=instance.pk)
    template = {
        "instance": instance,
        "tasks": list(HumanTask.objects.filter(instance=instance, status="open")),
        "timers": list(Timer.objects.filter(instance=instance)),
    }
    assert len(template["timers"]) == 1 and len(template["tasks"]) == 1, template
    ProcessInstance.objects.filter(pk=instance.pk).delete()
    return template


def copies(template: dict, count: int) -> list[int]:
    import uuid

    from workflows.models import HumanTask, ProcessInstance, Timer

    instance, ids = template["instance"], []
    while len(ids) < count:
        batch = min(count - len(ids), 500)
        maps: list[dict[str, str]] = [{} for _ in range(batch)]
        rows = ProcessInstance.objects.bulk_create(
            [
                ProcessInstance(
                    version_id=instance.version_id,
                    process_id=instance.process_id,
                    business_key=f"MOVE-{uuid.uuid4().hex[:10]}",
                    status=instance.status,
                    state=_renamed(instance.state, mapping),
                    serializer_version=instance.serializer_version,
                    revision=instance.revision,
                    started_by_id=instance.started_by_id,
                )
                for mapping in maps
            ]
        )
        HumanTask.objects.bulk_create(
            [
                _copied(task, instance=row, id=uuid.UUID(_fresh(mapping, str(task.pk))))
                for row, mapping in zip(rows, maps, strict=True)
                for task in template["tasks"]
            ]
        )
        Timer.objects.bulk_create(
            [
                _copied(timer, instance=row, task_id=uuid.UUID(_fresh(mapping, str(timer.task_id))))
                for row, mapping in zip(rows, maps, strict=True)
                for timer in template["timers"]
            ]
        )
        ids += [row.pk for row in rows]
    return ids


def deploy_renamed(people: dict):
    from workflows.documents import SourceFile
    from workflows.services import deploy

    text = (DIAGRAMS / "visit_cycle.bpmn").read_text(encoding="utf-8")
    old = 'id="Task_write_summary" name="填写驻点服务总结"'
    assert old in text
    text = text.replace(old, 'id="Task_write_summary" name="填写驻点服务总结（新版）"', 1)
    return deploy(
        files=[SourceFile("visit_cycle.bpmn", text.encode("utf-8"))], user=people["coordinator"]
    ).version


def resave_instance(instance_id: int) -> None:
    from django.db import transaction

    from workflows import runtime
    from workflows.actors import SYSTEM

    with transaction.atomic():
        instance = runtime.lock_instance(instance_id)
        runtime.save(runtime.open_session(instance, actor=SYSTEM))


def check_plan(template: dict, target, people: dict, ids: list[int]) -> None:
    from workflows.models import ProcessVersion
    from workflows.services import plan_migration

    source = ProcessVersion.objects.get(pk=template["instance"].version_id)
    plan = plan_migration(
        from_version=source, to_version=target, user=people["coordinator"], instance_ids=ids
    )
    assert len(plan.checks) == len(ids) and len(plan.movable) == len(ids), plan.checks[:3]


def check_moved(ids: list[int], target, people: dict) -> None:
    from workflows.services import migrate_instances

    outcomes = migrate_instances(instance_ids=ids, to_version=target, user=people["coordinator"])
    assert all(outcome.migrated for outcome in outcomes), [o for o in outcomes if not o.migrated][:3]


if __name__ == "__main__":
    sys.exit(main())
