import json

from django.core.management.base import BaseCommand, CommandError

from workflows import forms
from workflows.actors import SYSTEM
from workflows.exceptions import FormValidationError, WorkflowError
from workflows.models import HumanTask, ProcessInstance
from workflows.services import complete_task, form_schema, start_instance


class Command(BaseCommand):
    help = (
        "Start an instance of a deployed process. With --complete-user-tasks, complete every human task "
        "(in the instance and the instances it calls) with its form's defaults until the instance ends, "
        "waits on a timer or message, or fails: a dry run of the diagram."
    )

    def add_arguments(self, parser):
        parser.add_argument("process_id")
        parser.add_argument("--data", default="{}", help="start data as a JSON object")
        parser.add_argument("--business-key", default="")
        parser.add_argument("--complete-user-tasks", action="store_true")
        parser.add_argument(
            "--max-tasks", type=int, default=500, help="stop the dry run after this many tasks"
        )

    def handle(self, *args, process_id, data, business_key, complete_user_tasks, max_tasks, **options):
        try:
            start_data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--data is not valid JSON: {exc}") from None
        try:
            instance = start_instance(
                process_id=process_id, data=start_data, business_key=business_key, user=SYSTEM
            )
        except WorkflowError as exc:
            raise CommandError(str(exc)) from None
        completed = 0
        if complete_user_tasks:
            completed = self._complete_all(instance, max_tasks)
        instance.refresh_from_db()
        self.stdout.write(f"instance #{instance.pk} {instance.process_id}: {instance.status}")
        if complete_user_tasks:
            self.stdout.write(f"tasks completed: {completed}")
            if completed >= max_tasks:
                self.stdout.write(
                    self.style.WARNING(f"stopped after {max_tasks} tasks: the defaults keep it looping")
                )
        for failed in _family(instance).filter(status=ProcessInstance.Status.ERROR):
            self.stdout.write(self.style.ERROR(f"error in #{failed.pk} {failed.process_id}: {failed.error}"))
        if instance.status == ProcessInstance.Status.ERROR:
            raise CommandError("the instance failed")

    def _complete_all(self, instance: ProcessInstance, max_tasks: int) -> int:
        completed = 0
        while completed < max_tasks:
            task = (
                HumanTask.objects.filter(instance__in=_family(instance), status=HumanTask.Status.OPEN)
                .select_related("instance")
                .order_by("created_at")
                .first()
            )
            if task is None:
                return completed
            data = forms.example_submission(form_schema(task))
            try:
                complete_task(task_id=task.pk, data=data, user=SYSTEM)
            except (FormValidationError, WorkflowError) as exc:
                raise CommandError(f"could not complete '{task.name}' ({task.bpmn_id}): {exc}") from None
            self.stdout.write(f"  completed {task.name} ({task.bpmn_id}) in #{task.instance_id}")
            completed += 1
        return completed


def _family(instance: ProcessInstance):
    ids, frontier = {instance.pk}, [instance.pk]
    while frontier:
        frontier = list(ProcessInstance.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids.update(frontier)
    return ProcessInstance.objects.filter(pk__in=ids)
