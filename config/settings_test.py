"""Test-only overrides, kept in one module. The database still comes from DATABASE_URL, so the
same suite runs on SQLite (default) and PostgreSQL (CI)."""

from config.env import env_str
from config.settings import *  # noqa: F403
from config.settings import BASE_DIR, DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file rather than memory: tests that start a second process (restart safety) or several
    # threads (concurrency) must see the same database.
    # TEST_SQLITE_NAME lets two suites run side by side on one checkout.
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_SQLITE_NAME", str(BASE_DIR / ".test-db.sqlite3"))}
