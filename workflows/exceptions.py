"""What the engine's services raise. Every message is written for the person who made the call."""

from django.utils.translation import gettext_lazy as _

from workflows.documents import DeploymentError, Problem  # noqa: F401 - re-exported
from workflows.forms import FormValidationError  # noqa: F401 - re-exported
from workflows.refusals import Refusal


class WorkflowError(Refusal):
    """Base class for the engine's refusals; nothing was changed when one is raised."""


class InvalidData(WorkflowError):
    """Start data, a message payload or a correlation is not plain data within the engine's limits."""

    default_message = _("The data is not acceptable.")


class NotFound(WorkflowError):
    default_message = _("No such item.")


class ProcessNotDeployed(NotFound):
    pass


class TaskNotReady(WorkflowError):
    default_message = _("This task is not waiting to be done.")


class TaskAlreadyCompleted(TaskNotReady):
    """Someone completed (or the process cancelled) the task first."""


class NotAllowed(WorkflowError):
    default_message = _("You are not allowed to do this.")


class TaskNotYours(NotAllowed):
    default_message = _("This task is assigned to someone else.")


class InstanceNotActive(WorkflowError):
    default_message = _("The process instance is not running.")


class TaskRejected(WorkflowError):
    """The task's own post-processing refused the submission; the task stays open."""


class MessageNotDelivered(WorkflowError):
    default_message = _("No process instance is waiting for this message.")


class EngineLimitError(WorkflowError):
    """The change would grow the instance's stored state past the engine's size limit; it was not
    made."""


class ConcurrentUpdate(WorkflowError):
    """Another change to the same instance was saved first; retry with fresh data."""

    default_message = _("The process instance was changed by someone else; please try again.")


class MigrationRefused(WorkflowError):
    """An instance cannot move to the chosen version (or the versions do not fit); it was left as
    it was."""

    default_message = _("The process instance cannot move to this version.")
