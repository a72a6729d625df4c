"""What the domain's services raise. Nothing was changed when one is raised; every message is
written for the person who made the call."""

from django.utils.translation import gettext_lazy as _


class OnsiteError(Exception):
    default_message = _("The request could not be carried out.")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(str(message or self.default_message))


class NotPermitted(OnsiteError):
    default_message = _("You are not allowed to do this.")


class InvalidInput(OnsiteError):
    """Input refused, with a message per field (`errors`: field → list of messages)."""

    default_message = _("Please correct the errors below.")

    def __init__(self, errors: dict[str, list[str]], message: str | None = None) -> None:
        self.errors = {field: [str(m) for m in messages] for field, messages in errors.items()}
        super().__init__(message)

    def __str__(self) -> str:
        details = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in self.errors.items())
        return f"{self.args[0]} {details}" if details else self.args[0]
