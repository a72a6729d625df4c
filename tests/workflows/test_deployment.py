import codecs

import pytest

from tests.conftest import CONFORMANCE_DIR, TEST_BPMN_DIR, source
from tests.factories import UserFactory
from tests.workflows.diagrams import linear, process, script_task, user_task
from tests.workflows.diagrams import source as text
from workflows.actors import SYSTEM
from workflows.documents import DeploymentError
from workflows.exceptions import ProcessNotDeployed
from workflows.models import AuditEvent, DeployedFile, ProcessInstance, ProcessModel, ProcessVersion
from workflows.operations import register_operation, unregister_operation
from workflows.selectors import instance_variables
from workflows.services import deploy, start_instance
from workflows.services.deployment import deploy_files

pytestmark = pytest.mark.django_db


def approval_files(**replace):
    files = [
        source(TEST_BPMN_DIR / "approval.bpmn"),
        source(TEST_BPMN_DIR / "request.schema.json"),
        source(TEST_BPMN_DIR / "review.schema.json"),
    ]
    for name, content in replace.items():
        files = [text(f.name, content) if f.name == name else f for f in files]
    return files


def refused(files, *fragments):
    """Deploy `files`, expect refusal, check every fragment appears in one problem, nothing stored."""
    models, versions = ProcessModel.objects.count(), ProcessVersion.objects.count()
    with pytest.raises(DeploymentError) as caught:
        deploy(user=SYSTEM, files=files)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    assert ProcessModel.objects.count() == models
    assert ProcessVersion.objects.count() == versions
    return caught.value.problems


class TestVersions:
    def test_deploy_creates_version_one_with_files_forms_and_author(self):
        coordinator = UserFactory(roles=["coordinator"])
        deployment = deploy(files=approval_files(), user=coordinator)

        version = deployment.version
        assert deployment.created
        assert (version.model.process_id, version.number, version.created_by) == ("approval", 1, coordinator)
        assert len(version.checksum) == 64
        stored = {(f.kind, f.name, f.is_main) for f in version.files.all()}
        assert stored == {
            ("bpmn", "approval.bpmn", True),
            ("form", "request.schema.json", False),
            ("form", "review.schema.json", False),
        }
        assert AuditEvent.objects.get(kind="deployed").details["number"] == 1

    def test_deploying_identical_content_returns_the_existing_version(self):
        first = deploy(user=SYSTEM, files=approval_files())
        again = deploy(user=SYSTEM, files=approval_files())

        assert not again.created
        assert again.version.pk == first.version.pk
        assert ProcessVersion.objects.count() == 1

    def test_changed_diagram_or_form_makes_the_next_version(self):
        deploy(user=SYSTEM, files=approval_files())
        bpmn = (TEST_BPMN_DIR / "approval.bpmn").read_text().replace("Submit request", "Submit a request")
        second = deploy(user=SYSTEM, files=approval_files(**{"approval.bpmn": bpmn}))
        form = (TEST_BPMN_DIR / "review.schema.json").read_text().replace('"意见"', '"审批意见"')
        third = deploy(
            user=SYSTEM, files=approval_files(**{"approval.bpmn": bpmn, "review.schema.json": form})
        )

        assert (second.version.number, third.version.number) == (2, 3)

    def test_running_instances_stay_on_the_version_they_started_with(self):
        deploy(user=SYSTEM, files=approval_files())
        old = start_instance(user=SYSTEM, process_id="approval")
        bpmn = (TEST_BPMN_DIR / "approval.bpmn").read_text().replace("Submit request", "Submit a request")
        deploy(user=SYSTEM, files=approval_files(**{"approval.bpmn": bpmn}))
        new = start_instance(user=SYSTEM, process_id="approval")

        old.refresh_from_db()
        assert (old.version.number, new.version.number) == (1, 2)
        assert old.human_tasks.get().name == "Submit request"
        assert new.human_tasks.get().name == "Submit a request"

    def test_an_earlier_version_can_still_be_started_by_number(self):
        deploy(user=SYSTEM, files=approval_files())
        bpmn = (TEST_BPMN_DIR / "approval.bpmn").read_text().replace("Submit request", "Submit a request")
        deploy(user=SYSTEM, files=approval_files(**{"approval.bpmn": bpmn}))

        pinned = start_instance(user=SYSTEM, process_id="approval", version=1)

        assert pinned.version.number == 1
        assert pinned.human_tasks.get().name == "Submit request"
        with pytest.raises(ProcessNotDeployed, match="Version 3 of process 'approval' is not deployed"):
            start_instance(user=SYSTEM, process_id="approval", version=3)

    def test_deployed_files_are_stored_verbatim(self):
        version = deploy(user=SYSTEM, files=approval_files()).version
        stored = DeployedFile.objects.get(version=version, name="approval.bpmn").content
        assert stored == (TEST_BPMN_DIR / "approval.bpmn").read_text()

    def test_bare_iso_timer_literal_is_read_as_the_literal(self):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "timers.bpmn")])
        instance = start_instance(user=SYSTEM, process_id="timers")
        assert instance.status == "running"
        assert instance.timers.filter(bpmn_id="timeout").exists()


