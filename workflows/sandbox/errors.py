"""What BPMN code can fail with. Every message is safe to show the person who wrote or ran it."""


class ScriptError(Exception):
    """A BPMN script or expression was refused or failed; the message is safe to show users."""


class SubmissionRefused(ScriptError):
    """A task's post-script refused what a person submitted (`refuse(message)`); the message is
    the diagram author's, for that person."""


class ScriptPolicyError(ScriptError):
    """The code uses something the sandbox does not allow (found when compiling)."""


class ScriptLimitError(ScriptError):
    """The code ran too long, needed too much memory or built something too large."""


class SandboxUnavailable(ScriptError):
    """No helper process could be started to run the code (the server's problem, not the code's)."""
