"""The migration page: the dry run of moving a process's instances to a version, the move of the
chosen ones, repinning, and who may see and do what."""

import pytest

from onsite.models import Programme
from tests.onsite.changed_diagrams import (
    deploy_text,
    programme_text,
    visit_cycle_text,
    with_final_report,
    with_thank_you_call,
    without_plan_task,
)
from tests.onsite.flow import build_org, current_visit, customer_of, enrol, new_programme, refreshed
from tests.pages.clients import signed_in
from workflows.models import AuditEvent, ProcessInstance

pytestmark = pytest.mark.django_db

URL = "/console/models/visit_cycle/v2/migrate/"


def client(user):
    """Signed in, reading English (the messages the services write too)."""
    return signed_in(user, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def org(deployed):
    return build_org()


@pytest.fixture
def visits(org):
    programme = new_programme(org)
    return [current_visit(enrol(org, programme, customer_of(org))) for _ in range(2)]


def test_the_dry_run_lists_each_unfinished_instance_with_where_it_waits_and_whether_it_can_move(org, visits):
    deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))

    response = client(org.coordinator).get(URL)

    assert response.status_code == 200
    assert response.context["source"].number == 1
    checks = response.context["plan"].checks
    assert [(c.instance_id, c.movable, c.waiting) for c in checks] == [
        (v.pk, True, [("Task_plan_visit", "制定走访计划")]) for v in visits
    ]
    page = response.content.decode()
    assert "回访致谢" in page  # the element added
    assert page.count('name="instance"') == 2 and page.count("checked") == 2
    assert "Migrate chosen" in page


def test_an_instance_that_cannot_move_shows_why_and_offers_no_checkbox(org, visits):
    deploy_text("visit_cycle.bpmn", without_plan_task(visit_cycle_text()))

    page = client(org.coordinator).get(URL).content.decode()

    assert "&#x27;制定走访计划&#x27; (ready) does not exist in the new version." in page
    assert 'name="instance"' not in page


def test_migrating_moves_the_chosen_instances_only_and_shows_each_outcome(org, visits):
    target = deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))
    chosen, left = visits
    revision = refreshed(chosen).revision

    response = client(org.coordinator).post(
        URL,
        {
            "from": "1",
            "action": "migrate",
            "instance": [str(chosen.pk)],
            f"revision-{chosen.pk}": revision,
            "reason": "新增回访致谢",
        },
    )

    assert response.status_code == 200
    assert [(o.instance_id, o.migrated) for o in response.context["outcomes"]] == [(chosen.pk, True)]
    assert (refreshed(chosen).version, refreshed(left).version.number) == (target, 1)
    assert (
        AuditEvent.objects.get(instance=chosen, kind=AuditEvent.Kind.MIGRATED).details["reason"]
        == "新增回访致谢"
    )
    # The dry run shown after the move lists only what is left on version 1.
    assert [c.instance_id for c in response.context["plan"].checks] == [left.pk]


def test_an_instance_changed_since_the_dry_run_is_not_moved(org, visits):
    deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))
    instance = visits[0]

    response = client(org.coordinator).post(
        URL,
        {"from": "1", "action": "migrate", "instance": [str(instance.pk)], f"revision-{instance.pk}": "0"},
    )

    [outcome] = response.context["outcomes"]
    assert not outcome.migrated and "changed since the dry run" in outcome.message
    assert refreshed(instance).version.number == 1


def test_repinning_moves_the_programmes_pinned_to_the_old_version(org, visits):
    target = deploy_text("onsite_programme.bpmn", with_final_report(programme_text()))
    url = "/console/models/onsite_programme/v2/migrate/"
    page = client(org.coordinator).get(url).content.decode()
    assert "2026年合肥政企驻点服务" in page and "Repin them to v2" in page

    response = client(org.coordinator).post(url, {"from": "1", "action": "repin"})

    assert response.status_code == 302
    assert Programme.objects.get().process_version == target


def test_leadership_sees_the_dry_run_without_actions_and_may_not_migrate(org, visits):
    deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))

    response = client(org.director).get(URL)
    assert response.status_code == 200
    assert len(response.context["plan"].checks) == 2
    page = response.content.decode()
    assert 'name="instance"' not in page and "Migrate chosen" not in page

    refused = client(org.director).post(
        URL, {"from": "1", "action": "migrate", "instance": [str(visits[0].pk)]}
    )
    assert refused.status_code == 403
    assert refreshed(visits[0]).version.number == 1


def test_the_page_does_not_exist_for_account_managers_or_for_unknown_versions(org, visits):
    deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))

    assert client(org.manager).get(URL).status_code == 404
    assert client(org.coordinator).get("/console/models/visit_cycle/v9/migrate/").status_code == 404
    assert client(org.coordinator).get(URL + "?from=7").status_code == 404
    assert ProcessInstance.objects.filter(version__number=2).count() == 0