class TestDocumentsRefused:
    def test_not_xml(self):
        refused([text("broken.bpmn", "<bpmn:definitions><oops")], "broken.bpmn", "Not well-formed XML")

    def test_empty_file(self):
        refused([text("empty.bpmn", "  ")], "empty.bpmn", "The file is empty.")

    def test_xml_that_is_not_bpmn(self):
        refused([text("page.bpmn", "<html><body/></html>")], "page.bpmn", "not a BPMN 2.0 or DMN document")

    def test_external_entity_is_refused_before_parsing(self):
        xxe = (
            '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&secret;'
            "</bpmn:definitions>"
        )
        refused([text("xxe.bpmn", xxe)], "xxe.bpmn", "DOCTYPE/ENTITY")

    def test_entity_expansion_bomb_is_refused(self):
        entities = '<!ENTITY lol0 "lol">' + "".join(
            f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
        )
        lol = (
            f'<?xml version="1.0"?>\n<!DOCTYPE lolz [{entities}]>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol9;'
            "</bpmn:definitions>"
        )
        refused([text("lol.bpmn", lol)], "lol.bpmn", "DOCTYPE/ENTITY")

    def test_doctype_hidden_in_utf16_is_refused(self):
        xml = (
            '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE d [<!ENTITY e "x">]>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>'
        )
        files = [source(TEST_BPMN_DIR / "parallel.bpmn", "utf16.bpmn")]
        files[0].content = codecs.BOM_UTF16_LE + xml.encode("utf-16-le")
        refused(files, "utf16.bpmn", "DOCTYPE/ENTITY")

    def test_oversized_file_is_refused_before_parsing(self, settings):
        settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_BPMN_BYTES": 1000}
        refused([source(TEST_BPMN_DIR / "approval.bpmn")], "approval.bpmn", "the limit is 1,000 bytes")

    def test_schema_violation_names_file_and_line(self):
        bad = linear('<bpmn:userTask id="t1"><bpmn:noSuchElement /></bpmn:userTask>')
        problems = refused([text("schema.bpmn", bad)], "schema.bpmn", "BPMN 2.0 schema")
        assert problems[0].line


