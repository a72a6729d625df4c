"""The modeler's pages and endpoints: opening a version, validating and deploying it through the
engine's deployment service (all or nothing), the form editor's check and preview, and the refusals
of hostile or broken uploads, with nothing stored."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.pages.clients import signed_in
from workflows.models import AuditEvent, DeployedFile, ProcessModel, ProcessVersion

pytestmark = pytest.mark.django_db

VALIDATE = "/console/modeler/validate/"
DEPLOY = "/console/modeler/deploy/"
FORM_CHECK = "/console/modeler/forms/check/"
FORM_PREVIEW = "/console/modeler/forms/preview/"


def visit_cycle():
    version = ProcessVersion.objects.get(model__process_id="visit_cycle", number=1)
    files = {f.name: f for f in version.files.all()}
    main = next(f for f in files.values() if f.is_main)
    forms = {name: f.content for name, f in files.items() if f.kind == "form"}
    return version, main.name, main.content, forms


def upload(name, xml, forms, base=""):
    data = {"diagram": SimpleUploadedFile(name, xml.encode("utf-8"), content_type="application/xml")}
    data["form"] = [SimpleUploadedFile(n, text.encode("utf-8")) for n, text in forms.items()]
    if base:
        data["base"] = str(base)
    return data


def counts():
    return [m.objects.count() for m in (ProcessModel, ProcessVersion, DeployedFile, AuditEvent)]


# --- pages ------------------------------------------------------------------------------------------


def test_a_coordinator_opens_a_version_with_its_diagram_and_forms(coordinator, deployed):
    response = signed_in(coordinator).get("/console/modeler/visit_cycle/v1/")

    assert response.status_code == 200
    _version, name, xml, forms = visit_cycle()
    assert response.context["xml"] == xml
    assert response.context["forms"] == forms
    assert "visit_plan.schema.json" in forms
    config = response.context["config"]
    assert config["key"] == "visit_cycle/v1" and config["mainName"] == name
    assert any(role["lane"] == "客户经理" for role in config["roles"])
    assert any(op["name"] == "onsite.open_visit" for op in config["operations"])
    assert b'id="modeler-config"' in response.content


def test_the_new_page_starts_from_a_template_that_deploys(coordinator, deployed):
    client = signed_in(coordinator)
    page = client.get("/console/modeler/")
    xml, forms = page.context["xml"], page.context["forms"]
    assert "new_process" in xml and list(forms) == ["new_task.schema.json"]

    response = client.post(VALIDATE, upload("new_process.bpmn", xml, forms))

    assert response.json()["ok"], response.json()
    assert response.json()["problems"] == []


def test_the_new_page_opens_a_chosen_version(coordinator, deployed):
    version, *_ = visit_cycle()

    response = signed_in(coordinator).get("/console/modeler/", {"open": version.pk})

    assert response.status_code == 302
    assert response.url == "/console/modeler/visit_cycle/v1/"


def test_a_version_that_does_not_exist_is_not_found(coordinator, deployed):
    assert signed_in(coordinator).get("/console/modeler/visit_cycle/v9/").status_code == 404


def test_leadership_may_not_use_the_modeler(director, deployed):
    client = signed_in(director)
    _version, name, xml, forms = visit_cycle()

    assert client.get("/console/modeler/").status_code == 404
    assert client.get("/console/modeler/visit_cycle/v1/").status_code == 404
    assert client.post(DEPLOY, upload(name, xml, forms)).status_code == 403
    assert client.post(FORM_CHECK, {"schema": "{}"}).status_code == 403
    assert ProcessVersion.objects.filter(model__process_id="visit_cycle").count() == 1


def test_the_modeler_does_not_exist_for_account_managers(manager, deployed):
    client = signed_in(manager)

    assert client.get("/console/modeler/visit_cycle/v1/").status_code == 404
    assert client.post(VALIDATE, {}).status_code == 403


def test_the_modeler_tab_is_shown_to_those_who_may_deploy(coordinator, director, deployed):
    assert "/console/modeler/" in signed_in(coordinator).get("/console/").content.decode()
    assert "/console/modeler/" not in signed_in(director).get("/console/").content.decode()


# --- validate and deploy ----------------------------------------------------------------------------


def test_validating_names_a_broken_sequence_flow_by_its_element_id(coordinator, deployed):
    _version, name, xml, forms = visit_cycle()
    broken = xml.replace('targetRef="Task_plan_visit"', 'targetRef="Task_gone"', 1)
    before = counts()

    response = signed_in(coordinator).post(VALIDATE, upload(name, broken, forms))

    result = response.json()
    assert response.status_code == 200 and result["ok"] is False
    (problem,) = result["problems"]
    assert problem["element"] == "Flow_open_plan"
    assert "Task_gone" in problem["message"] and problem["line"]
    assert counts() == before


def test_validation_messages_are_in_the_readers_language(coordinator, deployed):
    _version, name, xml, forms = visit_cycle()
    broken = xml.replace('targetRef="Task_plan_visit"', 'targetRef="Task_gone"', 1)
    client = signed_in(coordinator)

    chinese = client.post(VALIDATE, upload(name, broken, forms), HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    english = client.post(VALIDATE, upload(name, broken, forms), HTTP_ACCEPT_LANGUAGE="en").json()

    assert chinese["problems"][0]["message"] != english["problems"][0]["message"]
    assert "does not exist" in english["problems"][0]["message"]


def test_deploying_stores_version_two_with_its_forms(coordinator, deployed):
    version, name, xml, forms = visit_cycle()
    changed = xml.replace('name="制定走访计划"', 'name="制定本次走访计划"', 1)
    forms["visit_plan.schema.json"] = forms["visit_plan.schema.json"].replace('"title"', '"title"', 1)
    plan = json.loads(forms["visit_plan.schema.json"])
    plan["description"] = "走访前填写。"
    forms["visit_plan.schema.json"] = json.dumps(plan, ensure_ascii=False)

    response = signed_in(coordinator).post(DEPLOY, upload(name, changed, forms, base=version.pk))

    result = response.json()
    assert response.status_code == 200 and result["ok"] and result["created"]
    new = ProcessVersion.objects.get(model__process_id="visit_cycle", number=2)
    assert new.created_by == coordinator
    stored = {f.name: f for f in new.files.all()}
    assert stored[name].is_main and "制定本次走访计划" in stored[name].content
    assert json.loads(stored["visit_plan.schema.json"].content)["description"] == "走访前填写。"
    assert set(stored) - {name} <= set(forms)
    assert "/visit_cycle/" in result["url"]


def test_deploying_the_same_content_makes_no_new_version(coordinator, deployed):
    version, name, xml, forms = visit_cycle()

    result = signed_in(coordinator).post(DEPLOY, upload(name, xml, forms, base=version.pk)).json()

    assert result["ok"] and result["created"] is False
    assert ProcessVersion.objects.filter(model__process_id="visit_cycle").count() == 1


def test_a_refused_deploy_names_the_problems_and_stores_nothing(coordinator, deployed):
    _version, name, xml, forms = visit_cycle()
    broken = xml.replace('targetRef="Task_plan_visit"', 'targetRef="Task_gone"', 1)
    before = counts()

    response = signed_in(coordinator).post(DEPLOY, upload(name, broken, forms))

    assert response.status_code == 400
    assert response.json()["problems"][0]["element"] == "Flow_open_plan"
    assert counts() == before


def test_deploying_checks_the_csrf_token(coordinator, deployed):
    _version, name, xml, forms = visit_cycle()
    client = signed_in(coordinator, enforce_csrf_checks=True)

    assert client.post(DEPLOY, upload(name, xml, forms)).status_code == 403


# --- hostile or broken input ------------------------------------------------------------------------

XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&secret;</bpmn:definitions>'
)
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    + ']>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol9;</bpmn:definitions>'
)


@pytest.mark.parametrize(
    ("xml", "fragment"),
    [
        (XXE, "DOCTYPE/ENTITY"),
        (LAUGHS, "DOCTYPE/ENTITY"),
        ("<bpmn:definitions><unclosed>", "Not well-formed XML"),
        ("<html><body>hello</body></html>", "not a BPMN 2.0 or DMN document"),
        ("", "The file is empty."),
    ],
    ids=["xxe", "billion-laughs", "malformed", "not-bpmn", "empty"],
)
def test_hostile_or_broken_diagrams_are_refused_with_the_deploy_message(coordinator, deployed, xml, fragment):
    client = signed_in(coordinator, HTTP_ACCEPT_LANGUAGE="en")
    before = counts()

    for url in (VALIDATE, DEPLOY):
        result = client.post(url, upload("attack.bpmn", xml, {}), HTTP_ACCEPT_LANGUAGE="en").json()
        assert result["ok"] is False
        assert fragment in result["problems"][0]["text"], result

    assert counts() == before


def test_a_diagram_over_the_engine_limit_is_refused_with_its_size(coordinator, deployed, settings):
    settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_BPMN_BYTES": 10_000}
    _version, name, xml, forms = visit_cycle()
    big = xml.replace("</bpmn:definitions>", "<!--" + "x" * 20_000 + "--></bpmn:definitions>")
    before = counts()

    result = signed_in(coordinator).post(DEPLOY, upload(name, big, forms), HTTP_ACCEPT_LANGUAGE="en").json()

    assert result["ok"] is False
    assert "the limit is 10,000 bytes" in result["problems"][0]["text"]
    assert counts() == before


def test_a_20_mb_upload_is_refused_before_it_is_read(coordinator, deployed):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(coordinator)
    twenty_mb = 20 * 1024 * 1024
    before = counts()

    for url in (VALIDATE, DEPLOY, FORM_CHECK, FORM_PREVIEW):
        # The declared length decides; a body that is never read need not be sent.
        response = client.generic(
            "POST", url, b"", CONTENT_TYPE="multipart/form-data; boundary=x", CONTENT_LENGTH=str(twenty_mb)
        )
        result = response.json()
        assert response.status_code == 413 and result["ok"] is False
        assert f"The upload is {twenty_mb:,} bytes; the limit is" in result["problems"][0]["message"]

    assert counts() == before


def test_a_real_20_mb_upload_gets_the_clear_refusal_not_a_bare_400(coordinator, deployed):
    _version, name, xml, forms = visit_cycle()
    padded = xml.replace("</bpmn:definitions>", "<!--" + "x" * (20 * 1024 * 1024) + "--></bpmn:definitions>")
    before = counts()

    # As a file part and as a plain field (which Django would refuse as too big to hold in memory).
    for data in (upload(name, padded, forms), {"diagram": padded}):
        response = signed_in(coordinator).post(DEPLOY, data, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 413
        assert "the limit is" in response.json()["problems"][0]["message"]

    assert counts() == before


def test_a_form_that_is_not_json_is_refused_and_nothing_is_stored(coordinator, deployed):
    _version, name, xml, forms = visit_cycle()
    forms["visit_plan.schema.json"] = '{"type": "object", "properties": {'
    before = counts()

    result = signed_in(coordinator).post(DEPLOY, upload(name, xml, forms), HTTP_ACCEPT_LANGUAGE="en").json()

    assert result["ok"] is False
    assert result["problems"][0]["file"] == "visit_plan.schema.json"
    assert "not valid JSON" in result["problems"][0]["message"]
    assert counts() == before


# --- the form editor --------------------------------------------------------------------------------


def test_the_form_check_locates_json_that_does_not_parse(coordinator):
    client = signed_in(coordinator)

    result = client.post(
        FORM_CHECK, {"schema": '{\n  "type": "object",\n  "properties": {,}\n}'}, HTTP_ACCEPT_LANGUAGE="en"
    ).json()

    assert result["ok"] is False
    (problem,) = result["problems"]
    assert (problem["line"], problem["column"]) == (3, 18)
    assert "line 3, column 18" in problem["message"]


def test_the_form_check_names_the_json_path_of_a_schema_problem(coordinator):
    schema = {"type": "object", "properties": {"visits": {"type": "integr"}}}

    result = (
        signed_in(coordinator)
        .post(FORM_CHECK, {"schema": json.dumps(schema)}, HTTP_ACCEPT_LANGUAGE="en")
        .json()
    )

    assert result["ok"] is False
    assert "#/properties/visits/type" in result["problems"][0]["message"]


def test_the_form_check_accepts_a_usable_form(coordinator, deployed):
    _version, _name, _xml, forms = visit_cycle()

    result = signed_in(coordinator).post(FORM_CHECK, {"schema": forms["visit_plan.schema.json"]}).json()

    assert result == {"ok": True, "problems": [], "warnings": []}


def test_the_preview_renders_the_task_pages_fields_in_chinese_and_english(coordinator):
    schema = {
        "type": "object",
        "properties": {"note": {"type": "string", "title": "备注", "title_en": "Note"}},
    }
    client = signed_in(coordinator)

    chinese = client.post(FORM_PREVIEW, {"schema": json.dumps(schema), "language": "zh-hans"})
    english = client.post(FORM_PREVIEW, {"schema": json.dumps(schema), "language": "en"})

    assert 'name="note"' in chinese.content.decode() and "备注" in chinese.content.decode()
    assert "Note" in english.content.decode() and "备注" not in english.content.decode()
    assert "<fieldset disabled>" in chinese.content.decode()


def test_the_preview_of_a_broken_form_says_why(coordinator):
    response = signed_in(coordinator).post(
        FORM_PREVIEW, {"schema": "[1, 2", "language": "en"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert "not JSON" in response.content.decode()


def test_the_lane_choices_name_each_role_in_words(org):
    from console.selectors.modeler import lane_roles

    labels = {choice["lane"]: choice["label"] for choice in lane_roles()}

    assert labels["客户经理"] == "客户经理 → Account manager"
    assert labels["coordinator"] == "coordinator → Coordinator"
