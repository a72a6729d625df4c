"""What the domain's services raise. Nothing was changed when one is raised; every message is
written for the person who made the call."""

from django.utils.translation import gettext_lazy as _

from workflows.refusals import Refusal


class OnsiteError(Refusal):
    """Base class of the domain's refusals."""


class NotPermitted(OnsiteError):
    default_message = _("You are not allowed to do this.")


class InvalidInput(OnsiteError):
    """Input refused, with a message per field (`errors`: field → list of messages)."""

    default_message = _("Please correct the errors below.")

    def __init__(self, errors: dict[str, list[str]], message: str | None = None) -> None:
        super().__init__(message, field_errors=errors)
        self.errors = self.field_errors


class ConcurrentChange(OnsiteError):
    """Another request stored a clashing record between this one's checks and its write."""

    default_message = _("Someone changed these records at the same moment; please try again.")