class TestStructureRefused:
    def test_duplicate_ids(self):
        bad = linear(user_task("same"), script_task("same", "x = 1"))
        refused([text("dup.bpmn", bad)], "dup.bpmn", "element 'same'", "used twice")

    def test_reserved_id(self):
        bad = process(
            '<bpmn:startEvent id="Start" /><bpmn:endEvent id="done" />'
            '<bpmn:sequenceFlow id="f" sourceRef="Start" targetRef="done" />'
        )
        refused([text("reserved.bpmn", bad)], "element 'Start'", "reserved by the engine")

    def test_sequence_flow_to_a_missing_element(self):
        bad = process(
            '<bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="ghost" />'
        )
        refused([text("flow.bpmn", bad)], "element 'f'", "targetRef 'ghost' does not exist")

    def test_boundary_event_without_activity(self):
        bad = linear(
            user_task("t"),
        ).replace(
            '<bpmn:endEvent id="end" />',
            '<bpmn:endEvent id="end" /><bpmn:boundaryEvent id="b"><bpmn:timerEventDefinition>'
            '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>',
        )
        refused([text("boundary.bpmn", bad)], "element 'b'", "not attached to any activity")

    def test_call_activity_to_a_missing_process(self):
        bad = linear('<bpmn:callActivity id="call" calledElement="nowhere" />')
        refused([text("call.bpmn", bad)], "element 'call'", "calls process 'nowhere'")

    def test_linked_call_to_an_undeployed_process(self):
        refused(
            [source(TEST_BPMN_DIR / "linked_parent.bpmn")],
            "element 'call_child'",
            "process 'linked_child'",
            "deploy it first",
        )

    def test_process_without_start_event(self):
        bad = process('<bpmn:userTask id="t" />')
        refused([text("nostart.bpmn", bad)], "test_process", "no start event")

    def test_no_executable_process(self):
        bad = process('<bpmn:startEvent id="s" />', executable=False)
        refused([text("off.bpmn", bad)], 'isExecutable="false"')

    def test_message_reference_to_nothing(self):
        bad = linear(
            '<bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="nope" />'
            "</bpmn:intermediateCatchEvent>"
        )
        refused([text("msg.bpmn", bad)], "message 'nope'")


