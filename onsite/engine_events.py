"""The domain's reactions to engine events (`workflows.events`), run by the worker after the change
committed: the people a new or handed-over task waits for are told, and what an approved summary
leads to is started, outside the approval's transaction, so a process that fails to start never
undoes the approval; its visit report is asked for then too. Each reaction is idempotent (a retried
event tells no one twice, and asks for one visit report per visit)."""

from __future__ import annotations

from onsite.models import Visit
from onsite.services.notices import notify_task_waiting
from onsite.services.reports import request_visit_report_on_approval
from onsite.services.summaries import start_summary_follow_ups
from workflows.models import EngineEvent


def on_engine_event(event: EngineEvent) -> None:
    if event.kind in (EngineEvent.Kind.TASK_CREATED, EngineEvent.Kind.TASK_ASSIGNED):
        notify_task_waiting(task_id=event.task_id)
    elif event.kind == EngineEvent.Kind.TASK_COMPLETED:
        # The review that approved a visit's summary closed the visit (`apply_summary`).
        closed = Visit.objects.filter(instance_id=event.instance_id, status=Visit.Status.CLOSED)
        for visit_id in closed.values_list("pk", flat=True):
            start_summary_follow_ups(visit_id=visit_id)
            request_visit_report_on_approval(visit_id=visit_id)
