from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflow engine")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from workflows import checks, clock  # noqa: F401 - registers the system checks
        from workflows.percentiles import register_on_sqlite
        from workflows.schedules import MINUTES, Recurring, ensure_schedules, register
        from workflows.worker_health import HEARTBEAT

        clock.install()
        connection_created.connect(register_on_sqlite, dispatch_uid="workflows.percentiles")
        register(
            Recurring(
                HEARTBEAT,
                "workflows.tasks.fire_due_timers",
                MINUTES,
                minutes=1,
                label=_("Fire the BPMN timers that are due"),
            ),
            # The engine events no job handled (the worker was down, a job failed or was lost).
            Recurring(
                "workflows.handle_pending_events",
                "workflows.tasks.handle_pending_events",
                MINUTES,
                minutes=1,
                label=_("Handle the engine events no job has handled"),
            ),
        )
        # After the last app's migrations (django_q's tables exist by then), once per migrate.
        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="workflows.ensure_schedules")
