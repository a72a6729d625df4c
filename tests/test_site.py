import pytest

pytestmark = pytest.mark.django_db


def test_the_home_page_asks_a_visitor_to_sign_in(client):
    response = client.get("/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/")


def test_the_admin_login_answers_in_chinese_by_default(client):
    response = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="")
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.content.decode()
