from datetime import UTC, datetime

import pytest

from tests.workflows.diagrams import linear, script_task, source, user_task
from workflows import clock
from workflows.models import ProcessInstance
from workflows.sandbox import SandboxEnvironment, ScriptError, ScriptLimitError, ScriptPolicyError
from workflows.services import complete_task, deploy, start_instance


@pytest.fixture
def env():
    return SandboxEnvironment(time_limit_seconds=0.5)


class TestExpressions:
    def test_evaluates_with_task_data(self, env):
        assert env.evaluate("amount * 2 if approved else 0", {"amount": 21, "approved": True}) == 42

    def test_functions_for_dates(self, env):
        assert env.evaluate(
            'add_duration(visited_at, "PT48H")', {"visited_at": "2026-11-20T09:00:00+08:00"}
        ) == ("2026-11-22T09:00:00+08:00")
        assert env.evaluate('days_between("2026-11-01", "2026-11-23")', {}) == 22

    def test_now_follows_the_engine_clock(self, env):
        with clock.frozen(datetime(2026, 1, 2, 3, 4, tzinfo=UTC)):
            assert env.evaluate("now()", {}) == "2026-01-02T11:04:00+08:00"
            assert env.evaluate("today()", {}) == "2026-01-02"

    def test_task_data_cannot_replace_the_guards(self, env):
        assert env.evaluate("x + 1", {"x": 1, "_getattr_": "hijacked", "_add_": None}) == 2

    @pytest.mark.parametrize(
        "expression",
        [
            "().__class__.__base__.__subclasses__()",
            "__import__('os')",
            "open('/etc/passwd')",
            "getattr(x, 'y')",
            "eval('1')",
            "[c for c in x.__dict__]",
            "f'{x:>100000}'",
        ],
    )
    def test_escapes_are_refused_before_running(self, env, expression):
        with pytest.raises(ScriptPolicyError):
            env.evaluate(expression, {"x": 1})

    @pytest.mark.parametrize("expression", ["hash(1)", "type(x)", "object", "id(x)"])
    def test_builtins_outside_the_whitelist_do_not_exist(self, env, expression):
        with pytest.raises(NameError):
            env.evaluate(expression, {"x": 1})

    @pytest.mark.parametrize(
        ("expression", "message"),
        [
            ("'x' * 10**9", "too large"),
            ("[0] * 10**9", "too large"),
            ("2 ** 10**7", "bits"),
            ("1 << 10**7", "bits"),
            ("list(range(10**6))", "range"),
            ("('a' * 90000).replace('a', 'aaaa')", "too large"),
            ("'%099999999d' % 1", "Format widths"),
        ],
    )
    def test_operations_that_would_exhaust_memory_or_cpu_are_stopped(self, env, expression, message):
        with pytest.raises((ScriptLimitError, ValueError)) as caught:
            env.evaluate(expression, {})
        assert message in str(caught.value)

    def test_padding_methods_are_refused(self, env):
        with pytest.raises(ScriptPolicyError, match="ljust"):
            env.evaluate("'x'.ljust(10**9)", {})


class TestScripts:
    def test_script_writes_and_deletes_task_data(self, env):
        data = {"a": 1, "b": 2}
        env.execute("c = a + b\ndel b", data)
        assert data == {"a": 1, "c": 3}

    def test_endless_loop_is_stopped_by_the_time_limit(self, env):
        with pytest.raises(ScriptLimitError, match=r"0\.5 s limit"):
            env.execute("while True:\n    pass", {})

    def test_nested_comprehension_is_stopped_by_the_time_limit(self, env):
        with pytest.raises(ScriptLimitError):
            env.execute("n = sum(1 for a in range(999) for b in range(999) for c in range(999))", {})

    def test_value_that_cannot_be_stored_is_refused_by_name(self, env):
        with pytest.raises(ScriptError, match="'tags' holds a set"):
            env.execute("tags = {1, 2}", {})

    def test_imports_are_refused(self, env):
        with pytest.raises(ScriptPolicyError, match="Imports are not allowed"):
            env.execute("import os", {})


@pytest.mark.django_db
class TestInInstances:
    def deploy_and_start(self, *steps, data=None):
        deploy(files=[source("sandbox.bpmn", linear(*steps, process_id="sandboxed"))])
        return start_instance(process_id="sandboxed", data=data or {})

    def test_a_script_over_the_time_limit_fails_the_instance_with_a_clear_message(self, settings):
        settings.WORKFLOWS = {**settings.WORKFLOWS, "SCRIPT_TIME_LIMIT": 0.3}
        instance = self.deploy_and_start(script_task("spin", "while True:\n    n = 1"))

        assert instance.status == ProcessInstance.Status.ERROR
        assert instance.error["bpmn_id"] == "spin"
        assert "ran longer than the 0.3 s limit" in instance.error["message"]
        assert "Traceback" not in instance.error["message"]
        assert "/work" not in instance.error["message"] and "site-packages" not in instance.error["message"]

    def test_a_workflow_loaded_from_the_database_still_runs_sandboxed(self):
        instance = self.deploy_and_start(user_task("wait"), script_task("after", "h = hash(1)"))
        assert instance.status == ProcessInstance.Status.RUNNING

        complete_task(task_id=instance.human_tasks.get().pk, data={}, user=None)

        instance.refresh_from_db()
        assert instance.status == ProcessInstance.Status.ERROR
        assert "NameError" in instance.error["message"] and "hash" in instance.error["message"]

    def test_expression_errors_say_which_expression_failed(self):
        instance = self.deploy_and_start(
            script_task("calc", "ratio = total / count"), data={"total": 1, "count": 0}
        )
        assert instance.status == ProcessInstance.Status.ERROR
        assert "ZeroDivisionError" in instance.error["message"]
        assert instance.error["task_name"] == "calc"
