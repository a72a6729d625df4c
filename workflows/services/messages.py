"""Delivering BPMN messages from outside to the instances waiting for them."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.db.models.fields.json import KeyTransform
from django.utils.translation import gettext as _
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.exceptions import WorkflowException

from workflows import projections, runtime
from workflows.exceptions import InvalidData, MessageNotDelivered
from workflows.models import AuditEvent, MessageSubscription, ProcessInstance
from workflows.services.instances import check_manager, check_process_data

# Correlation property names: identifiers, at most 100 characters.
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")


def deliver_message(
    *, name: str, correlation: dict[str, Any], payload: dict | None = None, user: Any
) -> list[ProcessInstance]:
    """Deliver message `name` to every instance waiting for it whose correlation matches.

    `correlation` selects the receivers: `business_key`, `instance_id`, or the values of the
    diagram's correlation properties. Raises MessageNotDelivered when nobody is waiting. `user`
    is the system (`workflows.actors`) or someone allowed to manage instances.
    """
    check_manager(user)
    payload = check_process_data(payload)
    correlation = _checked_correlation(correlation)
    waiting = MessageSubscription.objects.filter(
        message_name=name, instance__status__in=ProcessInstance.ACTIVE_STATUSES
    )
    properties = {}
    for key, value in correlation.items():
        if key == "business_key":
            waiting = waiting.filter(instance__business_key=value)
        elif key == "instance_id":
            waiting = waiting.filter(instance_id=value)
        else:
            properties[key] = value
    for index, (key, value) in enumerate(properties.items()):
        # The property name is a JSON key, never part of a lookup: user text cannot become a query.
        alias = f"correlation_{index}"
        waiting = waiting.alias(**{alias: KeyTransform(key, "correlations")}).filter(**{alias: value})
    if properties:
        # The database compares JSON loosely (SQLite: true = 1); compare the values exactly here.
        matching = [
            sub.instance_id
            for sub in waiting.only("instance_id", "correlations")
            if all(_same(sub.correlations.get(key), value) for key, value in properties.items())
        ]
        waiting = waiting.filter(instance_id__in=matching)
    instance_ids = sorted(set(waiting.values_list("instance_id", flat=True)))
    if not instance_ids:
        raise MessageNotDelivered(
            _("No process instance is waiting for message '%(name)s' with %(correlation)s.")
            % {"name": name, "correlation": correlation}
        )
    delivered = []
    for instance_id in instance_ids:
        with transaction.atomic():
            instance = runtime.lock_instance(instance_id)
            subscription = waiting.filter(instance_id=instance_id).first()
            if instance.status not in ProcessInstance.ACTIVE_STATUSES or subscription is None:
                continue  # it moved on while we were delivering to the others
            session = runtime.open_session(instance, actor=user)
            # None for a message start event: it has no waiting task.
            task = runtime.find_task(session.workflow, subscription.task_id)
            if task is not None:
                definition = task.task_spec.event_definition
            else:
                definition = projections.message_triggers(session.workflow)[subscription.bpmn_id]
            correlations = {}
            if getattr(definition, "correlation_properties", None):
                correlations = definition.calculate_correlations(
                    session.workflow.script_engine, definition.correlation_properties, payload
                )
            try:
                session.workflow.send_event(BpmnEvent(definition, payload, correlations))
            except WorkflowException as exc:
                raise MessageNotDelivered(str(exc)) from None
            session.record(
                AuditEvent.Kind.MESSAGE_DELIVERED,
                task_id=task.id if task is not None else None,
                bpmn_id=subscription.bpmn_id,
                message=name,
                correlation=correlation,
                payload=payload,
            )
            runtime.advance(session)
            runtime.save(session)
            delivered.append(instance)
    if not delivered:
        raise MessageNotDelivered(
            _("No process instance is waiting for message '%(name)s' with %(correlation)s.")
            % {"name": name, "correlation": correlation}
        )
    return delivered


def _checked_correlation(correlation: Any) -> dict[str, str | int | bool]:
    if not isinstance(correlation, dict) or not correlation:
        raise InvalidData(_("A message needs a correlation (for example the business key)."))
    checked = {}
    for key, value in correlation.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise InvalidData(_("'%(key)s' is not a correlation name.") % {"key": str(key)[:100]})
        if key == "instance_id" and (not isinstance(value, int) or isinstance(value, bool)):
            raise InvalidData(_("The instance id must be a whole number."))
        if key == "business_key" and not isinstance(value, str):
            raise InvalidData(_("The business key must be text."))
        if not isinstance(value, (str, int)) or (isinstance(value, str) and len(value) > 255):
            raise InvalidData(
                _(
                    "The correlation value of '%(key)s' must be text (up to 255 characters), "
                    "a whole number or a flag."
                )
                % {"key": key}
            )
        checked[key] = value
    return checked


def _same(stored: Any, wanted: Any) -> bool:
    return type(stored) is type(wanted) and stored == wanted
