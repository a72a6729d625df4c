"""The on-site service domain's records, one module per concept."""

from onsite.models.appraisals import (
    Appraisal,
    AppraisalBand,
    AppraisalLine,
    AppraisalScoreChange,
    AppraisalTarget,
    AppraisedRole,
)
from onsite.models.customers import (
    Customer,
    CustomerChange,
    DecisionRole,
    Industry,
    KeyPerson,
    Ownership,
    ProductHolding,
    Relationship,
    Tier,
)
from onsite.models.funnel import FunnelStage, FunnelStageSetting, LeadStageMove
from onsite.models.imports import CheckedImportFile
from onsite.models.incentives import IncentiveEvent, IncentiveRecord, IncentiveReview, IncentiveRule
from onsite.models.leads import Lead, LeadActivity
from onsite.models.notifications import (
    DEFAULT_CHANNELS,
    Channel,
    Notification,
    NotificationKind,
    NotificationSetting,
    ReadingLanguage,
)
from onsite.models.organisation import Region, Speciality, StaffProfile, Team
from onsite.models.playbook import PlaybookEntry
from onsite.models.programmes import (
    VISIT_CADENCES,
    Cadence,
    Enrolment,
    Programme,
    Stage,
    StageAssessment,
    StageChange,
)
from onsite.models.project_teams import (
    Contribution,
    ContributionKind,
    Membership,
    ProjectTeam,
    TeamRole,
    TeamShareRule,
)
from onsite.models.renewals import RenewalTarget
from onsite.models.reports import Report, ReportKind
from onsite.models.standards import ServiceStandard
from onsite.models.support import SupportOutcome, SupportRequest
from onsite.models.thresholds import ThresholdGroup, ThresholdVersion
from onsite.models.visits import (
    SummaryDecisionRole,
    SummaryKeyPerson,
    SummaryLead,
    SummaryProduct,
    SummaryResourceNeed,
    Urgency,
    Visit,
    VisitActivity,
    VisitSummary,
)
from onsite.models.winback import WinBackTarget

__all__ = [
    "DEFAULT_CHANNELS",
    "VISIT_CADENCES",
    "Appraisal",
    "AppraisalBand",
    "AppraisalLine",
    "AppraisalScoreChange",
    "AppraisalTarget",
    "AppraisedRole",
    "Cadence",
    "Channel",
    "CheckedImportFile",
    "Contribution",
    "ContributionKind",
    "Customer",
    "CustomerChange",
    "DecisionRole",
    "Enrolment",
    "FunnelStage",
    "FunnelStageSetting",
    "IncentiveEvent",
    "IncentiveRecord",
    "IncentiveReview",
    "IncentiveRule",
    "Industry",
    "KeyPerson",
    "Lead",
    "LeadActivity",
    "LeadStageMove",
    "Membership",
    "Notification",
    "NotificationKind",
    "NotificationSetting",
    "Ownership",
    "PlaybookEntry",
    "ProductHolding",
    "Programme",
    "ProjectTeam",
    "ReadingLanguage",
    "Region",
    "Relationship",
    "RenewalTarget",
    "Report",
    "ReportKind",
    "ServiceStandard",
    "Speciality",
    "StaffProfile",
    "Stage",
    "StageAssessment",
    "StageChange",
    "SummaryDecisionRole",
    "SummaryKeyPerson",
    "SummaryLead",
    "SummaryProduct",
    "SummaryResourceNeed",
    "SupportOutcome",
    "SupportRequest",
    "Team",
    "TeamRole",
    "TeamShareRule",
    "ThresholdGroup",
    "ThresholdVersion",
    "Tier",
    "Urgency",
    "Visit",
    "VisitActivity",
    "VisitSummary",
    "WinBackTarget",
]
