import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# A web server runs no system checks: refuse to serve with a public or guessable key, saying why.
from config.checks import SECRET_KEY_HINT, secret_key_problem  # noqa: E402

if problem := secret_key_problem():
    raise ImproperlyConfigured(f"{problem} {SECRET_KEY_HINT}")

# A web process starts a helper for BPMN code now, so the first request that runs a script does
# not wait for one to load (workflows.sandbox.pool).
from workflows.sandbox.pool import pool  # noqa: E402 - needs the settings configured above

pool().prestart()
