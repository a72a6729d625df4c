from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project itself, installed so that its system checks run."""

    name = "config"
    verbose_name = "Onsite"

    def ready(self) -> None:
        from config import checks  # noqa: F401 - registers the checks
