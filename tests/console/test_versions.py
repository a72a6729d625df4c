"""A process model's page (its versions), a version's page, its files' downloads, against versions
deployed through the engine; who may see them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import localtime

from tests.console.conftest import FIELD_CHECK, diagram_text, field_check_files
from tests.onsite.flow import new_programme
from tests.pages.clients import signed_in
from workflows.actors import SYSTEM
from workflows.models import DeployedFile
from workflows.services import deploy, start_instance

pytestmark = pytest.mark.django_db

MODEL_URL = "/console/models/field_check/"
V1_URL = "/console/models/field_check/v1/"
V2_URL = "/console/models/field_check/v2/"


def rows_by_number(response):
    return {row.version.number: row for row in response.context["page"].versions}


class TestModelPage:
    def test_lists_the_versions_newest_first_with_their_deployer_and_time(self, coordinator, field_check):
        first, _ = field_check

        response = signed_in(coordinator).get(MODEL_URL)

        assert response.status_code == 200
        assert [row.version.number for row in response.context["page"].versions] == [2, 1]
        html = response.content.decode()
        assert html.index('data-version="2"') < html.index('data-version="1"')
        assert coordinator.get_full_name() in html  # deployed v1
        assert "系统" in html  # deployed v2
        assert localtime(first.created_at).strftime("%Y-%m-%d %H:%M") in html
        assert 'href="/console/models/field_check/v1/"' in html
        assert 'href="/console/models/field_check/v2/"' in html

    def test_counts_each_versions_instances_by_status(self, coordinator, field_check):
        response = signed_in(coordinator).get(MODEL_URL)

        rows = rows_by_number(response)
        assert {c.status: c.count for c in rows[1].counts.by_status} == {"running": 1, "terminated": 1}
        assert {c.status: c.count for c in rows[2].counts.by_status} == {"running": 1}
        assert (rows[1].counts.total, rows[1].counts.unfinished) == (2, 1)
        html = response.content.decode()
        assert "运行中 1" in html and "已终止 1" in html

    def test_reads_the_versions_counts_and_pins_in_a_fixed_number_of_queries(self, coordinator, field_check):
        client = signed_in(coordinator)
        client.get(MODEL_URL)  # sessions, permissions cached
        with CaptureQueriesContext(connection) as few:
            client.get(MODEL_URL)
        for days in (8, 9, 10):  # three more versions, each with its own instance
            deploy(
                user=SYSTEM,
                files=field_check_files("v2", diagram=diagram_text("v2").replace("P7D", f"P{days}D")),
            )
            start_instance(process_id="field_check", user=SYSTEM)
        with CaptureQueriesContext(connection) as many:
            client.get(MODEL_URL)

        assert len(many.captured_queries) == len(few.captured_queries)

    def test_names_the_programmes_pinned_to_each_version(self, coordinator, org):
        programme = new_programme(org)

        response = signed_in(coordinator).get("/console/models/onsite_programme/")

        [group] = rows_by_number(response)[1].pinned
        assert group.records == [programme]
        html = response.content.decode()
        assert "驻点服务方案" in html and programme.name in html

    def test_the_list_of_models_links_each_to_its_page(self, coordinator, field_check):
        html = signed_in(coordinator).get("/console/").content.decode()

        assert f'href="{MODEL_URL}"' in html
        assert f'href="{V2_URL}"' in html  # its latest version

    def test_an_unknown_model_is_not_found(self, coordinator, field_check):
        assert signed_in(coordinator).get("/console/models/no_such_process/").status_code == 404


class TestVersionPage:
    def test_shows_who_deployed_it_when_its_files_and_the_diagram(self, coordinator, field_check):
        first, _ = field_check

        response = signed_in(coordinator).get(V1_URL)

        assert response.status_code == 200
        page = response.context["page"]
        assert page.version == first
        assert [(f.kind, f.name, f.is_main) for f in page.files] == [
            ("bpmn", "field_check.bpmn", True),
            ("form", "check_confirm.schema.json", False),
            ("form", "check_plan.schema.json", False),
            ("form", "check_record.schema.json", False),
        ]
        html = response.content.decode()
        assert coordinator.get_full_name() in html
        assert localtime(first.created_at).strftime("%Y-%m-%d %H:%M") in html
        for file in first.files.all():
            assert f'href="/console/models/field_check/v1/files/{file.pk}/"' in html
        # The diagram: its XML in a JSON script the viewer reads, and the viewer's container.
        assert 'id="version-xml" type="application/json"' in html
        assert 'data-diagram="version-xml"' in html
        assert "vendor/bpmn-js/viewer.js" in html
        assert page.diagram == (FIELD_CHECK / "v1" / "field_check.bpmn").read_text()

    def test_counts_its_instances_by_status(self, coordinator, field_check):
        page = signed_in(coordinator).get(V1_URL).context["page"]

        assert [(c.status, c.count) for c in page.counts.by_status] == [("running", 1), ("terminated", 1)]

    def test_shows_the_warnings_of_its_deployment(self, coordinator):
        lane = (
            '<bpmn:laneSet id="lanes"><bpmn:lane id="lane_x" name="No such role">'
            "<bpmn:flowNodeRef>plan</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>"
        )
        bpmn = diagram_text("v1").replace('<bpmn:startEvent id="start"', lane + '<bpmn:startEvent id="start"')
        version = deploy(user=SYSTEM, files=field_check_files("v1", diagram=bpmn)).version
        assert version.warnings

        html = signed_in(coordinator).get(V1_URL).content.decode()

        assert "部署时的警告" in html
        assert "No such role" in html

    def test_names_the_programmes_pinned_to_it(self, coordinator, org):
        programme = new_programme(org)

        response = signed_in(coordinator).get("/console/models/onsite_programme/v1/")

        assert [g.records for g in response.context["page"].pinned] == [[programme]]
        assert "驻点服务方案" in response.content.decode() and programme.name in response.content.decode()

    def test_links_to_the_differences_with_the_previous_version(self, coordinator, field_check):
        first = signed_in(coordinator).get(V1_URL).content.decode()
        second = signed_in(coordinator).get(V2_URL).content.decode()

        assert "/console/models/field_check/diff/?from=1&amp;to=2" in second
        assert "/diff/" not in first  # version 1 has no previous one

    def test_an_unknown_version_is_not_found(self, coordinator, field_check):
        client = signed_in(coordinator)

        assert client.get("/console/models/field_check/v3/").status_code == 404
        assert client.get("/console/models/no_such_process/v1/").status_code == 404


class TestFileDownload:
    def test_downloads_a_form_schema_as_a_json_attachment(self, coordinator, field_check):
        first, _ = field_check
        form = first.files.get(name="check_confirm.schema.json")

        response = signed_in(coordinator).get(f"/console/models/field_check/v1/files/{form.pk}/")

        assert response.status_code == 200
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert response["Content-Disposition"] == 'attachment; filename="check_confirm.schema.json"'
        assert response.content.decode() == form.content

    def test_downloads_the_diagram_as_it_was_deployed(self, coordinator, field_check):
        first, _ = field_check
        diagram = first.files.get(kind=DeployedFile.Kind.BPMN)

        response = signed_in(coordinator).get(f"/console/models/field_check/v1/files/{diagram.pk}/")

        assert response["Content-Type"] == "application/xml; charset=utf-8"
        assert response["Content-Disposition"] == 'attachment; filename="field_check.bpmn"'
        assert response.content == (FIELD_CHECK / "v1" / "field_check.bpmn").read_bytes()

    def test_a_file_of_another_version_is_not_found(self, coordinator, field_check):
        _, second = field_check
        other = second.files.get(name="check_review.schema.json")

        client = signed_in(coordinator)

        assert client.get(f"/console/models/field_check/v1/files/{other.pk}/").status_code == 404
        assert client.get(f"/console/models/field_check/v2/files/{other.pk}/").status_code == 200
        assert client.get("/console/models/field_check/v1/files/999999/").status_code == 404


class TestAccess:
    PAGES = (MODEL_URL, V1_URL, V2_URL, "/console/models/field_check/diff/")

    def test_coordinators_see_every_page(self, coordinator, field_check):
        client = signed_in(coordinator)
        assert [client.get(url).status_code for url in self.PAGES] == [200, 200, 200, 200]

    def test_leadership_reads_every_page_and_its_files(self, director, field_check):
        first, _ = field_check
        client = signed_in(director)
        file_url = f"/console/models/field_check/v1/files/{first.files.first().pk}/"

        assert [client.get(url).status_code for url in (*self.PAGES, file_url)] == [200] * 5

    def test_account_managers_find_nothing(self, manager, field_check):
        first, _ = field_check
        client = signed_in(manager)
        file_url = f"/console/models/field_check/v1/files/{first.files.first().pk}/"

        assert [client.get(url).status_code for url in (*self.PAGES, file_url)] == [404] * 5

    def test_strangers_are_asked_to_sign_in(self, client, field_check):
        for url in self.PAGES:
            response = client.get(url)
            assert response.status_code == 302
            assert response.url.startswith("/accounts/login/")


class TestActionLinks:
    """The other console pages a version's page leads to: the modeler and the migration for those
    who may change things, the heat-map and the instances for every reader."""

    def test_coordinators_get_every_action(self, coordinator, field_check):
        html = signed_in(coordinator).get(V2_URL).content.decode()

        assert 'href="/console/modeler/field_check/v2/"' in html
        assert 'href="/console/models/field_check/v2/migrate/"' in html
        assert 'href="/console/models/field_check/v2/heat-map/"' in html
        assert 'href="/console/instances/?process=field_check&amp;version=2"' in html
        assert 'href="/console/instances/?process=field_check&amp;version=2&amp;status=running"' in html

    def test_leadership_gets_the_reading_links_but_none_that_change_things(self, director, field_check):
        html = signed_in(director).get(V2_URL).content.decode()

        assert "/modeler/" not in html and "/migrate/" not in html
        assert 'href="/console/models/field_check/v2/heat-map/"' in html
        assert 'href="/console/instances/?process=field_check&amp;version=2"' in html


def test_the_pages_speak_english_when_asked(coordinator, field_check):
    client = signed_in(coordinator)
    client.post("/i18n/setlang/", {"language": "en", "next": V2_URL})

    version = client.get(V2_URL).content.decode()
    diff = client.get("/console/models/field_check/diff/").content.decode()

    assert "现场检查, version 2" in version and "the system" in version and "running 1" in version
    assert "user task" in diff and "due in" in diff and "What changed" in diff


def test_a_version_page_reads_a_fixed_number_of_queries(coordinator, field_check):
    client = signed_in(coordinator)
    client.get(V1_URL)

    with CaptureQueriesContext(connection) as queries:
        client.get(V1_URL)

    # Six for the session, the user, the navigation and the incidents' badge; six for the page: the
    # version, the latest number, the files, the counts, the programmes pinned, the diagram.
    assert len(queries.captured_queries) <= 12
