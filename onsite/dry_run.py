"""What the on-site domain gives its processes, made up for the engine's dry run
(`manage.py start_instance <process> --dry-run`; setting `WORKFLOWS["DRY_RUN_SETUP"]`).

The engine runs the dry run in a transaction it always rolls back, so the records made here are
throwaway: a team (leader, account manager, solutions engineer, coordinator) in a branch of its
own, a customer, and whatever the process is started for (an enrolment, a scheduled visit, a lead,
a support request, a win-back target, an incentive review, the account manager's appraisal). The
start data is what the domain's services give the process; the answers are what the people would
submit where the forms' own examples would not reach the end (a lead "still followed up" loops
forever) or would tell the domain's services too little.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from onsite.exceptions import OnsiteError
from onsite.models import (
    Appraisal,
    AppraisedRole,
    Customer,
    Enrolment,
    IncentiveReview,
    Ownership,
    Region,
    RenewalTarget,
    StaffProfile,
    SupportRequest,
    Team,
    WinBackTarget,
)
from onsite.operations import visit_summary
from onsite.roles import ACCOUNT_MANAGER, COORDINATOR, SUPPORT_STAFF, TEAM_LEADER
from onsite.services import leads, visits
from onsite.services.appraisals import appraisal_data
from onsite.services.customers import create_customer, upsert_product
from onsite.services.incentives import period_of
from onsite.services.programmes import create_programme
from onsite.services.renewals import renewal_data
from onsite.services.support import support_request_data
from onsite.services.winback import win_back_data
from workflows.actors import acting_for
from workflows.dry_run import DryRunRefused, DryRunSetup


@dataclass
class Cast:
    """The throwaway people and customer of one dry run."""

    suffix: str
    branch: Region
    team: Team
    coordinator: Any
    manager: Any
    leader: Any
    engineer: Any
    customer: Customer


def dry_run_setup(process_id: str) -> DryRunSetup | None:
    """Records and start data for a dry run of one of the domain's processes (None for others)."""
    starter = STARTERS.get(process_id)
    if starter is None:
        return None
    try:
        cast = _cast()
        data, user = starter(cast)
    except OnsiteError as exc:
        raise DryRunRefused(str(exc)) from None
    # The domain starts its processes for the person whose request it judged (`acting_for`).
    return DryRunSetup(data=data, business_key=cast.customer.code, answers=answers(), user=acting_for(user))


def _cast() -> Cast:
    suffix = uuid.uuid4().hex[:8]
    branch = Region.objects.create(code=f"DRY-{suffix}", name=f"试运行分公司 {suffix}")

    def person(role: str, last_name: str) -> Any:
        user = get_user_model().objects.create(username=f"dry-run-{role}-{suffix}", last_name=last_name)
        user.groups.add(Group.objects.get(name=role))
        return user

    leader = person(TEAM_LEADER, "试运行班组长")
    team = Team.objects.create(name=f"试运行小组 {suffix}", region=branch, leader=leader)
    coordinator = person(COORDINATOR, "试运行协调员")
    manager = person(ACCOUNT_MANAGER, "试运行客户经理")
    engineer = person(SUPPORT_STAFF, "试运行支撑人员")
    for user, speciality in ((leader, ""), (manager, ""), (engineer, "solution")):
        StaffProfile.objects.create(user=user, team=team, region=branch, speciality=speciality)
    customer = create_customer(
        values={
            "code": f"DRY-{suffix}",
            "name": f"试运行客户 {suffix}",
            "industry": "party_government_military",
            "tier": "A",
            "monthly_value": "10000",
            "potential": 3,
            "region": branch,
            "account_manager": manager,
        },
        user=coordinator,
    )
    return Cast(suffix, branch, team, coordinator, manager, leader, engineer, customer)


def _customer_data(cast: Cast) -> dict:
    return {"customer_id": cast.customer.pk, "customer_name": cast.customer.name}


