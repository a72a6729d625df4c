"""System checks: configuration the engine cannot run without fails `manage.py check`."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, register

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
