"""Programmes, enrolments and stages.

Enrolling a customer starts its programme instance; from then on the stage moves only through the
BPMN (the team leader's stage review) and is mirrored here by the programme's service tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
    region: Region | None,
    start_date: date | str | None,
    user: Any,
    cadence: str = Cadence.BY_TIER,
    end_date: date | str | None = None,
    process_version: Any = None,
    visits_per_review: int | str | None = None,
) -> Programme:
    """A programme runs the given version of the programme process (by default the latest). Its
    visits follow each customer's service tier (`Cadence.BY_TIER`, the default) or one cadence for
    all. The team leader reviews each customer's stage after every `visits_per_review` visits (by
    default about once a month: every 4th weekly visit, every 2nd fortnightly one, every monthly one;
    at the cadence each visit was scheduled with when the programme follows the tiers).

    The dates and the review rhythm may come as typed in a form ("2026-11-02", "4"); what is not
    one is refused with a message at its field, as is a version of another process than the
    programme's (its enrolments would start the wrong process)."""
    check_role(user, COORDINATOR)
    errors: dict[str, list[str]] = {}
    if process_version is None:
        try:
            process_version = latest_version(PROGRAMME_PROCESS)
        except WorkflowError as exc:
            raise OnsiteError(str(exc)) from None
    elif process_version.model.process_id != PROGRAMME_PROCESS:
        errors["process_version"] = [_("Choose a version of the programme process.")]
    if visits_per_review in ("", None):
        visits_per_review = DEFAULT_VISITS_PER_REVIEW.get(cadence)
    programme = Programme(
        name=(name or "").strip(),
        region=region,
        start_date=start_date or None,
        end_date=end_date or None,
        cadence=cadence,
        visits_per_review=visits_per_review,
        process_version=process_version,
        coordinator=person(user),
    )
    try:
        validate(programme)  # also turns the typed dates and numbers into values
    except InvalidInput as exc:
        errors.update(exc.errors)
    # Said in the programme's words rather than the model's "cannot be null".
    if region is None:
        errors["region"] = [_("Choose a region.")]
    if not start_date:
        errors["start_date"] = [_("Give the date the programme starts.")]
    dates_read = not {"start_date", "end_date"} & set(errors)
    if dates_read and programme.end_date is not None and programme.end_date < programme.start_date:
        errors["end_date"] = [_("The programme cannot end before it starts.")]
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
    _refuse_if_closed(programme)
    cleaned, suggestion, chosen = _checked_enrolment(programme, customer, factors, stage, reason)
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


@dataclass(frozen=True)
class Candidate:
    """One customer of a group to enrol, with what `enrol_customer` takes for it."""

    customer: Customer
    factors: dict
    stage: str = ""  # empty: the stage the factors suggest
    reason: str = ""
    screening_score: Any = None
    screening_reason: str = ""


def enrol_customers(*, programme: Programme, candidates: Sequence[Candidate], user: Any) -> list[Enrolment]:
    """Enrol a group of customers (the pilot group a screening chose, or more customers into a running
    programme), each as `enrol_customer` does. All or nothing: every candidate's input is checked
    first and refused at once, each message keyed `<customer id>-<field>` so that a form shows it
    at that customer's field; then they are enrolled in one transaction, and if one cannot be
    (enrolled meanwhile elsewhere, its instance failing to start), none is."""
    check_role(user, COORDINATOR)
    _refuse_if_closed(programme)
    if not candidates:
        raise InvalidInput({"customers": [_("Choose one or more customers to enrol.")]})
    ids = [candidate.customer.pk for candidate in candidates]
    if len(set(ids)) != len(ids):
        raise InvalidInput({"customers": [_("Choose each customer once.")]})
    errors: dict[str, list[str]] = {}
    for candidate in candidates:
        try:
            _checked_enrolment(
                programme, candidate.customer, candidate.factors, candidate.stage, candidate.reason
            )
        except InvalidInput as refusal:
            for field, texts in refusal.errors.items():
                errors[f"{candidate.customer.pk}-{field}"] = texts
        already = _already_enrolled(programme, candidate.customer)
        if already:
            errors.setdefault(f"{candidate.customer.pk}-customer", []).append(already)
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        return [
            enrol_customer(
                programme=programme,
                customer=candidate.customer,
                factors=candidate.factors,
                stage=candidate.stage or None,
                reason=candidate.reason,
                screening_score=candidate.screening_score,
                screening_reason=candidate.screening_reason,
                user=user,
            )
            for candidate in candidates
        ]


def _refuse_if_closed(programme: Programme) -> None:
    ended = programme.end_date is not None and programme.end_date < timezone.localdate()
    if programme.status != Programme.Status.ACTIVE or ended:
        raise OnsiteError(_("Programme %(programme)s is closed.") % {"programme": programme})


def _checked_enrolment(
    programme: Programme, customer: Customer, factors: dict, stage: str | None, reason: str
) -> tuple[dict, Any, str]:
    """The factors cleaned, the stage they suggest and the stage chosen; `InvalidInput` with every
    message at once when the customer, the factors, the stage or the reason for another stage than
    the suggested one will not do."""
    errors: dict[str, list[str]] = {}
    if customer.account_manager_id is None:
        errors["customer"] = [_("%(customer)s has no account manager.") % {"customer": customer}]
    elif not Region.objects.within(programme.region).filter(pk=customer.region_id).exists():
        errors["customer"] = [
            _("%(customer)s is not in the programme's region %(region)s.")
            % {"customer": customer, "region": programme.region}
        ]
    try:
        cleaned = clean_factors(factors)
    except InvalidInput as refusal:
        raise InvalidInput({**errors, **refusal.errors}) from None
    suggestion = suggest_stage(cleaned)
    chosen = stage or suggestion.stage
    if chosen not in dict(Enrolment._meta.get_field("stage").choices):
        errors["stage"] = [_("Unknown stage.")]
    elif chosen != suggestion.stage and not (reason or "").strip():
        errors["reason"] = [_("Say why the customer starts in another stage than the one suggested.")]
    if errors:
        raise InvalidInput(errors)
    return cleaned, suggestion, chosen


def _refuse_if_enrolled(programme: Programme, customer: Customer) -> None:
    already = _already_enrolled(programme, customer)
    if already:
        raise OnsiteError(already)


def _already_enrolled(programme: Programme, customer: Customer) -> str:
    """Why the customer cannot join the programme for being in one; "" when it can."""
    active = Enrolment.objects.filter(customer=customer, status=Enrolment.Status.ACTIVE).first()
    if active is not None:
        return _("%(customer)s is already in programme %(programme)s.") % {
            "customer": customer,
            "programme": active.programme,
        }
    # One enrolment per customer and programme (unique_enrolment): say so rather than fail on it.
    if Enrolment.objects.filter(programme=programme, customer=customer).exists():
        return _("%(customer)s has already been in programme %(programme)s.") % {
            "customer": customer,
            "programme": programme,
        }
    return ""


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
