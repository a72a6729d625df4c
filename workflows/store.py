"""The engine's hot-path SQL: locking a family of instances, reading a task with its instance, and
writing everything one save changes in as few round trips as the database allows.

A task completion through the ORM took about a dozen queries, each paying Django's query
compilation on top of its round trip, and cost several times the SpiffWorkflow work it persists
(see docs/PERFORMANCE.md). Here one statement locks, one reads, and on PostgreSQL one statement
writes: the state update, the task changes, the timers, subscriptions and audit events travel
together as data-modifying CTEs. SQLite runs the same statements one after another, in process.
Statements are built from the models' metadata (tables, columns, value preparation and
converters), so the models stay the single description of the schema. Everything else uses the ORM.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Model

from workflows.exceptions import ConcurrentUpdate
from workflows.models import HumanTask, LaneRole, ProcessInstance, ProcessModel, ProcessVersion, Wait


@dataclass(frozen=True)
class Sql:
    """An SQL expression with its parameters, usable as a column value."""

    text: str
    params: Sequence[Any] = ()


@dataclass
class Statement:
    sql: str
    params: list = field(default_factory=list)


def _db():
    # The connection itself: `django.db.connection` is a proxy that looks it up on every attribute,
    # which shows at the hundreds of accesses a statement takes.
    return connections[DEFAULT_DB_ALIAS]


@functools.lru_cache(maxsize=512)
def _quoted(vendor: str, name: str) -> str:
    return _db().ops.quote_name(name)


def _qn(name: str) -> str:
    return _quoted(_db().vendor, name)


def _table(model: type[Model]) -> str:
    return _qn(model._meta.db_table)


@functools.lru_cache(maxsize=512)
def _quoted_column(vendor: str, model: type[Model], name: str) -> str:
    return _quoted(vendor, model._meta.get_field(name).column)


def _column(model: type[Model], name: str, db=None) -> str:
    return _quoted_column((db or _db()).vendor, model, name)


def _fixed_per_vendor(build: Callable[[], str]) -> Callable[[], str]:
    """The SQL text `build` writes, built at first use and then kept for each database vendor: the
    statements below are the same on every call, only their parameters change."""
    texts: dict[str, str] = {}

    @functools.wraps(build)
    def text() -> str:
        vendor = _db().vendor
        if vendor not in texts:
            texts[vendor] = build()
        return texts[vendor]

    return text


@functools.lru_cache(maxsize=512)
def _field(model: type[Model], name: str):
    return model._meta.get_field(name)


def _prepared(model: type[Model], name: str, value: Any, db=None) -> Any:
    db = db or _db()
    return _prepare(_field(model, name), value, db)


def _prepare(model_field, value: Any, db) -> Any:
    """`value` as the database takes it for `model_field`. A string for a text column, an int for
    an integer column where the backend takes ints as they are: preparing them through the field
    returns them unchanged, at a cost that shows at the dozens of values a save writes."""
    if type(value) is _as_is(db.vendor, model_field):
        return value
    return model_field.get_db_prep_save(value, db)


# Only Django's own field classes: a subclass may convert values its own way.
_TEXT_FIELDS = (models.CharField, models.TextField)
_INTEGER_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.SmallIntegerField,
    models.PositiveSmallIntegerField,
)


@functools.lru_cache(maxsize=512)
def _as_is(vendor: str, model_field) -> type | None:
    """The Python type whose values go to the database unprepared for `model_field`, if any."""
    target = model_field.target_field if model_field.is_relation else model_field
    if type(target) in _TEXT_FIELDS:
        return str
    ints_as_is = type(_db().ops).adapt_integerfield_value is BaseDatabaseOperations.adapt_integerfield_value
    if type(target) in _INTEGER_FIELDS and ints_as_is:
        return int
    return None


# --- reading --------------------------------------------------------------------------------


@functools.cache
def _fields(model: type[Model]) -> tuple:
    return tuple(model._meta.concrete_fields)


@functools.cache
def _attnames(model: type[Model]) -> list[str]:
    return [f.attname for f in _fields(model)]


def _select_list(model: type[Model], alias: str) -> str:
    return ", ".join(f"{alias}.{_qn(f.column)}" for f in _fields(model))


_CONVERTERS: dict[tuple[str, type[Model]], list] = {}


def _converters(model: type[Model], db) -> list:
    """Per column: the expression and the converters Django would apply to its raw value."""
    key = (db.vendor, model)
    if key not in _CONVERTERS:
        result = []
        for f in _fields(model):
            expression = f.get_col(model._meta.db_table)
            result.append((expression, db.ops.get_db_converters(expression) + f.get_db_converters(db)))
        _CONVERTERS[key] = result
    return _CONVERTERS[key]


def _from_row(model: type[Model], values: Sequence[Any]) -> Model:
    db = _db()
    converted = []
    for (expression, converters), value in zip(_converters(model, db), values, strict=True):
        for converter in converters:
            value = converter(value, expression, db)
        converted.append(value)
    return model.from_db(db.alias, _attnames(model), converted)


def _with_version(instance: ProcessInstance, version_id: int, checksum: str) -> ProcessInstance:
    # Only the id and checksum are needed to find the cached specs; the rest loads on demand.
    instance.version = ProcessVersion.from_db(DEFAULT_DB_ALIAS, ["id", "checksum"], [version_id, checksum])
    return instance


@_fixed_per_vendor
def _read_instance_sql() -> str:
    return (
        f"SELECT {_select_list(ProcessInstance, 'i')}, v.{_column(ProcessVersion, 'checksum')} "
        f"FROM {_table(ProcessInstance)} i "
        f"JOIN {_table(ProcessVersion)} v ON v.id = i.{_column(ProcessInstance, 'version')} "
        "WHERE i.id = %s"
    )


def read_instance(instance_id: int) -> ProcessInstance | None:
    with _db().cursor() as cursor:
        cursor.execute(_read_instance_sql(), [instance_id])
        row = cursor.fetchone()
    if row is None:
        return None
    size = len(_fields(ProcessInstance))
    instance = _from_row(ProcessInstance, row[:size])
    return _with_version(instance, instance.version_id, row[size])


@_fixed_per_vendor
def _read_task_sql() -> str:
    root = _column(ProcessInstance, "root")
    return (
        f"SELECT {_select_list(HumanTask, 't')}, {_select_list(ProcessInstance, 'i')}, "
        f"v.{_column(ProcessVersion, 'checksum')} "
        f"FROM {_table(HumanTask)} t "
        f"JOIN {_table(ProcessInstance)} i ON i.id = t.{_column(HumanTask, 'instance')} "
        f"JOIN {_table(ProcessInstance)} r ON r.id = COALESCE(i.{root}, i.id) "
        f"JOIN {_table(ProcessVersion)} v ON v.id = i.{_column(ProcessInstance, 'version')} "
        f"WHERE t.{_column(HumanTask, 'id')} = %s"
    )


@_fixed_per_vendor
def _read_task_locked_sql() -> str:
    return _read_task_sql() + " FOR UPDATE OF r, i, t"


def read_task(task_id: Any, *, lock: bool = False) -> tuple[HumanTask, ProcessInstance] | None:
    """A human task with its instance (state included), in one statement.

    With `lock`, the statement also takes the family lock: it locks the root, the instance and the
    task - the root first, as everyone does - and PostgreSQL returns the latest committed version
    of each row it had to wait for. Must then run in a transaction.
    """
    sql = _read_task_locked_sql() if lock and _db().features.has_select_for_update else _read_task_sql()
    with _db().cursor() as cursor:
        cursor.execute(sql, [_prepared(HumanTask, "id", task_id)])
        row = cursor.fetchone()
    if row is None:
        return None
    task_size, instance_size = len(_fields(HumanTask)), len(_fields(ProcessInstance))
    task = _from_row(HumanTask, row[:task_size])
    instance = _from_row(ProcessInstance, row[task_size : task_size + instance_size])
    _with_version(instance, instance.version_id, row[-1])
    task.instance = instance
    return task, instance


_VERSION_FIELDS = ("id", "model_id", "number", "checksum", "serializer_version")
_MODEL_FIELDS = ("id", "process_id", "name")


def _version_select() -> str:
    columns = [f"v.{_qn(ProcessVersion._meta.get_field(name).column)}" for name in _VERSION_FIELDS]
    columns += [f"m.{_qn(ProcessModel._meta.get_field(name).column)}" for name in _MODEL_FIELDS]
    return (
        f"SELECT {', '.join(columns)} FROM {_table(ProcessVersion)} v "
        f"JOIN {_table(ProcessModel)} m ON m.id = v.{_column(ProcessVersion, 'model')} "
        f"WHERE m.{_column(ProcessModel, 'process_id')} = %s"
    )


@_fixed_per_vendor
def _latest_version_sql() -> str:
    return f"{_version_select()} ORDER BY v.{_column(ProcessVersion, 'number')} DESC LIMIT 1"


@_fixed_per_vendor
def _numbered_version_sql() -> str:
    return f"{_version_select()} AND v.{_column(ProcessVersion, 'number')} = %s"


def read_version(process_id: str, number: int | None = None) -> ProcessVersion | None:
    """A process's latest version (or the one numbered `number`) with its model, without the specs
    (`sessions.specs_for` caches them per version): the lookup every start makes."""
    if number is None:
        sql, params = _latest_version_sql(), [process_id]
    else:
        sql, params = _numbered_version_sql(), [process_id, number]
    with _db().cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    size = len(_VERSION_FIELDS)
    version = ProcessVersion.from_db(DEFAULT_DB_ALIAS, _VERSION_FIELDS, row[:size])
    version.model = ProcessModel.from_db(DEFAULT_DB_ALIAS, _MODEL_FIELDS, row[size:])
    return version


def insert_instance(
    instance: ProcessInstance, *, then: Callable[[Any], list[Statement]] | None = None
) -> int:
    """INSERT a new instance row and return its id (one statement, unlike the ORM's save).

    `then`, given how to refer to the new row's id, returns the writes that go with the row (its
    first task, its audit events): on PostgreSQL they travel in the same statement as
    data-modifying CTEs that read the id from the insert; elsewhere they run after it, given the id.
    """
    db = _db()
    values = {f.name: f.pre_save(instance, add=True) for f in _fields(ProcessInstance) if not f.primary_key}
    statement = insert_rows(ProcessInstance, [values])
    if then is not None and db.vendor == "postgresql":
        more = then(_NEW_INSTANCE_ID)
        if more:
            parts, params = [f"s0 AS ({statement.sql} RETURNING id)"], list(statement.params)
            for index, part in enumerate(more, start=1):
                parts.append(f"s{index} AS ({part.sql})")
                params.extend(part.params)
            with db.cursor() as cursor:
                cursor.execute(f"WITH {', '.join(parts)} SELECT id FROM s0", params)
                return cursor.fetchone()[0]
        then = None
    with db.cursor() as cursor:
        if db.features.can_return_columns_from_insert:
            cursor.execute(f"{statement.sql} RETURNING id", statement.params)
            new_id = cursor.fetchone()[0]
        else:
            cursor.execute(statement.sql, statement.params)
            new_id = cursor.lastrowid
    if then is not None:
        execute(then(new_id))
    return new_id


# The new row's id inside the statement that inserts it (`insert_instance` on PostgreSQL).
_NEW_INSTANCE_ID = Sql("(SELECT id FROM s0)")


# --- locking --------------------------------------------------------------------------------


@_fixed_per_vendor
def _lock_family_sql() -> str:
    root = _column(ProcessInstance, "root")
    inner = f"SELECT COALESCE({root}, id) FROM {_table(ProcessInstance)} WHERE id = %s"
    return f"SELECT id FROM {_table(ProcessInstance)} WHERE id = ({inner}) FOR UPDATE"


@_fixed_per_vendor
def _lock_family_skip_locked_sql() -> str:
    return _lock_family_sql() + " SKIP LOCKED"


def lock_family(*, instance_id: int, skip_locked: bool = False) -> bool:
    """Lock the root instance of a family (the instance, its linked callers and callees).

    Every change to any member happens under this one row lock, so a child that completes and
    resumes its parent can never deadlock with an operation on the parent. Returns False if the
    family is locked by someone else and `skip_locked` was asked for. On SQLite the transaction
    (BEGIN IMMEDIATE) already holds the database's write lock.
    """
    if not _db().features.has_select_for_update:
        return True
    sql = _lock_family_skip_locked_sql() if skip_locked else _lock_family_sql()
    with _db().cursor() as cursor:
        cursor.execute(sql, [instance_id])
        return cursor.fetchone() is not None


# --- writing --------------------------------------------------------------------------------


# The connection is looked up once per statement and passed down: `connections[...]` goes through a
# thread-local on every call, which shows at the hundred values a save prepares.


def update_instance(instance: ProcessInstance, **values: Any) -> Statement:
    """Set `values` and bump the revision, only if nobody else saved since we read it."""
    db = _db()
    assignments, params = [], []
    for name, value in values.items():
        assignments.append(f"{_column(ProcessInstance, name, db)} = %s")
        params.append(_prepared(ProcessInstance, name, value, db))
    revision = _column(ProcessInstance, "revision", db)
    assignments.append(f"{revision} = {revision} + 1")
    return Statement(
        f"UPDATE {_table(ProcessInstance)} SET {', '.join(assignments)} WHERE id = %s AND {revision} = %s",
        [*params, instance.pk, instance.revision],
    )


def update_rows(
    model: type[Model], keys: Iterable[Any], *, only_if: dict | None = None, **values: Any
) -> Statement:
    db = _db()
    keys = list(keys)
    pk = model._meta.pk
    assignments = ", ".join(f"{_column(model, name, db)} = %s" for name in values)
    params = [_prepared(model, name, value, db) for name, value in values.items()]
    where = f"{_qn(pk.column)} IN ({', '.join(['%s'] * len(keys))})"
    params += [_prepare(pk, key, db) for key in keys]
    for name, value in (only_if or {}).items():
        where += f" AND {_column(model, name, db)} = %s"
        params.append(_prepared(model, name, value, db))
    return Statement(f"UPDATE {_table(model)} SET {assignments} WHERE {where}", params)


def insert_rows(
    model: type[Model], rows: list[dict], *, upsert: Sequence[str] = (), conflict: Sequence[str] | None = None
) -> Statement:
    """INSERT several rows; values may be `Sql` expressions. With `upsert`, a row that clashes on the
    `conflict` columns (default: the primary key) gets those columns updated instead."""
    db = _db()
    names = tuple(rows[0])
    head, fields, tail = _insert_shape(db.vendor, model, names, tuple(upsert), tuple(conflict or ()))
    tuples, params = [], []
    for row in rows:
        parts = []
        for name, model_field in zip(names, fields, strict=True):
            value = row[name]
            if isinstance(value, Sql):
                parts.append(value.text)
                params.extend(value.params)
            elif value is None:
                parts.append("NULL")  # every field stores None as NULL: nothing to prepare or send
            else:
                parts.append("%s")
                params.append(_prepare(model_field, value, db))
        tuples.append(f"({', '.join(parts)})")
    return Statement(f"{head}{', '.join(tuples)}{tail}", params)


@functools.lru_cache(maxsize=256)
def _insert_shape(
    vendor: str, model: type[Model], names: tuple, upsert: tuple, conflict: tuple
) -> tuple[str, tuple, str]:
    """The fixed text around an INSERT's values, and the fields of its columns, per row shape."""
    db = _db()
    columns = ", ".join(_column(model, name, db) for name in names)
    head = f"INSERT INTO {_table(model)} ({columns}) VALUES "
    tail = ""
    if upsert:
        target = (
            ", ".join(_column(model, n, db) for n in conflict) if conflict else _qn(model._meta.pk.column)
        )
        updates = ", ".join(f"{_column(model, n, db)} = EXCLUDED.{_column(model, n, db)}" for n in upsert)
        tail = f" ON CONFLICT ({target}) DO UPDATE SET {updates}"
    return head, tuple(_field(model, name) for name in names), tail


