"""Notifications in Chromium: the bell counts a new notification without a reload; the list and the
settings on a desktop and on a phone (no horizontal scrolling, targets large enough to tap)."""

import pytest
from playwright.sync_api import expect

from onsite.models import NotificationKind
from onsite.services.notifications import notify

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BADGE = ".nav-bell-count .badge"


def lead_notice(user, key: str, customer: str = "合肥市数据资源局") -> None:
    notify(
        recipients=[user],
        kind=NotificationKind.URGENT_LEAD,
        key=key,
        params={"customer": customer, "lead": "政务云专线扩容，预计年收入 120 万元", "owner": "钱经理"},
        link="/leads/",
    )


def test_the_bell_counts_a_new_notification_without_a_reload(org, desktop):
    lead_notice(org.manager, "1")
    desktop.sign_in("qian")
    desktop.page.wait_for_url("**/tasks/")
    desktop.page.wait_for_selector(BADGE)
    assert desktop.page.locator(BADGE).inner_text() == "1"
    url = desktop.page.url

    lead_notice(org.manager, "2")

    # The header asks again within 30 s; the page is never reloaded.
    expect(desktop.page.locator(BADGE)).to_have_text("2", timeout=40_000)
    assert desktop.page.url == url


def test_the_list_and_settings_on_desktop_and_phone(org, desktop, phone):
    for n in range(3):
        lead_notice(org.manager, str(n), customer=f"合肥市第{n + 1}人民医院")
    for watched in (desktop, phone):
        watched.sign_in("qian")
        watched.goto("/notifications/")
        assert watched.page.locator(".notification-list li").count() == 3
        assert watched.no_horizontal_scroll()
        watched.screenshot("notifications")
        link = watched.page.locator(".notification-link").first
        assert link.bounding_box()["height"] >= 44

        watched.goto("/notifications/settings/")
        assert watched.no_horizontal_scroll()
        assert watched.page.locator("select").first.bounding_box()["height"] >= 44
        watched.screenshot("notification-settings")

    # The bell fits the phone's header beside the menu button.
    bell = phone.page.locator(".nav-bell")
    assert bell.is_visible()
    assert bell.bounding_box()["height"] >= 44

    phone.page.select_option("#channel-urgent_lead", "none")
    phone.page.get_by_role("button", name="保存").click()
    phone.page.wait_for_load_state()
    assert "通知设置已保存" in phone.page.locator(".messages").inner_text()

    desktop.goto("/notifications/")
    desktop.page.get_by_role("button", name="全部标为已读").click()
    desktop.page.wait_for_load_state()
    assert desktop.page.locator(".notification-unread").count() == 0
    desktop.page.wait_for_selector(".nav-bell-count .visually-hidden", state="attached")
    assert desktop.page.locator(BADGE).count() == 0
