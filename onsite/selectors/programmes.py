"""The programme pages' reads: the list with its enrolment counts, a programme with its enrolments by
stage, an enrolment with its stage assessments, stage history and current visit, the screening
result, and what a programme is set up from (regions, the programme process's versions).

Who reads what is `onsite.access` (`programmes_visible_to`, `enrolments_visible_to`); who may set
up and enrol is the services' (`onsite.services.programmes`), asked here only to show or hide the
buttons."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from onsite.access import (
    EVERYTHING,
    check_role,
    customers_visible_to,
    enrolment_scope,
    enrolments_visible_to,
    has_role,
    programmes_visible_to,
)
from onsite.exceptions import InvalidInput
from onsite.models import Customer, Enrolment, Programme, Region, Stage, Visit
from onsite.models.programmes import StageFactors
from onsite.roles import COORDINATOR, LEADERSHIP, TEAM_LEADER
from onsite.selectors.screening import ScreeningCriteria, describe, screen_customers
from onsite.services.programmes import PROGRAMME_PROCESS
from onsite.stages import StageSuggestion, clean_factors, suggest_stage
from onsite.stages import describe as describe_suggestion
from workflows.models import ProcessInstance, ProcessVersion

ACTIVE = Enrolment.Status.ACTIVE


def may_run_programmes(user: Any) -> bool:
    """Whether `user` may set up programmes and enrol customers (the buttons; the services decide)."""
    return has_role(user, COORDINATOR)


def check_may_run_programmes(user: Any) -> None:
    """The setting-up and enrolling pages are the coordinators' (`NotPermitted`: a 404 to others)."""
    check_role(user, COORDINATOR)


def check_may_read_programmes(user: Any) -> None:
    """The programme list: coordinators, leadership, team leaders (who see their customers' part)."""
    check_role(user, COORDINATOR, LEADERSHIP, TEAM_LEADER)


def may_screen(user: Any) -> bool:
    return has_role(user, COORDINATOR, LEADERSHIP)


def check_may_screen(user: Any) -> None:
    """Screening: coordinators (who enrol from it) and leadership (who read it)."""
    check_role(user, COORDINATOR, LEADERSHIP)


# --- the list and a programme -------------------------------------------------------------------


def programme_list(*, user: Any) -> QuerySet:
    """The programmes `user` may read, newest first, each with its enrolments counted among those
    `user` may read: `enrolled` (all), `active`, and `in_<stage>` (active ones in each stage). One query."""
    # Coordinators and leadership count every enrolment: no subquery for them.
    if enrolment_scope(user) is EVERYTHING:
        visible = Q(enrolments__isnull=False)
    else:
        visible = Q(enrolments__in=enrolments_visible_to(user).values("pk"))
    counts = {
        "enrolled": Count("enrolments", filter=visible),
        "active": Count("enrolments", filter=visible & Q(enrolments__status=ACTIVE)),
    }
    for stage in Stage.values:
        counts[f"in_{stage}"] = Count(
            "enrolments", filter=visible & Q(enrolments__status=ACTIVE, enrolments__stage=stage)
        )
    return (
        programmes_visible_to(user)
        .select_related("region", "process_version__model")
        .annotate(**counts)
        .order_by("-start_date", "name", "pk")
    )


@dataclass(frozen=True)
class StageCount:
    stage: str
    label: Any
    count: int


def programme_detail(*, programme_id: int, user: Any, stage: str = "") -> dict:
    """A programme `user` may read (else `Programme.DoesNotExist`: a 404): its active enrolments
    counted by stage, the ended ones counted, and its enrolments (narrowed to `stage`, a code; an
    unknown one narrows to none) with customer, manager and region, by customer code."""
    programme = get_object_or_404(
        programmes_visible_to(user).select_related("region", "process_version__model", "coordinator"),
        pk=programme_id,
    )
    enrolments = enrolments_visible_to(user).filter(programme=programme)
    tallies = dict(enrolments.filter(status=ACTIVE).order_by().values_list("stage").annotate(n=Count("pk")))
    rows = enrolments.select_related("customer__region", "customer__account_manager").order_by(
        "customer__code"
    )
    if stage:
        rows = rows.filter(stage=stage, status=ACTIVE)
    return {
        "programme": programme,
        "stages": [StageCount(value, label, tallies.get(value, 0)) for value, label in Stage.choices],
        "active": sum(tallies.values()),
        "ended": enrolments.exclude(status=ACTIVE).count(),
        "enrolments": rows,
        "may_enrol": may_run_programmes(user) and is_open(programme),
    }


def is_open(programme: Programme) -> bool:
    ended = programme.end_date is not None and programme.end_date < timezone.localdate()
    return programme.status == Programme.Status.ACTIVE and not ended


