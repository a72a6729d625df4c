"""The heat-map of a process version: where its instances wait now and how long they spent at each
element over a period, in one aggregating statement whatever the number of elements or instances.

What is measured, per BPMN element id:

- waiting now: the unfinished instances (not completed or terminated; suspended ones included)
  that have an open human task there, a timer armed there or a message subscription there, and
  the instances in error whose failure names that element (`ProcessInstance.error["bpmn_id"]`).
  A boundary timer or an event sub-process's message start counts the instances it watches.
- time spent there, over the period: for human tasks, `completed_at - created_at` of the tasks
  completed in it; for timer and message events, from the instance's previous event that moved it
  (started, a task completed, a timer fired, a message delivered, retried, resumed) to the
  `timer_fired` / `message_delivered` event recorded in the period. The engine records no "timer
  set" event, and the previous move is when the instance reached the timer (for a boundary timer
  that is when its task opened). Older `message_delivered` events name no element and are left out.
- the median and the 90th percentile of those times as PostgreSQL's `percentile_cont` gives them:
  on PostgreSQL by that aggregate itself, on SQLite interpolated between the two nearest ranks
  picked by window functions (`ROW_NUMBER`/`COUNT OVER (PARTITION BY bpmn_id)`): the durations are
  never loaded into Python.

Times in an error state are not measured (an instance in error has no end of its wait yet).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from lxml import etree

from workflows.facets import facet_filter
from workflows.models import (
    AuditEvent,
    HumanTask,
    MessageSubscription,
    ProcessInstance,
    ProcessVersion,
    Timer,
)

# Events after which an instance has moved on to its next wait.
MOVING_KINDS = (
    AuditEvent.Kind.STARTED,
    AuditEvent.Kind.COMPLETED,
    AuditEvent.Kind.TIMER_FIRED,
    AuditEvent.Kind.MESSAGE_DELIVERED,
    AuditEvent.Kind.RETRIED,
    AuditEvent.Kind.RESUMED,
)
# Events that end a wait at a timer or message event and name it.
WAIT_ENDING_KINDS = (AuditEvent.Kind.TIMER_FIRED, AuditEvent.Kind.MESSAGE_DELIVERED)
HEAT_LEVELS = 5  # heat-1 … heat-5; heat-0 for elements with figures but none of the measure
MEASURES = ("waiting", "p90")


@dataclass(frozen=True)
class Period:
    """From `start` (included) to `end` (excluded), aware datetimes."""

    start: datetime
    end: datetime


@dataclass
class ElementHeat:
    bpmn_id: str
    waiting: int = 0  # instances waiting there now, including those in error there
    failed: int = 0  # of which in error there
    measured: int = 0  # waits that ended there in the period
    median: float | None = None  # seconds
    p90: float | None = None  # seconds
    heat: int = 0


@dataclass
class HeatMap:
    elements: dict[str, ElementHeat] = field(default_factory=dict)
    measure: str = "waiting"


def version_by_number(process_id: str, number: int) -> ProcessVersion | None:
    return (
        ProcessVersion.objects.select_related("model")
        .filter(model__process_id=process_id, number=number)
        .first()
    )


_BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def diagram_elements(xml: str) -> dict[str, tuple[str, str]]:
    """The diagram's elements, `{id: (name, BPMN type)}` (from a deployed, hence validated, file;
    parsed without entities or network all the same)."""
    if not xml:
        return {}
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(xml.encode(), parser)
    except etree.XMLSyntaxError:
        return {}
    elements = {}
    for node in root.iter(f"{{{_BPMN_NS}}}*"):
        key = node.get("id")
        if key:
            elements[key] = (node.get("name") or "", etree.QName(node).localname)
    return elements


def instances_of(version: ProcessVersion | int, chosen: Mapping[str, str] | None = None) -> QuerySet:
    """The version's instances, filtered by the domain's facets chosen (`{name: value}`)."""
    version_id = version.pk if isinstance(version, ProcessVersion) else version
    return ProcessInstance.objects.filter(version_id=version_id).filter(facet_filter(dict(chosen or {})))


def heat_map(
    version: ProcessVersion | int,
    *,
    period: Period,
    chosen: Mapping[str, str] | None = None,
    measure: str = "waiting",
) -> HeatMap:
    """The figures of every element that has any, coloured by `measure` ("waiting" or "p90"): an
    element's heat is its share of the largest value among the version's elements, in fifths
    (heat-1 up to 20 %, … heat-5 above 80 %), heat-0 when it has figures but none of the measure.
    One SQL statement (on PostgreSQL after one setting the transaction's JIT and sort memory)."""
    instances = instances_of(version, chosen)
    unfinished = instances.exclude(status__in=ProcessInstance.ENDED_STATUSES).values("pk")
    sql, params = _statement(instances, unfinished, period)
    rows = _fetched(sql, params)
    result = HeatMap(measure=measure if measure in MEASURES else "waiting")
    for bpmn_id, waiting, failed, count, lo50, hi50, lo90, hi90 in rows:
        if not bpmn_id:
            continue  # an error that names no element (the engine failed outside any task)
        result.elements[bpmn_id] = ElementHeat(
            bpmn_id=bpmn_id,
            waiting=int(waiting or 0),
            failed=int(failed or 0),
            measured=int(count or 0),
            median=_interpolated(lo50, hi50, count, 50),
            p90=_interpolated(lo90, hi90, count, 90),
        )
    _colour(result)
    return result


def _fetched(sql: str, params: tuple) -> list[tuple]:
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    with transaction.atomic(), connection.cursor() as cursor:
        # For this transaction: no JIT (compiling the statement costs more than running it) and
        # room to sort the period's durations in memory rather than on disk.
        cursor.execute("SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)")
        cursor.execute(sql, params)
        return cursor.fetchall()


def _colour(result: HeatMap) -> None:
    values = {k: getattr(e, result.measure) or 0 for k, e in result.elements.items()}
    top = max(values.values(), default=0)
    for key, element in result.elements.items():
        element.heat = math.ceil(HEAT_LEVELS * values[key] / top) if top and values[key] else 0


def _interpolated(lower: Any, upper: Any, count: Any, percent: int) -> float | None:
    """percentile_cont's value from the two ranks the statement picked (1 + p·(n−1), floor and
    ceiling)."""
    if not count or lower is None:
        return None
    position = percent * (int(count) - 1)
    fraction = (position % 100) / 100
    upper = lower if upper is None else upper
    return float(lower) + (float(upper) - float(lower)) * fraction


def _sql(queryset: QuerySet) -> tuple[str, tuple]:
    # Without the models' default ordering: these are parts of a UNION ALL.
    sql, params = queryset.order_by().query.get_compiler(connection=connection).as_sql()
    return sql, tuple(params)


def _of(rows: QuerySet, instances: QuerySet) -> QuerySet:
    """`rows` of these instances. The instance id is compared as `instance_id + 0`, which no index
    serves: SQLite then reads the rows through their own index (an element's open tasks, a period's
    completions) and looks each instance up, instead of walking every instance of the version and
    all its rows; PostgreSQL hashes the instances either way."""
    return rows.alias(
        of_instance=ExpressionWrapper(F("instance_id") + 0, output_field=IntegerField())
    ).filter(of_instance__in=instances)


def _is(model: type, field: str, *constants: str) -> ExpressionWrapper:
    """`field = 'constant'` (or `field IN (...)`) with the constants written in the statement, not as
    parameters: SQLite uses a partial index whose predicate is that comparison only when the query
    states the same constants (with parameters it reads every row from the table to check them)."""
    choices = {value for value, _label in model._meta.get_field(field).choices}
    if not constants or not set(constants) <= choices:
        raise ValueError(constants)  # only the model's own choices are ever spliced in
    quote = connection.ops.quote_name
    column = f"{quote(model._meta.db_table)}.{quote(field)}"
    listed = ", ".join(f"'{c}'" for c in constants)
    test = f"{column} = {listed}" if len(constants) == 1 else f"{column} IN ({listed})"
    return ExpressionWrapper(RawSQL(test, ()), output_field=BooleanField())  # noqa: S611


def _seconds(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS DOUBLE PRECISION)"
    # SQLite keeps datetimes as ISO text, which julianday() reads (fractional days).
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def _ranked(durations: str, no_number: str) -> str:
    """Per element: how many durations, and for the median and the 90th percentile the two values
    percentile_cont interpolates between (or, on PostgreSQL, its value and NULL). A wait with no
    earlier move (none recorded) has no time: it is left out of the counts and the ranks."""
    if connection.vendor == "postgresql":
        # The ordered-set aggregate sorts each element's numbers apart: cheaper than ranking all
        # rows by element and time with window functions.
        return f"""
            SELECT d.bpmn_id COLLATE "C", 0, 0, COUNT(d.s),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY d.s), {no_number},
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY d.s), {no_number}
            FROM ({durations}) d
            GROUP BY d.bpmn_id COLLATE "C"
        """  # noqa: S608
    return f"""
            SELECT r.bpmn_id, 0, 0, MAX(r.n),
                   MAX(CASE WHEN r.rn = 1 + (50 * (r.n - 1)) / 100 THEN r.s END),
                   MAX(CASE WHEN r.rn = 1 + (50 * (r.n - 1) + 99) / 100 THEN r.s END),
                   MAX(CASE WHEN r.rn = 1 + (90 * (r.n - 1)) / 100 THEN r.s END),
                   MAX(CASE WHEN r.rn = 1 + (90 * (r.n - 1) + 99) / 100 THEN r.s END)
            FROM (
                SELECT d.bpmn_id, d.s,
                       ROW_NUMBER() OVER (PARTITION BY d.bpmn_id ORDER BY d.s NULLS LAST) AS rn,
                       -- The same partition, unordered (the whole partition is its frame): one sort.
                       COUNT(d.s) OVER (PARTITION BY d.bpmn_id) AS n
                FROM ({durations}) d
            ) r
            GROUP BY r.bpmn_id
        """  # noqa: S608


def _statement(instances: QuerySet, unfinished: QuerySet, period: Period) -> tuple[str, tuple]:
    """Waits now (task, timer, message, error) and the durations of the period, ranked per
    element, joined by a UNION ALL and one GROUP BY."""
    # Each source counted apart, grouped in its own index order (an instance waits at an element
    # through one source only: a task, a timer or a message).
    tasks, timers, messages = (
        _sql(_of(rows, unfinished).values("bpmn_id").annotate(waiting=Count("instance_id", distinct=True)))
        for rows in (
            HumanTask.objects.filter(_is(HumanTask, "status", HumanTask.Status.OPEN)),
            Timer.objects.all(),
            MessageSubscription.objects.all(),
        )
    )
    errors = _sql(
        instances.filter(status=ProcessInstance.Status.ERROR)
        .annotate(element=KeyTextTransform("bpmn_id", "error"))
        .values("element", "pk")
    )
    done_tasks = _sql(
        _of(
            HumanTask.objects.filter(
                _is(HumanTask, "status", HumanTask.Status.COMPLETED),
                completed_at__gte=period.start,
                completed_at__lt=period.end,
            ),
            instances.values("pk"),
        ).values("bpmn_id", "created_at", "completed_at")
    )
    ended_waits = _sql(
        _of(
            AuditEvent.objects.filter(kind__in=WAIT_ENDING_KINDS, at__gte=period.start, at__lt=period.end),
            instances.values("pk"),
        )
        .annotate(element=KeyTextTransform("bpmn_id", "details"))
        .values("element", "instance_id", "pk", "at")
    )
    # The instance's previous move: its latest moving event before this one, one probe of the
    # partial index `audit_instance_moves`, whose predicate it states with the same constants.
    moving = ", ".join(f"'{kind}'" for kind in MOVING_KINDS)
    previous_move = (
        "SELECT m.at FROM workflows_auditevent m"  # noqa: S608 (constants only)
        f" WHERE m.instance_id = e.instance_id AND m.id < e.pk AND m.kind IN ({moving})"
        " ORDER BY m.id DESC LIMIT 1"
    )
    no_number = "CAST(NULL AS DOUBLE PRECISION)"
    durations = f"""
                    SELECT t.bpmn_id AS bpmn_id, {_seconds("t.completed_at", "t.created_at")} AS s
                    FROM ({done_tasks[0]}) t
                    UNION ALL
                    SELECT e.element, {_seconds("e.at", f"({previous_move})")}
                    FROM ({ended_waits[0]}) e
                    WHERE e.element IS NOT NULL
    """  # noqa: S608
    ranked = _ranked(durations, no_number)
    # Element ids grouped by their bytes: PostgreSQL's locale-aware comparison makes the sorts of
    # the grouping and the ranking several times slower (SQLite compares bytes already).
    binary = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
    # Only compiled querysets and constants are spliced in; every value is a parameter.
    sql = f"""
        SELECT bpmn_id, SUM(waiting), SUM(failed), MAX(n), MAX(lo50), MAX(hi50), MAX(lo90), MAX(hi90)
        FROM (
            SELECT w.bpmn_id{binary} AS bpmn_id, w.waiting AS waiting, 0 AS failed,
                   0 AS n, {no_number} AS lo50, {no_number} AS hi50, {no_number} AS lo90, {no_number} AS hi90
            FROM ({tasks[0]} UNION ALL {timers[0]} UNION ALL {messages[0]}) w
            UNION ALL
            SELECT f.element, COUNT(*), COUNT(*), 0, {no_number}, {no_number}, {no_number}, {no_number}
            FROM ({errors[0]}) f
            GROUP BY f.element
            UNION ALL
            {ranked}
        ) figures
        GROUP BY bpmn_id
    """  # noqa: S608
    params = tasks[1] + timers[1] + messages[1] + errors[1] + done_tasks[1] + ended_waits[1]
    return sql, params


@dataclass(frozen=True)
class Waiting:
    """An instance waiting at an element now, for the drill-down."""

    instance_id: int
    business_key: str
    status: str
    since: datetime | None
    kind: str  # "task", "timer", "message", "error"
    assignee: str


def waiting_at(
    version: ProcessVersion | int, bpmn_id: str, *, chosen: Mapping[str, str] | None = None, limit: int = 200
) -> list[Waiting]:
    """The instances waiting at `bpmn_id` now, the longest waiting first (at most `limit`), in four
    queries whatever their number: since when a task is open (its creation), a timer or message is
    awaited (the instance's previous move), an instance is in error (its last change)."""
    instances = instances_of(version, chosen)
    unfinished = instances.exclude(status__in=ProcessInstance.ENDED_STATUSES).values("pk")
    last_move = (
        AuditEvent.objects.filter(instance_id=OuterRef("instance_id"), kind__in=MOVING_KINDS)
        .order_by("-id")
        .values("at")[:1]
    )

    def rows(queryset: QuerySet, kind: str, since: Any, assignee: Any) -> QuerySet:
        return queryset.values_list(
            "instance_id",
            "instance__business_key",
            "instance__status",
            Value(kind),
            assignee,
        ).annotate(since=since)

    tasks = rows(
        _of(HumanTask.objects.filter(status=HumanTask.Status.OPEN, bpmn_id=bpmn_id), unfinished),
        "task",
        F("created_at"),
        # The person's name as the site shows it (full name, else username).
        Coalesce(
            NullIf(Trim(Concat(F("assignee__first_name"), Value(" "), F("assignee__last_name"))), Value("")),
            F("assignee__username"),
            Value(""),
            output_field=CharField(),
        ),
    )
    timers = rows(
        _of(Timer.objects.filter(bpmn_id=bpmn_id), unfinished),
        "timer",
        Subquery(last_move),
        Value(""),
    )
    messages = rows(
        _of(MessageSubscription.objects.filter(bpmn_id=bpmn_id), unfinished),
        "message",
        Subquery(last_move),
        Value(""),
    )
    errors = (
        instances.filter(status=ProcessInstance.Status.ERROR)
        # A key lookup, which compares the key's JSON value with the id's (an alias of the key's
        # text compared with a string reads the string as JSON: "malformed JSON" on SQLite).
        .filter(error__bpmn_id=bpmn_id)
        .values_list("pk", "business_key", "status", Value("error"), Value(""))
        .annotate(since=F("updated_at"))
    )
    # One query per kind of wait, each the `limit` longest at most (an ordered index scan for tasks,
    # which are most of them; timers by due time and messages by subscription, which need no
    # sorting on the previous moves): a UNION cannot limit its parts on SQLite.
    parts = [
        (tasks, F("since").asc()),
        (timers, F("due_at").asc()),
        (messages, F("pk").asc()),
        (errors, F("since").asc()),
    ]
    found = [
        Waiting(pk, key, status, since, kind, who)
        for part, order in parts
        for pk, key, status, kind, who, since in part.order_by(order)[:limit]
    ]
    found.sort(key=lambda w: (w.since is not None, w.since or datetime.min.replace(tzinfo=UTC)))
    return found[:limit]
