from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OnsiteConfig(AppConfig):
    name = "onsite"
    verbose_name = _("On-site service")

    def ready(self) -> None:
        # The domain plugs into the engine here: its service-task operations and who gets its tasks.
        from onsite import operations  # noqa: F401 - registers the operations
        from onsite.assignment import resolve_assignee, speciality_refusal
        from onsite.engine_events import on_engine_event
        from workflows.assignment import register_assignee_resolver, register_pool_rule
        from workflows.events import subscribe

        register_assignee_resolver(resolve_assignee)
        register_pool_rule(speciality_refusal)
        subscribe(on_engine_event)
