"""The domain's one lock order: a process instance's family first, then the domain's rows.

The engine changes an instance only under its family's lock, and the service-task operations it
runs then lock the domain rows they change (`onsite.operations.locked`): family, then row. A
service called by a person that changes a row and then messages or completes something in the
row's process (closing a lead ends its follow-up) must take the locks in that same order, or the
two meet head-on: it holds the row and waits for the family while a task completion holds the
family and waits for the row, and PostgreSQL cancels one of them with "deadlock detected".

So such a service locks with `lock_with_process`: it finds the row's process (the instance its
`process_field` points to), locks that instance's family through the engine, and only then locks
the row. Starting a *new* process while holding a row needs nobody's lock (nobody else can know
the new instance yet), and neither does an operation that locks rows of its own instance's
process. docs/DOMAIN-MODEL.md ("One lock order") lists every path and why each holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from django.db import models

from workflows.services import lock_instance_family

Row = TypeVar("Row", bound=models.Model)


def lock_with_process(model: type[Row], pk: int, *, process_field: str, related: Sequence[str] = ()) -> Row:
    """Lock the family of the process `model`'s row `pk` runs (its `process_field`), then the row;
    return the row as read under both locks. Must run inside `transaction.atomic()`.

    The process field is set once, in the transaction that creates the row, so the instance read
    before the row's lock is the one the row names afterwards. Raises `model.DoesNotExist`.
    """
    attname = model._meta.get_field(process_field).attname
    instance_id = model.objects.filter(pk=pk).values_list(attname, flat=True).first()
    if instance_id is not None:
        lock_instance_family(instance_id=instance_id)
    rows = model.objects.select_for_update(of=("self",))
    return (rows.select_related(*related) if related else rows).get(pk=pk)