def _enrolment(cast: Cast) -> Enrolment:
    programme = create_programme(
        name=f"试运行驻点方案 {cast.suffix}",
        region=cast.branch,
        start_date=timezone.localdate(),
        cadence="weekly",
        # A stage review after every visit: the dry run shows every stage in a few visits.
        visits_per_review=1,
        user=cast.coordinator,
    )
    # Not enrol_customer: that starts the programme's own instance; the dry run starts it.
    return Enrolment.objects.create(
        programme=programme, customer=cast.customer, stage="publicity", enrolled_by=cast.coordinator
    )


def _programme(cast: Cast) -> tuple[dict, Any]:
    enrolment = _enrolment(cast)
    return {"enrolment_id": enrolment.pk, **_customer_data(cast), "stage": enrolment.stage}, cast.coordinator


def _visit_cycle(cast: Cast) -> tuple[dict, Any]:
    enrolment = _enrolment(cast)
    visit = visits.schedule_next_visit(enrolment=enrolment)
    data = {
        "enrolment_id": enrolment.pk,
        **_customer_data(cast),
        "stage": enrolment.stage,
        "visit": visit_summary(visit),
    }
    return data, cast.coordinator


def _lead_follow_up(cast: Cast) -> tuple[dict, Any]:
    # Creating it starts a follow-up of its own, which the rollback throws away with it. It is at
    # the solution stage, the only one a lead is won from.
    lead = leads.create_lead(
        customer=cast.customer,
        description="试运行营销线索：云视讯",
        product="云视讯",
        urgency="medium",
        user=cast.manager,
    )
    lead = leads.move_lead_stage(lead=lead, stage="solution", user=cast.manager)
    return leads.follow_up_data(lead), cast.manager


def _support_request(cast: Cast) -> tuple[dict, Any]:
    # Not request_support: that starts the request's own instance; the dry run starts it.
    request = SupportRequest.objects.create(
        customer=cast.customer,
        kind=SupportRequest.Kind.SOLUTION,
        speciality="solution",
        description="试运行支撑需求：政务云迁移方案",
        due_date=timezone.localdate() + timedelta(days=7),
        requested_by=cast.manager,
        requested_at=timezone.now(),
    )
    return support_request_data(request), cast.manager


def _win_back(cast: Cast) -> tuple[dict, Any]:
    expiry = timezone.localdate() + timedelta(days=60)
    product = upsert_product(
        cast.customer,
        "视频会议",
        "竞争对手A",
        {"ownership": Ownership.COMPETITOR, "expiry_date": expiry},
        actor=cast.coordinator,
        source="manual",
    )
    target = WinBackTarget.objects.create(
        customer=cast.customer,
        product=product,
        expiry_date=expiry,
        account_manager=cast.manager,
        created_at=timezone.now(),
    )
    return win_back_data(target), None


def _renewal(cast: Cast) -> tuple[dict, Any]:
    expiry = timezone.localdate() + timedelta(days=60)
    product = upsert_product(
        cast.customer,
        "互联网专线",
        leads.OUR_PROVIDER,
        {"ownership": Ownership.OURS, "expiry_date": expiry},
        actor=cast.coordinator,
        source="manual",
    )
    target = RenewalTarget.objects.create(
        customer=cast.customer,
        product=product,
        expiry_date=expiry,
        account_manager=cast.manager,
        created_at=timezone.now(),
    )
    return renewal_data(target), None


def _incentive_review(cast: Cast) -> tuple[dict, Any]:
    period = period_of(timezone.now())
    review = IncentiveReview.objects.create(
        team=cast.team, period=period, requested_by=cast.leader, created_at=timezone.now()
    )
    return {
        "review_id": review.pk,
        "team_name": cast.team.name,
        "period": period.strftime("%Y-%m"),
    }, cast.leader


def _appraisal(cast: Cast) -> tuple[dict, Any]:
    # Not generate_appraisals: that starts every team's processes; the dry run starts this one.
    appraisal = Appraisal.objects.create(
        person=cast.manager,
        team=cast.team,
        role=AppraisedRole.ACCOUNT_MANAGER,
        period=period_of(timezone.now()),
        status=Appraisal.Status.LEADER_REVIEW,
        reviewer=cast.leader,
        computed_score=Decimal("85.00"),
        score=Decimal("85.00"),
        created_at=timezone.now(),
    )
    return appraisal_data(appraisal), None


