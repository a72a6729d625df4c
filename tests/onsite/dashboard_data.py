"""Data for the dashboard's and the programme report's tests: two teams in two regions and what
their customers did in November 2026, written as the services leave it; the period every test reads.
"""

from datetime import date
from decimal import Decimal

import pytest

from onsite.models import Enrolment, Industry, StageChange, Team, Tier, Visit, WinBackTarget
from onsite.selectors.dashboard import dashboard, filters_from
from onsite.selectors.dashboard_lists import drill_rows
from tests.factories import UserFactory
from tests.onsite.factories import (
    CustomerFactory,
    LeadFactory,
    ProductHoldingFactory,
    RegionFactory,
    VisitSummaryFactory,
    manager_in,
)
from tests.onsite.flow import at, customer_of, new_programme

D = Decimal
# Four weeks of November 2026, Monday 2 to Sunday 29.
PERIOD = {"start": "2026-11-02", "end": "2026-11-29"}
TODAY = date(2026, 12, 1)


def read(user, **params):
    return dashboard(
        filters=filters_from({**PERIOD, **params}, user=user, today=TODAY), user=user, now=at(2026, 12, 1, 9)
    )


def rows(name, user, narrow=None, **params):
    filters = filters_from({**PERIOD, **params}, user=user, today=TODAY)
    return list(drill_rows(name, filters=filters, user=user, narrow=narrow or {}))


def enrolment(programme, customer, stage, status=Enrolment.Status.ACTIVE):
    return Enrolment.objects.create(programme=programme, customer=customer, stage=stage, status=status)


def visit(enrolled, number, planned, *, status=Visit.Status.CLOSED, visited=None):
    return Visit.objects.create(
        enrolment=enrolled,
        customer=enrolled.customer,
        number=number,
        stage=enrolled.stage,
        status=status,
        planned_date=planned,
        visited_at=visited,
        account_manager=enrolled.customer.account_manager,
    )


@pytest.fixture
def world(org):
    """Two teams in two regions and what their customers did in November.

    Team one (branch 合肥, county 肥东): qian's customers A (finance, tier A), B (education, tier B,
    in the county); wu's customer C (finance, tier C). Team two (branch 芜湖): feng's customer E.

    | customer | enrolment | stage changes in the period | visits planned (week) / made (week) |
    | A | win_back, active | info→win_back 11-10 | 11-03 planned+made 11-04; 11-17 planned, cancelled |
    | B | information_gathering | publicity→info 11-03; publicity 10-20 (before) | 11-10 planned, made 11-18 |
    | C | ended (completed) | — | 11-24 planned, not made yet |
    | E | publicity | publicity 11-25 (entered) | 11-26 planned+made 11-26 |
    """
    wuhu = RegionFactory(code="WH", name="芜湖分公司")
    team_two = Team.objects.create(
        name="政企客户二组", region=wuhu, leader=UserFactory(username="he", roles=["team_leader"])
    )
    feng = manager_in(team_two, "feng")
    programme = new_programme(org)
    a = customer_of(org, code="GC-A", industry=Industry.FINANCE, tier=Tier.A)
    b = CustomerFactory(
        code="GC-B", region=org.county, account_manager=org.manager, industry=Industry.EDUCATION, tier=Tier.B
    )
    c = customer_of(org, org.other_manager, code="GC-C", industry=Industry.FINANCE, tier=Tier.C)
    e = CustomerFactory(
        code="GC-E", region=wuhu, account_manager=feng, industry=Industry.FINANCE, tier=Tier.A
    )
    ea, eb = enrolment(programme, a, "win_back"), enrolment(programme, b, "information_gathering")
    ec = enrolment(programme, c, "publicity", status=Enrolment.Status.COMPLETED)
    ee = enrolment(programme, e, "publicity")
    for enrolled, from_stage, to_stage, moment in (
        (ea, "information_gathering", "win_back", at(2026, 11, 10, 9)),
        (eb, "publicity", "information_gathering", at(2026, 11, 3, 9)),
        (eb, "", "publicity", at(2026, 10, 20, 9)),
        (ee, "", "publicity", at(2026, 11, 25, 9)),
    ):
        StageChange.objects.create(enrolment=enrolled, from_stage=from_stage, to_stage=to_stage, at=moment)
    va = visit(ea, 1, date(2026, 11, 3), visited=at(2026, 11, 4, 10))
    visit(ea, 2, date(2026, 11, 17), status=Visit.Status.CANCELLED)
    vb = visit(eb, 1, date(2026, 11, 10), visited=at(2026, 11, 18, 10))
    visit(ec, 1, date(2026, 11, 24), status=Visit.Status.PLANNED)
    ve = visit(ee, 1, date(2026, 11, 26), visited=at(2026, 11, 26, 15))
    # Summaries: A's on time, B's late and sent back twice, E's on time; one from October is outside.
    VisitSummaryFactory(visit=va, on_time=True, submitted_at=at(2026, 11, 5, 9))
    VisitSummaryFactory(visit=vb, on_time=False, rework_count=2, submitted_at=at(2026, 11, 21, 9))
    VisitSummaryFactory(visit=ve, on_time=True, submitted_at=at(2026, 11, 27, 9))
    VisitSummaryFactory(
        visit=visit(eb, 9, date(2026, 10, 5), visited=at(2026, 10, 6, 9)),
        on_time=False,
        submitted_at=at(2026, 10, 8, 9),
    )
    return {"org": org, "team_two": team_two, "feng": feng, "wuhu": wuhu, "A": a, "B": b, "C": c, "E": e}


@pytest.fixture
def sales(world):
    """Leads of team one created in November, and one won in November though made in September.

    | lead | customer | urgency | stage / status | value |
    | L1 | A | high | preparation, new | expected 100,000 |
    | L2 | A | high | solution, following | expected 300,000 |
    | L3 | B | medium | won, won 11-20 | won 250,000 (win-back) |
    | L4 | B | low | sales_visit, lost | expected 400,000 |
    | L5 | C | medium | won, won 11-12, created 09-01 | won 50,000 |
    """
    a, b, c = world["A"], world["B"], world["C"]
    made = at(2026, 11, 6, 9)
    holding = ProductHoldingFactory(customer=b)
    LeadFactory(customer=a, urgency="high", created_at=made, estimated_value=D(100000))
    LeadFactory(
        customer=a,
        urgency="high",
        created_at=made,
        status="following",
        stage="solution",
        estimated_value=D(300000),
    )
    LeadFactory(
        customer=b,
        urgency="medium",
        created_at=made,
        status="won",
        won_value=D(250000),
        closed_at=at(2026, 11, 20, 9),
        win_back=True,
        displaces=holding,
    )
    LeadFactory(
        customer=b,
        urgency="low",
        created_at=made,
        status="lost",
        stage="sales_visit",
        estimated_value=D(400000),
    )
    LeadFactory(
        customer=c,
        urgency="medium",
        created_at=at(2026, 9, 1, 9),
        status="won",
        won_value=D(50000),
        closed_at=at(2026, 11, 12, 9),
    )
    WinBackTarget.objects.create(
        customer=b,
        product=holding,
        expiry_date=date(2027, 3, 1),
        account_manager=world["org"].manager,
        status=WinBackTarget.Status.PURSUED,
        created_at=at(2026, 11, 2, 9),
    )
    return world
