"""Driving the on-site programme through the engine's services, as its users would."""

from datetime import datetime

from tests.conftest import BPMN_DIR, source
from tests.factories import UserFactory
from workflows.models import HumanTask, ProcessInstance
from workflows.services import complete_task, start_instance
from workflows.services.deployment import deploy_files

CUSTOMER = "GC-0001"


def deploy_programme():
    return deploy_files(files=[source(p) for p in sorted(BPMN_DIR.glob("*.bpmn"))])


def make_people():
    return {
        "coordinator": UserFactory(username="zhao", roles=["coordinator"]),
        "manager": UserFactory(username="qian", roles=["account_manager"]),
        "support": UserFactory(username="sun", roles=["support_staff"]),
        "leader": UserFactory(username="li", roles=["team_leader"]),
    }


def start_programme(people, key=CUSTOMER):
    return start_instance(
        process_id="onsite_programme",
        business_key=key,
        user=people["coordinator"],
        data={
            "customer_name": "滨湖新区政务服务中心",
            "lane_owners": {"客户经理": "qian", "支撑人员": "sun", "班组长": "li"},
        },
    )


def current_visit(programme):
    return ProcessInstance.objects.get(parent=programme, status__in=ProcessInstance.ACTIVE_STATUSES)


def open_task(instance, bpmn_id):
    return HumanTask.objects.get(instance=instance, bpmn_id=bpmn_id, status=HumanTask.Status.OPEN)


def complete(instance, bpmn_id, user, data):
    task = open_task(instance, bpmn_id)
    complete_task(task_id=task.pk, data=data, user=user)
    return task


def plan(needs_support=False, date="2026-12-01"):
    data = {
        "planned_date": date,
        "objectives": "了解信息化现状，介绍云视讯与政务云",
        "contacts_to_meet": ["王主任"],
        "needs_support": needs_support,
    }
    if needs_support:
        data.update(support_speciality="solution", support_request="准备政务云迁移方案")
    return data


RESOURCES = {"materials": ["product_brochure", "industry_case"], "playbook_reviewed": True}
SUPPORT = {
    "will_attend": True,
    "assessment": "客户机房需扩容，建议政务云托管",
    "proposed_solution": "政务云 + 专线",
}


def record(visited_at: datetime):
    return {
        "visited_at": visited_at.isoformat(),
        "duration_hours": 3,
        "persons_met": ["王主任", "信息科张科长"],
        "business_handled": [{"item": "宽带提速", "result": "已受理"}],
        "questions_answered": [{"question": "专线价格", "answer": "按带宽阶梯计价"}],
        "information_collected": "现有视频会议系统由竞争对手提供，明年三月到期",
        "needs_found": ["视频会议", "政务云"],
    }


SUMMARY = {
    "informatization_status": "办公网由我方提供，视频会议使用竞争对手产品",
    "product_expiries": [
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
        {"name": "王主任", "title": "主任", "department": "中心办公室", "relationship": "normal"}
    ],
    "leads": [
        {
            "description": "视频会议替换",
            "product": "云视讯",
            "urgency": "high",
            "estimated_value": 120000,
            "win_back": True,
        }
    ],
    "resource_needs": [
        {"speciality": "solution", "description": "视频会议替换方案", "due_date": "2026-12-15"}
    ],
    "next_goals": "两周内提交云视讯替换方案",
}
APPROVE = {"review_decision": "approve", "review_comment": "总结完整"}
REWORK = {"review_decision": "rework", "review_comment": "请补充关键人联系方式"}


def stage_review(decision: str):
    return {
        "stage_decision": decision,
        "stage_assessment": "客户信任度提升",
        "factors": {
            "economic_development": 4,
            "informatization_level": 3,
            "competition": 4,
            "our_capability": 3,
        },
    }


def close_visit(programme, people, *, visited_at=None, needs_support=False):
    """One whole visit, its summary approved first time; the programme then waits for the team
    leader's stage decision."""
    visit = current_visit(programme)
    complete(visit, "Task_plan_visit", people["manager"], plan(needs_support))
    complete(visit, "Task_prepare_resources", people["manager"], RESOURCES)
    if needs_support:
        complete(visit, "Task_support_preparation", people["support"], SUPPORT)
    complete(visit, "Task_record_visit", people["manager"], record(visited_at or datetime.now().astimezone()))
    complete(visit, "Task_write_summary", people["manager"], SUMMARY)
    complete(visit, "Task_review_summary", people["leader"], APPROVE)
    return visit


def run_visit(programme, people, *, decision="continue", visited_at=None, needs_support=False):
    """One whole visit, then the team leader's stage decision."""
    visit = close_visit(programme, people, visited_at=visited_at, needs_support=needs_support)
    complete(programme, "Task_stage_review", people["leader"], stage_review(decision))
    return visit