def delete_where(model: type[Model], name: str, values: Iterable[Any], **where: Any) -> Statement:
    """DELETE the rows whose `name` is one of `values` (and whose other columns equal `where`)."""
    db = _db()
    values = list(values)
    params = [_prepared(model, name, value, db) for value in values]
    condition = f"{_column(model, name, db)} IN ({', '.join(['%s'] * len(values))})"
    for column, value in where.items():
        condition += f" AND {_column(model, column, db)} = %s"
        params.append(_prepared(model, column, value, db))
    return Statement(f"DELETE FROM {_table(model)} WHERE {condition}", params)


def seconds_between(later: str, earlier: str, vendor: str | None = None) -> str:
    """SQL for the seconds from `earlier` to `later` (two datetime expressions), as a float."""
    if (vendor or _db().vendor) == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS DOUBLE PRECISION)"
    # SQLite keeps datetimes as ISO text, which julianday() reads (fractional days).
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def end_waits(instance_id: int, task_ids: Iterable[Any], *, at: Any) -> Statement:
    """The instance's open waits of these tasks, ended `at`, with their length."""
    db = _db()
    started, ended = _column(Wait, "started_at", db), _column(Wait, "ended_at", db)
    seconds = seconds_between("%s", started, db.vendor)
    at = _prepared(Wait, "ended_at", at, db)
    where, params = _open_waits(instance_id, task_ids, db)
    return Statement(
        f"UPDATE {_table(Wait)} SET {ended} = %s, {_column(Wait, 'seconds', db)} = {seconds} WHERE {where}",
        [at, at, *params],
    )