class TestEngineChecksRefused:
    def test_missing_form(self):
        refused(
            [text("form.bpmn", linear(user_task("t", form="missing.schema.json")))],
            "element 't'",
            "'missing.schema.json' does not exist",
        )

    def test_form_that_is_not_a_json_schema(self):
        files = [
            text("form.bpmn", linear(user_task("t", form="bad.schema.json"))),
            text("bad.schema.json", '{"type": "object", "properties": {"x": {"type": "nonsense"}}}'),
        ]
        refused(files, "'bad.schema.json' is unusable", "Not a valid JSON Schema")

    def test_form_that_is_not_json(self):
        files = [
            text("form.bpmn", linear(user_task("t", form="bad.schema.json"))),
            text("bad.schema.json", "{not json"),
        ]
        refused(files, "bad.schema.json", "not valid JSON")

    def test_form_field_that_would_shadow_a_function(self):
        files = [
            text("form.bpmn", linear(user_task("t", form="f.schema.json"))),
            text("f.schema.json", '{"type": "object", "properties": {"now": {"type": "string"}}}'),
        ]
        refused(files, "Field name 'now' is reserved")

    def test_form_file_name_outside_forms(self):
        refused(
            [text("form.bpmn", linear(user_task("t", form="../../etc/passwd.json")))],
            "must be a plain .json file name",
        )

    def test_form_with_remote_reference(self):
        files = [
            text("form.bpmn", linear(user_task("t", form="r.schema.json"))),
            text("r.schema.json", '{"type": "object", "properties": {"x": {"$ref": "http://evil/x.json"}}}'),
        ]
        refused(files, "may not reference other documents")

    def test_unknown_service_operation(self):
        refused(
            [source(TEST_BPMN_DIR / "service_call.bpmn")],
            "element 'call_service'",
            "operation 'tests.lookup', which is not registered",
        )

    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            ("__import__('os').system('id')", '"__import__" is not available'),
            ("open('/etc/passwd').read()", '"open" is not available'),
            ("x = ().__class__.__bases__[0].__subclasses__()", 'starts with "_"'),
            ("import os", "Imports are not allowed"),
        ],
    )
    def test_dangerous_script(self, code, expected):
        refused(
            [text("script.bpmn", linear(script_task("evil", code)))],
            "element 'evil'",
            "The script is refused",
            expected,
        )

    def test_dangerous_condition(self):
        bad = process(
            '<bpmn:startEvent id="s" /><bpmn:exclusiveGateway id="g" default="f3" />'
            '<bpmn:endEvent id="e1" /><bpmn:endEvent id="e2" />'
            '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="g" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="e1"><bpmn:conditionExpression>'
            "[c for c in ().__class__.__base__.__subclasses__()]</bpmn:conditionExpression></bpmn:sequenceFlow>"
            '<bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="e2" />'
        )
        refused([text("cond.bpmn", bad)], "element 'g'", "The condition is refused")

    def test_dangerous_timer_expression(self):
        bad = linear(
            '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
            "<bpmn:timeDuration>getattr(x, 'y')</bpmn:timeDuration></bpmn:timerEventDefinition>"
            "</bpmn:intermediateCatchEvent>"
        )
        refused(
            [text("timer.bpmn", bad)], "element 'wait'", "expression is refused", '"getattr" is not available'
        )

    def test_dangerous_dmn_expression(self):
        bpmn = linear(
            '<bpmn:businessRuleTask id="decide"><bpmn:extensionElements>'
            "<spiffworkflow:calledDecisionId>pick</spiffworkflow:calledDecisionId>"
            "</bpmn:extensionElements></bpmn:businessRuleTask>"
        )
        dmn = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">
  <decision id="pick" name="Pick">
    <decisionTable id="table">
      <input id="in1" label="x"><inputExpression id="ie1" typeRef="string"><text>x.__class__</text></inputExpression></input>
      <output id="out1" name="y" typeRef="string" />
      <rule id="r1">
        <inputEntry id="e1"><text>"a"</text></inputEntry>
        <outputEntry id="o1"><text>"b"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>"""
        refused(
            [text("rule.bpmn", bpmn), text("pick.dmn", dmn)],
            "element 'decide'",
            "DMN input expression is refused",
        )

    def test_a_literal_cardinality_over_the_limit_is_refused(self):
        bad = linear(
            '<bpmn:userTask id="many"><bpmn:multiInstanceLoopCharacteristics>'
            "<bpmn:loopCardinality>100000000</bpmn:loopCardinality>"
            "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
        )
        refused([text("many.bpmn", bad)], "element 'many'", "would start 100,000,000 instances")

    def test_huge_literal_multi_instance(self):
        bad = linear(
            '<bpmn:userTask id="many"><bpmn:multiInstanceLoopCharacteristics>'
            "<bpmn:loopCardinality>10**8</bpmn:loopCardinality>"
            "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
        )
        refused(
            [text("many.bpmn", bad)],
            "element 'many'",
            "would start 100,000,000 instances",
            "the limit is 1,000",
        )

    def test_one_bad_file_in_a_bundle_stores_nothing(self):
        files = [source(TEST_BPMN_DIR / "parallel.bpmn"), text("broken.bpmn", "<nope")]
        with pytest.raises(DeploymentError):
            deploy_files(user=SYSTEM, files=files)
        assert not ProcessModel.objects.exists()


class TestWarnings:
    def test_lane_without_role_is_a_warning_and_tasks_go_to_coordinators(self):
        deployment = deploy(user=SYSTEM, files=approval_files())
        messages = [w.message for w in deployment.warnings]
        assert (
            "Lane 'Requester' maps to no role; its tasks go to the 'coordinator' role until it is mapped."
            in messages
        )
        instance = start_instance(user=SYSTEM, process_id="approval")
        assert instance.human_tasks.get().role.name == "coordinator"

    def test_message_catch_without_variable_is_a_warning(self):
        body = (
            '<bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="m" />'
            "</bpmn:intermediateCatchEvent>"
        )
        deployment = deploy(
            user=SYSTEM, files=[text("m.bpmn", linear(body, before='<bpmn:message id="m" name="m" />'))]
        )
        assert any(
            "names no message variable" in w.message and w.element == "wait" for w in deployment.warnings
        )


class TestServiceOperations:
    def test_registered_operation_deploys(self):
        register_operation("tests.lookup")(lambda context, **params: params)
        try:
            assert deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "service_call.bpmn")]).created
        finally:
            unregister_operation("tests.lookup")


def test_deploy_files_deploys_linked_callees_first():
    results = deploy_files(
        user=SYSTEM,
        files=[source(TEST_BPMN_DIR / "linked_parent.bpmn"), source(TEST_BPMN_DIR / "linked_child.bpmn")],
    )
    assert [d.version.model.process_id for d in results] == ["linked_child", "linked_parent"]


def decision_table(decision_id: str, output: str) -> str:
    """A DMN file with one decision setting `y` to `output` when `x` is "a"."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs_{decision_id}" name="d" namespace="x">
  <decision id="{decision_id}" name="{decision_id}">
    <decisionTable id="table_{decision_id}">
      <input id="in1" label="x"><inputExpression id="ie1" typeRef="string"><text>x</text></inputExpression></input>
      <output id="out1" name="y" typeRef="string" />
      <rule id="r1"><inputEntry id="e1"><text>"a"</text></inputEntry><outputEntry id="o1"><text>"{output}"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""


