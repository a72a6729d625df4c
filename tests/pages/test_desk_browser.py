"""The team leader's desk in Chromium: the leader signs in, lands on the review queue and reads the
team page and the warnings, on a desktop and on a phone (375 px: no horizontal scrolling, tap
targets of at least 44 px)."""

import pytest

from onsite.models import Team
from tests.browser import PASSWORD
from tests.onsite.factories import RegionFactory
from tests.pages.test_desk import summaries_awaiting_review, summary_overdue

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DESK = (("review-queue", "/desk/"), ("team", "/desk/team/"), ("warnings", "/desk/warnings/"))


@pytest.fixture
def desk_data(org):
    summaries_awaiting_review(org, 3)
    summary_overdue(org)
    return org


def too_small_tap_targets(page) -> list[str]:
    """The visible links, buttons and fields in the page's content less than 44 px high."""
    return page.page.evaluate(
        """() => [...document.querySelectorAll('main a, main button, main select, main input')]
            .filter(e => e.offsetParent !== null && e.type !== 'hidden')
            .filter(e => e.getBoundingClientRect().height < 44)
            .map(e => e.outerHTML.slice(0, 120))"""
    )


def test_the_leader_signs_in_to_the_review_queue_and_reads_the_desk_on_a_desktop(desktop, desk_data):
    desktop.sign_in("li")

    desktop.page.wait_for_url("**/desk/")
    assert desktop.page.locator("h1").inner_text().startswith("审核队列")
    assert desktop.page.locator("#group-summaries .queue-item").count() == 3
    for name, path in DESK:
        desktop.goto(path)
        desktop.screenshot(f"desk-{name}")
    assert desktop.page.locator(".warning-item").count() >= 1


def test_the_desk_fits_a_phone_with_tap_targets_of_44_px(phone, desk_data):
    phone.sign_in("li")
    phone.page.wait_for_url("**/desk/")

    for name, path in DESK:
        phone.goto(path)
        phone.screenshot(f"desk-{name}")
        assert phone.no_horizontal_scroll(), path
        assert too_small_tap_targets(phone) == [], path


def test_leadership_switches_the_team_on_a_phone(phone, desk_data):
    region = RegionFactory(code="WH", name="芜湖分公司")
    other = Team.objects.create(name="政企客户二组", region=region, leader=None)
    # Straight to the team page: leadership's home is the dashboard, another page.
    phone.goto(f"/accounts/login/?next=/desk/team/%3Fteam%3D{desk_data.team.pk}%26month%3D2026-10")
    phone.page.fill("input[name=username]", "zhou")
    phone.page.fill("input[name=password]", PASSWORD)
    phone.page.click("main button[type=submit]")
    phone.page.wait_for_url("**/desk/team/**")
    phone.page.select_option("#desk-team", str(other.pk))
    phone.page.wait_for_url(f"**/desk/team/?team={other.pk}&month=2026-10")

    assert "政企客户二组" in phone.page.locator("h1").inner_text()
    assert phone.no_horizontal_scroll()
    phone.screenshot("desk-team-leadership")
