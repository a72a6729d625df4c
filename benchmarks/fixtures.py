"""What the benchmarks run: the programme diagrams as they were before the domain's service tasks
(`benchmarks/bpmn/`, so the engine benchmark measures the engine alone), four people and the form
data they submit; for the domain benchmark, the organisation, customers and enrolments the real
diagrams (`bpmn/`) need, created through `onsite.services`, and the summaries it submits."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

DIAGRAMS = Path(__file__).resolve().parent / "bpmn"
DOMAIN_DIAGRAMS = Path(__file__).resolve().parent.parent / "bpmn"
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


def start_programme(people: dict, key: str, process_id: str = "onsite_programme"):
    from workflows.services import start_instance

    return start_instance(
        process_id=process_id,
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


# --- the on-site domain (benchmarks.domain) -----------------------------------------------------

# The factors that suggest the publicity stage (onsite.stages.suggest_stage).
PUBLICITY_FACTORS = {
    "economic_development": 3,
    "informatization_level": 2,
    "competition": 3,
    "our_capability": 3,
}


def make_organisation(people: dict) -> dict:
    """The branch, its team (led by the team leader, with the account manager) and a solution
    support engineer: what the domain's assignee resolver and support dispatch look up."""
    from onsite.models import Region, StaffProfile, Team

    branch = Region.objects.create(code="HF", name="合肥分公司")
    team = Team.objects.create(name="政企客户一组", region=branch, leader=people["leader"])
    for key, speciality in (("leader", ""), ("manager", ""), ("support", "solution")):
        StaffProfile.objects.create(user=people[key], team=team, region=branch, speciality=speciality)
    return {"branch": branch, "team": team}


def enrol_new_customer(people: dict, organisation: dict, code: str):
    """A customer of the account manager, created and enrolled in a new programme through the
    domain's services, as the coordinator would: its programme instance waits at the first visit."""
    from django.utils import timezone

    from onsite.services.customers import create_customer
    from onsite.services.programmes import create_programme, enrol_customer

    coordinator = people["coordinator"]
    customer = create_customer(
        values={
            "code": code,
            "name": f"基准测试客户{code}",
            "industry": "finance",
            "tier": "B",
            "monthly_value": "10000",
            "potential": 3,
            "region": organisation["branch"],
            "account_manager": people["manager"],
        },
        user=coordinator,
    )
    programme = create_programme(
        name=f"驻点服务基准{code}",
        region=organisation["branch"],
        start_date=timezone.localdate(),
        cadence="weekly",
        user=coordinator,
        visits_per_review=1,  # each visit measured with its stage review, as the engine-only diagram
    )
    return enrol_customer(programme=programme, customer=customer, factors=PUBLICITY_FACTORS, user=coordinator)


KEY_PERSONS = [
    {"name": "王主任", "title": "主任", "department": "中心办公室", "relationship": "normal"},
    {"name": "张科长", "title": "信息科科长", "contact": "0551-12345678", "relationship": "strong"},
]
DECISION_CHAIN = [
    {"position": "主任", "name": "王主任", "role": "decision_maker"},
    {"position": "信息科科长", "name": "张科长", "role": "influencer"},
]


def plain_summary() -> dict:
    """A summary that changes nothing once applied: the same status, key persons and decision chain
    as the visit before, no products, leads or resource needs."""
    return {
        "informatization_status": "办公网由我方提供，视频会议使用竞争对手产品",
        "product_expiries": [],
        "decision_chain": DECISION_CHAIN,
        "key_persons": KEY_PERSONS,
        "leads": [],
        "resource_needs": [],
        # Seed 002: a part with nothing to report says so.
        "none_reasons": {
            part: "无：本次走访未涉及" for part in ("product_expiries", "leads", "resource_needs")
        },
        "next_goals": "两周内提交云视讯替换方案",
    }


def busy_summary(visit_no: int) -> dict:
    """A summary that creates two leads (each starts its follow-up process, due by urgency), a
    support request (which starts its process) and moves the expiry of two products. The expiries
    differ at every visit, so the products are really updated, and stay beyond the win-back window,
    so no win-back starts."""
    from django.utils import timezone

    today = timezone.localdate()
    expiry = today + timedelta(days=400 + visit_no)
    return {
        **plain_summary(),
        "none_reasons": {},
        "product_expiries": [
            {
                "product": "视频会议",
                "provider": "竞争对手A",
                "ownership": "competitor",
                "expiry_date": expiry.isoformat(),
            },
            {
                "product": "互联网专线",
                "provider": "我方",
                "ownership": "ours",
                "expiry_date": (expiry + timedelta(days=365)).isoformat(),
            },
        ],
        "leads": [
            {
                "description": "视频会议替换",
                "product": "云视讯",
                "urgency": "high",
                "estimated_value": 120000,
                "win_back": True,
            },
            {"description": "机房托管", "product": "政务云", "urgency": "medium", "estimated_value": 300000},
        ],
        "resource_needs": [
            {
                "speciality": "solution",
                "description": "视频会议替换方案",
                "due_date": (today + timedelta(days=14)).isoformat(),
            }
        ],
    }
