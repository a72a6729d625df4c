"""System checks: configuration the engine cannot run without fails `manage.py check`."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

_REQUIRED_LIMITS = (
    "FORMS_DIR",
    "MAX_BPMN_BYTES",
    "MAX_FORM_BYTES",
    "SCRIPT_TIME_LIMIT",
    "SCRIPT_MEMORY_MB",
    "SCRIPT_HELPERS",
    "MAX_CODE_LENGTH",
    "MAX_DATA_DEPTH",
    "MAX_DATA_ITEMS",
    "MAX_STRING_LENGTH",
    "MAX_DATA_BYTES",
    "MIN_TIMER_CYCLE_SECONDS",
    "MAX_TIMER_SPAN_DAYS",
    "MAX_CYCLE_CATCH_UP",
    "MAX_CALL_DEPTH",
    "ENGINE_TIME_LIMIT",
    "MAX_STEPS_PER_RUN",
    "MAX_TASKS_PER_INSTANCE",
    "MAX_MULTI_INSTANCE",
    "MAX_STATE_BYTES",
    "FALLBACK_ROLE",
)


@register(Tags.compatibility)
def check_engine_settings(app_configs, **kwargs):
    config = getattr(settings, "WORKFLOWS", None)
    if not isinstance(config, dict):
        return [Error("settings.WORKFLOWS is missing.", id="workflows.E001")]
    errors = [
        Error(f"settings.WORKFLOWS has no {key!r}.", id="workflows.E002")
        for key in _REQUIRED_LIMITS
        if key not in config
    ]
    if "FORMS_DIR" in config and not Path(config["FORMS_DIR"]).is_dir():
        errors.append(
            Error(f"The forms directory {config['FORMS_DIR']} does not exist.", id="workflows.E003")
        )
    return errors


@register(Tags.database)
def check_worker_runs(app_configs, databases=None, **kwargs):
    """A warning when the background worker has not run the every-minute schedule for 5 minutes.
    A database check: `manage.py check --database default` and `migrate` run it, not every
    command (nor before the tables exist)."""
    from django.db import DatabaseError
    from django.utils import timezone

    from workflows.worker_health import HEARTBEAT, STALLED_AFTER, stalled_since

    if not databases or "default" not in databases:
        return []
    try:
        since = stalled_since()
    except DatabaseError:  # not migrated yet: nothing was owed
        return []
    if since is None:
        return []
    minutes = int((timezone.now() - since).total_seconds() // 60)
    return [
        Warning(
            f"The background worker has not run the every-minute schedule {HEARTBEAT!r} for "
            f"{minutes} minutes (more than {int(STALLED_AFTER.total_seconds() // 60)}): BPMN timers "
            "and the other scheduled jobs are not running.",
            hint="Start `manage.py qcluster` (`make run` starts one beside the web server) and see "
            "the operations page for failed jobs.",
            id="workflows.W001",
        )
    ]
