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


def job_timing_problem() -> str | None:
    """What makes the background jobs' timings contradict each other, or None. A notification
    e-mail is sent by a job: the job's timeout must leave a send the time its mail server is given
    (twice over: connecting, then the message), and a job is handed out again only once the claim
    to send that a killed try left has expired, or a try still sending would have company."""
    from onsite.services.notifications import claim_expiry

    timeout, retry = settings.Q_CLUSTER["timeout"], settings.Q_CLUSTER["retry"]
    if timeout <= 2 * settings.EMAIL_TIMEOUT:
        return f"Q_TIMEOUT ({timeout} s) is not more than twice EMAIL_TIMEOUT ({settings.EMAIL_TIMEOUT} s)."
    expiry = int(claim_expiry().total_seconds())
    if retry <= expiry:
        return f"Q_RETRY ({retry} s) is not more than an e-mail's claim to send stands ({expiry} s)."
    return None


@register()
def check_job_timings(app_configs, **kwargs):
    """A slow send is never cut off by its job's timeout, nor sent beside a try of it still running."""
    problem = job_timing_problem()
    hint = "E.g. EMAIL_TIMEOUT=30, Q_TIMEOUT=120, Q_RETRY=180 (the defaults)."
    return [Error(problem, hint=hint, id="config.E002")] if problem else []
