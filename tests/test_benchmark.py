"""The benchmarks are not tests, but they must keep running: a tiny run of each on SQLite."""

import subprocess
import sys

from tests.conftest import ROOT


def quick_run(module: str) -> str:
    """The report of `python -m <module> --quick` on SQLite, which must exit cleanly."""
    result = subprocess.run(
        [sys.executable, "-m", module, "--quick", "--backend", "sqlite"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_the_engine_benchmark_runs_and_reports_its_ratios():
    report = quick_run("benchmarks.engine")

    assert "ratio b/a = " in report
    assert "ratio old/young = " in report


def test_the_domain_benchmark_runs_and_reports_its_ratios():
    report = quick_run("benchmarks.domain")

    assert "| ratio domain/engine |" in report
    assert "onsite.review_summary" in report


def test_the_funnel_benchmark_runs_and_reports_query_counts_and_percentiles():
    report = quick_run("benchmarks.funnel")

    assert "| team appraisal figures for a month (read by its leader) |" in report
    assert "query count constant across sizes: yes" in report


def test_the_pages_benchmark_runs_and_reports_each_page_against_the_admin_list():
    report = quick_run("benchmarks.pages")

    for page in (
        "task inbox, a manager's tasks",
        "task inbox, the managers' tasks to claim",
        "task page",
        "customer page",
    ):
        assert f"| {page}" in report
    assert "p95 / admin list" in report


def test_the_pages_benchmark_reports_the_heat_map_against_the_instances_admin_list():
    report = quick_run("benchmarks.pages")

    assert "| Django admin: the process instances' change list (baseline) |" in report
    for page in (
        "heat-map of the visit cycle, last 30 days",
        "heat-map of the visit cycle, one team's customers",
    ):
        assert f"| {page} |" in report
    assert "heat-map drill-down" in report
    assert "worst heat-map page p95 = " in report


def test_the_migration_benchmark_runs_and_reports_dry_run_and_move_rates_against_a_resave():
    report = quick_run("benchmarks.migration")

    assert "# Migration benchmark: moving waiting visits (quick)" in report
    for path in ("a: re-save each, unchanged (baseline)", "b: dry run", "c: migrate each"):
        assert f"| {path} |" in report
    assert "ratio b/a = " in report and "ratio c/a = " in report


def test_the_jobs_benchmark_runs_and_reports_timers_fired_by_a_real_cluster_and_their_delay():
    report = quick_run("benchmarks.jobs")

    for timer in ("minimal diagram: one intermediate timer", "visit cycle: summary SLA boundary timer"):
        assert f"| {timer}" in report
    assert "| a: one loop in-process |" in report
    assert "b: cluster, orm broker, from the schedule's job" in report
    assert "wait_an_hour, orm: b " in report and "ratio b/a = " in report
    assert "delay from due time to firing" in report


def test_the_reports_benchmark_runs_and_reports_the_dashboard_and_the_pdf_reports():
    report = quick_run("benchmarks.reports")

    assert "| Django admin: the visits' change list (baseline) |" in report
    for view in (
        "dashboard, last 12 weeks (leadership)",
        "dashboard, one branch with its counties (leadership)",
        "dashboard, one team (leadership)",
        "dashboard, the last year (leadership)",
        "dashboard, last 12 weeks (a team leader: their team)",
        "list: the leads created in the period, first page (leadership)",
    ):
        assert f"| {view} |" in report
    assert "worst dashboard p95 = " in report
    assert "### PDF reports" in report
    assert "| visit report (a busy summary) |" in report
    assert "| monthly programme report, the whole programme over the last year |" in report
