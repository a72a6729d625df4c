"""The service-task operations the on-site diagrams call (`onsite.*`). Each reads the ids and the
submitted form from the task data and calls one domain service. Input the domain refuses
(`InvalidInput`, with field errors) refuses the submission that led here: the person's task stays
open with the messages. Other domain refusals become operation errors, which put the instance in
error with the message until someone fixes the cause and retries."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from onsite.exceptions import InvalidInput, NotPermitted, OnsiteError
from onsite.models import (
    Appraisal,
    Enrolment,
    IncentiveReview,
    Lead,
    RenewalTarget,
    SupportRequest,
    Visit,
    WinBackTarget,
)
from onsite.selectors.standards import standard_in_effect
from onsite.services import (
    appraisals,
    incentives,
    leads,
    programmes,
    project_teams,
    renewals,
    summaries,
    support,
    visits,
    winback,
)
from workflows.operations import OperationContext, OperationError, register_operation
from workflows.selectors import last_completed_task

# The visit cycle's task in which the support engineer prepares the visit.
SUPPORT_PREPARATION = "Task_support_preparation"


def operation(name: str) -> Callable:
    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(context: OperationContext, **params: Any) -> Any:
            try:
                return func(context, **params)
            except InvalidInput:
                raise
            except OnsiteError as exc:
                raise OperationError(str(exc)) from None

        return register_operation(f"onsite.{name}")(run)

    return decorate


def locked(model: type[models.Model], pk: Any, *related: str) -> Any:
    """The row, locked. An operation already holds its family's lock, so this keeps the one order
    (family, then rows; `onsite.locking`): lock only rows of the operation's own process here."""
    try:
        rows = model.objects.select_for_update(of=("self",))
        # select_related() with no names would join every foreign key (a visit: eleven tables).
        return (rows.select_related(*related) if related else rows).get(pk=pk)
    except (model.DoesNotExist, TypeError, ValueError):
        raise OperationError(
            _("%(record)s #%(id)s does not exist.") % {"record": model._meta.verbose_name, "id": pk}
        ) from None


def visit_summary(visit: Visit) -> dict:
    """What the diagrams know of a visit, with the terms of the standard it was scheduled under
    (the summary deadline as an ISO 8601 duration the visit cycle's timers add to the visit), and
    when the programme starts the visit's cycle (`opens_at`, its timer)."""
    standard = visit.service_standard or standard_in_effect(visit.customer.tier)
    return {
        "visit_id": visit.pk,
        "number": visit.number,
        "planned_date": visit.planned_date.isoformat(),
        "stage": visit.stage,
        "summary_deadline": f"PT{standard.summary_deadline_hours}H",
        "support_expected": visit.support_expected,
        "opens_at": visits.opens_at(visit).isoformat(),
    }


# --- the programme ---------------------------------------------------------------------------


@operation("schedule_visit")
def schedule_visit(context: OperationContext, enrolment_id: int) -> dict:
    """Create the customer's next visit at the programme's cadence; `review_due` says whether the
    team leader reviews the stage after it."""
    enrolment = locked(Enrolment, enrolment_id, "programme", "customer")
    today = timezone.localdate(context.at)
    visit = visits.schedule_next_visit(enrolment=enrolment, today=today)
    return visit_summary(visit) | {"review_due": programmes.stage_review_due(enrolment.programme, visit)}


@operation("record_stage_review")
def record_stage_review(context: OperationContext, enrolment_id: int) -> str:
    """Keep the team leader's stage review (decision, assessment, factors) with the enrolment; the
    result is the enrolment's stage now (another review may have moved it since this one began)."""
    enrolment = locked(Enrolment, enrolment_id)
    data = context.data
    # The review runs beside the visits: it is about the latest visit closed.
    latest = enrolment.visits.filter(status=Visit.Status.CLOSED).order_by("-number").first()
    programmes.record_stage_review(
        enrolment=enrolment,
        decision=data["stage_decision"],
        note=data.get("stage_assessment", ""),
        factors=data.get("factors") or {},
        visit=latest,
        actor=context.actor,
        task_id=context.task_id,
    )
    return enrolment.stage


@operation("advance_stage")
def advance_stage(context: OperationContext, enrolment_id: int) -> str:
    """Move the enrolment to its next stage; the result is the new stage."""
    enrolment = locked(Enrolment, enrolment_id)
    return programmes.advance_stage(
        enrolment=enrolment,
        reason=context.data.get("stage_assessment", ""),
        actor=context.actor,
        task_id=context.task_id,
    )


@operation("close_enrolment")
def close_enrolment(context: OperationContext, enrolment_id: int, outcome: str) -> str:
    """Record that the customer's programme completed or was ended early."""
    enrolment = locked(Enrolment, enrolment_id)
    request = context.data.get("end_request") or {}
    programmes.close_enrolment(enrolment=enrolment, outcome=outcome, reason=request.get("reason", ""))
    return outcome


# --- the visit cycle -------------------------------------------------------------------------


