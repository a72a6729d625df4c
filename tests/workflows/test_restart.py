"""An instance survives its process: state saved mid-way is finished by a brand-new process."""

import json
import os
import subprocess
import sys

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import ROOT
from tests.onsite.flow import (
    RESOURCES,
    build_org,
    complete,
    current_visit,
    customer_of,
    deploy_processes,
    enrol,
    new_programme,
    plan,
)
from workflows.models import ProcessInstance
from workflows.selectors import instance_variables

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    return (
        f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def finish_elsewhere(instance_id: int, max_tasks: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.workflows.finish_in_fresh_process", str(instance_id), str(max_tasks)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_programme_half_way_through_a_visit_is_finished_by_a_new_process():
    deploy_processes()
    org = build_org()
    enrolment = enrol(org, new_programme(org), customer_of(org))
    programme = enrolment.instance
    visit = current_visit(enrolment)
    complete(visit, "Task_plan_visit", org.manager, plan(needs_support=True))
    complete(visit, "Task_prepare_resources", org.manager, RESOURCES)

    # Support preparation, record, summary and review in a new process; the second visit starts at
    # once and is planned there, beside the stage decision (advance), which moves it to the new stage.
    outcome = finish_elsewhere(programme.pk, max_tasks=7)

    assert outcome["pid"] != os.getpid()
    assert outcome["completed"][:4] == [
        "Task_support_preparation",
        "Task_record_visit",
        "Task_write_summary",
        "Task_review_summary",
    ]
    assert sorted(outcome["completed"][4:]) == [
        "Task_plan_visit",
        "Task_prepare_resources",
        "Task_stage_review",
    ]
    programme.refresh_from_db()
    assert programme.status == ProcessInstance.Status.WAITING
    assert instance_variables(programme)["stage"] == "information_gathering"
    second = current_visit(enrolment)
    assert second.pk != visit.pk
    assert instance_variables(second)["planned_date"] == timezone.localdate().isoformat()
    enrolment.refresh_from_db()
    assert (enrolment.stage, enrolment.visits.count()) == ("information_gathering", 2)
