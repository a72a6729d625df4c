"""Run as `python -m tests.workflows.finish_in_fresh_process INSTANCE_ID [MAX_TASKS]` with
DATABASE_URL set: loads the instance from the database in a new process and completes its open
tasks (and those of the instances it called) with their forms' example data."""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from onsite.dry_run import answers as dry_run_answers  # noqa: E402
from workflows import forms  # noqa: E402
from workflows.actors import SYSTEM  # noqa: E402
from workflows.models import HumanTask, ProcessInstance  # noqa: E402
from workflows.services import complete_task, form_schema  # noqa: E402


def family(root_id: int) -> list[int]:
    ids, frontier = [root_id], [root_id]
    while frontier:
        frontier = list(ProcessInstance.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids += frontier
    return ids


def main(instance_id: int, max_tasks: int) -> None:
    done = []
    for _ in range(max_tasks):
        task = (
            HumanTask.objects.filter(instance_id__in=family(instance_id), status="open")
            .select_related("instance")
            .order_by("created_at")
            .first()
        )
        if task is None:
            break
        schema = form_schema(task)
        # The domain's rules (a complete summary, say) need its answers over the forms' examples.
        declared = schema.get("properties") or {}
        answers = {k: v for k, v in dry_run_answers().get(task.bpmn_id, {}).items() if k in declared}
        complete_task(task_id=task.pk, data={**forms.example_submission(schema), **answers}, user=SYSTEM)
        done.append(task.bpmn_id)
    root = ProcessInstance.objects.get(pk=instance_id)
    print(json.dumps({"completed": done, "status": root.status, "pid": os.getpid()}))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 100)
