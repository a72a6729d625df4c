"""The engine's management commands, run as an operator would run them."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.conftest import BPMN_DIR, ROOT, TEST_BPMN_DIR, source
from tests.workflows.diagrams import linear, process, script_task
from tests.workflows.diagrams import source as text
from workflows import clock
from workflows.actors import SYSTEM
from workflows.models import HumanTask, ProcessInstance, ProcessModel, Timer
from workflows.services import deploy, start_instance

pytestmark = pytest.mark.django_db

Status = ProcessInstance.Status
PROGRAMME_FILES = [str(p) for p in sorted(BPMN_DIR.glob("*.bpmn"))]
# The programme as it was before the domain's service tasks: it runs on the engine alone.
ENGINE_PROGRAMME_FILES = [str(p) for p in sorted((ROOT / "benchmarks" / "bpmn").glob("*.bpmn"))]
DEPLOY_ORDER = [
    "incentive_review",
    "lead_follow_up",
    "visit_cycle",
    "onsite_programme",
    "support_request",
    "win_back",
]


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


class TestDeployBpmn:
    def test_deploys_the_called_process_before_its_caller(self):
        assert run("deploy_bpmn", *PROGRAMME_FILES).splitlines() == [f"{p} v1 deployed" for p in DEPLOY_ORDER]

    def test_deploying_the_same_files_again_keeps_their_versions(self):
        run("deploy_bpmn", *PROGRAMME_FILES)
        assert run("deploy_bpmn", *PROGRAMME_FILES).splitlines() == [
            f"{p} v1 unchanged" for p in DEPLOY_ORDER
        ]
        assert ProcessModel.objects.count() == len(DEPLOY_ORDER)

    def test_malformed_xml_is_refused_naming_the_file(self, tmp_path):
        broken = write(tmp_path, "broken.bpmn", "<bpmn:definitions><bpmn:process")
        with pytest.raises(CommandError) as caught:
            run("deploy_bpmn", broken)
        assert str(caught.value).startswith("Nothing was deployed:")
        assert "broken.bpmn" in str(caught.value)
        assert ProcessModel.objects.count() == 0

    def test_one_unsafe_diagram_stops_the_valid_ones_from_being_deployed(self, tmp_path):
        sneaky = write(tmp_path, "sneaky.bpmn", linear(script_task("peek", "os = __import__('os')")))
        with pytest.raises(CommandError) as caught:
            run("deploy_bpmn", *PROGRAMME_FILES, sneaky)
        message = str(caught.value)
        assert message.startswith("Nothing was deployed:")
        assert "sneaky.bpmn" in message and "__import__" in message
        assert ProcessModel.objects.count() == 0

    def test_a_missing_file_is_a_command_error(self, tmp_path):
        with pytest.raises(CommandError, match=r"no-such\.bpmn"):
            run("deploy_bpmn", str(tmp_path / "no-such.bpmn"))
        assert ProcessModel.objects.count() == 0


class TestStartInstance:
    def test_invalid_data_json_is_refused_before_starting(self):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "parallel.bpmn")])
        with pytest.raises(CommandError, match="--data is not valid JSON"):
            run("start_instance", "parallel", "--data", "{not json")
        assert not ProcessInstance.objects.exists()

    def test_an_unknown_process_is_a_command_error(self):
        with pytest.raises(CommandError):
            run("start_instance", "nothing_here")
        assert not ProcessInstance.objects.exists()

    def test_starts_an_instance_with_data_and_business_key(self):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "parallel.bpmn")])
        output = run("start_instance", "parallel", "--data", '{"who": "qian"}', "--business-key", "K-9")

        instance = ProcessInstance.objects.get()
        assert output == f"instance #{instance.pk} parallel: running\n"
        assert (instance.business_key, instance.status) == ("K-9", Status.RUNNING)
        assert '"who"' in instance.state

    def test_dry_run_completes_the_whole_programme_with_form_defaults(self):
        run("deploy_bpmn", *ENGINE_PROGRAMME_FILES)
        output = run("start_instance", "onsite_programme", "--complete-user-tasks")

        programme = ProcessInstance.objects.get(process_id="onsite_programme")
        assert output.splitlines()[-2:] == [
            f"instance #{programme.pk} onsite_programme: completed",
            "tasks completed: 18",
        ]
        assert programme.status == Status.COMPLETED
        assert not HumanTask.objects.filter(status=HumanTask.Status.OPEN).exists()
        assert HumanTask.objects.filter(status=HumanTask.Status.COMPLETED).count() == 18

    def test_an_instance_that_fails_at_run_time_reports_the_error_and_fails_the_command(self):
        deploy(
            user=SYSTEM,
            files=[
                text("divide.bpmn", linear(script_task("divide_by_zero", "x = 1 / 0"), process_id="divide"))
            ],
        )
        out = io.StringIO()
        with pytest.raises(CommandError, match=r"^the instance failed$"):
            call_command("start_instance", "divide", stdout=out)

        instance = ProcessInstance.objects.get()
        assert instance.status == Status.ERROR
        assert f"error in #{instance.pk} divide:" in out.getvalue()
        assert "division by zero" in out.getvalue()

    def test_a_dry_run_whose_defaults_loop_forever_stops_at_max_tasks(self):
        loop = (
            '<bpmn:startEvent id="start" /><bpmn:exclusiveGateway id="again" />'
            '<bpmn:userTask id="ask" name="Ask again" />'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="again" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="again" targetRef="ask" />'
            '<bpmn:sequenceFlow id="f3" sourceRef="ask" targetRef="again" />'
        )
        deploy(user=SYSTEM, files=[text("loop.bpmn", process(loop, process_id="loop"))])
        output = run("start_instance", "loop", "--complete-user-tasks", "--max-tasks", "3")

        assert "tasks completed: 3" in output
        assert "stopped after 3 tasks" in output
        instance = ProcessInstance.objects.get()
        assert instance.status == Status.RUNNING
        assert instance.human_tasks.filter(status=HumanTask.Status.COMPLETED).count() == 3


class TestFireTimers:
    def test_nothing_due_fires_nothing(self):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "timers.bpmn")])
        instance = start_instance(user=SYSTEM, process_id="timers")

        assert run("fire_timers") == "0 timer(s) fired\n"
        assert set(Timer.objects.filter(instance=instance).values_list("bpmn_id", flat=True)) == {
            "timeout",
            "reminder",
        }
        assert instance.human_tasks.get().status == HumanTask.Status.OPEN

    def test_timers_of_an_instance_started_two_hours_ago_fire_and_take_the_timeout_path(self):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "timers.bpmn")])
        with clock.frozen(timezone.now() - timedelta(hours=2)):
            instance = start_instance(user=SYSTEM, process_id="timers")
        timeout = Timer.objects.get(instance=instance, bpmn_id="timeout")

        output = run("fire_timers")

        assert f"instance #{instance.pk}: timeout (due {timeout.due_at:%Y-%m-%d %H:%M})" in output
        assert f"instance #{instance.pk}: reminder (due " in output
        assert output.endswith("2 timer(s) fired\n")
        instance.refresh_from_db()
        assert instance.status == Status.WAITING
        assert instance.human_tasks.get().status == HumanTask.Status.CANCELLED
        assert list(Timer.objects.filter(instance=instance).values_list("bpmn_id", flat=True)) == [
            "cool_down"
        ]
        assert run("fire_timers") == "0 timer(s) fired\n"
