import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# A web process starts a helper for BPMN code now, so the first request that runs a script does
# not wait for one to load (workflows.sandbox.pool).
from workflows.sandbox.pool import pool  # noqa: E402 - needs the settings configured above

pool().prestart()
