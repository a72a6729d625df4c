import pytest

from tests.pages.clients import signed_in

pytestmark = pytest.mark.django_db


def test_coordinators_see_every_deployed_model_with_its_latest_version(coordinator, deployed):
    response = signed_in(coordinator).get("/console/")

    assert response.status_code == 200
    models = {m.process_id: m for m in response.context["models"]}
    assert {"visit_cycle", "onsite_programme", "lead_follow_up"} <= set(models)
    assert models["visit_cycle"].latest_number == 1
    assert models["visit_cycle"].running_count == 0


def test_leadership_reads_the_console_but_may_not_deploy(director, deployed):
    response = signed_in(director).get("/console/")

    assert response.status_code == 200
    assert response.context["can"] == {"deploy": False, "manage": False, "reassign": False}


def test_the_console_does_not_exist_for_account_managers(manager):
    assert signed_in(manager).get("/console/").status_code == 404


def test_the_console_asks_strangers_to_sign_in(client):
    response = client.get("/console/")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
