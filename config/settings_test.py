"""Test-only overrides, kept in one module. The database still comes from DATABASE_URL, so the
same suite runs on SQLite (default) and PostgreSQL (CI)."""

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
