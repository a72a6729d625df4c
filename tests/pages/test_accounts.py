"""Signing in and out, the lockout, the password, the language, the error pages and the headers
every page carries."""

import io

import pytest
from django.conf import settings
from django.test import Client

from tests.browser import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return UserFactory(username="qian", roles=["account_manager"])


def sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_the_sign_in_page_is_in_chinese_by_default_and_english_on_request(client):
    assert "登录" in client.get("/accounts/login/").content.decode()

    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert "Sign in" in client.get("/accounts/login/").content.decode()


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_signing_in_leads_home_with_a_secure_http_only_session_cookie(client, manager):
    response = sign_in(client, "qian")

    assert (response.status_code, response.url) == (302, "/")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["secure"]


def test_a_wrong_password_is_refused_with_a_message_and_the_username_kept(client, manager):
    response = sign_in(client, "qian", "wrong")

    assert response.status_code == 200
    page = response.content.decode()
    assert "请输入一个正确的" in page  # Django's own message, in Chinese
    assert 'value="qian"' in page


def test_five_failures_lock_the_account_from_that_address_even_for_the_right_password(client, manager):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "qian", "wrong")

    locked = sign_in(client, "qian")

    assert locked.status_code == 429
    assert "登录已锁定" in locked.content.decode()
    assert settings.SESSION_COOKIE_NAME not in locked.cookies


def test_other_accounts_are_not_locked_by_someone_elses_failures(client, manager):
    UserFactory(username="wu", roles=["account_manager"])
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "qian", "wrong")

    assert sign_in(client, "wu").status_code == 302


def test_signing_in_and_out_need_the_csrf_token(manager):
    strict = Client(enforce_csrf_checks=True)

    assert strict.post("/accounts/login/", {"username": "qian", "password": PASSWORD}).status_code == 403
    strict.force_login(manager)
    assert strict.post("/accounts/logout/").status_code == 403


def test_signing_out_is_a_post_and_ends_the_session(client, manager):
    client.force_login(manager)

    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").url == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_a_person_changes_their_password_with_the_old_one(client, manager):
    client.force_login(manager)
    refused = client.post(
        "/accounts/password/",
        {"old_password": "wrong", "new_password1": "Zhu-dian-2026!", "new_password2": "Zhu-dian-2026!"},
    )
    assert refused.status_code == 200 and "is-invalid" in refused.content.decode()

    changed = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "Zhu-dian-2026!", "new_password2": "Zhu-dian-2026!"},
    )

    assert changed.url == "/accounts/password/done/"
    manager.refresh_from_db()
    assert manager.check_password("Zhu-dian-2026!")


def test_an_unknown_page_is_a_friendly_404_in_the_readers_language(client, manager):
    client.force_login(manager)
    chinese = client.get("/no-such-page/")
    assert chinese.status_code == 404
    assert "找不到" in chinese.content.decode()

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Not found" in client.get("/no-such-page/").content.decode()


def test_every_page_forbids_inline_script_and_framing(client):
    response = client.get("/accounts/login/")

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "<script>" not in response.content.decode()  # every script is a file
    assert response.headers["X-Frame-Options"] == "DENY"


def test_static_files_are_served_without_debug(client):
    assert settings.DEBUG is False
    response = client.get("/static/onsite/site.css")

    assert response.status_code == 200
    assert b"Noto Sans CJK SC" in b"".join(response.streaming_content)


def test_signing_in_as_the_demos_manager_shows_the_demos_tasks(client):
    from django.core.management import call_command

    from tests.onsite.flow import deploy_processes

    deploy_processes()
    call_command("seed_demo", "--language", "en", stdout=io.StringIO())
    call_command("start_win_back_targets", "--language", "en", stdout=io.StringIO())

    response = client.post(
        "/accounts/login/", {"username": "manager", "password": "onsite-demo"}, follow=True
    )

    page = response.content.decode()
    assert response.redirect_chain[-1][0] == "/tasks/"
    assert "制定走访计划" in page  # the demo programme's first visit, waiting for its plan
    assert "GC-0001" in page
