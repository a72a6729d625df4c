"""The benchmarks are not tests, but they must keep running: a tiny run of each on SQLite."""

import subprocess
import sys

from tests.conftest import ROOT


def test_the_engine_benchmark_runs_and_reports_its_ratios():
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.engine", "--quick", "--backend", "sqlite"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ratio b/a = " in result.stdout
    assert "ratio old/young = " in result.stdout


def test_the_domain_benchmark_runs_and_reports_its_ratios():
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.domain", "--quick", "--backend", "sqlite"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| ratio domain/engine |" in result.stdout
    assert "onsite.review_summary" in result.stdout


def test_the_funnel_benchmark_runs_and_reports_query_counts_and_percentiles():
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.funnel", "--quick", "--backend", "sqlite"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| team appraisal figures for a month (read by its leader) |" in result.stdout
    assert "query count constant across sizes: yes" in result.stdout


def test_the_pages_benchmark_runs_and_reports_each_page_against_the_admin_list():
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.pages", "--quick", "--backend", "sqlite"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for page in ("task inbox", "task page", "customer page"):
        assert f"| {page}" in result.stdout
    assert "p95 / admin list" in result.stdout
