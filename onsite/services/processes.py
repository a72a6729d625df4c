"""Starting the domain's own processes (follow-ups, support requests, win-back, incentive reviews)
through the engine, all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from onsite.exceptions import OnsiteError
from workflows.actors import acting_for
from workflows.exceptions import WorkflowError
from workflows.models import ProcessInstance
from workflows.services import start_instance

Row = TypeVar("Row")
Started = TypeVar("Started")


def start_domain_process(
    process_id: str,
    *,
    business_key: str,
    data: dict,
    user: Any,
    version: int | None = None,
    failure: str | None = None,
) -> ProcessInstance:
    """Start `process_id` (its latest version, or the one numbered `version`); if it cannot start,
    raise and keep nothing. `failure` is the refusal's message with `%(message)s` for the engine's,
    for a caller whose users know the process by another name than its id."""
    try:
        with transaction.atomic():
            instance = start_instance(
                process_id=process_id,
                version=version,
                business_key=business_key,
                data=data,
                user=acting_for(user),
            )
            if instance.status == ProcessInstance.Status.ERROR:
                message = instance.error["message"]
                raise OnsiteError(
                    failure % {"message": message}
                    if failure
                    else _("Process '%(process)s' could not start: %(message)s")
                    % {"process": process_id, "message": message}
                )
    except WorkflowError as exc:
        raise OnsiteError(str(exc)) from None
    return instance


def start_once_each(rows: Iterable[Row], start: Callable[[Row], Started]) -> list[Started]:
    """`start(row)` for each row, each in its own transaction. A row whose start a concurrent run
    committed first fails on its unique key and is skipped: a schedule run twice at the same moment
    (two clusters, a retried job) starts each once."""
    started = []
    for row in rows:
        try:
            with transaction.atomic():
                started.append(start(row))
        except IntegrityError:
            continue
    return started