STARTERS = {
    "onsite_programme": _programme,
    "visit_cycle": _visit_cycle,
    "lead_follow_up": _lead_follow_up,
    "support_request": _support_request,
    "win_back": _win_back,
    "renewal": _renewal,
    "incentive_review": _incentive_review,
    "appraisal": _appraisal,
}


def answers() -> dict[str, dict]:
    """What the people of the dry run submit, by user task: a visit with a support engineer, a
    complete summary approved first time, every stage goal met, the lead won and followed up after
    the sale, the request resolved, the win-back pursued, the appraisal adjusted, disputed and
    decided."""
    today = timezone.localdate()
    return {
        "Task_plan_visit": {
            "planned_date": today.isoformat(),
            "objectives": "试运行：了解客户信息化现状，介绍政务云",
            "contacts_to_meet": ["王主任"],
            "needs_support": True,
            "support_speciality": "solution",
            "support_request": "准备政务云迁移方案",
        },
        "Task_prepare_resources": {"materials": ["product_brochure"], "playbook_reviewed": True},
        "Task_support_preparation": {
            "will_attend": True,
            "assessment": "客户机房需扩容",
            "proposed_solution": "政务云 + 专线",
        },
        "Task_record_visit": {
            "visited_at": timezone.localtime().isoformat(),
            "duration_hours": 2,
            "persons_met": ["王主任"],
            "information_collected": "现有视频会议系统由竞争对手提供",
            "needs_found": ["政务云"],
        },
        "Task_write_summary": {
            "informatization_status": "办公网由我方提供，视频会议使用竞争对手产品",
            "product_expiries": [
                {
                    "product": "互联网专线",
                    "provider": "我方",
                    "ownership": "ours",
                    "expiry_date": (today + timedelta(days=400)).isoformat(),
                }
            ],
            "decision_chain": [{"position": "主任", "name": "王主任", "role": "decision_maker"}],
            "key_persons": [{"name": "王主任", "title": "主任", "relationship": "normal"}],
            "leads": [
                {
                    "description": "机房托管",
                    "product": "政务云",
                    "urgency": "medium",
                    "estimated_value": 300000,
                }
            ],
            "resource_needs": [
                {
                    "speciality": "solution",
                    "description": "政务云迁移方案",
                    "due_date": (today + timedelta(days=7)).isoformat(),
                }
            ],
            "next_goals": "两周内提交政务云方案",
        },
        "Task_review_summary": {"review_decision": "approve", "review_comment": "总结完整"},
        "Task_stage_review": {
            "stage_decision": "advance",
            "stage_assessment": "阶段目标已达成",
            "factors": {
                "economic_development": 4,
                "informatization_level": 3,
                "competition": 4,
                "our_capability": 3,
            },
        },
        "Task_follow_up_lead": {"lead_outcome": "won", "follow_up_note": "客户已签约", "won_value": 100000},
        "Task_after_sale": {
            "after_sale_note": "回访客户，使用情况良好",
            "contract_expiry_date": (today + timedelta(days=1095)).isoformat(),
        },
        "Task_handle_support": {"support_result": "方案已交付客户", "hours_spent": 4},
        "Task_confirm_support": {"resolved": True, "manager_feedback": "客户满意"},
        "Task_plan_win_back": {
            "decision": "pursue",
            "approach": "到期前提供云视讯试用",
            "our_product": "云视讯",
            "estimated_value": 50000,
            "urgency": "medium",
        },
        "Task_plan_renewal": {
            "decision": "pursue",
            "approach": "续签三年并升级带宽",
            "estimated_value": 80000,
            "urgency": "medium",
        },
        "Task_review_incentives": {"rejections": [], "review_note": "记录无误"},
        "Task_review_appraisal": {
            "leader_comment": "走访扎实，商机转化需加强",
            "adjusted_score": 88,
            "adjustment_reason": "协助完成重点客户续约",
        },
        "Task_respond_appraisal": {"response": "dispute", "dispute_reason": "本月支撑需求较多，影响走访"},
        "Task_decide_dispute": {"final_score": 90, "decision_note": "核实后酌情上调"},
    }
