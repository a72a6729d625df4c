"""The lock every change to a family of instances runs under, for callers outside the engine.

The engine changes an instance only under the lock of its family's root row (`store.lock_family`),
and a service task's operation then locks the application's own rows. An application that changes
its rows and then starts or messages a process (or completes one of its tasks) must therefore take
the family's lock *first*, then its rows: the one order, family before rows, that makes a deadlock
between the two impossible. This is the function it takes the family's lock with.
"""

from __future__ import annotations

from django.db import transaction

from workflows import store


def lock_instance_family(*, instance_id: int) -> None:
    """Lock the family of instance `instance_id` (the instance, its linked callers and callees)
    until the caller's transaction ends; waits while someone else holds it.

    Must run inside `transaction.atomic()`. Taking it again in the same transaction is free of
    consequences, and so is a missing instance (nothing to lock). On SQLite the write transaction
    already holds the database's only write lock, so there is nothing more to take.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_instance_family() must be called inside transaction.atomic().")
    store.lock_family(instance_id=instance_id)
