"""What the engine benchmark runs: the programme diagrams as they were before the domain's service
tasks (`benchmarks/bpmn/`, so the figures measure the engine alone), four people and the form data
they submit."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

DIAGRAMS = Path(__file__).resolve().parent / "bpmn"
LANE_OWNERS = {"客户经理": "qian", "支撑人员": "sun", "班组长": "li"}


def make_people() -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    people = {}
    for key, username, role in (
        ("coordinator", "zhao", "coordinator"),
        ("manager", "qian", "account_manager"),
        ("support", "sun", "support_staff"),
        ("leader", "li", "team_leader"),
    ):
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.groups.add(Group.objects.get(name=role))
        people[key] = user
    return people


def start_programme(people: dict, key: str):
    from workflows.services import start_instance

    return start_instance(
        process_id="onsite_programme",
        business_key=key,
        user=people["coordinator"],
        data={"customer_name": "基准测试客户", "lane_owners": LANE_OWNERS},
    )


def plan() -> dict:
    return {
        "planned_date": "2026-12-01",
        "objectives": "了解信息化现状，介绍云视讯与政务云",
        "contacts_to_meet": ["王主任"],
        "needs_support": False,
    }


RESOURCES = {"materials": ["product_brochure", "industry_case"], "playbook_reviewed": True}


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


def stage_review(decision: str) -> dict:
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
