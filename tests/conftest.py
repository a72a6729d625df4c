from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import translation

from workflows.documents import SourceFile

ROOT = Path(__file__).resolve().parent.parent
BPMN_DIR = ROOT / "bpmn"
TEST_BPMN_DIR = Path(__file__).resolve().parent / "workflows" / "bpmn"
CONFORMANCE_DIR = ROOT.parent / "shared" / "conformance" / "bpmn"


def source(path: Path | str, name: str | None = None) -> SourceFile:
    path = Path(path)
    return SourceFile(name or path.name, path.read_bytes())


def text_source(name: str, text: str) -> SourceFile:
    return SourceFile(name, text.encode("utf-8"))


@pytest.fixture(autouse=True)
def english():
    # The suite asserts the English msgids; Chinese is covered by dedicated tests (test_translations.py).
    with translation.override("en"):
        yield


@pytest.fixture(params=("orm", "redis"))
def clusters(request, transactional_db, tmp_path) -> Iterator:
    """Real `manage.py qcluster` processes (`tests.jobs.clusters.Clusters`: `start(count)`,
    `enqueue(func, *args)`, each cluster's `kill()`), on the ORM broker (SQLite and PostgreSQL) or
    on Redis (PostgreSQL only), stopped after the test — before the database is emptied, since
    `transactional_db` is set up first. Tests using it are transactional: the clusters are other
    processes and see only committed rows. One broker: `@pytest.mark.parametrize("clusters",
    ["orm"], indirect=True)`."""
    from django.db import connection

    from tests.jobs.clusters import Clusters

    if request.param == "redis" and connection.vendor == "sqlite":
        pytest.skip(
            "The Redis broker is for several clusters on several machines, which share a PostgreSQL "
            "database, not a SQLite file: run with DATABASE_URL=postgres://… to test it."
        )
    started = Clusters(request.param, tmp_path)
    yield started
    started.stop_all()


# The browser tests' Chromium and its watched pages (tests/browser.py), one Playwright per process
# for every directory's browser tests.
@pytest.fixture(scope="session")
def browser(django_db_setup) -> Iterator:
    from tests.browser import launch_browser

    yield from launch_browser()


@pytest.fixture
def desktop(browser, live_server) -> Iterator:
    from tests.browser import DESKTOP, watched_page

    yield from watched_page(browser, live_server, DESKTOP)


@pytest.fixture
def phone(browser, live_server) -> Iterator:
    from tests.browser import PHONE, watched_page

    yield from watched_page(browser, live_server, PHONE)