@operation("open_visit")
def open_visit(context: OperationContext, visit_id: int) -> dict:
    """Link the scheduled visit to this visit-cycle instance."""
    visit = locked(Visit, visit_id, "service_standard")
    visits.open_visit(visit=visit, instance=context.instance)
    return visit_summary(visit)


@operation("record_visit_plan")
def record_visit_plan(context: OperationContext, visit_id: int) -> str:
    """Keep the visit plan; choose a support engineer when one is needed (the result: their username)."""
    visit = locked(Visit, visit_id, "customer__region", "enrolment__programme")
    visit = visits.record_plan(visit=visit, plan=context.data)
    return visit.support_staff.get_username() if visit.support_staff else ""


@operation("record_visit")
def record_visit(context: OperationContext, visit_id: int) -> str:
    """Keep the resources prepared and the record of the on-site service."""
    visit = locked(Visit, visit_id, "enrolment__programme")
    visit = visits.record_visit(visit=visit, record=context.data, at=context.at)
    preparation = last_completed_task(context.instance, SUPPORT_PREPARATION)
    if preparation is not None:
        attended = bool(context.data.get("will_attend", True))
        incentives.reward_visit_support(
            visit=visit,
            prepared_by=preparation.completed_by,
            prepared_at=preparation.completed_at,
            attended=attended,
        )
        project_teams.record_visit_support(
            visit=visit,
            prepared_by=preparation.completed_by,
            prepared_at=preparation.completed_at,
            attended=attended,
        )
    return visit.status


@operation("submit_summary")
def submit_summary(context: OperationContext, visit_id: int) -> dict:
    """Store the closed-loop summary as a structured record."""
    visit = locked(Visit, visit_id)
    record = summaries.submit_summary(visit=visit, summary=context.data, actor=context.actor, at=context.at)
    return {"submissions": record.submissions, "on_time": record.on_time}


@operation("summary_still_awaited")
def summary_still_awaited(context: OperationContext, visit_id: int, rework_count: int) -> bool:
    """Whether the overdue summary (of the round after `rework_count` reworks) is still to be
    submitted: the escalation asks the team leader only then."""
    return summaries.summary_awaited(visit=locked(Visit, visit_id), rework_count=rework_count)


@operation("act_on_summary_escalation")
def act_on_summary_escalation(
    context: OperationContext, visit_id: int, rework_count: int | None = None
) -> dict:
    """Carry out the team leader's action on an overdue summary (hand it over, extend it); the
    result says when to check on the summary again. Instances of visit_cycle versions before the
    escalation loop name no round: theirs is the current one."""
    visit = locked(Visit, visit_id)
    data = context.data
    return summaries.act_on_escalation(
        visit=visit,
        rework_count=rework_count,
        action=data["escalation_action"],
        reassign_to=data.get("reassign_to", ""),
        new_due_at=data.get("new_due_at", ""),
        actor=context.actor,
        at=context.at,
    )


@operation("review_summary")
def review_summary(context: OperationContext, visit_id: int) -> str:
    """Record the team leader's review; an approved summary updates the customer's records."""
    visit = locked(Visit, visit_id, "customer", "account_manager")
    data = context.data
    record = summaries.review_summary(
        visit=visit,
        decision=data["review_decision"],
        comment=data.get("review_comment", ""),
        actor=context.actor,
        at=context.at,
    )
    return record.status


# --- leads, support requests, win-back, incentive reviews ------------------------------------


@operation("record_lead_follow_up")
def record_lead_follow_up(context: OperationContext, lead_id: int) -> str:
    """Apply the follow-up to the lead (and move it along the funnel to the stage it reached); the
    result is its new status."""
    lead = locked(Lead, lead_id)
    data = context.data
    leads.change_lead_status(
        lead,
        data["lead_outcome"],
        stage=data.get("stage"),
        estimated_value=data.get("estimated_value"),
        actor=context.actor,
        note=data.get("follow_up_note", ""),
        won_value=data.get("won_value"),
        lost_reason=data.get("lost_reason", ""),
        at=context.at,
        task_id=context.task_id,
        expiry_date=data.get("new_expiry_date"),
    )
    return lead.status


@operation("record_after_sale")
def record_after_sale(context: OperationContext, lead_id: int) -> str:
    """销售后: the won lead's after-sale follow-up updates the customer's products."""
    lead = locked(Lead, lead_id, "displaces")
    data = context.data
    leads.apply_after_sale(
        lead,
        actor=context.actor,
        note=data.get("after_sale_note", ""),
        start_date=data.get("contract_start_date"),
        expiry_date=data.get("contract_expiry_date"),
        at=context.at,
        task_id=context.task_id,
    )
    return lead.stage


@operation("dispatch_support_request")
def dispatch_support_request(context: OperationContext, support_request_id: int) -> dict:
    """调度单: choose the support engineer; the result names them and when the work is due."""
    request = locked(SupportRequest, support_request_id, "customer__region")
    return support.dispatch_support_request(request=request, at=context.at)


@operation("complete_support_request")
def complete_support_request(context: OperationContext, support_request_id: int) -> str:
    """竣工单: keep the support engineer's result."""
    request = locked(SupportRequest, support_request_id, "customer")
    data = context.data
    support.complete_support_request(
        request=request,
        result=data["support_result"],
        hours_spent=data.get("hours_spent"),
        actor=context.actor,
        at=context.at,
    )
    return request.status


