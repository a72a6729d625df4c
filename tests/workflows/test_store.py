"""The hot-path SQL: the fixed statements are written once, not on every call."""

import pytest
from django.db import transaction

from tests.workflows.conftest import open_task
from workflows import store

pytestmark = pytest.mark.django_db


def test_the_fixed_statements_are_built_once_and_reused(approval, monkeypatch):
    task = open_task(approval, "submit")
    with transaction.atomic():
        store.read_task(task.pk, lock=True)  # first use builds the statements
        store.read_task(task.pk)
        store.read_instance(approval.pk)
        store.lock_family(instance_id=approval.pk)
        store.lock_family(instance_id=approval.pk, skip_locked=True)

    built = []
    for name in ("_select_list", "_column", "_table"):
        original = getattr(store, name)
        monkeypatch.setattr(store, name, lambda *args, _f=original, _n=name: built.append(_n) or _f(*args))
    with transaction.atomic():
        for _ in range(3):
            found_task, found_instance = store.read_task(task.pk, lock=True)
            assert store.read_task(task.pk)[0].pk == found_task.pk == task.pk
            assert store.read_instance(approval.pk).state == found_instance.state
            assert store.lock_family(instance_id=approval.pk)
            assert store.lock_family(instance_id=approval.pk, skip_locked=True)
    assert built == []


def test_a_missing_row_reads_as_none():
    assert store.read_instance(987654) is None
    assert store.read_task("00000000-0000-0000-0000-000000000000") is None