def withdraw_waits(instance_id: int, task_ids: Iterable[Any]) -> Statement:
    """The instance's open waits of these tasks, removed: they did not end there."""
    where, params = _open_waits(instance_id, task_ids, _db())
    return Statement(f"DELETE FROM {_table(Wait)} WHERE {where}", params)


def _open_waits(instance_id: int, task_ids: Iterable[Any], db) -> tuple[str, list]:
    keys = [_prepared(Wait, "task_id", key, db) for key in task_ids]
    where = (
        f"{_column(Wait, 'instance', db)} = %s AND {_column(Wait, 'ended_at', db)} IS NULL"
        f" AND {_column(Wait, 'task_id', db)} IN ({', '.join(['%s'] * len(keys))})"
    )
    return where, [instance_id, *keys]


def execute(statements: list[Statement], *, checked: Statement | None = None) -> None:
    """Run the statements in the current transaction. `checked` must change exactly one row,
    otherwise someone else saved first: ConcurrentUpdate (and the transaction rolls back)."""
    ordered = ([checked] if checked is not None else []) + statements
    if not ordered:
        return
    db = _db()
    with db.cursor() as cursor:
        if db.vendor == "postgresql" and len(ordered) > 1:
            # One round trip: every write as a data-modifying CTE of a single statement.
            parts, params = [], []
            for index, statement in enumerate(ordered):
                returning = " RETURNING 1" if statement is checked else ""
                parts.append(f"s{index} AS ({statement.sql}{returning})")
                params.extend(statement.params)
            tail = "SELECT count(*) FROM s0" if checked is not None else "SELECT 1"
            cursor.execute(f"WITH {', '.join(parts)} {tail}", params)
            changed = cursor.fetchone()[0]
        else:
            changed = None
            for statement in ordered:
                cursor.execute(statement.sql, statement.params)
                if statement is checked:
                    changed = cursor.rowcount
    if checked is not None and changed != 1:
        raise ConcurrentUpdate()


