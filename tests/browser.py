"""The browser of the page tests: Playwright driving the system's Chromium (Debian's `chromium`,
installed by scripts/install-system-packages — Playwright's own browser download is not reachable
offline), and the pages it opens, watched. Its fixtures (`browser`, `desktop`, `phone`) are the
suite's, in tests/conftest.py, so that every directory's browser tests share one Playwright per
process.

Every browser page fails its test if it logs a console error, throws, or requests anything that is
not on this machine (no CDN). Screenshots go to screenshots/ (git-ignored), desktop and phone."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.conftest import ROOT

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = ROOT / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
LOCAL_HOSTS = {"127.0.0.1"}
PASSWORD = "secret"  # tests.factories.UserFactory's


def launch_browser() -> Iterator:
    if not CHROMIUM:
        pytest.skip(
            "Chromium is not installed, so the browser tests are skipped: "
            "scripts/install-system-packages installs Debian's chromium (or set CHROMIUM=/path/to/chromium)."
        )
    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are not
    # async code, so Django's guard against that is lifted for the browser tests' process.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # With that loop running, Django's connections in this thread are new objects, which lack the
    # copy of the migrations' data (roles, lanes, defaults) a serialized rollback restores before
    # each test: carry it over, or a browser test after any transactional test finds them empty.
    serialized = {c.alias: getattr(c, "_test_serialized_contents", None) for c in connections.all()}
    with sync_playwright() as playwright:
        for alias, contents in serialized.items():
            if contents is not None:
                connections[alias]._test_serialized_contents = contents
        # Chinese as the browser's own language too (date inputs show 年/月/日, as for our users).
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--lang=zh-CN"])
        yield launched
        launched.close()


class Watched:
    """A browser page, its console errors, uncaught exceptions and requests off this machine."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.route("**/*", self._route)

    def _console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _route(self, route) -> None:
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith("data:") or host in LOCAL_HOSTS:
            route.continue_()
        else:
            self.problems.append(f"request off this machine: {route.request.url}")
            route.abort()

    def goto(self, path: str):
        return self.page.goto(self.base_url + path)

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.goto("/accounts/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        # The sign-in form's button: the page header's language switch is a submit button too.
        self.page.click("main form button[type=submit]")
        self.page.wait_for_load_state()

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(exist_ok=True)
        width = self.page.viewport_size["width"]
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)

    def no_horizontal_scroll(self) -> bool:
        return self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def watched_page(browser, live_server, viewport: dict) -> Iterator[Watched]:
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    watched = Watched(context.new_page(), live_server.url)
    yield watched
    context.close()
    assert watched.problems == [], "\n".join(watched.problems)
