"""Reports benchmark: `python -m benchmarks.reports` (not a test; prints figures).

Issue 13's figures: the time and peak memory to render a visit report and a 20-page monthly report
(`measure_reports`), and the server time of leadership's dashboard with 10,000
customers, 200,000 visits and 100,000 leads, in a fresh database per backend and a separate process
(the machinery of `benchmarks.engine`).

The data, written with `bulk_create` as the services leave it, over the last 365 days up to
today (the dashboard's default period is the last twelve weeks): the organisation of
`benchmarks.funnel` (4 branches with 2 counties each, 20 teams, 160 account managers, 40 support
engineers) with 63 customers per manager (10,080), spread over the branches and counties, the
industries and the tiers (A 15%, B 35%, C 50%), each enrolled in its branch's programme a year
ago: a quarter still in publicity, the rest moved on to information gathering and win-back at
random moments of the year (a `StageChange` per move, the first at enrolment), 8% ended. Then:

- 200,000 visits, about 20 a customer, planned on random days from a year ago to two weeks ahead,
  numbered in date order: the future ones scheduled or planned, 4% cancelled, the past ones made
  (`visited_at` on the day planned or a day or two later) and closed with an approved summary —
  the last days' still visited or with their summary submitted — a few planned but not made; every
  summary due two days after the visit, 80% first submitted by then, 15% sent back for rework;
  20% of the visits joined by a support engineer;
- 100,000 leads (`benchmarks.funnel.load_leads`: each moved stage by stage with its stage moves,
  won past the solution stage with the value won and when, most left untouched for two months
  lost), urgency high / medium / low 25 / 45 / 30%, one in five a win-back;
- 2,000 competitor products with a win-back target each (open, pursued or declined);
- 20,000 support requests over the four specialities, most completed (80% by the day needed) and
  confirmed, the last week's still requested or dispatched, 3% cancelled;
- an appraisal per manager and engineer per month (2,600), final but for the last two months;
- 100,000 incentive records of the managers' and engineers' events, most approved, some pending or
  rejected; the approved ones paid with the payroll of the month after next, once it came.

Statistics refreshed (`ANALYZE`; `VACUUM ANALYZE` on PostgreSQL, as autovacuum would). The dashboard
read by leadership must show a non-zero figure in every section, or the benchmark stops.

For each view: the SQL statements of one request and p50 / p95 of `CALLS` requests through Django's
test client (the whole request: every middleware, template rendering), rotating over branches and
teams, and the p95 as a multiple of the baseline's p95 in the same run: Django's admin change list
of the visits (the largest table the dashboard reads). The views: the default (last twelve weeks),
one branch with its counties, one team, the last year, each read by leadership; a team leader's
default view (their team); the first pages of the leads, made visits and customers lists behind
the figures. Target: p95 ≤ 150 ms. Exits non-zero only if it cannot run. `--quick` shrinks every
size for a smoke run.
"""

from __future__ import annotations

import io
import multiprocessing
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

from benchmarks.engine import database_label, machine, run_benchmark

CALLS = 30
TARGET_P95_MS = 150.0
RENDERS = 5
REPORTS = {
    "visit": "visit report (a busy summary)",
    "monthly": "monthly programme report, the whole programme over the last year",
}
REPORT_TARGET_S = {"visit": 1.0, "monthly": 6.0}
REPORT_TARGET_MB = 300
DAYS = 365  # the data's history, up to yesterday
DASHBOARD_VARIANTS = {
    "admin": "Django admin: the visits' change list (baseline)",
    "default": "dashboard, last 12 weeks (leadership)",
    "region": "dashboard, one branch with its counties (leadership)",
    "team": "dashboard, one team (leadership)",
    "year": "dashboard, the last year (leadership)",
    "leader": "dashboard, last 12 weeks (a team leader: their team)",
    "leads": "list: the leads created in the period, first page (leadership)",
    "visits": "list: the visits made in the period, first page (leadership)",
    "support": "list: the support requests raised in the period, first page (leadership)",
    "customers": "list: the customers in the programme, first page (a team leader)",
}


