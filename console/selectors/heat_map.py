"""The heat-map of a process version: where its instances wait now and how long they spent at each
element over a period, in one aggregating statement whatever the number of elements or instances.

The figures come from the engine's waits (`workflows.models.Wait`), which the save that opens or
ends a wait writes beside the task table and the audit log:

- waiting now: the instances with an open wait at the element (an open human task, an armed timer,
  a message subscription; suspended instances included, ended ones have none), and the instances
  in error whose failure names that element (`ProcessInstance.error["bpmn_id"]`). A boundary
  timer or an event sub-process's message start counts the instances it watches.
- time spent there, over the period: the lengths of the waits that ended there in the period (a
  task completed, a timer fired, a message delivered), from the moment the instance reached the
  element (the task opened, the timer was armed, the subscription made).
- the median and the 90th percentile of those lengths as PostgreSQL's `percentile_cont` gives them
  (`workflows.percentiles`, the same aggregate on SQLite): the lengths are never loaded into the
  view.

The unfiltered view reads two indexes of the version's waits and the version's instances in
error; a region or team adds the check of each wait's instance against the facet's instances.
Times in an error state are not measured (an instance in error has no end of its wait yet).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import connection, transaction
from django.db.models import CharField, Count, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from lxml import etree

from workflows.facets import facet_filter
from workflows.models import HumanTask, ProcessInstance, ProcessVersion, Wait
from workflows.percentiles import Percentiles, read_percentiles

HEAT_LEVELS = 5  # heat-1 … heat-5; heat-0 for elements with figures but none of the measure
MEASURES = ("waiting", "p90")
PERCENTS = (0.5, 0.9)  # the median and the 90th percentile


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
    One SQL statement (on PostgreSQL after one setting the transaction's JIT)."""
    waits = _waits_of(version, chosen)
    waiting = (
        waits.filter(ended_at=None).values("bpmn_id").annotate(waiting=Count("instance_id", distinct=True))
    )
    failed = (
        instances_of(version, chosen)
        .filter(status=ProcessInstance.Status.ERROR)
        .annotate(element=KeyTextTransform("bpmn_id", "error"))
        .values("element")
        .annotate(failed=Count("pk"))
    )
    ended = (
        waits.filter(ended_at__isnull=False, ended_at__gte=period.start, ended_at__lt=period.end)
        .values("bpmn_id")
        .annotate(measured=Count("seconds"), percentiles=Percentiles("seconds", PERCENTS))
    )
    parts = [_sql(part) for part in (waiting, failed, ended)]
    none = "CAST(NULL AS DOUBLE PRECISION[])" if connection.vendor == "postgresql" else "NULL"
    # Only compiled querysets are spliced in; every value is a parameter.
    sql = f"""
        SELECT bpmn_id, SUM(waiting), SUM(failed), SUM(measured), MAX(percentiles)
        FROM (
            SELECT w.bpmn_id AS bpmn_id, w.waiting AS waiting, 0 AS failed, 0 AS measured,
                   {none} AS percentiles
            FROM ({parts[0][0]}) w
            UNION ALL
            SELECT f.element, f.failed, f.failed, 0, {none} FROM ({parts[1][0]}) f
            UNION ALL
            SELECT e.bpmn_id, 0, 0, e.measured, e.percentiles FROM ({parts[2][0]}) e
        ) figures
        GROUP BY bpmn_id
    """  # noqa: S608
    rows = _fetched(sql, parts[0][1] + parts[1][1] + parts[2][1])
    result = HeatMap(measure=measure if measure in MEASURES else "waiting")
    for bpmn_id, waiting_there, failed_there, measured, percentiles in rows:
        if not bpmn_id:
            continue  # an error that names no element (the engine failed outside any task)
        median, p90 = read_percentiles(percentiles) or (None, None)
        result.elements[bpmn_id] = ElementHeat(
            bpmn_id=bpmn_id,
            waiting=int(waiting_there or 0),
            failed=int(failed_there or 0),
            measured=int(measured or 0),
            median=median,
            p90=p90,
        )
    _colour(result)
    return result


def _waits_of(version: ProcessVersion | int, chosen: Mapping[str, str] | None) -> QuerySet:
    """The version's waits, of the instances of the domain's facets chosen, if any."""
    version_id = version.pk if isinstance(version, ProcessVersion) else version
    waits = Wait.objects.filter(version_id=version_id)
    if facet_filter(dict(chosen or {})):
        waits = waits.filter(instance_id__in=instances_of(version_id, chosen).values("pk"))
    return waits


def _fetched(sql: str, params: tuple) -> list[tuple]:
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    with transaction.atomic(), connection.cursor() as cursor:
        # No JIT for this transaction: compiling the statement costs more than running it.
        cursor.execute("SELECT set_config('jit', 'off', true)")
        cursor.execute(sql, params)
        return cursor.fetchall()


def _colour(result: HeatMap) -> None:
    values = {k: getattr(e, result.measure) or 0 for k, e in result.elements.items()}
    top = max(values.values(), default=0)
    for key, element in result.elements.items():
        element.heat = math.ceil(HEAT_LEVELS * values[key] / top) if top and values[key] else 0


def _sql(queryset: QuerySet) -> tuple[str, tuple]:
    # Without the models' default ordering: these are parts of a UNION ALL.
    sql, params = queryset.order_by().query.get_compiler(connection=connection).as_sql()
    return sql, tuple(params)


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
    """The instances waiting at `bpmn_id` now, the longest waiting first (at most `limit`), in two
    queries whatever their number: since when they wait there (an instance in error: since its
    last change), with a task's assignee."""
    assignee = HumanTask.objects.filter(pk=OuterRef("task_id")).annotate(
        # The person's name as the site shows it (full name, else username).
        person=Coalesce(
            NullIf(Trim(Concat(F("assignee__first_name"), Value(" "), F("assignee__last_name"))), Value("")),
            F("assignee__username"),
            output_field=CharField(),
        )
    )
    waits = (
        _waits_of(version, chosen)
        .filter(ended_at=None, bpmn_id=bpmn_id)
        .order_by("started_at")
        .values_list(
            "instance_id",
            "instance__business_key",
            "instance__status",
            "started_at",
            "kind",
            Coalesce(Subquery(assignee.values("person")[:1]), Value(""), output_field=CharField()),
        )[:limit]
    )
    errors = (
        instances_of(version, chosen)
        .filter(status=ProcessInstance.Status.ERROR)
        # A key lookup, which compares the key's JSON value with the id's (an alias of the key's
        # text compared with a string reads the string as JSON: "malformed JSON" on SQLite).
        .filter(error__bpmn_id=bpmn_id)
        .order_by("updated_at")
        .values_list("pk", "business_key", "status", "updated_at", Value("error"), Value(""))[:limit]
    )
    found = [Waiting(*row) for part in (waits, errors) for row in part]
    found.sort(key=lambda w: (w.since is not None, w.since or datetime.min.replace(tzinfo=UTC)))
    return found[:limit]
