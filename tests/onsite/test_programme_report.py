"""The monthly programme report's figures (`onsite.selectors.programme_report`): the dashboard's,
broken down per region (a branch with its counties) and per team, and the open warnings of the
report's customers only, against the records of `tests.onsite.dashboard_data`."""

from decimal import Decimal

import pytest

from onsite.selectors.dashboard import filters_from
from onsite.selectors.programme_report import programme_report
from tests.onsite.dashboard_data import PERIOD, TODAY
from tests.onsite.flow import at

pytestmark = pytest.mark.django_db
NOW = at(2026, 12, 1, 9)


def report(user, **params):
    return programme_report(
        filters=filters_from({**PERIOD, **params}, user=user, today=TODAY), user=user, now=NOW
    )


def test_each_region_counts_its_counties_and_each_team_its_managers_customers(sales):
    shown = report(sales["org"].director)

    regions = {row.name: row for row in shown.regions}
    hefei, wuhu = regions["合肥分公司"], regions["芜湖分公司"]
    # A and B (B in the county) are active; C ended; E is in Wuhu.
    assert (hefei.customers, hefei.planned, hefei.done) == (2, 3, 2)
    assert (hefei.summaries, hefei.on_time, hefei.leads, hefei.won, hefei.win_backs) == (2, 1, 4, 2, 1)
    assert hefei.won_value == Decimal(300000)
    assert (wuhu.customers, wuhu.planned, wuhu.done, wuhu.on_time_rate) == (1, 1, 1, Decimal(1))
    teams = {row.name: row for row in shown.teams}
    assert teams["政企客户一组"].planned == 3 and teams["政企客户二组"].planned == 1
    assert sum(row.planned for row in shown.teams) == shown.board.totals["planned"]


def test_the_warnings_are_those_of_the_reports_customers_only(sales):
    everything = report(sales["org"].director)
    wuhu = report(sales["org"].director, region=str(sales["wuhu"].pk))

    assert everything.warnings_total > 0
    hefei_customers = {"GC-A", "GC-B", "GC-C"}
    assert all(w.customer is None or w.customer.code not in hefei_customers for w in wuhu.warnings)
    assert wuhu.warnings_total < everything.warnings_total
    assert sum(everything.warnings_by_kind.values()) == everything.warnings_total
    assert sum(row.warnings for row in everything.teams) >= len(
        [w for w in everything.warnings if w.customer is not None]
    )


def test_a_team_leaders_report_is_their_teams(sales):
    shown = report(sales["org"].leader)

    assert [row.name for row in shown.teams] == ["政企客户一组"]
    assert [row.name for row in shown.regions] == ["合肥分公司"]


def test_each_team_has_its_own_warnings_for_its_page(sales):
    shown = report(sales["org"].director)
    team_one = sales["org"].team

    ours = shown.team_warnings[team_one.pk]
    assert ours and all(
        w.customer is None or w.customer.account_manager.staff_profile.team == team_one for w in ours
    )
    assert len(ours) <= 15
    assert sum(len(listed) for listed in shown.team_warnings.values()) <= shown.warnings_total
