"""Demo data for a laptop: one user per role and a few (fictional) group customers."""

from dataclasses import dataclass

from onsite.roles import ACCOUNT_MANAGER, COORDINATOR, LEADERSHIP, SUPPORT_STAFF, TEAM_LEADER

DEMO_PASSWORD = "onsite-demo"  # noqa: S105 - documented in the README, demo machines only


@dataclass(frozen=True)
class DemoUser:
    username: str
    last_name: str
    first_name: str
    role: str | None
    superuser: bool = False


DEMO_USERS = (
    DemoUser("admin", "管理员", "", None, superuser=True),
    DemoUser("coordinator", "赵", "协调", COORDINATOR),
    DemoUser("manager", "钱", "经理", ACCOUNT_MANAGER),
    DemoUser("support", "孙", "工", SUPPORT_STAFF),
    DemoUser("leader", "李", "班长", TEAM_LEADER),
    DemoUser("director", "周", "总", LEADERSHIP),
)

DEMO_CUSTOMERS = (
    {"key": "GC-0001", "name": "滨湖新区政务服务中心", "industry": "party_government_military"},
    {"key": "GC-0002", "name": "江淮城市商业银行", "industry": "finance"},
    {"key": "GC-0003", "name": "庐州康健医药集团", "industry": "healthcare_pharma"},
    {"key": "GC-0004", "name": "皖中物流集团", "industry": "transport_logistics"},
)

# Who works each lane of the demo programme (until the domain assigns by customer).
DEMO_LANE_OWNERS = {"客户经理": "manager", "支撑人员": "support", "班组长": "leader", "协调员": "coordinator"}