def main() -> int:
    return run_benchmark("benchmarks.reports", __doc__, measure=measure, report=report)


# --- parent: the report ---------------------------------------------------------------------------


def report(results: dict, *, quick: bool) -> str:
    lines = [f"# Reports benchmark{' (quick)' if quick else ''}", "", machine(), ""]
    for backend, r in results.items():
        lines += [f"## {backend} ({r['database']})", ""]
        lines += report_reports(r["reports"])
        lines += report_dashboard(r["dashboard"])
    return "\n".join(lines)


def report_reports(figures: dict) -> list[str]:
    """The visit report's and the monthly report's time and peak memory (`measure_reports`)."""
    lines = [
        "### PDF reports",
        "",
        f"Each rendered {figures['renders']} times, in Chinese, after one untimed render, "
        "in a process of its own as a worker renders it.",
        "",
        "| report | pages | KB | median s | max s | target s | resident MB before | peak MB | target MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, title in REPORTS.items():
        r = figures[name]
        lines.append(
            f"| {title} | {r['pages']} | {r['bytes'] / 1024:.0f} | {r['median_s']:.2f} | {r['max_s']:.2f} "
            f"| {REPORT_TARGET_S[name]:.0f} | {r['rss_mb']:.0f} | {r['peak_mb']:.0f} | {REPORT_TARGET_MB} |"
        )
    return [*lines, ""]


def report_dashboard(d: dict) -> list[str]:
    admin = d["variants"]["admin"]["p95"]
    lines = [
        "### Leadership's dashboard",
        "",
        f"{d['records']}. {d['calls']} requests per view.",
        "",
        "| view | statements | p50 ms | p95 ms | p95 / admin list |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, title in DASHBOARD_VARIANTS.items():
        v = d["variants"].get(name)
        if v is None:
            lines.append(f"| {title} | not measured: no visit page to link its rows to | | | |")
            continue
        lines.append(
            f"| {title} | {v['queries']} | {v['p50']:.1f} | {v['p95']:.1f} | {v['p95'] / admin:.2f}× |"
        )
    worst = max(v["p95"] for name, v in d["variants"].items() if name != "admin")
    lines += ["", f"worst dashboard p95 = {worst:.1f} ms (target <= {TARGET_P95_MS:.0f})", ""]
    return lines


# --- child: one database --------------------------------------------------------------------------


def measure(*, quick: bool) -> dict:
    from django.core.management import call_command

    from benchmarks.funnel import analyze, build_organisation

    call_command("migrate", verbosity=0)
    shape = (
        dict(branches=1, teams_per_branch=2, managers=2, engineers=1, customers_per_manager=5)
        if quick
        else dict(branches=4, teams_per_branch=5, managers=8, engineers=2, customers_per_manager=63)
    )
    sizes = (
        dict(visits=400, leads=200, targets=10, requests=40, incentives=200)
        if quick
        else dict(visits=200_000, leads=100_000, targets=2_000, requests=20_000, incentives=100_000)
    )
    calls = 5 if quick else CALLS
    org = build_organisation(**shape)
    fill(org, random.Random(20261201), **sizes)
    analyze()
    dashboard = {
        "calls": calls,
        "records": census(),
        "variants": measure_dashboard(org, calls=calls, quick=quick),
    }
    return {"database": database_label(), "dashboard": dashboard, "reports": measure_reports(quick=quick)}


def measure_reports(*, quick: bool) -> dict:
    """The time and peak memory to render a visit report and the monthly programme report of the
    whole programme over the last year (a page per team: 20 teams), in Chinese, as the job renders
    them. The visit is made through the real diagrams and services with the domain benchmark's busy
    summary (products, key persons, a decision chain, two leads, a support need), after the dashboard
    was measured (its organisation is a branch of its own). Each report rendered `RENDERS` times after
    one untimed render (fonts and templates loaded), in a process of its own as a worker renders it
    (`render_in_worker`); the peak is that process's resident high-water mark (VmHWM, reset after the
    untimed render), against its resident size before."""
    from django.utils import timezone

    from benchmarks.domain import Series, deploy
    from benchmarks.fixtures import busy_summary, enrol_new_customer, make_organisation, make_people
    from onsite.models import Visit
    from workflows.events import handle_pending_events

    deploy()
    people = make_people()
    enrolment = enrol_new_customer(people, make_organisation(people), code="BENCH-REPORT")
    Series(people, enrolment.instance_id, busy_summary, customer=enrolment.customer).visit()
    while handle_pending_events():
        pass
    visit = Visit.objects.get(customer=enrolment.customer, status=Visit.Status.CLOSED)
    today = timezone.localdate()
    year = {"start": (today - timedelta(days=DAYS)).isoformat(), "end": today.isoformat()}
    renders = 2 if quick else RENDERS
    # Each in a process of its own, as a worker renders it: its memory is the report's and Django's,
    # not this process's, which holds the data it wrote.
    spawn = multiprocessing.get_context("spawn")
    figures = {}
    for name, params in (("visit", {"visit": visit.pk}), ("monthly", year)):
        with spawn.Pool(1) as worker:
            figures[name] = worker.apply(render_in_worker, (name, params, renders))
    figures["renders"] = renders
    return figures


def render_in_worker(name: str, params: dict, renders: int) -> dict:
    """In a fresh process on the benchmark's database (its `DATABASE_URL`): render report `name`
    once untimed (fonts, templates, the first queries' plans), then `renders` times, in Chinese."""
    import django

    django.setup()
    from django.utils import translation
    from pypdf import PdfReader

    from onsite.reports import monthly_report, visit_report

    render = {"visit": visit_report.render, "monthly": monthly_report.render}[name]
    with translation.override("zh-hans"):
        pdf = render(params)
        before = resident_kb("VmRSS")
        reset_peak_resident()
        times = []
        for _ in range(renders):
            started = time.perf_counter()
            pdf = render(params)
            times.append(time.perf_counter() - started)
    return {
        "pages": len(PdfReader(io.BytesIO(pdf)).pages),
        "bytes": len(pdf),
        "median_s": statistics.median(times),
        "max_s": max(times),
        "rss_mb": before / 1024,
        "peak_mb": resident_kb("VmHWM") / 1024,
    }


def resident_kb(field: str) -> int:
    """This process's resident memory (`VmRSS`) or its high-water mark (`VmHWM`), in KiB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak_resident() -> None:
    """Start the high-water mark again from the present resident size (Linux 4.0+)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
        clear.write("5")


# --- the data -------------------------------------------------------------------------------------


def fill(org, rng: random.Random, *, visits: int, leads: int, targets: int, requests: int, incentives: int):
    """Every record the dashboard counts (see the module's doc), over the last `DAYS` days."""
    from django.utils import timezone

    from benchmarks.funnel import load_leads

    today = timezone.localdate()
    first = today - timedelta(days=DAYS)
    spread_customers(org, rng)
    stages = enrol_and_move(org, rng, first=first)
    fill_visits(org, rng, visits=visits, today=today, stages=stages)
    load_leads(org, rng, leads=leads, first=first, days=DAYS, end=timezone.now(), details=lead_details)
    fill_win_back_targets(org, rng, targets=targets, first=first)
    fill_support_requests(org, rng, requests=requests, first=first)
    fill_appraisals(org, rng, first=first, today=today)
    fill_incentives(org, rng, records=incentives, first=first)


def lead_details(rng: random.Random) -> dict:
    return {
        "urgency": rng.choices(("high", "medium", "low"), weights=(25, 45, 30))[0],
        "product": rng.choice(("云视讯", "政务云", "互联网专线", "物联网卡", "IDC 托管")),
        "win_back": rng.random() < 0.2,
    }


def _customers(org) -> list:
    return [customer for customers in org.customers.values() for customer in customers]


def _teams(org) -> dict:
    """Each manager's and engineer's team, by the person's id."""
    return {person.pk: team for person, team in [*org.managers, *org.engineers]}


def _aware(day: date, hour: int, minute: int = 0) -> datetime:
    from django.utils import timezone

    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


def spread_customers(org, rng: random.Random) -> None:
    """The funnel's customers are all B-tier finance customers: spread them over the industries,
    the tiers and their values."""
    from onsite.models import Customer, Industry

    customers = _customers(org)
    for customer in customers:
        customer.industry = rng.choice(Industry.values)
        customer.tier = rng.choices(("A", "B", "C"), weights=(15, 35, 50))[0]
        customer.monthly_value = Decimal(rng.randrange(1, 500)) * 100
    Customer.objects.bulk_update(customers, ["industry", "tier", "monthly_value"], batch_size=1_000)


def enrol_and_move(org, rng: random.Random, *, first: date) -> dict[int, tuple[str, str, datetime | None]]:
    """Each enrolment dated a year ago, moved to its stage by stage changes spread over the year, 8%
    ended. Returns each enrolment's (stage, status, ended at) by its id."""
    from django.utils import timezone

    from onsite.models import Enrolment, Stage, StageChange

    now = timezone.now()
    order = list(Stage.values)
    enrolments, changes, stages = [], [], {}
    for enrolment in org.enrolments.values():
        enrolled = _aware(first + timedelta(days=rng.randrange(30)), rng.randrange(9, 17))
        target = rng.choices(order, weights=(25, 45, 30))[0]
        moves = [(enrolled, "", order[0])]
        at = enrolled
        for stage in order[1 : order.index(target) + 1]:
            at = at + (now - at) * rng.uniform(0.05, 0.7)
            moves.append((at, moves[-1][2], stage))
        ended = None
        if rng.random() < 0.08:
            ended = at + (now - at) * rng.uniform(0.1, 0.9)
            enrolment.status = (
                Enrolment.Status.COMPLETED if target == Stage.WIN_BACK else Enrolment.Status.ENDED_EARLY
            )
            enrolment.ended_at = ended
            enrolment.end_reason = "基准：结束"
        enrolment.stage = target
        enrolment.enrolled_at = enrolled
        enrolments.append(enrolment)
        stages[enrolment.pk] = (target, enrolment.status, ended)
        changes += [
            StageChange(
                enrolment_id=enrolment.pk,
                from_stage=before,
                to_stage=to,
                actor=org.coordinator if not before else None,
                at=moment,
                reason="初始评估" if not before else "阶段目标达成",
            )
            for moment, before, to in moves
        ]
    Enrolment.objects.bulk_update(
        enrolments, ["stage", "status", "enrolled_at", "ended_at", "end_reason"], batch_size=1_000
    )
    StageChange.objects.bulk_create(changes, batch_size=5_000)
    return stages


def fill_visits(org, rng: random.Random, *, visits: int, today: date, stages: dict) -> None:
    from django.utils import timezone

    from onsite.models import Enrolment, Visit, VisitSummary

    now = timezone.now()
    customers = _customers(org)
    teams = _teams(org)
    engineers: dict[int, list] = {}
    for engineer, team in org.engineers:
        engineers.setdefault(team.pk, []).append(engineer)
    Status = Visit.Status
    batch: list = []

    def flush() -> None:
        rows = Visit.objects.bulk_create([visit for visit, _ in batch], batch_size=2_000)
        summaries = []
        for visit, (submitted, reworks) in zip(rows, [s for _, s in batch], strict=True):
            if submitted is None:
                continue
            approved = visit.status == Status.CLOSED
            summaries.append(
                VisitSummary(
                    visit=visit,
                    status=VisitSummary.Status.APPROVED
                    if approved
                    else (VisitSummary.Status.REWORK if reworks else VisitSummary.Status.SUBMITTED),
                    informatization_status="办公网由我方提供，视频会议使用竞争对手产品",
                    next_goals="两周内提交云视讯替换方案",
                    submissions=1 + reworks,
                    first_submitted_at=submitted,
                    submitted_at=min(submitted + timedelta(hours=6 * reworks), now),
                    submitted_by_id=visit.account_manager_id,
                    on_time=submitted <= visit.summary_due_at,
                    rework_count=reworks,
                    reviewed_by=teams[visit.account_manager_id].leader if approved or reworks else None,
                    reviewed_at=visit.closed_at if approved else None,
                    approved_at=visit.closed_at if approved else None,
                )
            )
        VisitSummary.objects.bulk_create(summaries, batch_size=2_000)
        batch.clear()

    share, rest = divmod(visits, len(customers))
    for n, customer in enumerate(customers):
        enrolment = org.enrolments[customer.pk]
        stage, status, ended = stages[enrolment.pk]
        offsets = sorted(rng.randrange(-DAYS, 15) for _ in range(share + (n < rest)))
        for number, offset in enumerate(offsets, start=1):
            planned = today + timedelta(days=offset)
            fields: dict = dict(status=Status.CLOSED)
            submitted, reworks = None, 1 if rng.random() < 0.15 else 0
            if rng.random() < 0.04 or (
                status != Enrolment.Status.ACTIVE and ended is not None and planned > ended.date()
            ):
                fields = dict(status=Status.CANCELLED)
            elif offset >= 0:
                fields = dict(status=rng.choice((Status.SCHEDULED, Status.PLANNED)))
            elif offset > -30 and rng.random() < 0.03:
                fields = dict(status=Status.PLANNED)  # overdue: planned, not made
            else:
                visited = min(
                    _aware(planned + timedelta(days=rng.choice((0, 0, 0, 0, 1, 2))), rng.randrange(9, 17)),
                    now - timedelta(hours=1),
                )
                due = visited + timedelta(days=2)
                recent = now - visited
                if recent < timedelta(days=2):
                    done = rng.choice((Status.VISITED, Status.SUMMARISED))
                elif recent < timedelta(days=5):
                    done = rng.choice((Status.SUMMARISED, Status.CLOSED))
                else:
                    done = Status.CLOSED
                if done != Status.VISITED:
                    # Four in five first submitted by the day due, the rest up to three days late.
                    late = rng.random() < 0.2
                    submitted = min(
                        due + timedelta(hours=rng.uniform(1, 72))
                        if late
                        else visited + timedelta(hours=rng.uniform(2, 46)),
                        now - timedelta(minutes=5),
                    )
                fields = dict(
                    status=done,
                    visited_at=visited,
                    duration_hours=Decimal(rng.choice((2, 3, 4))),
                    summary_due_at=due,
                    closed_at=min(submitted + timedelta(hours=6 * reworks + 4), now)
                    if done == Status.CLOSED
                    else None,
                )
            manager = customer.account_manager_id
            supported = rng.random() < 0.2 and engineers.get(teams[manager].pk)
            batch.append(
                (
                    Visit(
                        enrolment=enrolment,
                        customer=customer,
                        number=number,
                        stage=stage,
                        scheduled_date=planned,
                        planned_date=planned,
                        account_manager_id=manager,
                        support_staff=rng.choice(engineers[teams[manager].pk]) if supported else None,
                        objectives="了解信息化现状，介绍云视讯与政务云",
                        cadence="weekly",
                        **fields,
                    ),
                    (submitted, reworks),
                )
            )
        if len(batch) >= 10_000:
            flush()
    flush()


def fill_win_back_targets(org, rng: random.Random, *, targets: int, first: date) -> None:
    from django.utils import timezone

    from benchmarks.funnel import moment
    from onsite.models import Ownership, ProductHolding, WinBackTarget

    today = timezone.localdate()
    chosen = rng.sample(_customers(org), min(targets, len(_customers(org))))
    products = ProductHolding.objects.bulk_create(
        [
            ProductHolding(
                customer=customer,
                product="视频会议",
                provider="竞争对手A",
                ownership=Ownership.COMPETITOR,
                expiry_date=today + timedelta(days=rng.randrange(10, 180)),
            )
            for customer in chosen
        ]
    )
    rows = []
    for product, customer in zip(products, chosen, strict=True):
        status = rng.choices(WinBackTarget.Status.values, weights=(40, 40, 20))[0]
        created = moment(rng, first=first, days=DAYS)
        rows.append(
            WinBackTarget(
                customer=customer,
                product=product,
                expiry_date=product.expiry_date,
                account_manager_id=customer.account_manager_id,
                status=status,
                decline_reason="合同刚续签" if status == WinBackTarget.Status.DECLINED else "",
                created_at=created,
                decided_at=None if status == WinBackTarget.Status.OPEN else created + timedelta(days=3),
            )
        )
    WinBackTarget.objects.bulk_create(rows, batch_size=2_000)


def fill_support_requests(org, rng: random.Random, *, requests: int, first: date) -> None:
    from django.utils import timezone

    from benchmarks.funnel import moment
    from onsite.models import Speciality, SupportRequest

    now = timezone.now()
    Status = SupportRequest.Status
    engineers: dict[int, list] = {}
    for engineer, team in org.engineers:
        engineers.setdefault(team.pk, []).append(engineer)
    rows = []
    for _ in range(requests):
        manager, team = rng.choice(org.managers)
        engineer = rng.choice(engineers[team.pk])
        requested = moment(rng, first=first, days=DAYS)
        due = requested.date() + timedelta(days=rng.randint(3, 10))
        fields: dict = {}
        if now - requested < timedelta(days=7) and rng.random() < 0.7:
            status = rng.choice((Status.REQUESTED, Status.DISPATCHED))
        elif rng.random() < 0.03:
            status = Status.CANCELLED
        else:
            late = rng.random() < 0.2
            completed = _aware(
                due + timedelta(days=rng.randint(1, 5)) if late else due - timedelta(days=rng.randint(0, 2)),
                rng.randrange(9, 18),
            )
            completed = min(max(completed, requested + timedelta(hours=4)), now)
            status = (
                Status.CONFIRMED
                if rng.random() < 0.8 and completed < now - timedelta(days=1)
                else Status.COMPLETED
            )
            fields = dict(
                completed_by=engineer,
                completed_at=completed,
                result="已完成现场勘察",
                hours_spent=Decimal(rng.randint(1, 16)),
                confirmed_at=completed + timedelta(hours=8) if status == Status.CONFIRMED else None,
            )
        rows.append(
            SupportRequest(
                customer=rng.choice(org.customers[manager.pk]),
                kind=rng.choice(SupportRequest.Kind.values),
                speciality=rng.choice(Speciality.values),
                description="基准支撑需求",
                due_date=due,
                status=status,
                requested_by=manager,
                requested_at=requested,
                assignee=None if status == Status.REQUESTED else engineer,
                dispatched_at=None if status == Status.REQUESTED else requested + timedelta(hours=2),
                **fields,
            )
        )
    SupportRequest.objects.bulk_create(rows, batch_size=2_000)


def _months(first: date, today: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= today:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def fill_appraisals(org, rng: random.Random, *, first: date, today: date) -> None:
    from django.utils import timezone

    from onsite.models import Appraisal
    from onsite.models.appraisals import AppraisedRole

    now = timezone.now()
    Status = Appraisal.Status
    months = _months(first, today)
    rows = []
    for people, role in (
        (org.managers, AppraisedRole.ACCOUNT_MANAGER),
        (org.engineers, AppraisedRole.SUPPORT_STAFF),
    ):
        for person, team in people:
            for month in months:
                if month == months[-1]:
                    status = Status.LEADER_REVIEW
                elif month == months[-2]:
                    status = rng.choice((Status.AWAITING_RESPONSE, Status.ACKNOWLEDGED))
                else:
                    status = rng.choices((Status.ACKNOWLEDGED, Status.DECIDED), weights=(90, 10))[0]
                score = Decimal(rng.uniform(55, 100)).quantize(Decimal("0.01"))
                created = min(_aware((month + timedelta(days=32)).replace(day=1), 2), now)
                final = status in Appraisal.FINAL
                rows.append(
                    Appraisal(
                        person=person,
                        team=team,
                        role=role,
                        period=month,
                        status=status,
                        reviewer=team.leader,
                        computed_score=score,
                        score=score,
                        final_score=score if final else None,
                        created_at=created,
                        finalised_at=min(created + timedelta(days=5), now) if final else None,
                    )
                )
    Appraisal.objects.bulk_create(rows, batch_size=2_000)


MANAGER_EVENTS = ("visit_as_planned", "summary_on_time", "summary_first_pass", "lead_created", "lead_won")
ENGINEER_EVENTS = ("support_completed", "visit_support_prepared", "visit_support_attended")


def fill_incentives(org, rng: random.Random, *, records: int, first: date) -> None:
    from django.utils import timezone

    from benchmarks.funnel import moment
    from onsite.models import IncentiveRecord, IncentiveRule
    from onsite.selectors.dashboard import day_start

    now = timezone.now()
    this_month = timezone.localdate().replace(day=1)
    rules = {rule.event: rule for rule in IncentiveRule.objects.order_by("event", "effective_from")}
    any_rule = next(iter(rules.values()))
    Status = IncentiveRecord.Status
    rows = []
    for n in range(records):
        engineer = rng.random() < 0.2
        person, team = rng.choice(org.engineers if engineer else org.managers)
        event = rng.choice(ENGINEER_EVENTS if engineer else MANAGER_EVENTS)
        rule = rules.get(event, any_rule)
        created = moment(rng, first=first, days=DAYS)
        period = timezone.localtime(created).date().replace(day=1)
        if period == this_month:
            status = Status.PENDING
        else:
            status = rng.choices((Status.APPROVED, Status.PENDING, Status.REJECTED), weights=(85, 10, 5))[0]
        points = rule.points or Decimal(rng.randint(1, 10))
        amount = rule.amount or Decimal(rng.randint(10, 200))
        # Approved records are paid out with the payroll of the month after next.
        payday = (period + timedelta(days=62)).replace(day=10)
        paid = status == Status.APPROVED and payday <= timezone.localdate()
        rows.append(
            IncentiveRecord(
                person=person,
                event=event,
                event_key=f"bench-{n}",
                rule=rule,
                points=points,
                amount=amount,
                period=period,
                status=status,
                description="基准激励记录",
                customer=None if engineer else rng.choice(org.customers[person.pk]),
                decided_by=None if status == Status.PENDING else team.leader,
                decided_at=None if status == Status.PENDING else min(created + timedelta(days=20), now),
                paid_at=day_start(payday) if paid else None,
                paid_by=org.coordinator if paid else None,
                payment_reference=f"{payday:%Y-%m} 工资批次" if paid else "",
                created_at=created,
            )
        )
    IncentiveRecord.objects.bulk_create(rows, batch_size=2_000)


def census() -> str:
    from onsite.models import (
        Appraisal,
        Customer,
        IncentiveRecord,
        Lead,
        StageChange,
        SupportRequest,
        Visit,
        VisitSummary,
        WinBackTarget,
    )

    counts = {
        "customers": Customer.objects.count(),
        "stage changes": StageChange.objects.count(),
        "visits": Visit.objects.count(),
        "made": Visit.objects.filter(visited_at__isnull=False).count(),
        "summaries": VisitSummary.objects.count(),
        "leads": Lead.objects.count(),
        "won": Lead.objects.filter(status=Lead.Status.WON).count(),
        "win-back targets": WinBackTarget.objects.count(),
        "support requests": SupportRequest.objects.count(),
        "appraisals": Appraisal.objects.count(),
        "incentive records": IncentiveRecord.objects.count(),
    }
    return ", ".join(f"{n:,} {name}" for name, n in counts.items())


# --- the dashboard --------------------------------------------------------------------------------


def empty_sections(org) -> list[str]:
    """The sections of leadership's default view without a figure (none, or the data does not
    measure what the dashboard does; a quick run's few rows may leave some empty)."""
    from onsite.selectors.dashboard import dashboard, filters_from

    board = dashboard(filters=filters_from({}, user=org.leadership), user=org.leadership)
    sections = {
        "customers per stage": all(board.stages.values()),
        "stage transitions": any(n for week in board.transitions for n in week.counts.values()),
        "visits planned": board.totals["planned"],
        "visits made": board.totals["done"],
        "summaries on time": board.summaries.on_time,
        "summaries late": board.summaries.late,
        "summaries reworked": board.summaries.reworked,
        "sales funnel": all(stage.reached for stage in board.funnel),
        "weighted pipeline": board.weighted_pipeline,
        "leads by urgency": all(row.count for row in board.urgency),
        "leads won": board.won.value,
        "win-backs won": board.won.win_back_value,
        "win-back targets": all(board.won.targets.values()),
        "appraisal scores": board.appraisal,
        "support requests": all(row.completed and row.on_time for row in board.support),
        "incentives": all(row.amount for row in board.incentives),
    }
    return [name for name, shown in sections.items() if not shown]


def measure_dashboard(org, *, calls: int, quick: bool) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    from benchmarks.pages import timed

    empty = empty_sections(org)
    assert quick or not empty, f"dashboard sections without figures: {empty}"
    admin = get_user_model().objects.create_superuser("bench-admin", "", "bench-admin-password")
    clients = {}

    def client_for(user) -> Client:
        if user.pk not in clients:
            clients[user.pk] = Client(HTTP_HOST="127.0.0.1")
            clients[user.pk].force_login(user)
        return clients[user.pk]

    leadership = client_for(org.leadership)
    leaders = [team.leader for team in org.teams]
    today = timezone.localdate()
    page, list_page = reverse("dashboard"), lambda name: reverse("dashboard_list", args=[name])
    year = f"start={today - timedelta(days=364)}&end={today}"
    requests = {
        "admin": lambda i: (client_for(admin), reverse("admin:onsite_visit_changelist")),
        "default": lambda i: (leadership, page),
        "region": lambda i: (leadership, f"{page}?region={org.branches[i % len(org.branches)].pk}"),
        "team": lambda i: (leadership, f"{page}?team={org.teams[i % len(org.teams)].pk}"),
        "year": lambda i: (leadership, f"{page}?{year}"),
        "leader": lambda i: (client_for(leaders[i % len(leaders)]), page),
        "leads": lambda i: (leadership, list_page("leads")),
        "visits": lambda i: (leadership, f"{list_page('visits')}?kind=done"),
        "support": lambda i: (leadership, list_page("support")),
        "customers": lambda i: (client_for(leaders[i % len(leaders)]), list_page("customers")),
    }
    try:
        reverse("visit", args=[1])
    except NoReverseMatch:  # the visits list links each row to the visit's page, not built here yet
        del requests["visits"]
    return timed(requests, calls=calls)


if __name__ == "__main__":
    sys.exit(main())
