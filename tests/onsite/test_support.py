"""Support requests through the real services and engine: who `choose_support_staff` picks (the
speciality, then the customer's county, its branch, anywhere; then the lightest load), the
`support_request` process from 需求单 to 调度单 to 竣工单 and the manager's confirmation, the overdue
escalation to the team leader, the role pool when nobody fits, and the refusals."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from onsite.exceptions import InvalidInput, NotPermitted, OnsiteError
from onsite.models import IncentiveRecord, Region, StaffProfile, SupportRequest, Visit
from onsite.services.support import choose_support_staff, complete_support_request, request_support
from tests.onsite.factories import CustomerFactory, RegionFactory, manager_in, support_engineer
from tests.onsite.flow import (
    at,
    close_visit,
    complete,
    current_visit,
    customer_of,
    enrol,
    new_programme,
    open_task,
    plan,
    refreshed,
    summary,
)
from workflows.actors import SYSTEM
from workflows.clock import frozen
from workflows.exceptions import NotAllowed, TaskNotYours, TaskRejected
from workflows.forms import FormValidationError
from workflows.models import AuditEvent, HumanTask, ProcessInstance, Timer
from workflows.selectors import inbox, instance_variables
from workflows.services import claim_task, fire_due_timers, reassign_task

pytestmark = pytest.mark.django_db
Status = SupportRequest.Status
HANDLE, CONFIRM, ESCALATE = "Task_handle_support", "Task_confirm_support", "Task_escalate_support"
RESULT = {"support_result": "已完成机房勘察，建议专线扩容至200M", "hours_spent": 3.5}


@pytest.fixture
def customer(org):
    """In the branch itself (合肥分公司), like every customer of `customer_of`."""
    return customer_of(org, name="滨湖新区政务服务中心")


@pytest.fixture
def county_customer(org):
    return CustomerFactory(region=org.county, account_manager=org.manager, name="肥东县人民医院")


@pytest.fixture
def sibling_county(org):
    return RegionFactory(code="HF-CF", name="长丰县", kind=Region.Kind.COUNTY, parent=org.branch)


@pytest.fixture
def other_branch():
    return RegionFactory(code="LA", name="六安分公司")


def ask(
    org, customer, speciality: str = "network", due: date = date(2026, 12, 15), **kwargs
) -> SupportRequest:
    values = {
        "kind": SupportRequest.Kind.SURVEY,
        "description": "机房勘察，评估专线扩容",
        "user": org.manager,
        **kwargs,
    }
    return request_support(customer=customer, speciality=speciality, due_date=due, **values)


def assignees(*requests) -> list:
    return [refreshed(r).assignee.username for r in requests]


class TestChoosingTheEngineer:
    def test_an_engineer_in_the_customers_own_county_comes_first_even_when_busier(self, org, county_customer):
        first, second = ask(org, county_customer), ask(org, county_customer)
        assert assignees(first, second) == ["zheng", "zheng"]
        support_engineer("network", org.branch, org.team, "han")  # in the branch, and free

        assert choose_support_staff(speciality="network", customer=county_customer) == org.support["network"]

    def test_then_an_engineer_of_the_same_branch_before_one_of_another_branch(
        self, org, county_customer, sibling_county, other_branch
    ):
        nearby = support_engineer("it", sibling_county, org.team, "tang")
        busy = ask(org, county_customer, speciality="it")
        assert refreshed(busy).assignee == nearby
        support_engineer("it", other_branch, None, "an")  # free, but in another branch

        assert choose_support_staff(speciality="it", customer=county_customer) == nearby

    def test_for_a_customer_of_the_branch_its_counties_count_as_the_same_branch(
        self, org, customer, other_branch
    ):
        support_engineer("network", other_branch, None, "an")

        assert choose_support_staff(speciality="network", customer=customer) == org.support["network"]

        in_branch = support_engineer("network", org.branch, org.team, "wei")
        assert choose_support_staff(speciality="network", customer=customer) == in_branch

    def test_among_engineers_equally_near_the_least_loaded_is_chosen_then_by_name(self, org, customer):
        support_engineer("solution", org.branch, org.team, "wang")

        requests = [ask(org, customer, speciality="solution") for _ in range(3)]

        assert assignees(*requests) == ["sun", "wang", "sun"]

    def test_a_completed_request_no_longer_counts_as_load(self, org, customer):
        wang = support_engineer("solution", org.branch, org.team, "wang")
        request = ask(org, customer, speciality="solution")
        assert refreshed(request).assignee == org.support["solution"]
        assert choose_support_staff(speciality="solution", customer=customer) == wang

        complete(request.instance, HANDLE, org.support["solution"], RESULT)

        assert choose_support_staff(speciality="solution", customer=customer) == org.support["solution"]

    def test_a_planned_visit_the_engineer_supports_counts_as_load(self, org, customer):
        wang = support_engineer("solution", org.branch, org.team, "wang")
        enrolment = enrol(org, new_programme(org), customer)
        complete(current_visit(enrolment), "Task_plan_visit", org.manager, plan(needs_support=True))
        visit = Visit.objects.get(enrolment=enrolment)
        assert (visit.status, visit.support_staff) == (Visit.Status.PLANNED, org.support["solution"])

        assert choose_support_staff(speciality="solution", customer=customer) == wang

    def test_inactive_engineers_and_staff_without_the_support_role_are_never_chosen(
        self, org, county_customer, other_branch
    ):
        retired = support_engineer("engineering", org.county, org.team, "qin")
        retired.is_active = False
        retired.save()
        manager = manager_in(org.team, "ma")
        StaffProfile.objects.filter(user=manager).update(speciality="engineering", region=org.county)

        assert choose_support_staff(speciality="engineering", customer=county_customer) is None

        far_away = support_engineer("engineering", other_branch, None, "an")
        assert choose_support_staff(speciality="engineering", customer=county_customer) == far_away

    def test_nobody_is_chosen_when_no_speciality_is_asked_for(self, org, customer):
        assert choose_support_staff(speciality="", customer=customer) is None


class TestTheProcess:
    def test_a_request_is_dispatched_to_the_chosen_engineer_due_at_the_end_of_its_due_date(
        self, org, customer
    ):
        with frozen(at(2026, 12, 1, 9)):
            # Within the completion time of the customer's tier (B: 72 hours), the day asked binds.
            request = ask(org, customer, due=date(2026, 12, 3))

        request = refreshed(request)
        assert (request.status, request.assignee, request.requested_by, request.dispatched_at) == (
            Status.DISPATCHED,
            org.support["network"],
            org.manager,
            at(2026, 12, 1, 9),
        )
        instance = request.instance
        assert (instance.process_id, instance.business_key, instance.status) == (
            "support_request",
            customer.code,
            ProcessInstance.Status.RUNNING,
        )
        assert instance_variables(instance)["dispatch"] == {
            "assignee": "zheng",
            "due_at": "2026-12-03T18:00:00+08:00",
        }
        task = open_task(instance, HANDLE)
        assert (task.assignee, task.role.name, task.form_file, task.due_at) == (
            org.support["network"],
            "support_staff",
            "support_handling.schema.json",
            at(2026, 12, 1, 13),  # its first deadline: to be taken up within the response time
        )
        timers = Timer.objects.filter(instance=instance).order_by("due_at")
        assert [(t.bpmn_id, t.due_at) for t in timers] == [
            ("Event_support_response", at(2026, 12, 1, 13)),  # B: taken up within 4 hours
            ("Event_support_overdue", at(2026, 12, 3, 18)),
        ]

    def test_the_request_goes_from_demand_to_dispatch_to_completion_to_the_managers_confirmation(
        self, org, customer
    ):
        engineer = org.support["network"]
        with frozen(at(2026, 12, 1, 9)):
            request = ask(org, customer)
        assert refreshed(request).status == Status.DISPATCHED

        with frozen(at(2026, 12, 3, 15)):
            complete(request.instance, HANDLE, engineer, RESULT)

        request = refreshed(request)
        assert (request.status, request.result, request.hours_spent) == (
            Status.COMPLETED,
            RESULT["support_result"],
            Decimal("3.5"),
        )
        assert (request.completed_by, request.completed_at) == (engineer, at(2026, 12, 3, 15))
        assert IncentiveRecord.objects.filter(
            person=engineer, event="support_completed", support_request=request
        ).exists()
        assert not Timer.objects.filter(instance=request.instance).exists()  # no longer overdue-able
        # The manager who asked sees the engineer's answer with the confirmation task.
        confirmation = open_task(request.instance, CONFIRM)
        assert (confirmation.assignee, confirmation.role.name) == (org.manager, "account_manager")
        assert instance_variables(request.instance)["support_result"] == RESULT["support_result"]

        with frozen(at(2026, 12, 4, 10)):
            complete(
                request.instance, CONFIRM, org.manager, {"resolved": True, "manager_feedback": "客户满意"}
            )

        request = refreshed(request)
        assert (request.status, request.manager_feedback, request.confirmed_at) == (
            Status.CONFIRMED,
            "客户满意",
            at(2026, 12, 4, 10),
        )
        assert refreshed(request.instance).status == ProcessInstance.Status.COMPLETED
        assert not HumanTask.objects.filter(instance=request.instance, status=HumanTask.Status.OPEN).exists()

    def test_the_result_is_confirmed_by_whoever_asked_for_the_support(self, org, customer):
        request = ask(org, customer, user=org.leader)
        complete(request.instance, HANDLE, org.support["network"], RESULT)

        assert refreshed(request).requested_by == org.leader
        assert open_task(request.instance, CONFIRM).assignee == org.leader
        with pytest.raises(TaskNotYours):
            complete(request.instance, CONFIRM, org.manager, {"manager_feedback": "收到"})
        assert refreshed(request).status == Status.COMPLETED

    def test_a_request_made_by_the_system_is_confirmed_by_the_manager_it_names(self, org, customer):
        request = ask(org, customer, user=SYSTEM, requested_by=org.other_manager)
        complete(request.instance, HANDLE, org.support["network"], RESULT)

        assert open_task(request.instance, CONFIRM).assignee == org.other_manager

    def test_without_an_engineer_of_that_speciality_the_task_waits_in_the_support_pool(self, org, customer):
        request = ask(org, customer, speciality="engineering")

        request = refreshed(request)
        assert (request.status, request.assignee) == (Status.DISPATCHED, None)
        assert refreshed(request.instance).status == ProcessInstance.Status.RUNNING
        assert instance_variables(request.instance)["dispatch"]["assignee"] == ""
        task = open_task(request.instance, HANDLE)
        assert (task.assignee, task.role.name) == (None, "support_staff")
        assert task not in inbox(org.manager)
        with pytest.raises(TaskNotYours):
            complete(request.instance, HANDLE, org.manager, RESULT)
        # An engineer of that speciality who joins later finds it in the pool and takes it.
        builder = support_engineer("engineering", org.branch, org.team, "feng")
        assert task in inbox(builder)

        claim_task(task_id=task.pk, user=builder)
        complete(request.instance, HANDLE, builder, RESULT)

        request = refreshed(request)
        assert (request.status, request.completed_by) == (Status.COMPLETED, builder)
        assert open_task(request.instance, CONFIRM).assignee == org.manager

    def test_an_engineer_of_another_speciality_takes_pool_work_only_when_the_team_leader_assigns_it(
        self, org, customer
    ):
        request = ask(org, customer, speciality="engineering")
        task = open_task(request.instance, HANDLE)
        solution = org.support["solution"]

        assert task not in inbox(solution) and task not in inbox(org.support["network"])
        with pytest.raises(NotAllowed, match="needs the speciality engineering; only the team leader"):
            claim_task(task_id=task.pk, user=solution)
        with pytest.raises(TaskNotYours):
            complete(request.instance, HANDLE, solution, RESULT)
        assert refreshed(request).status == Status.DISPATCHED
        assert open_task(request.instance, HANDLE).assignee is None

        reassign_task(task_id=task.pk, to_user=solution, user=org.leader)

        assert task in inbox(solution)
        complete(request.instance, HANDLE, solution, RESULT)
        assert refreshed(request).completed_by == solution

    def test_the_team_leader_hands_support_work_only_to_support_staff(self, org, customer):
        request = ask(org, customer)
        task = open_task(request.instance, HANDLE)

        with pytest.raises(NotAllowed, match="does not hold the role support_staff"):
            reassign_task(task_id=task.pk, to_user=org.other_manager, user=org.leader)

        assert open_task(request.instance, HANDLE).assignee == org.support["network"]

    def test_a_task_the_team_leader_hands_to_another_engineer_credits_the_one_who_did_it(self, org, customer):
        request = ask(org, customer)
        han = support_engineer("network", org.branch, org.team, "han")
        reassign_task(task_id=open_task(request.instance, HANDLE).pk, to_user=han, user=org.leader)

        complete(request.instance, HANDLE, han, RESULT)

        assert refreshed(request).completed_by == han
        assert list(
            IncentiveRecord.objects.filter(event="support_completed").values_list(
                "person__username", flat=True
            )
        ) == ["han"]


class TestOverdue:
    def test_an_overdue_request_is_escalated_once_to_the_team_leader_while_the_engineer_keeps_it(
        self, org, customer
    ):
        with frozen(at(2026, 12, 1, 9)):
            request = ask(org, customer, due=date(2026, 12, 2))
        handling = open_task(request.instance, HANDLE)

        # The response time passes with the engineer already named: nothing to chase.
        response = fire_due_timers(now=at(2026, 12, 2, 17, 59))
        assert [t.bpmn_id for t in response] == ["Event_support_response"]
        assert not HumanTask.objects.filter(instance=request.instance, bpmn_id=ESCALATE).exists()
        fired = fire_due_timers(now=at(2026, 12, 2, 18, 1))

        assert [(t.instance_id, t.bpmn_id, t.due_at) for t in fired] == [
            (request.instance_id, "Event_support_overdue", at(2026, 12, 2, 18))
        ]
        escalation = open_task(request.instance, ESCALATE)
        assert (escalation.assignee, escalation.role.name) == (org.leader, "team_leader")
        still = open_task(request.instance, HANDLE)
        assert (still.pk, still.assignee) == (handling.pk, org.support["network"])
        assert refreshed(request).status == Status.DISPATCHED
        assert (
            AuditEvent.objects.filter(instance=request.instance, kind=AuditEvent.Kind.TIMER_FIRED).count()
            == 2  # the response timer's and the overdue one's
        )
        assert fire_due_timers(now=at(2026, 12, 9, 9)) == []  # escalated once, not every run

        complete(request.instance, ESCALATE, org.leader, {"escalation_action": "reminded"})
        complete(request.instance, HANDLE, org.support["network"], RESULT)
        complete(request.instance, CONFIRM, org.manager, {"manager_feedback": "已解决"})

        assert refreshed(request).status == Status.CONFIRMED
        assert refreshed(request.instance).status == ProcessInstance.Status.COMPLETED

    def test_finishing_the_request_ends_an_escalation_nobody_answered(self, org, customer):
        with frozen(at(2026, 12, 1, 9)):
            request = ask(org, customer, due=date(2026, 12, 2))
        fire_due_timers(now=at(2026, 12, 3, 9))
        escalation = open_task(request.instance, ESCALATE)

        complete(request.instance, HANDLE, org.support["network"], RESULT)
        complete(request.instance, CONFIRM, org.manager, {})

        assert refreshed(request.instance).status == ProcessInstance.Status.COMPLETED
        assert HumanTask.objects.get(pk=escalation.pk).status == HumanTask.Status.CANCELLED

    def test_a_request_completed_in_time_is_never_escalated(self, org, customer):
        with frozen(at(2026, 12, 1, 9)):
            request = ask(org, customer, due=date(2026, 12, 2))
        with frozen(at(2026, 12, 2, 11)):
            complete(request.instance, HANDLE, org.support["network"], RESULT)

        assert fire_due_timers(now=at(2026, 12, 3, 9)) == []
        assert not HumanTask.objects.filter(instance=request.instance, bpmn_id=ESCALATE).exists()
        assert open_task(request.instance, CONFIRM).assignee == org.manager

    def test_a_summary_need_dated_before_the_approval_is_dispatched_due_at_once(self, org, customer):
        enrolment = enrol(org, new_programme(org), customer)
        approved = at(2026, 12, 20, 9)
        need = {"speciality": "network", "description": "专线扩容评估", "due_date": "2026-12-15"}
        with frozen(approved):
            close_visit(
                enrolment,
                org,
                visited_at=at(2026, 12, 18, 10),
                summary_data=summary(leads=[], products=[], resource_needs=[need]),
            )

        request = SupportRequest.objects.get(customer=customer)
        assert (request.due_date, request.status) == (date(2026, 12, 15), Status.DISPATCHED)
        assert instance_variables(request.instance)["dispatch"]["due_at"] == approved.isoformat()
        assert open_task(request.instance, HANDLE).due_at == approved
        fired = fire_due_timers(now=approved + timedelta(minutes=1))
        assert [t.bpmn_id for t in fired] == ["Event_support_overdue"]
        assert open_task(request.instance, ESCALATE).assignee == org.leader


class TestRefusals:
    @pytest.mark.parametrize("description", ["", "   "])
    def test_a_request_without_a_description_is_refused_and_starts_nothing(self, org, customer, description):
        with pytest.raises(InvalidInput) as refused:
            ask(org, customer, description=description)

        assert list(refused.value.errors) == ["description"]
        assert not SupportRequest.objects.exists()
        assert not ProcessInstance.objects.exists()

    @pytest.mark.parametrize(
        ("field", "values"),
        [
            ("speciality", {"speciality": "catering"}),
            ("speciality", {"speciality": ""}),
            ("kind", {"kind": "consulting"}),
            ("due_date", {"due": None}),
        ],
    )
    def test_an_unknown_speciality_or_kind_or_a_missing_due_date_is_refused_and_starts_nothing(
        self, org, customer, field, values
    ):
        with pytest.raises(InvalidInput) as refused:
            ask(org, customer, **values)

        assert list(refused.value.errors) == [field]
        assert not SupportRequest.objects.exists()
        assert not ProcessInstance.objects.exists()

    def test_a_manager_cannot_ask_support_for_another_managers_customer(self, org):
        theirs = customer_of(org, manager=org.other_manager)

        with pytest.raises(NotPermitted):
            ask(org, theirs)

        assert not SupportRequest.objects.exists()
        assert not ProcessInstance.objects.exists()

    def test_a_request_made_by_the_system_needs_the_person_who_asks(self, org, customer):
        with pytest.raises(OnsiteError, match="A support request needs the person who asks for it"):
            ask(org, customer, user=SYSTEM)

        assert not SupportRequest.objects.exists()

    @pytest.mark.parametrize(
        ("data", "field"),
        [({"hours_spent": 2}, "support_result"), ({"support_result": "好"}, "support_result")],
    )
    def test_the_completion_form_needs_a_result_and_the_request_keeps_waiting(
        self, org, customer, data, field
    ):
        request = ask(org, customer)
        task = open_task(request.instance, HANDLE)

        with pytest.raises(FormValidationError) as refused:
            complete(request.instance, HANDLE, org.support["network"], data)

        assert field in refused.value.errors
        assert open_task(request.instance, HANDLE).pk == task.pk
        assert refreshed(request).status == Status.DISPATCHED

    def test_only_the_dispatched_engineer_can_complete_the_request(self, org, customer):
        request = ask(org, customer)

        with pytest.raises(TaskNotYours):
            complete(request.instance, HANDLE, org.support["solution"], RESULT)

        request = refreshed(request)
        assert (request.status, request.result, request.completed_by) == (Status.DISPATCHED, "", None)

    def test_a_confirmed_request_cannot_be_completed_again(self, org, customer):
        request = ask(org, customer)
        complete(request.instance, HANDLE, org.support["network"], RESULT)
        complete(request.instance, CONFIRM, org.manager, {})

        with pytest.raises(OnsiteError, match="This support request is not waiting for a result"):
            complete_support_request(
                request=refreshed(request),
                result="重新处理",
                hours_spent=1,
                actor=org.leader,
                at=at(2026, 12, 9),
            )

        request = refreshed(request)
        assert (request.status, request.result, request.completed_by) == (
            Status.CONFIRMED,
            RESULT["support_result"],
            org.support["network"],
        )

    @pytest.mark.parametrize("due", [date(2026, 11, 30), date(2025, 1, 1)])
    def test_a_due_date_in_the_past_is_a_field_error_and_starts_nothing(self, org, customer, due):
        with frozen(at(2026, 12, 1, 9)), pytest.raises(InvalidInput) as refused:
            ask(org, customer, due=due)

        assert refused.value.errors == {"due_date": ["The date cannot be in the past."]}
        assert not SupportRequest.objects.exists()
        assert not ProcessInstance.objects.exists()

    def test_a_request_due_today_is_accepted(self, org, customer):
        with frozen(at(2026, 12, 1, 9)):
            request = ask(org, customer, due=date(2026, 12, 1))

        assert refreshed(request).status == Status.DISPATCHED


class TestNotResolved:
    def test_not_resolved_reopens_the_request_for_dispatch_and_keeps_each_outcome(self, org, customer):
        engineer = org.support["network"]
        with frozen(at(2026, 12, 1, 9)):
            request = ask(org, customer, due=date(2026, 12, 4))
        with frozen(at(2026, 12, 3, 15)):
            complete(request.instance, HANDLE, engineer, RESULT)
        first_handling = HumanTask.objects.get(instance=request.instance, bpmn_id=HANDLE)

        with frozen(at(2026, 12, 4, 10)):
            complete(
                request.instance,
                CONFIRM,
                org.manager,
                {"resolved": False, "manager_feedback": "带宽仍不足", "reopen_due_date": "2026-12-10"},
            )

        request = refreshed(request)
        assert (request.status, request.due_date, request.assignee) == (
            Status.DISPATCHED,
            date(2026, 12, 10),
            engineer,
        )
        assert refreshed(request.instance).status == ProcessInstance.Status.RUNNING
        again = open_task(request.instance, HANDLE)
        assert again.pk != first_handling.pk
        assert (again.assignee, again.due_at) == (engineer, at(2026, 12, 10, 18))
        assert Timer.objects.get(instance=request.instance).due_at == at(2026, 12, 10, 18)

        second = {"support_result": "已扩容至500M，测试通过", "hours_spent": 2}
        with frozen(at(2026, 12, 8, 11)):
            complete(request.instance, HANDLE, engineer, second)
        with frozen(at(2026, 12, 9, 10)):
            complete(request.instance, CONFIRM, org.manager, {"resolved": True, "manager_feedback": "已解决"})

        request = refreshed(request)
        assert (request.status, request.result) == (Status.CONFIRMED, second["support_result"])
        assert refreshed(request.instance).status == ProcessInstance.Status.COMPLETED
        history = [
            (o.round, o.result, o.hours_spent, o.completed_by, o.resolved, o.manager_feedback, o.confirmed_at)
            for o in request.outcomes.all()
        ]
        assert history == [
            (1, RESULT["support_result"], Decimal("3.5"), engineer, False, "带宽仍不足", at(2026, 12, 4, 10)),
            (2, second["support_result"], Decimal("2.0"), engineer, True, "已解决", at(2026, 12, 9, 10)),
        ]
        # Incentives count the request once, however many rounds it took.
        assert IncentiveRecord.objects.filter(event="support_completed", support_request=request).count() == 1

    def test_not_resolved_needs_a_new_date_that_is_not_in_the_past(self, org, customer):
        with frozen(at(2026, 12, 1, 9)):
            request = ask(org, customer, due=date(2026, 12, 4))
            complete(request.instance, HANDLE, org.support["network"], RESULT)

        with frozen(at(2026, 12, 5, 9)):
            with pytest.raises(FormValidationError) as refused:
                complete(request.instance, CONFIRM, org.manager, {"resolved": False})
            assert "reopen_due_date" in refused.value.errors
            with pytest.raises(TaskRejected, match="cannot be in the past"):
                complete(
                    request.instance,
                    CONFIRM,
                    org.manager,
                    {"resolved": False, "reopen_due_date": "2026-12-04"},
                )

        assert open_task(request.instance, CONFIRM).assignee == org.manager
        request = refreshed(request)
        assert (request.status, request.due_date) == (Status.COMPLETED, date(2026, 12, 4))
        assert [o.resolved for o in request.outcomes.all()] == [None]

    def test_a_result_given_again_before_the_verdict_replaces_that_rounds_outcome(self, org, customer):
        request = ask(org, customer)
        complete(request.instance, HANDLE, org.support["network"], RESULT)

        complete_support_request(
            request=refreshed(request), result="补充：已复测", hours_spent=4, actor=None, at=at(2026, 12, 9)
        )

        assert [(o.round, o.result, o.hours_spent) for o in refreshed(request).outcomes.all()] == [
            (1, "补充：已复测", Decimal("4.0"))
        ]


class TestEscalationChoices:
    @pytest.fixture
    def overdue(self, org, customer):
        with frozen(at(2026, 12, 1, 9)):
            request = ask(org, customer, due=date(2026, 12, 2))
        fire_due_timers(now=at(2026, 12, 3, 9))
        assert open_task(request.instance, ESCALATE).assignee == org.leader
        return request

    def escalate(self, request, leader, data):
        with frozen(at(2026, 12, 3, 10)):
            complete(request.instance, ESCALATE, leader, data)

    @pytest.fixture
    def han(self, org, other_branch):
        return support_engineer("network", other_branch, None, "han")  # never the dispatch's first choice

    def test_reassign_hands_the_open_work_to_the_engineer_the_leader_picks(self, org, han, overdue):
        assert open_task(overdue.instance, HANDLE).assignee == org.support["network"]

        self.escalate(overdue, org.leader, {"escalation_action": "reassigned", "reassign_to": "han"})

        handling = open_task(overdue.instance, HANDLE)
        assert handling.assignee == han
        assert refreshed(overdue).assignee == han
        assert AuditEvent.objects.filter(task_id=handling.pk, kind="reassigned", actor=org.leader).exists()
        assert not HumanTask.objects.filter(
            instance=overdue.instance, bpmn_id=ESCALATE, status=HumanTask.Status.OPEN
        ).exists()
        with pytest.raises(TaskNotYours):
            complete(overdue.instance, HANDLE, org.support["network"], RESULT)
        complete(overdue.instance, HANDLE, han, RESULT)
        assert refreshed(overdue).completed_by == han

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"escalation_action": "reassigned"}, "reassign_to"),
            ({"escalation_action": "rescheduled"}, "new_due_date"),
        ],
    )
    def test_a_choice_without_what_it_needs_is_a_field_error(self, org, overdue, data, field):
        with pytest.raises(FormValidationError) as refused:
            self.escalate(overdue, org.leader, data)

        assert field in refused.value.errors
        assert open_task(overdue.instance, ESCALATE).assignee == org.leader

    @pytest.mark.parametrize("person", ["li", "nobody"])
    def test_reassigning_to_someone_who_is_not_support_staff_is_refused_and_changes_nothing(
        self, org, overdue, person
    ):
        with pytest.raises(TaskRejected, match="only to an active support engineer"):
            self.escalate(overdue, org.leader, {"escalation_action": "reassigned", "reassign_to": person})

        assert open_task(overdue.instance, ESCALATE).assignee == org.leader
        assert open_task(overdue.instance, HANDLE).assignee == org.support["network"]
        assert refreshed(overdue.instance).status == ProcessInstance.Status.RUNNING

    def test_a_new_due_date_reschedules_the_work_and_escalates_again_if_it_passes(self, org, overdue):
        self.escalate(overdue, org.leader, {"escalation_action": "rescheduled", "new_due_date": "2026-12-08"})

        assert refreshed(overdue).due_date == date(2026, 12, 8)
        handling = open_task(overdue.instance, HANDLE)
        assert (handling.assignee, handling.due_at) == (org.support["network"], at(2026, 12, 8, 18))
        assert AuditEvent.objects.filter(task_id=handling.pk, kind="rescheduled", actor=org.leader).exists()
        assert fire_due_timers(now=at(2026, 12, 8, 17)) == []

        fired = fire_due_timers(now=at(2026, 12, 8, 18, 1))

        assert [t.bpmn_id for t in fired] == ["Event_new_due_date"]
        assert open_task(overdue.instance, ESCALATE).assignee == org.leader

    def test_a_new_due_date_in_the_past_is_refused(self, org, overdue):
        with pytest.raises(TaskRejected, match="cannot be in the past"):
            self.escalate(
                overdue, org.leader, {"escalation_action": "rescheduled", "new_due_date": "2026-12-02"}
            )

        assert open_task(overdue.instance, ESCALATE).assignee == org.leader
        assert refreshed(overdue).due_date == date(2026, 12, 2)

    def test_work_finished_before_the_new_date_is_not_escalated_again(self, org, overdue):
        self.escalate(overdue, org.leader, {"escalation_action": "rescheduled", "new_due_date": "2026-12-08"})
        with frozen(at(2026, 12, 5, 9)):
            complete(overdue.instance, HANDLE, org.support["network"], RESULT)

        fired = fire_due_timers(now=at(2026, 12, 8, 18, 1))

        assert [t.bpmn_id for t in fired] == ["Event_new_due_date"]
        assert not HumanTask.objects.filter(
            instance=overdue.instance, bpmn_id=ESCALATE, status=HumanTask.Status.OPEN
        ).exists()
        assert open_task(overdue.instance, CONFIRM).assignee == org.manager

    def test_a_reminder_changes_neither_who_nor_when(self, org, overdue):
        handling = open_task(overdue.instance, HANDLE)

        self.escalate(overdue, org.leader, {"escalation_action": "reminded", "escalation_note": "已电话提醒"})

        after = open_task(overdue.instance, HANDLE)
        assert (after.pk, after.assignee, after.due_at) == (handling.pk, handling.assignee, handling.due_at)
        assert refreshed(overdue).due_date == date(2026, 12, 2)
        assert refreshed(overdue.instance).status == ProcessInstance.Status.RUNNING

    def test_work_still_not_done_a_day_after_a_reminder_is_escalated_again(self, org, overdue):
        self.escalate(overdue, org.leader, {"escalation_action": "reminded"})
        assert [t.due_at for t in Timer.objects.filter(instance=overdue.instance)] == [at(2026, 12, 4, 10)]
        assert fire_due_timers(now=at(2026, 12, 4, 9, 59)) == []

        fired = fire_due_timers(now=at(2026, 12, 4, 10, 1))

        assert [t.bpmn_id for t in fired] == ["Event_new_due_date"]
        assert open_task(overdue.instance, ESCALATE).assignee == org.leader
        assert HumanTask.objects.filter(instance=overdue.instance, bpmn_id=ESCALATE).count() == 2

    def test_a_hand_over_is_checked_again_a_day_later_and_not_escalated_when_the_work_is_done(
        self, org, han, overdue
    ):
        self.escalate(overdue, org.leader, {"escalation_action": "reassigned", "reassign_to": "han"})
        with frozen(at(2026, 12, 4, 9)):
            complete(overdue.instance, HANDLE, han, RESULT)

        fired = fire_due_timers(now=at(2026, 12, 4, 10, 1))

        assert [t.bpmn_id for t in fired] == ["Event_new_due_date"]
        assert not HumanTask.objects.filter(
            instance=overdue.instance, bpmn_id=ESCALATE, status=HumanTask.Status.OPEN
        ).exists()
        assert not Timer.objects.filter(instance=overdue.instance).exists()
        complete(overdue.instance, CONFIRM, org.manager, {"manager_feedback": "已解决"})
        assert refreshed(overdue.instance).status == ProcessInstance.Status.COMPLETED

    def test_a_follow_up_after_the_request_was_reopened_with_a_later_date_leaves_it_to_that_date(
        self, org, overdue
    ):
        self.escalate(overdue, org.leader, {"escalation_action": "reminded"})
        with frozen(at(2026, 12, 3, 11)):
            complete(overdue.instance, HANDLE, org.support["network"], RESULT)
            complete(
                overdue.instance,
                CONFIRM,
                org.manager,
                {"resolved": False, "manager_feedback": "仍需扩容", "reopen_due_date": "2026-12-10"},
            )
        assert refreshed(overdue).status == Status.DISPATCHED

        fired = fire_due_timers(now=at(2026, 12, 4, 10, 1))  # the reminder's follow-up: not overdue now

        assert [t.bpmn_id for t in fired] == ["Event_new_due_date"]
        assert not HumanTask.objects.filter(
            instance=overdue.instance, bpmn_id=ESCALATE, status=HumanTask.Status.OPEN
        ).exists()
        fired = fire_due_timers(now=at(2026, 12, 10, 18, 1))
        assert [t.bpmn_id for t in fired] == ["Event_support_overdue"]
        assert open_task(overdue.instance, ESCALATE).assignee == org.leader
