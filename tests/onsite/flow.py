"""Driving the on-site domain through its real services and the engine, as its users would: an
organisation, customers, a programme, enrolments and every task of a visit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from onsite.models import Enrolment, Programme, Region, SupportRequest, Team
from onsite.services.programmes import create_programme, enrol_customer
from onsite.services.summaries import LIST_PARTS
from onsite.services.support import request_support
from tests.conftest import BPMN_DIR, source
from tests.factories import UserFactory
from tests.onsite.factories import (
    CustomerFactory,
    RegionFactory,
    StaffProfileFactory,
    manager_in,
    support_engineer,
)
from workflows.actors import SYSTEM
from workflows.events import handle_pending_events
from workflows.models import HumanTask, ProcessInstance, Timer
from workflows.services import complete_task
from workflows.services.deployment import deploy_files
from workflows.services.timers import fire_due_timers

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    """A moment in the site's time zone: `at(2026, 11, 2, 9)`."""
    return datetime(*args, tzinfo=SHANGHAI)


def deploy_processes():
    return deploy_files(user=SYSTEM, files=[source(p) for p in sorted(BPMN_DIR.glob("*.bpmn"))])


@dataclass
class Org:
    """A branch with one county, a team of two account managers, support engineers, a coordinator
    and a director."""

    branch: Region
    county: Region
    team: Team
    leader: object
    manager: object
    other_manager: object
    coordinator: object
    director: object
    support: dict = field(default_factory=dict)


def build_org() -> Org:
    branch = RegionFactory(code="HF", name="合肥分公司")
    county = RegionFactory(code="HF-FD", name="肥东县", kind=Region.Kind.COUNTY, parent=branch)
    leader = UserFactory(username="li", roles=["team_leader"])
    team = Team.objects.create(name="政企客户一组", region=branch, leader=leader)
    StaffProfileFactory(user=leader, team=team, region=branch)
    org = Org(
        branch=branch,
        county=county,
        team=team,
        leader=leader,
        manager=manager_in(team, "qian"),
        other_manager=manager_in(team, "wu"),
        coordinator=UserFactory(username="zhao", roles=["coordinator"]),
        director=UserFactory(username="zhou", roles=["leadership"]),
    )
    org.support = {
        "solution": support_engineer("solution", branch, team, "sun"),
        "network": support_engineer("network", county, team, "zheng"),
    }
    return org


def customer_of(org: Org, manager=None, **values):
    return CustomerFactory(region=org.branch, account_manager=manager or org.manager, **values)


# Factors that suggest each stage (see onsite.stages.suggest_stage).
FACTORS = {
    "publicity": {
        "economic_development": 3,
        "informatization_level": 2,
        "competition": 3,
        "our_capability": 3,
    },
    "information_gathering": {
        "economic_development": 4,
        "informatization_level": 3,
        "competition": 3,
        "our_capability": 3,
    },
    "win_back": {
        "economic_development": 4,
        "informatization_level": 4,
        "competition": 4,
        "our_capability": 4,
    },
}


def new_programme(
    org: Org, *, cadence: str = "weekly", start: date | None = None, visits_per_review: int = 1
) -> Programme:
    """By default the team leader reviews the stage after every visit, so a test can move through
    the stages visit by visit."""
    return create_programme(
        name="2026年合肥政企驻点服务",
        region=org.branch,
        start_date=start or date(2026, 11, 2),
        cadence=cadence,
        user=org.coordinator,
        visits_per_review=visits_per_review,
    )


def enrol(org: Org, programme: Programme, customer, stage: str = "publicity", **kwargs) -> Enrolment:
    return enrol_customer(
        programme=programme, customer=customer, factors=FACTORS[stage], user=org.coordinator, **kwargs
    )


def survey_requested(org: Org, customer) -> SupportRequest:
    """The manager asks a network engineer to survey the customer's machine room."""
    return request_support(
        customer=customer,
        kind=SupportRequest.Kind.SURVEY,
        speciality="network",
        description="机房勘察，评估专线扩容",
        due_date=date(2026, 12, 15),
        user=org.manager,
    )


def current_visit(enrolment: Enrolment) -> ProcessInstance:
    return ProcessInstance.objects.get(
        parent_id=enrolment.instance_id, status__in=ProcessInstance.ACTIVE_STATUSES
    )


def visit_opened(enrolment: Enrolment) -> ProcessInstance:
    """Time passes until the enrolment's next visit opens (the programme's timer, at the start of
    the day its lead time before the visit's date, fired as the engine's every-minute job would):
    the visit's cycle."""
    timer = Timer.objects.get(instance_id=enrolment.instance_id, bpmn_id="Event_visit_opens")
    fire_due_timers(now=timer.due_at + timedelta(minutes=1))  # the next minute's run
    return current_visit(enrolment)


def visit_made(enrolment: Enrolment) -> ProcessInstance:
    """The enrolment's current visit planned, prepared and made: its summary to write."""
    instance = current_visit(enrolment)
    manager = enrolment.customer.account_manager
    complete(instance, "Task_plan_visit", manager, plan())
    complete(instance, "Task_prepare_resources", manager, RESOURCES)
    complete(instance, "Task_record_visit", manager, record(datetime.now().astimezone()))
    return instance


def open_task(instance: ProcessInstance, bpmn_id: str) -> HumanTask:
    return HumanTask.objects.get(instance=instance, bpmn_id=bpmn_id, status=HumanTask.Status.OPEN)


def complete(instance: ProcessInstance, bpmn_id: str, user, data: dict) -> HumanTask:
    """Complete the task, then let the worker react as it would once the completion commits."""
    task = open_task(instance, bpmn_id)
    complete_task(task_id=task.pk, data=data, user=user)
    handle_pending_events()
    return task


