"""The engine's management commands, run as an operator would run them."""

import io
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command, find_commands, load_command_class
from django.utils import timezone

from tests.conftest import BPMN_DIR, ROOT, TEST_BPMN_DIR, source
from tests.workflows.diagrams import linear, process, script_task
from tests.workflows.diagrams import source as text
from workflows import clock
from workflows.actors import SYSTEM
from workflows.management.base import LocalisedCommand, language_in
from workflows.models import HumanTask, ProcessInstance, ProcessModel, Timer
from workflows.operations import register_operation, unregister_operation
from workflows.services import deploy, start_instance

pytestmark = pytest.mark.django_db

Status = ProcessInstance.Status
PROGRAMME_FILES = [str(p) for p in sorted(BPMN_DIR.glob("*.bpmn"))]
# The programme as it was before the domain's service tasks: it runs on the engine alone.
ENGINE_PROGRAMME_FILES = [str(p) for p in sorted((ROOT / "benchmarks" / "bpmn").glob("*.bpmn"))]
DEPLOY_ORDER = [
    "appraisal",
    "incentive_review",
    "lead_follow_up",
    "visit_cycle",
    "onsite_programme",
    "renewal",
    "support_request",
    "win_back",
]


def run(*args, **options) -> str:
    """The command's output, in English unless `language` says otherwise."""
    out = io.StringIO()
    call_command(*args, stdout=out, **{"language": "en", **options})
    return out.getvalue()


# Every process of the diagrams in bpmn/.
DOMAIN_PROCESSES = sorted(
    match
    for path in BPMN_DIR.glob("*.bpmn")
    for match in re.findall(r'<bpmn:process id="([^"]+)"', path.read_text(encoding="utf-8"))
)
# The project's own commands, and what each needs to parse.
COMMAND_APPS = {
    name: app for app in ("workflows", "onsite") for name in find_commands(str(ROOT / app / "management"))
}
PROJECT_COMMANDS = sorted(COMMAND_APPS)
REQUIRED_ARGUMENTS = {
    "deploy_bpmn": ["x.bpmn"],
    "start_instance": ["x"],
    "import_customers": ["x.csv"],
    "migrate_instances": ["x", "--from", "1"],
}


STOP_TASK = (
    '<bpmn:serviceTask id="halt"><bpmn:extensionElements>'
    '<spiffworkflow:serviceTaskOperator id="tests.interrupt" resultVariable="result">'
    "<spiffworkflow:parameters /></spiffworkflow:serviceTaskOperator>"
    "</bpmn:extensionElements></bpmn:serviceTask>"
)


