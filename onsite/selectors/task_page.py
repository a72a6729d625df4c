"""What a task's page shows: the task, its process and customer, its form with the reader's draft,
and the customer's briefing beside it — for someone who may work or read the task
(`onsite.access.task_access`); anyone else is refused as if the task did not exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from onsite.access import WORK, sees_customer, task_access
from onsite.exceptions import NotPermitted
from onsite.models import Customer, Lead, SupportRequest
from onsite.selectors.briefing import customer_briefing, describe
from workflows.models import HumanTask, TaskDraft
from workflows.selectors import draft_of, last_completed_task, task_with_process
from workflows.services import form_schema


def _previous_submission(task: HumanTask) -> dict | None:
    done = last_completed_task(task.instance, task.bpmn_id)
    return done.data if done is not None and done.pk != task.pk else None


@dataclass(frozen=True)
class TaskPage:
    task: HumanTask
    process_name: str
    customer: Customer | None
    may_work: bool
    schema: dict
    draft: TaskDraft | None
    # What was submitted the last time this step of the process was done (a summary sent back for
    # rework): the form starts from it rather than empty.
    previous: dict | None
    briefing: dict | None  # `onsite.selectors.briefing.describe`d; None without a customer
    support_request: SupportRequest | None  # the request a support task works on
    lead: Lead | None  # the lead a follow-up task works on


def task_page(task_id: Any, *, user: Any) -> TaskPage:
    task = task_with_process(task_id)
    if task is None:
        raise NotPermitted(_("No such task."))
    key = task.instance.business_key
    customer = Customer.objects.select_related("region").filter(code=key).first() if key else None
    access = task_access(user, task, customer)
    if access is None:
        raise NotPermitted(_("No such task."))
    may_work = access == WORK
    model = task.instance.version.model
    return TaskPage(
        task=task,
        process_name=model.name or model.process_id,
        customer=customer,
        may_work=may_work,
        schema=form_schema(task),
        draft=draft_of(task, user) if may_work else None,
        previous=_previous_submission(task) if may_work else None,
        briefing=(
            describe(customer_briefing(customer, user=user))
            if customer is not None and sees_customer(user, customer)
            else None
        ),
        support_request=(
            SupportRequest.objects.select_related("requested_by", "assignee", "lead")
            .filter(instance_id=task.instance_id)
            .first()
        ),
        lead=Lead.objects.filter(follow_up_id=task.instance_id).first(),
    )
