"""Switching the language in Chromium: the header's button turns every page English and back."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_manager_switches_to_english_and_back(desktop, org):
    page = desktop.page
    desktop.sign_in("qian")
    assert page.get_by_role("link", name="我的客户").count() == 1

    page.click("form.language-switch button[value=en]")
    page.wait_for_load_state()
    assert page.url.endswith("/tasks/")  # the same page, in English
    assert page.get_by_role("link", name="My customers").count() == 1
    assert page.locator("html").get_attribute("lang") == "en"
    desktop.screenshot("inbox-english")

    desktop.goto("/customers/")
    assert "My customers" in page.locator("h1").inner_text()

    page.click("form.language-switch button[value=zh-hans]")
    page.wait_for_load_state()
    assert page.get_by_role("link", name="我的客户").count() == 1