@operation("confirm_support_request")
def confirm_support_request(context: OperationContext, support_request_id: int) -> str:
    """The account manager's verdict: confirmed, or not resolved and back to dispatch (`requested`)."""
    request = locked(SupportRequest, support_request_id)
    data = context.data
    resolved = data.get("resolved", True) is not False
    support.confirm_support_request(
        request=request,
        feedback=data.get("manager_feedback", ""),
        at=context.at,
        resolved=resolved,
        due_date=None if resolved else parse_date(data.get("reopen_due_date") or ""),
    )
    return request.status


@operation("support_escalation_options")
def support_escalation_options(
    context: OperationContext, support_request_id: int, late: str = support.LATE_COMPLETION
) -> dict:
    """Whether the request is still late in the way its timer says (`late`: its completion, the
    default of diagrams before the response timer; or its response), and whom it can be handed to."""
    request = locked(SupportRequest, support_request_id, "assignee")
    return support.escalation_options(request=request, at=context.at, instance=context.instance, late=late)


@operation("act_on_support_escalation")
def act_on_support_escalation(context: OperationContext, support_request_id: int) -> dict:
    """Do what the team leader chose: reassign the work, or set its new due date."""
    request = locked(SupportRequest, support_request_id)
    data = context.data
    return support.act_on_escalation(
        request=request,
        instance=context.instance,
        action=data["escalation_action"],
        reassign_to=data.get("reassign_to", ""),
        new_due_date=parse_date(data.get("new_due_date") or ""),
        actor=context.actor,
        at=context.at,
    )


@operation("record_win_back_plan")
def record_win_back_plan(context: OperationContext, target_id: int) -> str:
    """Pursue the win-back (a lead) or record why not."""
    target = locked(WinBackTarget, target_id, "customer", "product", "account_manager")
    return winback.record_win_back_plan(
        target=target, plan=context.data, actor=context.actor, at=context.at
    ).status


@operation("record_renewal_plan")
def record_renewal_plan(context: OperationContext, renewal_id: int) -> str:
    """Pursue the renewal (a lead) or record why the contract ends."""
    target = locked(RenewalTarget, renewal_id, "customer", "product", "account_manager")
    return renewals.record_renewal_plan(
        target=target, plan=context.data, actor=context.actor, at=context.at
    ).status


@operation("collect_incentive_review")
def collect_incentive_review(context: OperationContext, review_id: int) -> dict:
    """Put the team's pending incentive records for the period into this review."""
    return incentives.collect_review(review=locked(IncentiveReview, review_id, "team"))


@operation("decide_incentive_review")
def decide_incentive_review(context: OperationContext, review_id: int) -> dict:
    """Reject the records the team leader listed, approve the others."""
    data = context.data
    return incentives.decide_review(
        review=locked(IncentiveReview, review_id),
        rejections=data.get("rejections", []),
        note=data.get("review_note", ""),
        actor=context.actor,
        at=context.at,
    )


# --- appraisals --------------------------------------------------------------------------------


def _as_submission_refusal(exc: NotPermitted) -> InvalidInput:
    # Someone the task was handed to who may not act on the appraisal: their submission is refused
    # and the task stays open, rather than the instance failing.
    return InvalidInput({}, message=str(exc))


@operation("review_appraisal")
def review_appraisal(context: OperationContext, appraisal_id: int) -> str:
    """Keep the team leader's comments and any adjustment of the score (with its reason)."""
    data = context.data
    try:
        return appraisals.review_appraisal(
            appraisal=locked(Appraisal, appraisal_id),
            comment=data.get("leader_comment", ""),
            adjusted_score=data.get("adjusted_score"),
            reason=data.get("adjustment_reason", ""),
            actor=context.actor,
            at=context.at,
            task_id=context.task_id,
        ).status
    except NotPermitted as exc:
        raise _as_submission_refusal(exc) from None


@operation("respond_to_appraisal")
def respond_to_appraisal(context: OperationContext, appraisal_id: int) -> str:
    """The person's acknowledgement, or their dispute with its reason; the result is the status."""
    data = context.data
    try:
        return appraisals.respond_to_appraisal(
            appraisal=locked(Appraisal, appraisal_id),
            response=data.get("response", ""),
            reason=data.get("dispute_reason", ""),
            actor=context.actor,
            at=context.at,
            task_id=context.task_id,
        ).status
    except NotPermitted as exc:
        raise _as_submission_refusal(exc) from None


@operation("decide_appraisal_dispute")
def decide_appraisal_dispute(context: OperationContext, appraisal_id: int) -> str:
    """The coordinator's final score and the reason for it."""
    data = context.data
    try:
        return appraisals.decide_appraisal_dispute(
            appraisal=locked(Appraisal, appraisal_id),
            final_score=data.get("final_score"),
            note=data.get("decision_note", ""),
            actor=context.actor,
            at=context.at,
            task_id=context.task_id,
        ).status
    except NotPermitted as exc:
        raise _as_submission_refusal(exc) from None
