"""The only place BPMN code runs: scripts, conditions, timer, multi-instance, loop, correlation,
payload and DMN expressions.

Two walls. The first is the language (`policy`): RestrictedPython with a stricter policy, guarded
operators and a whitelist of functions, so nothing of the server is reachable. The second is the
process (`helper`, `pool`): the code runs in a separate, pre-started helper process limited by the
operating system in CPU time, memory and wall-clock time, which the code can neither catch nor
switch off, and which is replaced when killed. The engine sends a helper only the variables the
code names and reads back plain, size-checked data (`wire`, `workflows.bounds`).
"""

from workflows.sandbox.environment import SandboxEnvironment, check_code
from workflows.sandbox.errors import (
    SandboxUnavailable,
    ScriptError,
    ScriptLimitError,
    ScriptPolicyError,
    SubmissionRefused,
)
from workflows.sandbox.policy import RESERVED_NAMES, SCRIPT_FUNCTIONS, now, today

__all__ = [
    "RESERVED_NAMES",
    "SCRIPT_FUNCTIONS",
    "SandboxEnvironment",
    "SandboxUnavailable",
    "ScriptError",
    "ScriptLimitError",
    "ScriptPolicyError",
    "SubmissionRefused",
    "check_code",
    "now",
    "today",
]
