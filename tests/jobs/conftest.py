"""The `clusters` fixture: real `manage.py qcluster` processes on the ORM broker (SQLite and
PostgreSQL) and on Redis (PostgreSQL only), stopped after the test. Tests using it are
transactional: the clusters are other processes and see only committed rows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection

from tests.jobs.clusters import Clusters

BROKERS = ("orm", "redis")


@pytest.fixture(params=BROKERS)
def clusters(request, transactional_db, tmp_path) -> Iterator[Clusters]:
    """Requesting `transactional_db` first: the clusters are stopped before the database is emptied."""
    if request.param == "redis" and connection.vendor == "sqlite":
        pytest.skip(
            "The Redis broker is for several clusters on several machines, which share a PostgreSQL "
            "database, not a SQLite file: run with DATABASE_URL=postgres://… to test it."
        )
    started = Clusters(request.param, tmp_path)
    yield started
    started.stop_all()
