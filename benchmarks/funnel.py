"""Funnel and appraisal benchmark: `python -m benchmarks.funnel` (not a test; prints figures).

The sales funnel (`onsite.selectors.funnel.sales_funnel`) and a team's appraisal figures
(`onsite.selectors.appraisals.team_appraisal_figures`) read with 1,000 and then 100,000 leads
stored, in a fresh database per backend and a separate process (the machinery of
`benchmarks.engine`).

The organisation (built once, the same at both sizes): 4 branches with 2 counties each; 20 teams
(5 per branch), each a leader, 8 account managers and 2 support engineers; 25 customers per
manager (4,000), spread over the branch and its counties, each enrolled in its branch's programme;
one coordinator and one leadership reader.

The records, written with `bulk_create` (the services would take hours) but as the services leave
them and within the models' constraints, over the year 2026 (`NOW` is 2026-12-31 12:00):

- leads: each of a random manager's customer, created on a random day; it moves forward stage by
  stage (1-20 days a stage, never past `NOW`) to a random stage, every move a `LeadStageMove` row
  whose `left_at` is the next move's time; 15% of the leads that stop at an open stage are lost
  there, and 90% of those that stopped more than 60 days before `NOW`; those past the solution
  stage are won (with a value won and `closed_at`), some go on to
  after-sale. About 2.9 moves a lead.
- for every 2 leads, a closed visit with its approved summary (80% on time, 10% reworked), 20% of
  them joined by a support engineer; for every 10 leads, a completed support request (80% by its
  due date). With 100,000 leads: 50,000 visits and summaries, 10,000 support requests.

Statistics are refreshed after each load (`ANALYZE`; `VACUUM ANALYZE` on PostgreSQL, as autovacuum
would). Then, for each variant, the SQL statements of one call (`CaptureQueriesContext`; the same at
both sizes, or the selector grows with the data) and the latency of `CALLS` calls, rotating over the
subjects (p50 and p95), also as a multiple of the baseline's p50 at the same size (the machines are
shared: the ratio moves less with their load than the milliseconds):

- baseline: the year's leads counted per stage, one `GROUP BY` and nothing else (what the least
  figure over every lead costs on this machine and database);
- funnel of a manager, read by that manager, for the year;
- funnel of a team, read by its leader, for the year;
- funnel of a branch (with its counties), read by leadership, for the year;
- funnel of the whole company, read by leadership, for the year and with no period;
- a team's appraisal figures for a month (December), read by its leader.

Exits non-zero only if it cannot run. `--quick` shrinks every size for a smoke run.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

from benchmarks.engine import database_label, machine, run_benchmark

CALLS = 30
YEAR_START, YEAR_END = date(2026, 1, 1), date(2027, 1, 1)
MONTH = date(2026, 12, 1)
VARIANTS = {
    "baseline": "baseline: the year's leads counted per stage (one grouped count, no selector)",
    "manager": "funnel of a manager (read by the manager), the year",
    "team": "funnel of a team (read by its leader), the year",
    "region": "funnel of a branch and its counties (leadership), the year",
    "company": "funnel of the whole company (leadership), the year",
    "company_all": "funnel of the whole company (leadership), no period",
    "appraisal": "team appraisal figures for a month (read by its leader)",
}
TARGET_P95_MS = 100.0


def main() -> int:
    return run_benchmark("benchmarks.funnel", __doc__, measure=measure, report=report)


# --- parent: the report ---------------------------------------------------------------------------


def report(results: dict, *, quick: bool) -> str:
    lines = [f"# Funnel and appraisal benchmark{' (quick)' if quick else ''}", "", machine(), ""]
    for backend, r in results.items():
        sizes = list(r["sizes"])
        lines += [
            f"## {backend} ({r['database']})",
            "",
            f"Organisation: {r['organisation']}. {r['calls']} calls per variant.",
            "",
        ]
        for size in sizes:
            lines.append(f"- {int(size):,} leads: {r['sizes'][size]['records']}")
        header = " | ".join(f"{int(s):,} leads: statements; p50 / p95 ms; p95 / baseline" for s in sizes)
        lines += ["", f"| selector call | {header} |", "|---|" + "---:|" * len(sizes)]
        for variant, title in VARIANTS.items():
            cells = []
            for size in sizes:
                v = r["sizes"][size]["variants"][variant]
                baseline = r["sizes"][size]["variants"]["baseline"]["p50"]
                cells.append(f"{v['queries']}; {v['p50']:.1f} / {v['p95']:.1f}; {v['p95'] / baseline:.1f}×")
            lines.append(f"| {title} | {' | '.join(cells)} |")
        large = r["sizes"][sizes[-1]]["variants"]
        constant = all(
            len({r["sizes"][size]["variants"][variant]["queries"] for size in sizes}) == 1
            for variant in VARIANTS
        )
        worst = max(v["p95"] for name, v in large.items() if name != "baseline")
        lines += [
            "",
            f"query count constant across sizes: {'yes' if constant else 'NO'}; "
            f"worst p95 at {int(sizes[-1]):,} leads = {worst:.1f} ms (target <= {TARGET_P95_MS:.0f})",
            "",
        ]
    return "\n".join(lines)


# --- child: one database --------------------------------------------------------------------------


def measure(*, quick: bool) -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    shape = (
        dict(branches=1, teams_per_branch=2, managers=3, engineers=1, customers_per_manager=5)
        if quick
        else dict(branches=4, teams_per_branch=5, managers=8, engineers=2, customers_per_manager=25)
    )
    sizes = (100, 1_000) if quick else (1_000, 100_000)
    calls = 5 if quick else CALLS
    org = build_organisation(**shape)
    rng = random.Random(20261130)
    result = {
        "database": database_label(),
        "calls": calls,
        "organisation": (
            f"{len(org.branches)} branches with {len(org.regions) - len(org.branches)} counties, "
            f"{len(org.teams)} teams of {shape['managers']} account managers and {shape['engineers']} "
            f"support engineers, {sum(map(len, org.customers.values())):,} customers"
        ),
        "sizes": {},
    }
    stored = 0
    for size in sizes:
        load(org, rng, leads=size - stored)
        stored = size
        analyze()
        result["sizes"][str(size)] = {"records": census(), "variants": measure_variants(org, calls=calls)}
    return result


class Organisation:
    def __init__(self) -> None:
        self.branches: list = []
        self.regions: list = []
        self.teams: list = []
        self.managers: list = []  # (user, team)
        self.engineers: list = []  # (user, team)
        self.customers: dict[int, list] = {}  # manager id -> customers
        self.enrolments: dict[int, object] = {}  # customer id -> enrolment
        self.visit_numbers: dict[int, int] = {}
        self.leadership = None
        self.coordinator = None


def build_organisation(
    *, branches: int, teams_per_branch: int, managers: int, engineers: int, customers_per_manager: int
) -> Organisation:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from onsite.customer_codes import customer_code_key
    from onsite.models import Customer, Enrolment, Programme, Region, StaffProfile, Team
    from onsite.models.customers import Industry, Tier
    from onsite.models.programmes import Stage
    from onsite.roles import ACCOUNT_MANAGER, COORDINATOR, LEADERSHIP, SUPPORT_STAFF, TEAM_LEADER
    from workflows.services import latest_version

    deploy_programme()
    version = latest_version("onsite_programme")
    User = get_user_model()
    groups = {g.name: g for g in Group.objects.all()}
    org = Organisation()
    users: list[tuple[object, str]] = []

    def person(username: str, role: str):
        user = User(username=username, first_name=username, is_active=True)
        users.append((user, role))
        return user

    org.coordinator = person("coordinator", COORDINATOR)
    org.leadership = person("director", LEADERSHIP)
    plan = []  # (branch index, team index, leader, managers, engineers)
    for b in range(branches):
        for t in range(teams_per_branch):
            plan.append(
                (
                    b,
                    person(f"leader{b}{t}", TEAM_LEADER),
                    [person(f"am{b}{t}{m}", ACCOUNT_MANAGER) for m in range(managers)],
                    [person(f"se{b}{t}{e}", SUPPORT_STAFF) for e in range(engineers)],
                )
            )
    User.objects.bulk_create([u for u, _ in users])
    created = {u.username: u for u in User.objects.all()}
    users = [(created[u.username], role) for u, role in users]
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=u.pk, group_id=groups[role].pk) for u, role in users]
    )
    org.coordinator, org.leadership = created["coordinator"], created["director"]

    for b in range(branches):
        branch = Region.objects.create(code=f"B{b}", name=f"分公司{b}")
        counties = [
            Region.objects.create(code=f"B{b}-C{c}", name=f"县{b}{c}", kind=Region.Kind.COUNTY, parent=branch)
            for c in range(2)
        ]
        org.branches.append(branch)
        org.regions += [branch, *counties]
    programmes = {
        branch.pk: Programme.objects.create(
            name=f"2026年驻点服务{branch.code}",
            region=branch,
            start_date=YEAR_START,
            process_version=version,
            coordinator=org.coordinator,
        )
        for branch in org.branches
    }
    profiles, customers = [], []
    for n, (b, leader, team_managers, team_engineers) in enumerate(plan):
        branch = org.branches[b]
        leader = created[leader.username]
        team = Team.objects.create(name=f"政企客户{n}组", region=branch, leader=leader)
        org.teams.append(team)
        profiles.append(StaffProfile(user=leader, team=team, region=branch))
        for m in team_managers:
            manager = created[m.username]
            org.managers.append((manager, team))
            profiles.append(StaffProfile(user=manager, team=team, region=branch))
            for c in range(customers_per_manager):
                code = f"GC-{manager.pk:04d}-{c:03d}"
                customers.append(
                    Customer(
                        code=code,
                        code_key=customer_code_key(code),
                        name=f"集团客户{manager.pk}-{c}",
                        industry=Industry.FINANCE,
                        tier=Tier.B,
                        monthly_value=Decimal(10000),
                        potential=3,
                        region=org.regions[3 * b + c % 3],
                        account_manager=manager,
                    )
                )
        for e in team_engineers:
            engineer = created[e.username]
            org.engineers.append((engineer, team))
            profiles.append(StaffProfile(user=engineer, team=team, region=branch, speciality="network"))
    StaffProfile.objects.bulk_create(profiles)
    Customer.objects.bulk_create(customers)
    region_branch = {r.pk: (r.parent_id or r.pk) for r in org.regions}
    enrolments = Enrolment.objects.bulk_create(
        [
            Enrolment(
                programme=programmes[region_branch[c.region_id]],
                customer=c,
                stage=Stage.PUBLICITY,
                economic_development=3,
                informatization_level=3,
                competition=3,
                our_capability=3,
                enrolled_by=org.coordinator,
            )
            for c in Customer.objects.all()
        ]
    )
    for enrolment in enrolments:
        org.enrolments[enrolment.customer_id] = enrolment
    for customer in Customer.objects.all():
        org.customers.setdefault(customer.account_manager_id, []).append(customer)
    return org


def deploy_programme() -> None:
    from benchmarks.fixtures import DOMAIN_DIAGRAMS
    from workflows.actors import SYSTEM
    from workflows.documents import SourceFile
    from workflows.services.deployment import deploy_files

    deploy_files(
        user=SYSTEM,
        files=[SourceFile(p.name, p.read_bytes()) for p in sorted(DOMAIN_DIAGRAMS.glob("*.bpmn"))],
    )


def moment(rng: random.Random, *, first: date = YEAR_START, days: int = 364) -> datetime:
    """A random working-hours moment on one of the `days` days from `first` (by default the year,
    before `NOW`)."""
    from django.utils import timezone

    day = first + timedelta(days=rng.randrange(days))
    return timezone.make_aware(
        datetime(day.year, day.month, day.day, rng.randrange(8, 18), rng.randrange(60))
    )


def now() -> datetime:
    from django.utils import timezone

    return timezone.make_aware(datetime(2026, 12, 31, 12))


def load(org: Organisation, rng: random.Random, *, leads: int) -> None:
    from onsite.models import SupportRequest, Visit, VisitSummary
    from onsite.models.programmes import Stage

    batch = 2_000
    load_leads(org, rng, leads=leads)

    # Visits with their summaries (one for every two leads) and support requests (one for ten).
    engineers = {team.pk: [] for team in org.teams}
    for engineer, team in org.engineers:
        engineers[team.pk].append(engineer)
    for first in range(0, leads // 2, batch):
        visits = []
        for _ in range(min(batch, leads // 2 - first)):
            manager, team = rng.choice(org.managers)
            customer = rng.choice(org.customers[manager.pk])
            enrolment = org.enrolments[customer.pk]
            number = org.visit_numbers[enrolment.pk] = org.visit_numbers.get(enrolment.pk, 0) + 1
            visited = moment(rng)
            planned = visited.date() - timedelta(days=rng.choice((0, 0, 0, 1, 3, 8)))
            supported = rng.random() < 0.2 and engineers[team.pk]
            visits.append(
                Visit(
                    enrolment=enrolment,
                    customer=customer,
                    number=number,
                    stage=Stage.PUBLICITY,
                    status=Visit.Status.CLOSED,
                    scheduled_date=planned,
                    planned_date=planned,
                    account_manager=manager,
                    support_staff=rng.choice(engineers[team.pk]) if supported else None,
                    visited_at=visited,
                    summary_due_at=visited + timedelta(days=1),
                    closed_at=visited + timedelta(days=2),
                )
            )
        visits = Visit.objects.bulk_create(visits)
        summaries = []
        for visit in visits:
            submitted = visit.visited_at + timedelta(
                hours=rng.choice((4, 8, 20, 30)) if rng.random() < 0.2 else 4
            )
            summaries.append(
                VisitSummary(
                    visit=visit,
                    status=VisitSummary.Status.APPROVED,
                    informatization_status="办公网由我方提供",
                    next_goals="推进云视讯",
                    submissions=1,
                    first_submitted_at=submitted,
                    submitted_at=submitted,
                    submitted_by=visit.account_manager,
                    on_time=submitted <= visit.summary_due_at,
                    rework_count=1 if rng.random() < 0.1 else 0,
                    approved_at=submitted + timedelta(hours=2),
                )
            )
        VisitSummary.objects.bulk_create(summaries)

    requests = []
    for _ in range(leads // 10):
        manager, team = rng.choice(org.managers)
        engineer = rng.choice(engineers[team.pk]) if engineers[team.pk] else None
        if engineer is None:
            continue
        requested = moment(rng)
        due = requested.date() + timedelta(days=7)
        completed = requested + timedelta(days=rng.choice((2, 4, 6, 9)))
        requests.append(
            SupportRequest(
                customer=rng.choice(org.customers[manager.pk]),
                kind=SupportRequest.Kind.SURVEY,
                speciality="network",
                description="基准支撑需求",
                due_date=due,
                status=SupportRequest.Status.COMPLETED,
                requested_by=manager,
                requested_at=requested,
                assignee=engineer,
                dispatched_at=requested + timedelta(hours=2),
                completed_by=engineer,
                completed_at=completed,
            )
        )
    SupportRequest.objects.bulk_create(requests, batch_size=batch)


def load_leads(
    org: Organisation,
    rng: random.Random,
    *,
    leads: int,
    first: date = YEAR_START,
    days: int = 364,
    end: datetime | None = None,
    details: Callable[[random.Random], dict] | None = None,
) -> None:
    """`leads` leads of random managers' customers, created on the `days` days from `first` (by
    default the year), each moved forward stage by stage with its `LeadStageMove` rows, never past
    `end` (by default `NOW`), then won or lost as the module's doc says. `details` gives each lead
    more fields (urgency, product, win-back), drawn from the same generator; by default none."""
    from onsite.models import Lead, LeadStageMove
    from onsite.models.funnel import FunnelStage, stay_days

    stages = list(FunnelStage.values)
    solution = stages.index(FunnelStage.SOLUTION)
    end = end or now()
    batch = 2_000
    for start in range(0, leads, batch):
        rows, paths = [], []
        for _ in range(min(batch, leads - start)):
            manager, _team = rng.choice(org.managers)
            customer = rng.choice(org.customers[manager.pk])
            created = moment(rng, first=first, days=days)
            # How far it goes: most leads stay early in the funnel.
            target = min(int(rng.expovariate(0.45)), len(stages) - 1)
            path = [(stages[0], created)]
            at = created
            for rank in range(1, target + 1):
                at = at + timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8))
                if at >= end:
                    break
                path.append((stages[rank], at))
            stage, entered = path[-1]
            value = Decimal(rng.randrange(10, 2_000)) * 1000
            values = dict(status=Lead.Status.FOLLOWING if len(path) > 1 else Lead.Status.NEW)
            if stages.index(stage) > solution:
                values = dict(
                    status=Lead.Status.WON,
                    won_value=value * Decimal("0.9"),
                    closed_at=path[solution + 1][1],
                )
            elif rng.random() < 0.15 or (end - entered > timedelta(days=60) and rng.random() < 0.9):
                # Lost at the stage; most leads left untouched for two months are given up.
                lost_at = min(entered + timedelta(days=rng.randint(1, 20)), end)
                values = dict(status=Lead.Status.LOST, lost_reason="预算取消", closed_at=lost_at)
            extra = {"urgency": "medium", **(details(rng) if details else {})}
            rows.append(
                Lead(
                    customer=customer,
                    description="基准线索",
                    estimated_value=value,
                    owner=manager,
                    stage=stage,
                    stage_entered_at=entered,
                    created_by=manager,
                    created_at=created,
                    last_activity_at=values.get("closed_at", entered),
                    **values,
                    **extra,
                )
            )
            paths.append(path)
        created_leads = Lead.objects.bulk_create(rows)
        moves = []
        for lead, path in zip(created_leads, paths, strict=True):
            previous = ""
            for (stage, at), following in zip(path, [*path[1:], (None, None)], strict=True):
                moves.append(
                    LeadStageMove(
                        lead_id=lead.pk,
                        customer_id=lead.customer_id,
                        lead_created_at=lead.created_at,
                        from_stage=previous,
                        to_stage=stage,
                        at=at,
                        left_at=following[1],
                        stay_days=following[1] and stay_days(at, following[1]),
                        actor_id=lead.owner_id,
                        expected_value=lead.estimated_value,
                    )
                )
                previous = stage
        LeadStageMove.objects.bulk_create(moves, batch_size=batch)


def analyze() -> None:
    """Statistics, and on PostgreSQL the visibility map its index-only scans need, as autovacuum
    would leave them after a load this size."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def census() -> str:
    from onsite.models import Lead, LeadStageMove, SupportRequest, Visit, VisitSummary

    counts = {
        "leads": Lead.objects.count(),
        "stage moves": LeadStageMove.objects.count(),
        "won": Lead.objects.filter(status=Lead.Status.WON).count(),
        "lost": Lead.objects.filter(status=Lead.Status.LOST).count(),
        "visits": Visit.objects.count(),
        "summaries": VisitSummary.objects.count(),
        "support requests": SupportRequest.objects.count(),
    }
    return ", ".join(f"{n:,} {name}" for name, n in counts.items())


