"""What the services use to change an instance: open it under its family's lock, let the engine
run, save. One instance's machinery is in `sessions`; instances calling each other (linked call
activities), which run and save within one another, in `linked_calls`.

Only the services call this module; nothing here decides who may do what.
"""

from workflows.linked_calls import advance, create_instance, fail_caller, save, terminate_family
from workflows.sessions import (
    EngineScriptEngine,
    Session,
    describe_error,
    error_tasks,
    fail_task,
    find_task,
    lock_instance,
    names_read_by,
    new_session,
    open_session,
    record_failure,
    specs_for,
    task_observer,
)

__all__ = [
    "EngineScriptEngine",
    "Session",
    "advance",
    "create_instance",
    "describe_error",
    "error_tasks",
    "fail_caller",
    "fail_task",
    "find_task",
    "lock_instance",
    "names_read_by",
    "new_session",
    "open_session",
    "record_failure",
    "save",
    "specs_for",
    "task_observer",
    "terminate_family",
]
