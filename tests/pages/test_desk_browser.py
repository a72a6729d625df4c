"""The team leader's desk in Chromium: the leader signs in, lands on the review queue and reads the
team page and the warnings, on a desktop and on a phone (375 px: no horizontal scrolling, tap
targets of at least 44 px)."""

import pytest

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