def refreshed(obj):
    obj.refresh_from_db()
    return obj


# --- form data, as the pages will submit it -----------------------------------------------------


def plan(needs_support: bool = False, date: str = "2026-12-01", speciality: str = "solution") -> dict:
    data = {
        "planned_date": date,
        "objectives": "了解信息化现状，介绍云视讯与政务云",
        "contacts_to_meet": ["王主任"],
        "needs_support": needs_support,
    }
    if needs_support:
        data.update(support_speciality=speciality, support_request="准备政务云迁移方案")
    return data


RESOURCES = {"materials": ["product_brochure", "industry_case"], "playbook_reviewed": True}
SUPPORT = {
    "will_attend": True,
    "assessment": "客户机房需扩容，建议政务云托管",
    "proposed_solution": "政务云 + 专线",
}


def record(visited_at: datetime) -> dict:
    return {
        "visited_at": visited_at.isoformat(),
        "duration_hours": 3,
        "persons_met": ["王主任", "信息科张科长"],
        "business_handled": [{"item": "宽带提速", "result": "已受理"}],
        "questions_answered": [{"question": "专线价格", "answer": "按带宽阶梯计价"}],
        "information_collected": "现有视频会议系统由竞争对手提供，明年三月到期",
        "needs_found": ["视频会议", "政务云"],
    }


def summary(
    *,
    leads: list | None = None,
    products: list | None = None,
    resource_needs: list | None = None,
    status: str = "办公网由我方提供，视频会议使用竞争对手产品",
) -> dict:
    data = {
        "informatization_status": status,
        "product_expiries": products
        if products is not None
        else [
            {
                "product": "视频会议",
                "provider": "竞争对手A",
                "ownership": "competitor",
                "expiry_date": "2027-03-31",
            },
            {"product": "互联网专线", "provider": "我方", "ownership": "ours", "expiry_date": "2028-06-30"},
        ],
        "decision_chain": [
            {"position": "主任", "name": "王主任", "role": "decision_maker"},
            {"position": "信息科科长", "name": "张科长", "role": "influencer"},
        ],
        "key_persons": [
            {"name": "王主任", "title": "主任", "department": "中心办公室", "relationship": "normal"},
            {"name": "张科长", "title": "信息科科长", "contact": "0551-12345678", "relationship": "strong"},
        ],
        "leads": leads
        if leads is not None
        else [
            {
                "description": "视频会议替换",
                "product": "云视讯",
                "urgency": "high",
                "estimated_value": 120000,
                "win_back": True,
            },
            {"description": "机房托管", "product": "政务云", "urgency": "medium", "estimated_value": 300000},
        ],
        "resource_needs": resource_needs
        if resource_needs is not None
        else [{"speciality": "solution", "description": "视频会议替换方案", "due_date": "2026-12-15"}],
        "next_goals": "两周内提交云视讯替换方案",
    }
    # Seed 002: a part with nothing to report says so.
    data["none_reasons"] = {part: "无：本次走访未涉及" for part in LIST_PARTS if not data[part]}
    return data


SUMMARY = summary()
# A summary that creates nothing besides updating the customer: for visits whose content does not matter.
PLAIN_SUMMARY = summary(leads=[], products=[], resource_needs=[])
APPROVE = {"review_decision": "approve", "review_comment": "总结完整"}
REWORK = {"review_decision": "rework", "review_comment": "请补充关键人联系方式"}


def stage_review(decision: str, factors: dict | None = None) -> dict:
    return {
        "stage_decision": decision,
        "stage_assessment": "客户信任度提升",
        "factors": factors
        or {"economic_development": 4, "informatization_level": 3, "competition": 4, "our_capability": 3},
    }


def close_visit(
    enrolment: Enrolment,
    org: Org,
    *,
    visited_at: datetime | None = None,
    needs_support: bool = False,
    summary_data: dict | None = None,
) -> ProcessInstance:
    """One whole visit, its summary approved first time; the programme then waits for the team
    leader's stage decision."""
    visit = current_visit(enrolment)
    manager = enrolment.customer.account_manager
    complete(visit, "Task_plan_visit", manager, plan(needs_support))
    complete(visit, "Task_prepare_resources", manager, RESOURCES)
    if needs_support:
        support_task = open_task(visit, "Task_support_preparation")
        complete(visit, "Task_support_preparation", support_task.assignee, SUPPORT)
    complete(visit, "Task_record_visit", manager, record(visited_at or datetime.now().astimezone()))
    complete(visit, "Task_write_summary", manager, summary_data or PLAIN_SUMMARY)
    complete(visit, "Task_review_summary", org.leader, APPROVE)
    return visit


def run_stage(enrolment: Enrolment, org: Org, *, decision: str = "continue", **kwargs) -> None:
    """Visits until the programme's rhythm asks for the stage review, then the leader's decision."""
    for _ in range(52):  # the longest rhythm a programme may set
        close_visit(enrolment, org, **kwargs)
        programme = refreshed(enrolment).instance
        if HumanTask.objects.filter(instance=programme, bpmn_id="Task_stage_review", status="open").exists():
            complete(programme, "Task_stage_review", org.leader, stage_review(decision))
            return
    raise AssertionError("no stage review after 52 visits")


def run_visit(enrolment: Enrolment, org: Org, *, decision: str = "continue", **kwargs) -> ProcessInstance:
    """One whole visit, then the team leader's stage decision."""
    visit = close_visit(enrolment, org, **kwargs)
    complete(refreshed(enrolment).instance, "Task_stage_review", org.leader, stage_review(decision))
    return visit