def row_counts() -> dict[str, int]:
    """Rows of every model: what a dry run must leave as it found it."""
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


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

    def test_without_a_domain_the_forms_examples_complete_the_engine_only_programme_and_keep_nothing(
        self, settings
    ):
        settings.WORKFLOWS = {**settings.WORKFLOWS, "DRY_RUN_SETUP": None}
        run("deploy_bpmn", *ENGINE_PROGRAMME_FILES)
        before = row_counts()

        output = run("start_instance", "onsite_programme", "--complete-user-tasks")

        lines = output.splitlines()
        assert lines[0] == "Dry run of onsite_programme: nothing will be saved."
        assert sum(line.startswith("  completed ") for line in lines) == 18
        assert re.search(r"^End: #\d+ onsite_programme v1 completed after 18 tasks\.$", output, re.M)
        assert lines[-1] == "Nothing was saved: the dry run was rolled back."
        assert row_counts() == before

    def test_an_instance_that_fails_at_run_time_reports_the_error_and_fails_the_command(self):
        deploy(
            user=SYSTEM,
            files=[
                text("divide.bpmn", linear(script_task("divide_by_zero", "x = 1 / 0"), process_id="divide"))
            ],
        )
        out = io.StringIO()
        with pytest.raises(CommandError, match=r"^The instance failed\.$"):
            call_command("start_instance", "divide", stdout=out, language="en")

        instance = ProcessInstance.objects.get()
        assert instance.status == Status.ERROR
        assert f"instance #{instance.pk} divide: error" in out.getvalue()
        assert f"error in #{instance.pk} divide:" in out.getvalue()
        assert "division by zero" in out.getvalue()

    def test_a_dry_run_that_fails_reports_the_error_keeps_nothing_and_fails_the_command(self):
        deploy(
            user=SYSTEM,
            files=[
                text("divide.bpmn", linear(script_task("divide_by_zero", "x = 1 / 0"), process_id="divide"))
            ],
        )
        before = row_counts()
        out = io.StringIO()
        with pytest.raises(CommandError, match=r"^The dry run ended in error\.$"):
            call_command("start_instance", "divide", "--dry-run", stdout=out, language="en")

        assert "division by zero" in out.getvalue()
        assert re.search(r"^End: #\d+ divide v1 failed\.$", out.getvalue(), re.M)
        assert out.getvalue().endswith("Nothing was saved: the dry run was rolled back.\n")
        assert row_counts() == before

    def test_a_dry_run_whose_defaults_loop_forever_stops_at_max_tasks_and_keeps_nothing(self):
        loop = (
            '<bpmn:startEvent id="start" /><bpmn:exclusiveGateway id="again" />'
            '<bpmn:userTask id="ask" name="Ask again" />'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="again" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="again" targetRef="ask" />'
            '<bpmn:sequenceFlow id="f3" sourceRef="ask" targetRef="again" />'
        )
        deploy(user=SYSTEM, files=[text("loop.bpmn", process(loop, process_id="loop"))])
        before = row_counts()

        output = run("start_instance", "loop", "--dry-run", "--max-tasks", "3")

        assert re.search(r"^End: #\d+ loop v1 waits after 3 tasks, at:$", output, re.M)
        assert re.search(r"^  task Ask again \(ask\) #\d+$", output, re.M)
        assert "Stopped after 3 tasks: the answers keep it looping." in output
        assert re.search(
            r"^Path of #\d+ loop: start → again → Ask again → again → Ask again → again → Ask", output, re.M
        )
        assert row_counts() == before

    def test_a_dry_run_that_waits_on_a_timer_says_so(self):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "timers.bpmn")])
        before = row_counts()

        output = run("start_instance", "timers", "--dry-run", "--max-tasks", "0")

        assert re.search(r"^  timer timeout #\d+ \(", output, re.M)
        assert re.search(r"^  timer reminder #\d+ \(", output, re.M)
        assert row_counts() == before

    def test_data_that_is_not_an_object_is_refused(self):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "parallel.bpmn")])
        with pytest.raises(CommandError, match="--data must be a JSON object"):
            run("start_instance", "parallel", "--data", "[1, 2]")
        assert not ProcessInstance.objects.exists()

    def test_an_unknown_process_is_refused_in_chinese_by_default(self):
        out = io.StringIO()
        with pytest.raises(CommandError) as caught:
            call_command("start_instance", "nothing_here", stdout=out)
        assert str(caught.value) == "尚未部署流程“nothing_here”。"
        with pytest.raises(CommandError, match=r"^No process 'nothing_here' is deployed\.$"):
            run("start_instance", "nothing_here", "--dry-run")


class TestDryRunOfTheDomainDiagrams:
    """The README's dry run, for every diagram in bpmn/: it reaches the end with the records the
    domain makes up for it, and the database is left exactly as it was."""

    @pytest.mark.parametrize("process_id", DOMAIN_PROCESSES)
    def test_reaches_the_end_and_keeps_nothing(self, process_id):
        run("deploy_bpmn", *PROGRAMME_FILES)
        before = row_counts()

        output = run("start_instance", process_id, "--data", '{"customer_name": "示例客户"}', "--dry-run")

        assert re.search(rf"^End: #\d+ {process_id} v1 completed after \d+ tasks?\.$", output, re.M), output
        assert re.search(rf"^Path of #\d+ {process_id}: ", output, re.M)
        assert row_counts() == before

    def test_every_diagram_in_bpmn_is_covered(self):
        assert sorted(DOMAIN_PROCESSES) == sorted(DEPLOY_ORDER)

    def test_the_programme_runs_every_stage_naming_who_completes_each_task(self):
        run("deploy_bpmn", *PROGRAMME_FILES)

        output = run("start_instance", "onsite_programme", "--dry-run")

        assert output.count("(Task_stage_review)") == 3
        assert re.search(
            r"completed .* \(Task_plan_visit\) in #\d+ visit_cycle as dry-run-account_manager-", output
        )
        assert re.search(
            r"completed .* \(Task_support_preparation\) in #\d+ visit_cycle as dry-run-support_staff-", output
        )
        assert re.search(
            r"completed .* \(Task_review_summary\) in #\d+ visit_cycle as dry-run-team_leader-", output
        )
        # The programme, its three visits, and the fourth visit it had started when the last stage ended.
        assert output.count("Path of #") == 5

    def test_an_interrupted_dry_run_keeps_nothing(self):

        def interrupt(context, **params):
            raise KeyboardInterrupt  # what Ctrl-C raises wherever the run is

        register_operation("tests.interrupt")(interrupt)
        try:
            deploy(user=SYSTEM, files=[text("stop.bpmn", linear(STOP_TASK, process_id="interrupted"))])
            before = row_counts()
            with pytest.raises(KeyboardInterrupt):
                run("start_instance", "interrupted", "--dry-run")
        finally:
            unregister_operation("tests.interrupt")
        assert row_counts() == before


