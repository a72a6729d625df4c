"""The people who run an on-site service programme, as roles (Django groups), and the BPMN lane
names that send tasks to each role."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    code: str  # the group name
    name_zh: str
    name_en: str
    lanes: tuple[str, ...]
    permissions: tuple[str, ...] = ()


COORDINATOR = "coordinator"
ACCOUNT_MANAGER = "account_manager"
SUPPORT_STAFF = "support_staff"
TEAM_LEADER = "team_leader"
LEADERSHIP = "leadership"

ROLES = (
    Role(
        COORDINATOR,
        "协调员",
        "Coordinator",
        ("协调员", "Coordinator"),
        (
            "workflows.add_processversion",
            "workflows.deploy_processmodel",
            "workflows.start_processinstance",
            "workflows.view_processversion",
            "workflows.view_processinstance",
            "workflows.manage_processinstance",
            "workflows.reassign_humantask",
            "workflows.view_humantask",
            "workflows.add_lanerole",
            "workflows.change_lanerole",
            "workflows.view_lanerole",
            "workflows.view_auditevent",
        ),
    ),
    # The appraisal's "person appraised" lane: its tasks are always named to the person (any role's),
    # so the lane's role only matters to the lane mapping; most of those appraised are managers.
    Role(
        ACCOUNT_MANAGER,
        "客户经理",
        "Account manager",
        ("客户经理", "Account manager", "被考核人员", "Appraised person"),
    ),
    Role(SUPPORT_STAFF, "支撑人员", "Support staff", ("支撑人员", "Support staff")),
    Role(
        TEAM_LEADER,
        "班组长",
        "Team leader",
        ("班组长", "Team leader"),
        (
            "workflows.reassign_humantask",
            "workflows.view_humantask",
            "workflows.view_processinstance",
        ),
    ),
    Role(
        LEADERSHIP,
        "领导",
        "Leadership",
        ("领导", "Leadership"),
        # The console read-only: versions, instances, the heat-map.
        ("workflows.view_processinstance", "workflows.view_processversion"),
    ),
)
