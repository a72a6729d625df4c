"""The project's own system checks: configuration that must never reach production."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

# Keys everyone can read: the development default and the placeholder in `.env.example`.
PUBLIC_KEYS = frozenset({"onsite-development-key-not-for-production", "change-me-in-production"})
MIN_KEY_LENGTH = 50
MIN_KEY_CHARACTERS = 5


SECRET_KEY_HINT = (
    f"Set SECRET_KEY to a random value of at least {MIN_KEY_LENGTH} characters, e.g. "
    "python -c 'import secrets; print(secrets.token_urlsafe(50))'; or DEBUG=true on a "
    "development machine."
)


def secret_key_problem() -> str | None:
    """What is wrong with the SECRET_KEY of a live site (DEBUG off), or None: it signs sessions,
    password resets and CSRF tokens, so a public, empty or guessable key is refused."""
    if settings.DEBUG:
        return None
    try:
        key = settings.SECRET_KEY or ""
    except ImproperlyConfigured:  # Django refuses an empty key when it is read
        key = ""
    if key in PUBLIC_KEYS or key == getattr(settings, "DEVELOPMENT_SECRET_KEY", None):
        return "SECRET_KEY is the public development key and DEBUG is off."
    if len(key) < MIN_KEY_LENGTH or len(set(key)) < MIN_KEY_CHARACTERS:
        return (
            f"SECRET_KEY is empty or too short ({len(key)} characters, {len(set(key))} different) "
            "and DEBUG is off."
        )
    return None


@register(Tags.security)
def check_secret_key(app_configs, **kwargs):
    """The key refused on every command (not only --deploy); the web server refuses to start with
    it too (config/wsgi.py), since gunicorn runs no system checks."""
    problem = secret_key_problem()
    return [Error(problem, hint=SECRET_KEY_HINT, id="config.E001")] if problem else []
