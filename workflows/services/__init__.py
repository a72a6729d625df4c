"""The engine's public write API. Views, commands, background jobs and the domain app change engine
state only through these functions."""

from workflows.services.deployment import Deployment, deploy, read_files
from workflows.services.drafts import discard_draft, save_draft
from workflows.services.instances import (
    latest_version,
    resume_instance,
    retry_instance,
    start_instance,
    suspend_instance,
    terminate_instance,
)
from workflows.services.locking import lock_instance_family
from workflows.services.messages import deliver_message
from workflows.services.migration import (
    InstanceCheck,
    MigrationOutcome,
    MigrationPlan,
    migrate_instance,
    migrate_instances,
    plan_migration,
    repin,
)
from workflows.services.tasks import (
    check_open,
    claim_task,
    complete_task,
    form_schema,
    reassign_task,
    release_task,
    reschedule_task,
)
from workflows.services.timers import FiredTimer, due_timer_instances, fire_due_timers

__all__ = [
    "Deployment",
    "FiredTimer",
    "InstanceCheck",
    "MigrationOutcome",
    "MigrationPlan",
    "check_open",
    "claim_task",
    "complete_task",
    "deliver_message",
    "deploy",
    "discard_draft",
    "due_timer_instances",
    "fire_due_timers",
    "form_schema",
    "latest_version",
    "lock_instance_family",
    "migrate_instance",
    "migrate_instances",
    "plan_migration",
    "read_files",
    "reassign_task",
    "release_task",
    "repin",
    "reschedule_task",
    "resume_instance",
    "retry_instance",
    "save_draft",
    "start_instance",
    "suspend_instance",
    "terminate_instance",
]