def deciding(process_id: str, decision_id: str, *, camunda: bool = False) -> str:
    if camunda:
        task = f'<bpmn:businessRuleTask id="decide" camunda:decisionRef="{decision_id}" />'
        document = linear(task, user_task("after"), process_id=process_id)
        return document.replace(
            "<bpmn:definitions ", '<bpmn:definitions xmlns:camunda="http://camunda.org/schema/1.0/bpmn" ', 1
        )
    return linear(
        '<bpmn:businessRuleTask id="decide"><bpmn:extensionElements>'
        f"<spiffworkflow:calledDecisionId>{decision_id}</spiffworkflow:calledDecisionId>"
        "</bpmn:extensionElements></bpmn:businessRuleTask>",
        user_task("after"),
        process_id=process_id,
    )


class TestDeployFilesAndDecisionTables:
    def stored(self, deployment) -> set[str]:
        return set(deployment.version.files.filter(kind="dmn").values_list("name", flat=True))

    def test_each_diagram_gets_only_the_decision_tables_it_calls(self):
        results = deploy_files(
            user=SYSTEM,
            files=[
                text("first.bpmn", deciding("first", "pick_first")),
                text("second.bpmn", deciding("second", "pick_second", camunda=True)),
                text("plain.bpmn", linear(user_task("work"), process_id="plain")),
                text("first.dmn", decision_table("pick_first", "one")),
                text("second.dmn", decision_table("pick_second", "two")),
            ],
        )
        stored = {d.version.model.process_id: self.stored(d) for d in results}
        assert stored == {"first": {"first.dmn"}, "second": {"second.dmn"}, "plain": set()}
        for process_id, expected in (("first", "one"), ("second", "two")):
            instance = start_instance(user=SYSTEM, process_id=process_id, data={"x": "a"})
            instance.refresh_from_db()
            assert instance.status == ProcessInstance.Status.RUNNING, instance.error
            assert instance_variables(instance)["y"] == expected

    def test_a_decision_table_no_diagram_calls_is_refused_and_nothing_is_stored(self):
        with pytest.raises(DeploymentError) as caught:
            deploy_files(
                user=SYSTEM,
                files=[
                    text("first.bpmn", deciding("first", "pick_first")),
                    text("first.dmn", decision_table("pick_first", "one")),
                    text("stray.dmn", decision_table("pick_stray", "two")),
                ],
            )
        assert [p.file for p in caught.value.problems] == ["stray.dmn"]
        assert "calls one of its decisions" in str(caught.value)
        assert not ProcessModel.objects.exists()


def linked_call(task_id: str, process_id: str) -> str:
    return (
        f'<bpmn:callActivity id="{task_id}" calledElement="{process_id}"><bpmn:extensionElements>'
        '<spiffworkflow:properties><spiffworkflow:property name="calledElementInstance" value="separate" />'
        "</spiffworkflow:properties></bpmn:extensionElements></bpmn:callActivity>"
    )


class TestCallCycles:
    def test_a_process_embedding_itself_is_refused(self):
        refused(
            [
                text(
                    "rec.bpmn",
                    linear('<bpmn:callActivity id="again" calledElement="rec" />', process_id="rec"),
                )
            ],
            "element 'again'",
            "The process calls itself (rec → rec)",
        )

    def test_a_process_starting_itself_is_refused_even_when_an_earlier_version_exists(self):
        deploy(user=SYSTEM, files=[text("rec.bpmn", linear(user_task("work"), process_id="rec"))])
        refused(
            [text("rec.bpmn", linear(linked_call("again", "rec"), process_id="rec"))],
            "The process calls itself (rec → rec)",
        )

    def test_a_cycle_through_deployed_processes_is_refused(self):
        deploy(user=SYSTEM, files=[text("b.bpmn", linear(user_task("work"), process_id="b"))])
        deploy(user=SYSTEM, files=[text("a.bpmn", linear(linked_call("to_b", "b"), process_id="a"))])
        deploy(user=SYSTEM, files=[text("c.bpmn", linear(linked_call("to_a", "a"), process_id="c"))])
        refused(
            [text("b.bpmn", linear(linked_call("to_c", "c"), process_id="b"))],
            "element 'to_c'",
            "The process calls itself (b → c → a → b)",
        )

    def test_calling_the_same_process_twice_without_a_cycle_deploys(self):
        deploy(user=SYSTEM, files=[text("b.bpmn", linear(user_task("work"), process_id="b"))])
        assert deploy(
            user=SYSTEM,
            files=[
                text("a.bpmn", linear(linked_call("first", "b"), linked_call("second", "b"), process_id="a"))
            ],
        ).created


