"""Recording a team's approved incentives as paid (`record_payment`): after the team leader's real
review, by coordinators only, each record once, nothing but the month's approved records of the
team's members; and the payments page that shows and records it."""

from datetime import date
from decimal import Decimal

import pytest

from onsite.exceptions import InvalidInput, NotPermitted, OnsiteError
from onsite.models import IncentiveRecord, Team
from onsite.selectors.incentives import team_payments
from onsite.services.incentives import award, record_payment, request_incentive_review
from tests.factories import UserFactory
from tests.onsite.factories import RegionFactory, manager_in
from tests.onsite.flow import at, complete, deploy_processes
from tests.pages.clients import signed_in

pytestmark = pytest.mark.django_db
DECEMBER = date(2026, 12, 1)


@pytest.fixture
def reviewed(org):
    """Three of qian's records in December, one rejected by the team leader and two approved; one
    of another team's manager's, approved; one of qian's in November, still pending."""
    deploy_processes()
    records = [
        award("lead_created", person=org.manager, key=f"lead:{n}", description=f"线索{n}", at=at(2026, 12, 3))
        for n in range(3)
    ]
    award("lead_created", person=org.manager, key="lead:nov", description="十一月", at=at(2026, 11, 20))
    review = request_incentive_review(team=org.team, period=DECEMBER, user=org.leader)
    complete(
        review.instance,
        "Task_review_incentives",
        org.leader,
        {"rejections": [{"record_id": records[0].pk, "reason": "重复"}], "review_note": "属实"},
    )
    region = RegionFactory(code="WH", name="芜湖分公司")
    other = Team.objects.create(
        name="政企客户二组", region=region, leader=UserFactory(username="he", roles=["team_leader"])
    )
    theirs = award(
        "lead_created", person=manager_in(other, "feng"), key="lead:x", description="x", at=at(2026, 12, 4)
    )
    IncentiveRecord.objects.filter(pk=theirs.pk).update(status=IncentiveRecord.Status.APPROVED)
    return {"records": records, "other": other, "theirs": theirs}


def test_the_coordinator_records_the_teams_approved_records_of_the_month_as_paid(org, reviewed):
    paid = record_payment(team=org.team, period=DECEMBER, reference="2026-12 工资批次", user=org.coordinator)

    assert paid == 2
    rows = {r.pk: r for r in IncentiveRecord.objects.all()}
    first, second, third = reviewed["records"]
    assert rows[first.pk].paid_at is None  # rejected
    assert rows[second.pk].payment_reference == rows[third.pk].payment_reference == "2026-12 工资批次"
    assert rows[second.pk].paid_by == org.coordinator
    assert rows[reviewed["theirs"].pk].paid_at is None  # another team's
    assert IncentiveRecord.objects.filter(period=date(2026, 11, 1), paid_at__isnull=False).count() == 0


def test_a_second_payment_of_the_same_month_finds_nothing_left_and_changes_nothing(org, reviewed):
    record_payment(team=org.team, period=DECEMBER, reference="批次一", user=org.coordinator)

    with pytest.raises(OnsiteError, match="no approved incentives"):
        record_payment(team=org.team, period=DECEMBER, reference="批次二", user=org.coordinator)
    assert set(
        IncentiveRecord.objects.exclude(payment_reference="").values_list("payment_reference", flat=True)
    ) == {"批次一"}


def test_only_coordinators_record_payments_and_a_reference_is_required(org, reviewed):
    for user in (org.leader, org.director, org.manager):
        with pytest.raises(NotPermitted):
            record_payment(team=org.team, period=DECEMBER, reference="x", user=user)
    for reference in ("", "   ", "x" * 101):
        with pytest.raises(InvalidInput) as refused:
            record_payment(team=org.team, period=DECEMBER, reference=reference, user=org.coordinator)
        assert set(refused.value.errors) == {"reference"}
    assert not IncentiveRecord.objects.filter(paid_at__isnull=False).exists()


def test_the_payments_figures_per_team(org, reviewed):
    record_payment(team=org.team, period=DECEMBER, reference="批次一", user=org.coordinator)

    rows = {row.team.name: row for row in team_payments(period=DECEMBER, user=org.director)}
    ours, theirs = rows["政企客户一组"], rows["政企客户二组"]
    assert (ours.approved, ours.paid, ours.unpaid, ours.unpaid_amount, ours.references) == (
        2,
        2,
        0,
        Decimal(0),
        ("批次一",),
    )
    assert (theirs.approved, theirs.paid, theirs.unpaid, theirs.unpaid_amount) == (
        1,
        0,
        1,
        theirs.approved_amount,
    )
    with pytest.raises(NotPermitted):
        team_payments(period=DECEMBER, user=org.leader)


def test_the_payments_page_records_a_payout_and_leadership_only_reads_it(org, reviewed):
    coordinator = signed_in(org.coordinator)
    page = coordinator.get("/incentives/payments/?period=2026-12").content.decode()
    assert "政企客户一组" in page and f"/incentives/payments/{org.team.pk}/pay/" in page

    response = coordinator.post(
        f"/incentives/payments/{org.team.pk}/pay/", {"period": "2026-12", "reference": "2026-12 工资批次"}
    )
    assert response.status_code == 302 and response["Location"].endswith("?period=2026-12")
    assert IncentiveRecord.objects.filter(paid_at__isnull=False).count() == 2

    director = signed_in(org.director)
    assert director.get("/incentives/payments/?period=2026-12").status_code == 200
    refused = director.post(
        f"/incentives/payments/{org.team.pk}/pay/", {"period": "2026-12", "reference": "x"}
    )
    assert refused.status_code == 403
    assert signed_in(org.manager).get("/incentives/payments/").status_code == 404
