"""The waits of the instances that ran before the engine recorded them (`Wait`), rebuilt from the
task table and the audit log: a migration runs it once over an existing database.

- a completed human task waited from its creation to its completion;
- a timer that fired or a message delivered (`timer_fired`, `message_delivered`, when the event
  names its element: older deliveries name none and give no wait) waited from the instance's
  previous move (the latest event that moved it on: started, a task completed, a timer fired, a
  message delivered, retried, resumed) to the event;
- what an unfinished instance waits at now (an open task, an armed timer, a message subscription)
  is an open wait: a task's since its creation, a timer's or a message's since the instance's
  last move.

Each is one INSERT ... SELECT, with the tables' names as they are in every schema of this app.
"""

# ruff: noqa: S608 - only this module's constants are written into its SQL
from __future__ import annotations

from typing import Any

from workflows.models import AuditEvent, ProcessInstance
from workflows.store import seconds_between

_Kind = AuditEvent.Kind
# Events after which an instance has moved on to its next wait.
MOVING_KINDS = (
    _Kind.STARTED,
    _Kind.COMPLETED,
    _Kind.TIMER_FIRED,
    _Kind.MESSAGE_DELIVERED,
    _Kind.RETRIED,
    _Kind.RESUMED,
)


def fill_from_history(connection: Any) -> None:
    """Write the waits the history shows into an empty `workflows_wait`."""
    vendor = connection.vendor
    moving = ", ".join(f"'{kind.value}'" for kind in MOVING_KINDS)
    ended = ", ".join(f"'{status.value}'" for status in ProcessInstance.ENDED_STATUSES)
    element = "e.details ->> 'bpmn_id'" if vendor == "postgresql" else "json_extract(e.details, '$.bpmn_id')"
    # The instance's events through its own index, the few found then sorted: `+m.id` keeps SQLite
    # from walking the whole log backwards by id (or by time, for a MAX) to find them.
    last_move = (
        "COALESCE((SELECT m.at FROM workflows_auditevent m WHERE m.instance_id = i.id"
        f" AND m.kind IN ({moving}) ORDER BY +m.id DESC LIMIT 1), i.started_at)"
    )
    previous_move = (
        "COALESCE((SELECT m.at FROM workflows_auditevent m WHERE m.instance_id = e.instance_id"
        f" AND +m.id < e.id AND m.kind IN ({moving}) ORDER BY +m.id DESC LIMIT 1), e.at)"
    )
    columns = "instance_id, version_id, task_id, bpmn_id, kind, started_at, ended_at, seconds"
    statements = [
        f"""INSERT INTO workflows_wait ({columns})
            SELECT t.instance_id, i.version_id, t.id, t.bpmn_id, 'task', t.created_at, t.completed_at,
                   {seconds_between("t.completed_at", "t.created_at", vendor)}
            FROM workflows_humantask t JOIN workflows_processinstance i ON i.id = t.instance_id
            WHERE t.status = 'completed' AND t.completed_at IS NOT NULL""",
        f"""INSERT INTO workflows_wait ({columns})
            SELECT w.instance_id, w.version_id, w.task_id, w.bpmn_id, w.kind, w.started_at, w.at,
                   {seconds_between("w.at", "w.started_at", vendor)}
            FROM (SELECT e.instance_id, i.version_id, e.task_id, {element} AS bpmn_id, e.at,
                         CASE e.kind WHEN 'timer_fired' THEN 'timer' ELSE 'message' END AS kind,
                         {previous_move} AS started_at
                  FROM workflows_auditevent e JOIN workflows_processinstance i ON i.id = e.instance_id
                  WHERE e.kind IN ('timer_fired', 'message_delivered')) w
            WHERE w.bpmn_id IS NOT NULL""",
        f"""INSERT INTO workflows_wait ({columns})
            SELECT t.instance_id, i.version_id, t.id, t.bpmn_id, 'task', t.created_at, NULL, NULL
            FROM workflows_humantask t JOIN workflows_processinstance i ON i.id = t.instance_id
            WHERE t.status = 'open' AND i.status NOT IN ({ended})""",
        f"""INSERT INTO workflows_wait ({columns})
            SELECT t.instance_id, i.version_id, t.task_id, t.bpmn_id, 'timer', {last_move}, NULL, NULL
            FROM workflows_timer t JOIN workflows_processinstance i ON i.id = t.instance_id
            WHERE i.status NOT IN ({ended})""",
        f"""INSERT INTO workflows_wait ({columns})
            SELECT s.instance_id, i.version_id, s.task_id, s.bpmn_id, 'message', {last_move}, NULL, NULL
            FROM workflows_messagesubscription s JOIN workflows_processinstance i ON i.id = s.instance_id
            WHERE i.status NOT IN ({ended})""",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
