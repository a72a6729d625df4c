"""The project's own system checks: configuration that must never reach production."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

# Keys everyone can read: the development default and the placeholder in `.env.example`.
PUBLIC_KEYS = frozenset({"onsite-development-key-not-for-production", "change-me-in-production"})
MIN_KEY_LENGTH = 50
MIN_KEY_CHARACTERS = 5


@register(Tags.security)
def check_secret_key(app_configs, **kwargs):
    """Without DEBUG the site is live: its SECRET_KEY signs sessions, password resets and CSRF
    tokens, so a public, empty or guessable key is refused (on every command, not only --deploy)."""
    if settings.DEBUG:
        return []
    try:
        key = settings.SECRET_KEY or ""
    except ImproperlyConfigured:  # Django refuses an empty key when it is read
        key = ""
    if key in PUBLIC_KEYS or key == getattr(settings, "DEVELOPMENT_SECRET_KEY", None):
        problem = "SECRET_KEY is the public development key and DEBUG is off."
    elif len(key) < MIN_KEY_LENGTH or len(set(key)) < MIN_KEY_CHARACTERS:
        problem = (
            f"SECRET_KEY is empty or too short ({len(key)} characters, {len(set(key))} different) "
            "and DEBUG is off."
        )
    else:
        return []
    return [
        Error(
            problem,
            hint=(
                f"Set SECRET_KEY to a random value of at least {MIN_KEY_LENGTH} characters, e.g. "
                "python -c 'import secrets; print(secrets.token_urlsafe(50))'; or DEBUG=true on a "
                "development machine."
            ),
            id="config.E001",
        )
    ]
