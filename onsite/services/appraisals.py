"""Monthly appraisal (绩效考核, seed 004: 「优化客户经理绩效考核模式」): targets set per team, role and
month; the appraisals generated from the records on the first of the month and worked through the
`appraisal` process - the team leader comments and may adjust the score (with a reason), the person
acknowledges or disputes it (with a reason), the coordinator decides a dispute. Every change of the
score is a history row; the final score feeds the incentive statement (`AppraisalBand`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onsite.access import check_role, has_role
from onsite.exceptions import InvalidInput, NotPermitted
from onsite.models import (
    Appraisal,
    AppraisalLine,
    AppraisalScoreChange,
    AppraisalTarget,
    AppraisedRole,
    Team,
)
from onsite.roles import COORDINATOR
from onsite.selectors.appraisal_indicators import INDICATORS, RATE
from onsite.selectors.appraisals import figures_for, month_bounds
from onsite.services.processes import start_domain_process
from onsite.thresholds import threshold
from workflows.actors import is_system, person, person_id

APPRAISAL_PROCESS = "appraisal"
ACKNOWLEDGE, DISPUTE = "acknowledge", "dispute"
MAX_WEIGHT = Decimal(100)


# --- targets ------------------------------------------------------------------------------------


def set_appraisal_targets(
    *, team: Team | None, role: str, period: date | None, targets: list[dict], user: Any
) -> list[AppraisalTarget]:
    """Replace the targets of `role` for the team's month of `period` (its leader or a coordinator),
    or, with no team and no period, the defaults every team starts from (a coordinator). Each target
    is `{"indicator", "target", "weight"}`. Appraisals already generated keep the targets they were
    measured against."""
    if team is None:
        check_role(user, COORDINATOR)
        if period is not None:
            raise InvalidInput({"period": [_("Default targets apply to every month: give no month.")]})
    else:
        if not (has_role(user, COORDINATOR) or (team.leader_id and team.leader_id == person_id(user))):
            raise NotPermitted(_("Only the team's leader or a coordinator can set its appraisal targets."))
        if not isinstance(period, date):
            raise InvalidInput({"period": [_("Enter a date in the month the targets are for.")]})
        period = period.replace(day=1)
    if role not in AppraisedRole.values:
        raise InvalidInput({"role": [_("Choose a role that is appraised.")]})
    rows = [_target_row(i, item) for i, item in enumerate(targets or [])]
    if not rows:
        raise InvalidInput({"targets": [_("Set at least one indicator's target.")]})
    codes = [row.indicator for row in rows]
    if len(set(codes)) != len(codes):
        raise InvalidInput({"targets": [_("Each indicator can have one target only.")]})
    now = timezone.now()
    for row in rows:
        row.team, row.role, row.period, row.set_by, row.set_at = team, role, period, person(user), now
    with transaction.atomic():
        AppraisalTarget.objects.filter(team=team, role=role, period=period).delete()
        return AppraisalTarget.objects.bulk_create(rows)


def _target_row(index: int, item: Any) -> AppraisalTarget:
    field = f"targets.{index}"
    if not isinstance(item, dict):
        raise InvalidInput({field: [_("Give an indicator, a target and a weight.")]})
    code = item.get("indicator")
    found = INDICATORS.get(code) if isinstance(code, str) else None
    if found is None:
        raise InvalidInput({f"{field}.indicator": [_("Choose an indicator of the appraisal.")]})
    target, weight = _decimal(item.get("target")), _decimal(item.get("weight"))
    errors = {}
    if target is None or target < 0 or (target == 0 and not found.lower_is_better):
        errors[f"{field}.target"] = [_("Enter a target above zero.")]
    elif found.kind == RATE and target > 1:
        errors[f"{field}.target"] = [_("A rate's target is a share from 0 to 1.")]
    if weight is None or weight <= 0 or weight > MAX_WEIGHT:
        errors[f"{field}.weight"] = [_("Enter a weight above 0, up to 100.")]
    if errors:
        raise InvalidInput(errors)
    return AppraisalTarget(indicator=code, target=target, weight=weight)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


# --- generation ---------------------------------------------------------------------------------


def generate_appraisals(*, period: date, user: Any) -> list[Appraisal]:
    """Appraise every team's members and leader for the month of `period` (a month that has ended)
    and start each one's `appraisal` process; a person already appraised for that month is left as
    they are, so running it again adds only who was missing. A coordinator or the scheduler.

    Each person's appraisal is stored with its process or not at all; a process that cannot start
    refuses (`OnsiteError`) with the appraisals made before it kept."""
    check_role(user, COORDINATOR)
    if not isinstance(period, date) or isinstance(period, datetime):
        raise InvalidInput({"period": [_("Enter a date in the month to appraise.")]})
    start, end = month_bounds(period)
    if end > timezone.localdate():
        raise InvalidInput(
            {
                "period": [
                    _("%(month)s has not ended yet; it is appraised from its last day on.")
                    % {"month": f"{start:%Y-%m}"}
                ]
            }
        )
    done = set(Appraisal.objects.filter(period=start).values_list("person_id", flat=True))
    created = []
    for team in Team.objects.filter(leader__isnull=False).select_related("leader").order_by("pk"):
        for figures in figures_for(team=team, period=start):
            if figures.person.pk in done:
                continue
            appraisal = _appraise(team, start, figures, user)
            if appraisal is not None:
                done.add(figures.person.pk)
                created.append(appraisal)
    return created


def _appraise(team: Team, period: date, figures: Any, user: Any) -> Appraisal | None:
    now = timezone.now()
    is_leader = figures.role == AppraisedRole.TEAM_LEADER
    breakdown = figures.breakdown
    try:
        with transaction.atomic():
            appraisal = Appraisal.objects.create(
                person=figures.person,
                team=team,
                role=figures.role,
                period=period,
                status=Appraisal.Status.AWAITING_RESPONSE if is_leader else Appraisal.Status.LEADER_REVIEW,
                reviewer=None if is_leader else team.leader,
                computed_score=breakdown.score,
                score=breakdown.score,
                created_at=now,
            )
            AppraisalLine.objects.bulk_create(
                AppraisalLine(
                    appraisal=appraisal,
                    indicator=line.indicator,
                    value=line.value,
                    target=line.target,
                    weight=line.weight,
                    attainment=line.attainment,
                    points=line.points,
                )
                for line in breakdown.lines
            )
            AppraisalScoreChange.objects.create(
                appraisal=appraisal,
                kind=AppraisalScoreChange.Kind.COMPUTED,
                score_to=breakdown.score,
                by=person(user),
                at=now,
            )
            appraisal.instance = start_domain_process(
                APPRAISAL_PROCESS,
                business_key=f"{figures.person.pk}/{period:%Y-%m}",
                user=user,
                data=appraisal_data(appraisal),
            )
            appraisal.save(update_fields=["instance"])
    except IntegrityError:
        # Generated at the same moment by another run: that one's stands.
        return None
    return appraisal


def appraisal_data(appraisal: Appraisal) -> dict:
    """What the `appraisal` process starts with."""
    return {
        "appraisal_id": appraisal.pk,
        "person_name": str(appraisal.person),
        "role": appraisal.role,
        "period": f"{appraisal.period:%Y-%m}",
        "score": str(appraisal.score),
        "leader_review": appraisal.reviewer_id is not None,
    }


# --- the process's steps ------------------------------------------------------------------------


def review_appraisal(
    *,
    appraisal: Appraisal,
    comment: str,
    adjusted_score: Any,
    reason: str,
    actor: Any,
    at: datetime,
    task_id: UUID | str | None = None,
) -> Appraisal:
    """The team leader's comments, and the score adjusted when `adjusted_score` differs from it - only
    with a reason. Then the person responds."""
    if appraisal.status != Appraisal.Status.LEADER_REVIEW or _already(task_id):
        return appraisal
    if not (
        has_role(actor, COORDINATOR) or (appraisal.reviewer_id and appraisal.reviewer_id == person_id(actor))
    ):
        raise NotPermitted(_("Only the person's team leader can review this appraisal."))
    new_score = _score(adjusted_score, "adjusted_score", required=False, period=appraisal.period)
    reason = (reason or "").strip()
    adjusting = new_score is not None and new_score != appraisal.score
    if adjusting and not reason:
        raise InvalidInput({"adjustment_reason": [_("Give the reason for changing the score.")]})
    with transaction.atomic():
        if adjusting:
            _change(appraisal, AppraisalScoreChange.Kind.ADJUSTED, new_score, reason, actor, at, task_id)
            appraisal.score = new_score
        appraisal.leader_comment = (comment or "").strip()
        appraisal.status = Appraisal.Status.AWAITING_RESPONSE
        appraisal.save(update_fields=["score", "leader_comment", "status"])
    return appraisal


def respond_to_appraisal(
    *,
    appraisal: Appraisal,
    response: str,
    reason: str,
    actor: Any,
    at: datetime,
    task_id: UUID | str | None = None,
) -> Appraisal:
    """The person acknowledges the score (it becomes final) or disputes it, with a reason (it goes to
    the coordinator)."""
    if appraisal.status != Appraisal.Status.AWAITING_RESPONSE or _already(task_id):
        return appraisal
    if not is_system(actor) and person_id(actor) != appraisal.person_id:
        raise NotPermitted(_("Only the person appraised can respond to this appraisal."))
    reason = (reason or "").strip()
    if response not in (ACKNOWLEDGE, DISPUTE):
        raise InvalidInput({"response": [_("Acknowledge the appraisal or dispute it.")]})
    if response == DISPUTE and not reason:
        raise InvalidInput({"dispute_reason": [_("Give the reason you dispute the appraisal.")]})
    with transaction.atomic():
        if response == DISPUTE:
            _change(
                appraisal, AppraisalScoreChange.Kind.DISPUTED, appraisal.score, reason, actor, at, task_id
            )
            appraisal.status, appraisal.dispute_reason = Appraisal.Status.DISPUTED, reason
        else:
            _change(
                appraisal, AppraisalScoreChange.Kind.ACKNOWLEDGED, appraisal.score, "", actor, at, task_id
            )
            appraisal.status, appraisal.final_score, appraisal.finalised_at = (
                Appraisal.Status.ACKNOWLEDGED,
                appraisal.score,
                at,
            )
        appraisal.save(update_fields=["status", "dispute_reason", "final_score", "finalised_at"])
    return appraisal


def decide_appraisal_dispute(
    *,
    appraisal: Appraisal,
    final_score: Any,
    note: str,
    actor: Any,
    at: datetime,
    task_id: UUID | str | None = None,
) -> Appraisal:
    """The coordinator settles a disputed appraisal: the final score, and why."""
    if appraisal.status != Appraisal.Status.DISPUTED or _already(task_id):
        return appraisal
    check_role(actor, COORDINATOR)
    score = _score(final_score, "final_score", required=True, period=appraisal.period)
    note = (note or "").strip()
    if not note:
        raise InvalidInput({"decision_note": [_("Give the reason for the decision.")]})
    with transaction.atomic():
        _change(appraisal, AppraisalScoreChange.Kind.DECIDED, score, note, actor, at, task_id)
        appraisal.status, appraisal.score, appraisal.final_score = Appraisal.Status.DECIDED, score, score
        appraisal.decision_note, appraisal.finalised_at = note, at
        appraisal.save(update_fields=["status", "score", "final_score", "decision_note", "finalised_at"])
    return appraisal


def _score(value: Any, field: str, *, required: bool, period: date) -> Decimal | None:
    if value is None or value == "":
        if required:
            raise InvalidInput({field: [_("Enter the score.")]})
        return None
    number = _decimal(value)
    # The month's own cap: a score above it could not have been computed for that month.
    top = Decimal(threshold("APPRAISAL_ATTAINMENT_CAP_PERCENT", on=period.replace(day=1)))
    if number is None or number < 0 or number > top:
        raise InvalidInput({field: [_("Enter a score from 0 to %(top)s.") % {"top": top}]})
    return number.quantize(Decimal("0.01"))


def _change(
    appraisal: Appraisal, kind: str, score: Decimal, reason: str, actor: Any, at: datetime, task_id: Any
) -> None:
    AppraisalScoreChange.objects.create(
        appraisal=appraisal,
        kind=kind,
        score_from=appraisal.score,
        score_to=score,
        reason=reason,
        by=person(actor),
        at=at,
        task_id=task_id,
    )


def _already(task_id: Any) -> bool:
    """Whether the task's change is already recorded (the task ran again)."""
    return task_id is not None and AppraisalScoreChange.objects.filter(task_id=task_id).exists()
