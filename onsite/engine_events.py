"""The domain's reactions to engine events (`workflows.events`), run by the worker after the change
committed: what an approved summary leads to is started here, outside the approval's transaction,
so a process that fails to start never undoes the approval."""

from __future__ import annotations

from onsite.models import Visit
from onsite.services.summaries import start_summary_follow_ups
from workflows.models import EngineEvent


def on_engine_event(event: EngineEvent) -> None:
    if event.kind == EngineEvent.Kind.TASK_COMPLETED:
        # The review that approved a visit's summary closed the visit (`apply_summary`).
        closed = Visit.objects.filter(instance_id=event.instance_id, status=Visit.Status.CLOSED)
        for visit_id in closed.values_list("pk", flat=True):
            start_summary_follow_ups(visit_id=visit_id)