def measure_variants(org: Organisation, *, calls: int) -> dict:
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from onsite.models import Lead
    from onsite.selectors.appraisals import team_appraisal_figures
    from onsite.selectors.funnel import sales_funnel

    year = dict(start=YEAR_START, end=YEAR_END, now=now())
    start, end = (
        timezone.make_aware(datetime.combine(day, datetime.min.time())) for day in (YEAR_START, YEAR_END)
    )
    managers = [m for m, _ in org.managers]
    variants = {
        "baseline": lambda i: list(
            Lead.objects.filter(created_at__gte=start, created_at__lt=end)
            .values("stage")
            .annotate(n=Count("pk"))
            .order_by()
        ),
        "manager": lambda i: sales_funnel(
            user=managers[i % len(managers)], manager=managers[i % len(managers)], **year
        ),
        "team": lambda i: sales_funnel(
            user=org.teams[i % len(org.teams)].leader, team=org.teams[i % len(org.teams)], **year
        ),
        "region": lambda i: sales_funnel(
            user=org.leadership, region=org.branches[i % len(org.branches)], **year
        ),
        "company": lambda i: sales_funnel(user=org.leadership, **year),
        "company_all": lambda i: sales_funnel(user=org.leadership, now=now()),
        "appraisal": lambda i: team_appraisal_figures(
            team=org.teams[i % len(org.teams)], period=MONTH, user=org.teams[i % len(org.teams)].leader
        ),
    }
    for team in org.teams:  # the leader object once, as a page would have it
        team.leader  # noqa: B018
    results = {}
    for name, call in variants.items():
        call(0)  # warm: imports, compiled statements
        forget_roles(org)
        with CaptureQueriesContext(connection) as captured:
            call(1)
        samples = []
        for i in range(calls):
            forget_roles(org)  # each call a new request: the reader's roles are read again
            started = time.perf_counter()
            call(i)
            samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        results[name] = {
            "queries": len(captured.captured_queries),
            "p50": statistics.median(samples),
            "p95": percentile(samples, 95),
        }
    return results


def forget_roles(org: Organisation) -> None:
    for user in [org.leadership, *(m for m, _ in org.managers), *(t.leader for t in org.teams)]:
        user.__dict__.pop("_onsite_roles", None)


def percentile(sorted_samples: list[float], p: float) -> float:
    """The nearest-rank percentile."""
    rank = max(1, -(-len(sorted_samples) * p // 100))
    return sorted_samples[int(rank) - 1]


if __name__ == "__main__":
    sys.exit(main())
