"""Task specs the engine adds to SpiffWorkflow's, and their serializer converters."""

from typing import Any

from SpiffWorkflow.spiff.serializer.task_spec import SpiffBpmnTaskConverter
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask

# Extension property that makes a call activity run its process as a separate, linked instance.
LINKED_INSTANCE_PROPERTY = "calledElementInstance"
LINKED_INSTANCE_VALUE = "separate"


class LinkedCallActivity(SpiffBpmnTask):
    """A call activity whose called process runs as its own instance, linked to this one.

    This is how Camunda runs every call activity: the callee starts on its latest deployed version,
    has its own lock, tasks, errors and history, and the caller waits until it completes. A
    programme that calls one visit after another for years therefore never carries its visits'
    tasks in its own state, and a visit started next year runs next year's visit diagram.

    The runtime does the linking: the task goes to STARTED with `linked_state = "requested"`; the
    runtime starts the child and records it; when the child completes the runtime copies its
    output into the task data, sets `linked_state = "completed"` and makes the task READY again.
    """

    def __init__(self, wf_spec, bpmn_id, called_element: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.called_element = called_element

    def _run_hook(self, my_task) -> bool | None:
        if my_task.internal_data.get("linked_state") == "completed":
            return True
        my_task.internal_data.setdefault("linked_state", "requested")
        return None  # STARTED: wait for the linked instance


class LinkedCallActivityConverter(SpiffBpmnTaskConverter):
    def to_dict(self, spec: LinkedCallActivity) -> dict:
        dct = super().to_dict(spec)
        dct["called_element"] = spec.called_element
        return dct
