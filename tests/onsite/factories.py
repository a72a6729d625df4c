"""Rows of the on-site domain for tests. Processes are started through the real services, never
faked: use `tests.onsite.flow` to drive programmes, visits and tasks."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from onsite.customer_codes import customer_code_key
from onsite.models import (
    Customer,
    FunnelStage,
    Industry,
    KeyPerson,
    Lead,
    LeadStageMove,
    Ownership,
    ProductHolding,
    Region,
    StaffProfile,
    SupportRequest,
    Team,
    Tier,
    Urgency,
    VisitSummary,
)
from onsite.models.funnel import stay_days
from tests.factories import UserFactory


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"R{n:03d}")
    name = factory.Sequence(lambda n: f"区域{n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"政企客户{n}组")
    region = factory.SubFactory(RegionFactory)
    leader = factory.SubFactory(UserFactory, roles=["team_leader"])


class StaffProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffProfile
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)
    team = None
    region = None


def manager_in(team: Team, username: str | None = None, **kwargs):
    """An account manager who is a member of `team`."""
    user = UserFactory(roles=["account_manager"], **({"username": username} if username else {}), **kwargs)
    StaffProfileFactory(user=user, team=team, region=team.region)
    return user


def support_engineer(speciality: str, region: Region, team: Team | None = None, username: str | None = None):
    user = UserFactory(roles=["support_staff"], **({"username": username} if username else {}))
    StaffProfileFactory(user=user, team=team, region=region, speciality=speciality)
    return user


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    code = factory.Sequence(lambda n: f"GC-{n:04d}")
    code_key = factory.LazyAttribute(lambda customer: customer_code_key(customer.code))
    name = factory.Sequence(lambda n: f"集团客户{n}")
    industry = Industry.FINANCE
    tier = Tier.B
    monthly_value = Decimal("10000")
    potential = 3
    region = factory.SubFactory(RegionFactory)
    account_manager = None


class KeyPersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeyPerson

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"关键人{n}")
    title = "主任"


class ProductHoldingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductHolding

    customer = factory.SubFactory(CustomerFactory)
    product = factory.Sequence(lambda n: f"产品{n}")
    provider = "竞争对手A"
    ownership = Ownership.COMPETITOR


class LeadFactory(factory.django.DjangoModelFactory):
    """A lead row without its side effects (follow-up, incentives): for selectors' tests only."""

    class Meta:
        model = Lead

    customer = factory.SubFactory(CustomerFactory)
    description = factory.Sequence(lambda n: f"线索{n}")
    urgency = Urgency.MEDIUM
    status = Lead.Status.NEW
    owner = factory.LazyAttribute(lambda o: o.customer.account_manager)
    created_at = factory.LazyFunction(timezone.now)
    last_activity_at = factory.LazyAttribute(lambda o: o.created_at)
    # A won lead is at the closed stage (成交); any other at the first unless the test says.
    stage = factory.LazyAttribute(
        lambda o: FunnelStage.WON if o.status == Lead.Status.WON else FunnelStage.PREPARATION
    )
    stage_entered_at = factory.LazyAttribute(lambda o: o.created_at)


class LeadStageMoveFactory(factory.django.DjangoModelFactory):
    """A stage move row as the services write it, with the lead's customer and creation time."""

    class Meta:
        model = LeadStageMove

    lead = factory.SubFactory(LeadFactory)
    customer = factory.LazyAttribute(lambda o: o.lead.customer)
    lead_created_at = factory.LazyAttribute(lambda o: o.lead.created_at)
    from_stage = ""
    to_stage = FunnelStage.PREPARATION
    at = factory.LazyAttribute(lambda o: o.lead.created_at)
    left_at = None
    stay_days = factory.LazyAttribute(lambda o: o.left_at and stay_days(o.at, o.left_at))


class SupportRequestFactory(factory.django.DjangoModelFactory):
    """A support request row without its process: for selectors' tests only."""

    class Meta:
        model = SupportRequest

    customer = factory.SubFactory(CustomerFactory)
    kind = SupportRequest.Kind.SURVEY
    speciality = "network"
    description = factory.Sequence(lambda n: f"支撑需求{n}")
    due_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))
    requested_by = factory.LazyAttribute(lambda o: o.customer.account_manager)
    requested_at = factory.LazyFunction(timezone.now)


class VisitSummaryFactory(factory.django.DjangoModelFactory):
    """A summary row for a visit the test made, without its process: for selectors' tests only."""

    class Meta:
        model = VisitSummary

    informatization_status = "-"
    next_goals = "-"
    submitted_at = factory.LazyFunction(timezone.now)
    first_submitted_at = factory.LazyAttribute(lambda o: o.submitted_at)
    on_time = True