class TestHostileDocuments:
    def test_a_script_longer_than_the_limit_is_refused_without_compiling_it(self, settings):
        settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_CODE_LENGTH": 1000}
        refused(
            [text("long.bpmn", linear(script_task("long", "x = 1\n" * 500)))],
            "element 'long'",
            "the limit is 1,000",
        )

    @pytest.mark.parametrize(
        "code",
        ["x = " + "1 + " * 12000 + "1", "x = " + "(" * 3000 + ")" * 3000, "x = " + "-" * 30000 + "1"],
    )
    def test_code_nested_beyond_what_the_compiler_takes_is_a_clear_refusal(self, code):
        refused([text("deep.bpmn", linear(script_task("deep", code)))], "element 'deep'", "script is refused")

    def test_a_form_file_nested_beyond_what_json_reads_is_a_clear_refusal(self):
        deep = '{"type": "object", "properties": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}"
        refused(
            [
                text("f.bpmn", linear(user_task("ask", form="deep.schema.json"))),
                text("deep.schema.json", deep),
            ],
            "deep.schema.json",
        )

    def test_a_form_whose_reference_points_at_itself_is_refused(self):
        form = '{"type": "object", "properties": {"a": {"$ref": "#/properties/a"}}}'
        refused(
            [
                text("f.bpmn", linear(user_task("ask", form="loop.schema.json"))),
                text("loop.schema.json", form),
            ],
            "element 'ask'",
            "The references form a loop",
        )

    def test_a_huge_cardinality_built_from_constants_is_judged_in_a_helper(self):
        bad = linear(
            '<bpmn:userTask id="many"><bpmn:multiInstanceLoopCharacteristics>'
            "<bpmn:loopCardinality>len([1] * 99999) * 99999</bpmn:loopCardinality>"
            "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
        )
        refused([text("many.bpmn", bad)], "element 'many'", "the limit is 1,000")


class TestCollaborations:
    """A diagram with several executable pools deploys as one collaboration, whose pools run
    together in one workflow (their messages reach each other only there)."""

    COLLABORATION = "Collaboration_0fh00ao"
    POOLS = ("Process_1kjyavs", "Process_0srqcj1")

    @pytest.fixture
    def deployed(self):
        deployment = deploy(user=SYSTEM, files=[source(CONFORMANCE_DIR / "spiffcam_MessageBoundary.bpmn")])
        assert deployment.version.model.process_id == self.COLLABORATION
        return deployment

    @pytest.mark.parametrize("pool", POOLS)
    def test_starting_a_pool_by_its_own_id_names_the_collaboration_to_start(self, deployed, pool):
        with pytest.raises(ProcessNotDeployed) as caught:
            start_instance(user=SYSTEM, process_id=pool)
        assert f"'{pool}'" in str(caught.value)
        assert f"start '{self.COLLABORATION}'" in str(caught.value)
        assert not ProcessInstance.objects.exists()

    def test_the_collaboration_starts_by_its_id(self, deployed):
        instance = start_instance(user=SYSTEM, process_id=self.COLLABORATION)
        instance.refresh_from_db()
        assert instance.status == ProcessInstance.Status.RUNNING, instance.error

    def test_a_process_deployed_nowhere_is_still_reported_as_not_deployed(self, deployed):
        # An embedded subprocess of a pool, a start event's id: neither is a startable process.
        for name in ("Activity_1m4766l", "Event_0d3xq5q", "nothing_here"):
            with pytest.raises(ProcessNotDeployed, match=f"No process '{name}' is deployed"):
                start_instance(user=SYSTEM, process_id=name)