# --- who gets a new task, resolved inside the insert ------------------------------------------


def role_expression(*, candidate_groups: Sequence[str], lane: str, fallback: str) -> Sql:
    """The task's role: its first existing candidate group, else its lane's mapping, else the group
    named like the lane, else the fallback role."""
    params = list(candidate_groups)
    if lane:
        params += [lane, lane]
    params.append(fallback)
    return Sql(_role_text(_db().vendor, len(candidate_groups), bool(lane)), params)


@functools.lru_cache(maxsize=64)
def _role_text(vendor: str, candidates: int, lane: bool) -> str:
    group = _table(Group)
    options = [f"(SELECT id FROM {group} WHERE name = %s)"] * candidates
    if lane:
        lane_role = f"SELECT {_column(LaneRole, 'role')} FROM {_table(LaneRole)}"
        options.append(f"({lane_role} WHERE {_column(LaneRole, 'lane')} = %s)")
        options.append(f"(SELECT id FROM {group} WHERE name = %s)")
    options.append(f"(SELECT id FROM {group} WHERE name = %s)")
    if len(options) == 1:
        return options[0]  # SQLite's COALESCE wants two arguments or more
    return f"COALESCE({', '.join(options)})"


def role_name(*, candidate_groups: Sequence[str], lane: str, fallback: str) -> str:
    """The name of the role `role_expression` gives a task (the fallback's name if even that
    group does not exist)."""
    role = role_expression(candidate_groups=candidate_groups, lane=lane, fallback=fallback)
    with _db().cursor() as cursor:
        cursor.execute(f"SELECT name FROM {_table(Group)} WHERE id = {role.text}", role.params)
        row = cursor.fetchone()
    return row[0] if row is not None else fallback


def active_user_expression(username: str) -> Sql:
    return Sql(_active_user_text(_db().vendor), [username, True])


@functools.lru_cache(maxsize=8)
def _active_user_text(vendor: str) -> str:
    user = get_user_model()
    return (
        f"(SELECT id FROM {_table(user)} WHERE {_column(user, user.USERNAME_FIELD)} = %s "
        f"AND {_column(user, 'is_active')} = %s)"
    )
