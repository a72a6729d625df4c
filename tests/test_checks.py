"""The project's system checks, and `manage.py check --deploy` with production settings from the
environment."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks

from config.checks import check_job_timings, check_secret_key

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = secrets.token_urlsafe(50)

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": STRONG_KEY,
    "ALLOWED_HOSTS": "onsite.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://onsite.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
}


def ids(errors) -> list[str]:
    return [e.id for e in errors]


@pytest.mark.parametrize(
    "key",
    [
        "onsite-development-key-not-for-production",
        "change-me-in-production",
        "",
        "short-but-random-Zq8",
        "a" * 80,
    ],
    ids=["development key", "env example placeholder", "empty", "short", "few characters"],
)
def test_a_public_or_weak_secret_key_is_refused_when_debug_is_off(settings, key):
    settings.DEBUG, settings.SECRET_KEY = False, key
    assert ids(check_secret_key(None)) == ["config.E001"]


def test_the_check_is_registered_and_runs_with_every_command(settings):
    settings.DEBUG, settings.SECRET_KEY = False, "onsite-development-key-not-for-production"
    assert "config.E001" in ids(checks.run_checks(tags=[checks.Tags.security]))


def test_a_strong_key_or_debug_passes(settings):
    settings.DEBUG, settings.SECRET_KEY = False, STRONG_KEY
    assert check_secret_key(None) == []
    settings.DEBUG, settings.SECRET_KEY = True, "onsite-development-key-not-for-production"
    assert check_secret_key(None) == []


@pytest.mark.parametrize(
    ("email_timeout", "timeout", "retry"),
    [(60, 120, 180), (30, 120, 120), (30, 120, 124)],
    ids=["a send longer than half a job", "handed out again at its timeout", "before a claim expires"],
)
def test_job_timings_that_would_cut_a_send_off_or_send_beside_it_are_refused(
    settings, email_timeout, timeout, retry
):
    settings.EMAIL_TIMEOUT = email_timeout
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": timeout, "retry": retry}
    assert ids(check_job_timings(None)) == ["config.E002"]


def test_the_default_job_timings_and_the_test_clusters_pass(settings):
    from tests.jobs.clusters import EMAIL_TIMEOUT, RETRY, TIMEOUT

    assert check_job_timings(None) == []
    assert "config.E002" not in ids(checks.run_checks())
    settings.EMAIL_TIMEOUT = EMAIL_TIMEOUT
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": TIMEOUT, "retry": RETRY}
    assert check_job_timings(None) == []


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    # A clean environment: only what a production host would set (and no .env of a developer's).
    clean = {"PATH": os.environ["PATH"], **env}
    if "DATABASE_URL" in os.environ:
        clean["DATABASE_URL"] = os.environ["DATABASE_URL"]
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_passes_with_production_settings_from_the_environment():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert "WARNING" not in result.stderr + result.stdout


def test_without_debug_cookies_are_secure_and_hsts_is_on_leaving_only_the_https_redirect_to_decide():
    result = manage("check", "--deploy", env={"DEBUG": "false", "SECRET_KEY": STRONG_KEY})
    output = result.stdout + result.stderr
    # HSTS (W004), secure session (W012) and CSRF (W016) cookies are the defaults without DEBUG.
    for warning in ("security.W004", "security.W012", "security.W016"):
        assert warning not in output, output
    # Redirecting to HTTPS is the proxy's or an explicit setting's (README, "Production").
    assert "security.W008" in output, output


def test_the_development_key_stops_a_command_when_debug_is_off():
    result = manage("check", env={"DEBUG": "false"})
    assert result.returncode == 1
    assert "config.E001" in result.stderr
