from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflow engine")

    def ready(self) -> None:
        from workflows import checks, clock  # noqa: F401 - registers the system checks

        clock.install()
