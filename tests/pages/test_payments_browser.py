"""Incentive payments in Chromium: the coordinator records a team's approved incentives of the month
as paid with the payroll batch, on a desktop and a 375 px phone."""

import pytest

from onsite.models import IncentiveRecord
from tests.onsite.test_incentive_payments import DECEMBER, reviewed  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_coordinator_records_a_teams_payout(request, viewport, org, reviewed):  # noqa: F811
    watched = request.getfixturevalue(viewport)
    page = watched.page
    watched.sign_in("zhao")
    watched.goto(f"/incentives/payments/?period={DECEMBER:%Y-%m}")
    watched.screenshot("payments")

    row = page.locator(f".payment-row[data-team='{org.team.pk}']")
    row.locator("input[name=reference]").fill("2026-12 工资批次")
    row.locator("button[type=submit]").click()
    page.wait_for_url("**/incentives/payments/?period=2026-12")

    assert "2026-12 工资批次" in page.locator(f".payment-row[data-team='{org.team.pk}']").inner_text()
    assert IncentiveRecord.objects.filter(payment_reference="2026-12 工资批次").count() == 2
    assert watched.no_horizontal_scroll()
    watched.screenshot("payments-paid")
