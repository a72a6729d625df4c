"""Programmes, enrolments and stages.

Enrolling a customer starts its programme instance; from then on the stage moves only through the
BPMN (the team leader's stage review) and is mirrored here by the programme's service tasks.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onsite.access import check_role
from onsite.exceptions import InvalidInput, OnsiteError
from onsite.models import (
    Cadence,
    Customer,
    Enrolment,
    Programme,
    Region,
    StageAssessment,
    StageChange,
    Visit,
)
from onsite.roles import COORDINATOR
from onsite.services.customers import validate
from onsite.services.processes import start_domain_process
from onsite.stages import clean_factors, next_stage, suggest_stage
from onsite.stages import describe as describe_suggestion
from workflows.actors import acting_for, person
from workflows.exceptions import WorkflowError
from workflows.services import deliver_message, latest_version

PROGRAMME_PROCESS = "onsite_programme"
# About one stage review a month, whatever the cadence.
DEFAULT_VISITS_PER_REVIEW = {Cadence.WEEKLY: 4, Cadence.BIWEEKLY: 2, Cadence.MONTHLY: 1}


def create_programme(
    *,
    name: str,
    region: Region,
    start_date: date,
    user: Any,
    cadence: str = Cadence.BY_TIER,
    end_date: date | None = None,
    process_version: Any = None,
    visits_per_review: int | None = None,
) -> Programme:
    """A programme runs the given version of the programme process (by default the latest). Its
    visits follow each customer's service tier (`Cadence.BY_TIER`, the default) or one cadence for
    all. The team leader reviews each customer's stage after every `visits_per_review` visits (by
    default about once a month: every 4th weekly visit, every 2nd fortnightly one, every monthly one;
    at the cadence each visit was scheduled with when the programme follows the tiers)."""
    check_role(user, COORDINATOR)
    if process_version is None:
        try:
            process_version = latest_version(PROGRAMME_PROCESS)
        except WorkflowError as exc:
            raise OnsiteError(str(exc)) from None
    programme = Programme(
        name=name.strip(),
        region=region,
        start_date=start_date,
        end_date=end_date,
        cadence=cadence,
        visits_per_review=DEFAULT_VISITS_PER_REVIEW.get(cadence)
        if visits_per_review is None
        else visits_per_review,
        process_version=process_version,
        coordinator=person(user),
    )
    errors = {}
    if end_date is not None and end_date < start_date:
        errors["end_date"] = [_("The programme cannot end before it starts.")]
    try:
        validate(programme)
    except InvalidInput as exc:
        errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    programme.save()
    return programme


def enrol_customer(
    *,
    programme: Programme,
    customer: Customer,
    factors: dict,
    user: Any,
    stage: str | None = None,
    reason: str = "",
    screening_score: Any = None,
    screening_reason: str = "",
) -> Enrolment:
    """Enrol a customer and start its programme instance in the stage the factors suggest (or the
    coordinator's choice, with a reason). All or nothing: if the instance cannot start, nothing is kept."""
    check_role(user, COORDINATOR)
    ended = programme.end_date is not None and programme.end_date < timezone.localdate()
    if programme.status != Programme.Status.ACTIVE or ended:
        raise OnsiteError(_("Programme %(programme)s is closed.") % {"programme": programme})
    errors: dict[str, list[str]] = {}
    if customer.account_manager_id is None:
        errors["customer"] = [_("%(customer)s has no account manager.") % {"customer": customer}]
    elif not Region.objects.within(programme.region).filter(pk=customer.region_id).exists():
        errors["customer"] = [
            _("%(customer)s is not in the programme's region %(region)s.")
            % {"customer": customer, "region": programme.region}
        ]
    cleaned = clean_factors(factors)
    suggestion = suggest_stage(cleaned)
    chosen = stage or suggestion.stage
    if chosen not in dict(Enrolment._meta.get_field("stage").choices):
        errors["stage"] = [_("Unknown stage.")]
    elif chosen != suggestion.stage and not reason.strip():
        errors["reason"] = [_("Say why the customer starts in another stage than the one suggested.")]
    if errors:
        raise InvalidInput(errors)
    now = timezone.now()
    with transaction.atomic():
        _refuse_if_enrolled(programme, customer)
        try:
            # Two enrolments of one customer at the same moment both pass the check above; the
            # constraints let one in and the other gets the same refusal as if it had come second.
            with transaction.atomic():
                enrolment = Enrolment.objects.create(
                    programme=programme,
                    customer=customer,
                    stage=chosen,
                    enrolled_by=person(user),
                    screening_score=screening_score,
                    screening_reason=screening_reason,
                    **cleaned,
                )
        except IntegrityError:
            _refuse_if_enrolled(programme, customer)
            raise OnsiteError(
                _("%(customer)s was enrolled by someone else at the same moment; please try again.")
                % {"customer": customer}
            ) from None
        why = reason.strip() or describe_suggestion(suggestion)
        StageAssessment.objects.create(
            enrolment=enrolment,
            stage=chosen,
            decision=StageAssessment.Decision.INITIAL,
            note=why,
            assessed_by=person(user),
            at=now,
            **cleaned,
        )
        StageChange.objects.create(
            enrolment=enrolment, from_stage="", to_stage=chosen, actor=person(user), at=now, reason=why
        )
        version = programme.process_version
        enrolment.instance = start_domain_process(
            version.model.process_id,
            version=version.number,
            business_key=customer.code,
            user=user,
            data={
                "enrolment_id": enrolment.pk,
                "customer_id": customer.pk,
                "customer_name": customer.name,
                "stage": chosen,
            },
            failure=_("The programme instance could not start: %(message)s"),
        )
        enrolment.save(update_fields=["instance"])
    return enrolment


def _refuse_if_enrolled(programme: Programme, customer: Customer) -> None:
    active = Enrolment.objects.filter(customer=customer, status=Enrolment.Status.ACTIVE).first()
    if active is not None:
        raise OnsiteError(
            _("%(customer)s is already in programme %(programme)s.")
            % {"customer": customer, "programme": active.programme}
        )
    # One enrolment per customer and programme (unique_enrolment): say so rather than fail on it.
    if Enrolment.objects.filter(programme=programme, customer=customer).exists():
        raise OnsiteError(
            _("%(customer)s has already been in programme %(programme)s.")
            % {"customer": customer, "programme": programme}
        )


def end_enrolment_early(*, enrolment: Enrolment, reason: str, user: Any) -> Enrolment:
    """The coordinator ends a customer's programme: a message to its instance, whose service task
    then records the end here."""
    check_role(user, COORDINATOR)
    if not reason.strip():
        raise InvalidInput({"reason": [_("Say why the programme ends early.")]})
    if enrolment.status != Enrolment.Status.ACTIVE or enrolment.instance_id is None:
        raise OnsiteError(_("This programme has already ended."))
    try:
        deliver_message(
            name="end_programme",
            correlation={"instance_id": enrolment.instance_id},
            payload={"reason": reason.strip()},
            user=acting_for(user),
        )
    except WorkflowError as exc:
        raise OnsiteError(str(exc)) from None
    enrolment.refresh_from_db()
    return enrolment


# --- mirrored from the programme instance by its service tasks -----------------------------------


def stage_review_due(programme: Programme, visit: Visit) -> bool:
    """The team leader reviews the stage after every `visits_per_review`-th visit of an enrolment
    (unset: about monthly at the cadence the visit was scheduled with)."""
    every = programme.visits_per_review or DEFAULT_VISITS_PER_REVIEW.get(visit.cadence, 1)
    return visit.number % max(every, 1) == 0


def record_stage_review(
    *, enrolment: Enrolment, decision: str, note: str, factors: dict, visit: Any, actor: Any, task_id: Any
) -> StageAssessment:
    """The team leader's stage review: the factors as scored now, and the decision."""
    cleaned = clean_factors(factors or {}, required=False)
    values = {
        "enrolment": enrolment,
        "stage": enrolment.stage,
        "decision": decision,
        "note": note,
        "visit": visit,
        "assessed_by": person(actor),
        "at": timezone.now(),
        **cleaned,
    }
    if task_id is None:  # not from a task: nothing to find again (task_id=None would match any such row)
        assessment, created = StageAssessment.objects.create(**values), True
    else:
        assessment, created = StageAssessment.objects.get_or_create(task_id=task_id, defaults=values)
    if created and cleaned:
        for name, value in cleaned.items():
            setattr(enrolment, name, value)
        enrolment.save(update_fields=list(cleaned))
    return assessment


def advance_stage(*, enrolment: Enrolment, reason: str, actor: Any, task_id: Any) -> str:
    """Move to the next stage; returns it. A retried task finds its change already made."""
    # Without a task there is no retry to recognise (task_id=None would match the enrolment's first change).
    done = StageChange.objects.filter(task_id=task_id).first() if task_id is not None else None
    if done is not None:
        return done.to_stage
    following = next_stage(enrolment.stage)
    if following is None:
        raise OnsiteError(_("Targeted win-back is the last stage."))
    StageChange.objects.create(
        enrolment=enrolment,
        from_stage=enrolment.stage,
        to_stage=following,
        actor=person(actor),
        at=timezone.now(),
        reason=reason,
        task_id=task_id,
    )
    enrolment.stage = following
    enrolment.save(update_fields=["stage"])
    # The visit scheduled alongside the review, not yet made, belongs to the new stage.
    enrolment.visits.filter(status__in=(Visit.Status.SCHEDULED, Visit.Status.PLANNED)).update(stage=following)
    return following


def close_enrolment(*, enrolment: Enrolment, outcome: str, reason: str = "") -> None:
    if outcome not in (Enrolment.Status.COMPLETED, Enrolment.Status.ENDED_EARLY):
        raise OnsiteError(_("Unknown programme outcome '%(outcome)s'.") % {"outcome": outcome})
    if enrolment.status != Enrolment.Status.ACTIVE:
        return
    enrolment.status = outcome
    enrolment.ended_at = timezone.now()
    enrolment.end_reason = reason
    enrolment.save(update_fields=["status", "ended_at", "end_reason"])
    # The engine terminated the visit in progress with the programme.
    enrolment.visits.exclude(status__in=(Visit.Status.CLOSED, Visit.Status.CANCELLED)).update(
        status=Visit.Status.CANCELLED
    )