# --- an enrolment -------------------------------------------------------------------------------


def enrolment_detail(*, enrolment_id: int, user: Any) -> dict:
    """An enrolment `user` may read (else a 404): its customer and programme, its stage assessments
    and stage history (oldest first, with who), and its current visit with that visit's instance
    (None between visits or once ended)."""
    enrolment = get_object_or_404(
        enrolments_visible_to(user).select_related(
            "programme__region",
            "programme__process_version__model",
            "customer__region",
            "customer__account_manager",
            "enrolled_by",
            "instance",
        ),
        pk=enrolment_id,
    )
    visit = (
        enrolment.visits.exclude(status__in=(Visit.Status.CLOSED, Visit.Status.CANCELLED))
        .select_related("instance", "account_manager", "support_staff")
        .order_by("-number")
        .first()
    )
    visit_instance = None
    if enrolment.instance_id is not None:
        # The visit cycle the programme runs now: the visit's own link, else the running child.
        visit_instance = (
            visit.instance
            if visit is not None and visit.instance_id
            else ProcessInstance.objects.filter(
                parent_id=enrolment.instance_id, status__in=ProcessInstance.ACTIVE_STATUSES
            )
            .order_by("-started_at")
            .first()
        )
    return {
        "enrolment": enrolment,
        "assessments": enrolment.assessments.select_related("assessed_by", "visit").order_by("at", "pk"),
        "stage_changes": enrolment.stage_changes.select_related("actor").order_by("at", "pk"),
        "visit": visit,
        "visit_instance": visit_instance,
        "visits_made": enrolment.visits.filter(status=Visit.Status.CLOSED).count(),
    }


# --- setting up ---------------------------------------------------------------------------------


def programme_regions() -> QuerySet:
    return Region.objects.order_by("code")


def programme_versions() -> QuerySet:
    """The deployed versions of the programme process, newest first: what a programme may pin."""
    return (
        ProcessVersion.objects.filter(model__process_id=PROGRAMME_PROCESS)
        .select_related("model")
        .order_by("-number")
    )


def open_programmes(*, user: Any) -> list[Programme]:
    """The programmes `user` may enrol customers into: running and not past their end."""
    if not may_run_programmes(user):
        return []
    running = programmes_visible_to(user).filter(status=Programme.Status.ACTIVE).select_related("region")
    return [programme for programme in running.order_by("-start_date", "name") if is_open(programme)]


def open_programme(*, programme_id: Any, user: Any) -> Programme | None:
    """The open programme of that id `user` may enrol into, or None."""
    return next((p for p in open_programmes(user=user) if str(p.pk) == str(programme_id)), None)


# --- screening ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreenedRow:
    rank: int
    customer: Customer
    score: Decimal
    scores: dict
    reasons: list[str]  # in the active language
    always_in: bool


def screening(criteria: ScreeningCriteria, *, user: Any) -> list[ScreenedRow]:
    """The screening page's ranked result: for coordinators (who enrol from it) and leadership (who
    read it); anyone else is refused (`NotPermitted`: a 404)."""
    check_may_screen(user)
    return [
        ScreenedRow(
            rank=rank,
            customer=item.customer,
            score=item.score,
            scores=item.scores,
            reasons=[describe(reason) for reason in item.reasons],
            always_in=item.always_in,
        )
        for rank, item in enumerate(screen_customers(criteria, user=user), start=1)
    ]


def screened_customers(criteria: ScreeningCriteria, ids: list[int], *, user: Any) -> dict[int, ScreenedRow]:
    """The screening rows of the customers `ids` (by id), screened as the criteria screen; a chosen
    customer the criteria no longer rank (enrolled meanwhile, changed) is left out."""
    wanted = set(ids)
    return {row.customer.pk: row for row in screening(criteria, user=user) if row.customer.pk in wanted}


def chosen_customers(ids: list[int], *, user: Any) -> list[Customer]:
    """The customers of `ids` `user` may read, by code (one the reader may not read is left out)."""
    return list(
        customers_visible_to(user)
        .filter(pk__in=ids)
        .select_related("region", "account_manager")
        .order_by("code")
    )


def stage_suggestion(factors: dict) -> tuple[StageSuggestion | None, str]:
    """The stage the factors suggest and why, in the active language; (None, "") until all four are
    scored from 1 to 5."""
    try:
        suggestion = suggest_stage(clean_factors(factors))
    except InvalidInput:  # an incomplete scoring has no suggestion yet
        return None, ""
    return suggestion, describe_suggestion(suggestion)


FACTOR_FIELDS = StageFactors.FIELDS
