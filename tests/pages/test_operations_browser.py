"""The operations page in Chromium on a phone (375 px): a long error and its traceback wrap, the
stalled banner shows, and the retry button is a 44 px tap target; on a desktop, each schedule says
what it does."""

import pytest
from django.utils import timezone

from tests.pages.test_desk_browser import too_small_tap_targets
from tests.pages.test_operations import failed_job, succeeded
from workflows.worker_health import HEARTBEAT

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_operations_page_fits_a_phone_with_a_long_error_and_the_stalled_banner(phone, org):
    failed_job(
        func="onsite.jobs.notifications.send_notification_email_to_the_assignee",
        result="x" * 300
        + " : Traceback (most recent call last):\n  File "
        + "y" * 400
        + "\nSMTPServerDisconnected: "
        + "x" * 300,
        stopped=timezone.now(),
    )
    succeeded(HEARTBEAT, 7)
    phone.sign_in("zhao")

    phone.goto("/operations/")
    phone.page.locator("details summary").first.click()
    phone.screenshot("operations")

    assert phone.page.locator(".worker-stalled").is_visible()
    assert phone.page.locator("h1").inner_text() == "运维"
    assert phone.no_horizontal_scroll()
    assert too_small_tap_targets(phone) == []


def test_on_a_desktop_each_schedule_says_in_chinese_what_it_does_and_when_it_last_ran(desktop, org):
    succeeded(HEARTBEAT, 0.5)
    desktop.sign_in("zhao")

    desktop.goto("/operations/")
    desktop.screenshot("operations")

    labels = desktop.page.locator(".schedule-label").all_inner_texts()
    assert "触发到期的 BPMN 定时器" in labels and "重发尚未发出的通知邮件" in labels
    assert desktop.page.locator(".worker-running").is_visible()