class TestFireTimers:
    def test_nothing_due_fires_nothing(self):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "timers.bpmn")])
        instance = start_instance(user=SYSTEM, process_id="timers")

        assert run("fire_timers") == "0 timers fired.\n"
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

        assert (
            f"instance #{instance.pk}: timeout (due {timezone.localtime(timeout.due_at):%Y-%m-%d %H:%M})"
            in output
        )
        assert f"instance #{instance.pk}: reminder (due " in output
        assert output.endswith("2 timers fired.\n")
        instance.refresh_from_db()
        assert instance.status == Status.WAITING
        assert instance.human_tasks.get().status == HumanTask.Status.CANCELLED
        assert list(Timer.objects.filter(instance=instance).values_list("bpmn_id", flat=True)) == [
            "cool_down"
        ]
        assert run("fire_timers") == "0 timers fired.\n"

    def test_now_fires_the_timers_due_at_that_moment(self):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "timers.bpmn")])
        instance = start_instance(user=SYSTEM, process_id="timers")
        later = timezone.localtime() + timedelta(hours=2)

        output = run("fire_timers", "--now", later.strftime("%Y-%m-%dT%H:%M"))

        assert f"instance #{instance.pk}: timeout (due " in output
        assert output.endswith("2 timers fired.\n")
        assert instance.human_tasks.get().status == HumanTask.Status.CANCELLED

    def test_now_before_the_timers_are_due_fires_nothing(self):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "timers.bpmn")])
        start_instance(user=SYSTEM, process_id="timers")

        assert run("fire_timers", "--now", "2000-01-01T00:00:00+08:00") == "0 timers fired.\n"
        assert Timer.objects.count() == 2

    def test_a_now_that_is_not_a_moment_is_refused_in_chinese_by_default(self):
        with pytest.raises(CommandError) as caught:
            call_command("fire_timers", "--now", "tomorrow", stdout=io.StringIO())
        assert str(caught.value) == "“tomorrow”不是有效的日期时间。"
        with pytest.raises(CommandError, match=r"^2026-13-01T00:00 is not a date and time\.$"):
            run("fire_timers", "--now", "2026-13-01T00:00")


class TestLanguage:
    @pytest.mark.parametrize("name", PROJECT_COMMANDS)
    def test_every_project_command_speaks_the_site_language_unless_told(self, name):
        command = load_command_class(COMMAND_APPS[name], name)
        assert isinstance(command, LocalisedCommand)
        parser = command.create_parser("manage.py", name)
        assert parser.parse_args([*REQUIRED_ARGUMENTS.get(name, [])]).language is None
        assert parser.parse_args([*REQUIRED_ARGUMENTS.get(name, []), "--language", "en"]).language == "en"

    @pytest.mark.parametrize("name", PROJECT_COMMANDS)
    def test_every_project_command_prints_its_help(self, name):
        parser = load_command_class(COMMAND_APPS[name], name).create_parser("manage.py", name)
        assert "--language {zh-hans,en}" in parser.format_help()

    @pytest.mark.parametrize(
        ("arguments", "language"),
        [
            (["nothing_here"], None),
            (["nothing_here", "--language", "en"], "en"),
            (["--language=zh-hans", "nothing_here"], "zh-hans"),
            (["--language", "fr"], None),
            (["--language"], None),
        ],
    )
    def test_the_command_line_language_is_read_before_parsing(self, arguments, language):
        # So that --help and the errors Django prints after the command come out in it.
        assert language_in(arguments) == language

    def test_deploy_bpmn_speaks_chinese_by_default(self, tmp_path):
        broken = write(tmp_path, "broken.bpmn", "<bpmn:definitions><bpmn:process")
        with pytest.raises(CommandError) as caught:
            call_command("deploy_bpmn", broken, stdout=io.StringIO())
        assert "XML 格式不正确" in str(caught.value)

    def test_deploy_bpmn_speaks_english_when_asked(self, tmp_path):
        broken = write(tmp_path, "broken.bpmn", "<bpmn:definitions><bpmn:process")
        with pytest.raises(CommandError) as caught:
            run("deploy_bpmn", broken)
        assert "Not well-formed XML" in str(caught.value)

    def test_the_status_printed_by_start_instance_is_in_chinese_by_default(self):
        deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "parallel.bpmn")])
        out = io.StringIO()
        call_command("start_instance", "parallel", stdout=out)
        assert out.getvalue().endswith("parallel：运行中\n"), out.getvalue()
