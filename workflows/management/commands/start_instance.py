import json

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from workflows.actors import SYSTEM
from workflows.dry_run import DEFAULT_MAX_TASKS, CompletedTask, DryRunResult, dry_run
from workflows.exceptions import WorkflowError
from workflows.management.base import LocalisedCommand
from workflows.models import ProcessInstance
from workflows.services import start_instance


class Command(LocalisedCommand):
    help = gettext_lazy(
        "Start an instance of a deployed process. With --dry-run (or --complete-user-tasks), complete "
        "every human task of the instance and of the instances it calls, with the answers the domain "
        "gives or data built from each form, until it ends, waits on a timer or message, or fails; "
        "print the tasks, the path taken and the end, and keep nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("process_id")
        parser.add_argument("--data", default="{}", help=gettext_lazy("start data as a JSON object"))
        parser.add_argument(
            "--business-key",
            default="",
            help=gettext_lazy(
                "the instance's business key (e.g. a customer code), shown in lists and used by messages"
            ),
        )
        parser.add_argument(
            "--dry-run",
            "--complete-user-tasks",
            dest="dry_run",
            action="store_true",
            help=gettext_lazy("run the process through all its tasks and roll everything back"),
        )
        parser.add_argument(
            "--max-tasks",
            type=int,
            default=DEFAULT_MAX_TASKS,
            help=gettext_lazy("stop the dry run after this many tasks"),
        )

    def handle(self, *args, process_id, data, business_key, dry_run, max_tasks, **options):
        try:
            start_data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise CommandError(_("--data is not valid JSON: %(error)s") % {"error": exc}) from None
        if not isinstance(start_data, dict):
            raise CommandError(_("--data must be a JSON object."))
        if dry_run:
            self.dry_run(process_id, start_data, business_key, max_tasks)
        else:
            self.start(process_id, start_data, business_key)

    def start(self, process_id: str, data: dict, business_key: str) -> None:
        try:
            instance = start_instance(
                process_id=process_id, data=data, business_key=business_key, user=SYSTEM
            )
        except WorkflowError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            _("instance #%(id)s %(process)s: %(status)s")
            % {"id": instance.pk, "process": instance.process_id, "status": instance.get_status_display()}
        )
        if instance.status == ProcessInstance.Status.ERROR:
            self.stdout.write(
                self.style.ERROR(
                    _("error in #%(id)s %(process)s: %(error)s")
                    % {"id": instance.pk, "process": instance.process_id, "error": instance.error["message"]}
                )
            )
            raise CommandError(_("The instance failed."))

    def dry_run(self, process_id: str, data: dict, business_key: str, max_tasks: int) -> None:
        self.stdout.write(_("Dry run of %(process)s: nothing will be saved.") % {"process": process_id})
        try:
            result = dry_run(
                process_id=process_id,
                data=data,
                business_key=business_key,
                max_tasks=max_tasks,
                on_task=self.write_task,
            )
        except WorkflowError as exc:
            raise CommandError(str(exc)) from None
        self.write_paths(result)
        self.write_end(result)
        self.stdout.write(_("Nothing was saved: the dry run was rolled back."))
        if result.errors:
            raise CommandError(_("The dry run ended in error."))

    def write_task(self, task: CompletedTask) -> None:
        values = {
            "task": task.name,
            "bpmn_id": task.bpmn_id,
            "instance": task.instance_id,
            "process": task.process_id,
            "user": task.username,
        }
        if task.username:
            line = _("  completed %(task)s (%(bpmn_id)s) in #%(instance)s %(process)s as %(user)s")
        else:
            line = _("  completed %(task)s (%(bpmn_id)s) in #%(instance)s %(process)s as the system")
        self.stdout.write(line % values)

    def write_paths(self, result: DryRunResult) -> None:
        for path in result.paths:
            self.stdout.write(
                _("Path of #%(instance)s %(process)s: %(nodes)s")
                % {
                    "instance": path.instance_id,
                    "process": path.process_id,
                    "nodes": " → ".join(node.name for node in path.nodes),
                }
            )

    def write_end(self, result: DryRunResult) -> None:
        values = {
            "instance": result.instance_id,
            "process": result.process_id,
            "version": result.version,
            "count": len(result.tasks),
        }
        if result.errors:
            self.stdout.write(
                self.style.ERROR(_("End: #%(instance)s %(process)s v%(version)s failed.") % values)
            )
            for message in result.errors:
                self.stdout.write(self.style.ERROR(_("  error: %(message)s") % {"message": message}))
        elif result.status == ProcessInstance.Status.COMPLETED:
            self.stdout.write(
                self.style.SUCCESS(
                    ngettext(
                        "End: #%(instance)s %(process)s v%(version)s completed after %(count)s task.",
                        "End: #%(instance)s %(process)s v%(version)s completed after %(count)s tasks.",
                        len(result.tasks),
                    )
                    % values
                )
            )
        else:
            self.stdout.write(
                ngettext(
                    "End: #%(instance)s %(process)s v%(version)s waits after %(count)s task, at:",
                    "End: #%(instance)s %(process)s v%(version)s waits after %(count)s tasks, at:",
                    len(result.tasks),
                )
                % values
            )
            for task in result.open_tasks:
                self.stdout.write(_("  task %(task)s") % {"task": task})
            for timer in result.timers:
                self.stdout.write(_("  timer %(timer)s") % {"timer": timer})
            for message in result.messages:
                self.stdout.write(_("  message %(message)s") % {"message": message})
        if result.stopped_at_max_tasks:
            self.stdout.write(
                self.style.WARNING(
                    _("Stopped after %(count)s tasks: the answers keep it looping.")
                    % {"count": len(result.tasks)}
                )
            )
