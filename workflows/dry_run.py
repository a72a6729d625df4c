"""A dry run: start a process, complete every human task it and the instances it calls reach, see
where it ends, and keep nothing.

Everything happens in one transaction that is always rolled back (on success, on error, on Ctrl-C),
so the database is left as it was; work queued for after the commit never runs. A domain process
needs the records its service tasks read (an enrolment, a visit, a lead...): the domain app names,
in the setting `WORKFLOWS["DRY_RUN_SETUP"]`, a function that creates throwaway records inside that
transaction and returns the start data they give, and answers for the user tasks whose form
examples would not do. Every other form gets data built from its JSON Schema
(`forms.example_submission`), submitted through the engine's own validation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from SpiffWorkflow.task import Task

from workflows import forms, runtime
from workflows.actors import SYSTEM, person
from workflows.exceptions import WorkflowError
from workflows.models import HumanTask, MessageSubscription, ProcessInstance, Timer
from workflows.services import complete_task, form_schema, start_instance

DEFAULT_MAX_TASKS = 500


class DryRunRefused(WorkflowError):
    """The domain cannot prepare a dry run of this process (its hook says why)."""


@dataclass
class DryRunSetup:
    """What the domain would give a process it starts, made up for one dry run."""

    data: dict = field(default_factory=dict)  # start data (the ids of the throwaway records)
    business_key: str = ""
    # Form data per user task (BPMN id), over the form's examples: where the domain's service
    # tasks need consistent answers, or the examples would loop forever ("still following up").
    answers: dict[str, dict] = field(default_factory=dict)
    user: Any = SYSTEM  # who starts the instance


# A domain hook: given the process id, create throwaway records and say what to start with.
DryRunHook = Callable[[str], DryRunSetup | None]


@dataclass(frozen=True)
class CompletedTask:
    instance_id: int
    process_id: str
    bpmn_id: str
    name: str
    username: str  # "" when the system completed it (no assignee)


@dataclass(frozen=True)
class FlowNode:
    bpmn_id: str
    name: str


@dataclass
class InstancePath:
    instance_id: int
    process_id: str
    nodes: list[FlowNode] = field(default_factory=list)


@dataclass
class DryRunResult:
    process_id: str
    version: int
    instance_id: int
    status: str  # the instance's status when the run stopped
    tasks: list[CompletedTask] = field(default_factory=list)
    paths: list[InstancePath] = field(default_factory=list)
    # Why it stopped, besides completing: the failures, and what the instances wait for.
    errors: list[str] = field(default_factory=list)
    open_tasks: list[str] = field(default_factory=list)
    timers: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    stopped_at_max_tasks: bool = False


def dry_run(
    *,
    process_id: str,
    data: dict | None = None,
    business_key: str = "",
    max_tasks: int = DEFAULT_MAX_TASKS,
    on_task: Callable[[CompletedTask], None] | None = None,
) -> DryRunResult:
    """Run `process_id` as far as its forms take it and roll everything back.

    Raises WorkflowError (nothing started: not deployed, invalid start data, the domain's hook
    refused); every later failure is in the result. `on_task` is told of each task as it is completed.
    """
    paths = _PathRecorder()
    with _observing(paths), transaction.atomic():
        try:
            setup = _domain_setup(process_id)
            start_data = {**setup.data, **(data or {})}
            instance = start_instance(
                process_id=process_id,
                data=start_data,
                business_key=business_key or setup.business_key,
                user=setup.user if setup.user is not None else SYSTEM,
            )
            result = DryRunResult(
                process_id=process_id,
                version=instance.version.number,
                instance_id=instance.pk,
                status=instance.status,
            )
            _complete_tasks(instance, setup, result, max_tasks, on_task)
            _describe_end(instance, result, paths)
            return result
        finally:
            # Whatever happened, nothing of it stays.
            transaction.set_rollback(True)


def _domain_setup(process_id: str) -> DryRunSetup:
    path = settings.WORKFLOWS.get("DRY_RUN_SETUP")
    if not path:
        return DryRunSetup()
    hook: DryRunHook = import_string(path)
    return hook(process_id) or DryRunSetup()


def _family(instance: ProcessInstance):
    return ProcessInstance.objects.filter(Q(pk=instance.pk) | Q(root_id=instance.pk))


def _complete_tasks(
    instance: ProcessInstance,
    setup: DryRunSetup,
    result: DryRunResult,
    max_tasks: int,
    on_task: Callable[[CompletedTask], None] | None,
) -> None:
    family = _family(instance)
    while not family.filter(status=ProcessInstance.Status.ERROR).exists():
        task = (
            HumanTask.objects.filter(instance__in=family, status=HumanTask.Status.OPEN)
            .select_related("instance__version", "assignee")
            .order_by("created_at", "pk")
            .first()
        )
        if task is None:
            return
        if len(result.tasks) >= max_tasks:
            result.stopped_at_max_tasks = True
            return
        schema = form_schema(task)
        # Answers for fields this version's form declares (a closed form refuses the others).
        declared = schema.get("properties") or {}
        answers = {k: v for k, v in setup.answers.get(task.bpmn_id, {}).items() if k in declared}
        submission = {**forms.example_submission(schema), **answers}
        # The person the task is assigned to, as they would; an unassigned task, the system.
        user = task.assignee if task.assignee is not None and task.assignee.is_active else SYSTEM
        try:
            complete_task(task_id=task.pk, data=submission, user=user)
        except (forms.FormValidationError, WorkflowError) as exc:
            result.errors.append(_task_error(task, exc))
            return
        done = CompletedTask(
            instance_id=task.instance_id,
            process_id=task.instance.process_id,
            bpmn_id=task.bpmn_id,
            name=task.name,
            username=person(user).get_username() if person(user) is not None else "",
        )
        result.tasks.append(done)
        if on_task is not None:
            on_task(done)


def _task_error(task: HumanTask, exc: Exception) -> str:
    return _("'%(task)s' (%(bpmn_id)s) in #%(instance)s could not be completed: %(error)s") % {
        "task": task.name,
        "bpmn_id": task.bpmn_id,
        "instance": task.instance_id,
        "error": exc,
    }


def _describe_end(instance: ProcessInstance, result: DryRunResult, paths: _PathRecorder) -> None:
    instance.refresh_from_db(fields=["status", "error"])
    result.status = instance.status
    family = list(_family(instance).order_by("pk").values("pk", "process_id", "status", "error"))
    for member in family:
        if member["status"] == ProcessInstance.Status.ERROR:
            message = (member["error"] or {}).get("message", "")
            result.errors.append(f"#{member['pk']} {member['process_id']}: {message}")
    ids = [member["pk"] for member in family]
    for task in HumanTask.objects.filter(instance_id__in=ids, status=HumanTask.Status.OPEN).order_by(
        "created_at", "pk"
    ):
        result.open_tasks.append(f"{task.name} ({task.bpmn_id}) #{task.instance_id}")
    for timer in Timer.objects.filter(instance_id__in=ids).order_by("due_at", "pk"):
        result.timers.append(f"{timer.bpmn_id} #{timer.instance_id} ({timer.due_at:%Y-%m-%d %H:%M})")
    for subscription in MessageSubscription.objects.filter(instance_id__in=ids).order_by("pk"):
        result.messages.append(
            f"{subscription.message_name} ({subscription.bpmn_id}) #{subscription.instance_id}"
        )
    result.paths = [paths.path(member["pk"], member["process_id"]) for member in family]


class _PathRecorder:
    """The flow nodes each instance passed, in order, as the engine's saves report them."""

    def __init__(self) -> None:
        self.seen: set = set()
        self.nodes: dict[int, list[FlowNode]] = {}

    def __call__(self, instance: ProcessInstance, tasks: list[Task]) -> None:
        new = [t for t in tasks if t.id not in self.seen and t.task_spec.bpmn_id is not None]
        self.seen.update(t.id for t in new)
        nodes = self.nodes.setdefault(instance.pk, [])
        for task in sorted(new, key=lambda t: t.last_state_change):
            spec = task.task_spec
            nodes.append(FlowNode(spec.bpmn_id, spec.bpmn_name or spec.bpmn_id))

    def path(self, instance_id: int, process_id: str) -> InstancePath:
        return InstancePath(instance_id, process_id, list(self.nodes.get(instance_id, [])))


@contextlib.contextmanager
def _observing(recorder: _PathRecorder) -> Iterator[None]:
    token = runtime.task_observer.set(recorder)
    try:
        yield
    finally:
        runtime.task_observer.reset(token)
