from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import translation

from tests.conftest import TEST_BPMN_DIR, source
from tests.factories import UserFactory
from tests.workflows.conftest import deploy_approval, nested, open_task
from tests.workflows.diagrams import linear, user_task
from tests.workflows.diagrams import source as text
from workflows.actors import SYSTEM
from workflows.assignment import register_pool_rule, unregister_pool_rule
from workflows.exceptions import (
    FormValidationError,
    InstanceNotActive,
    NotAllowed,
    TaskAlreadyCompleted,
    TaskNotYours,
    TaskRejected,
)
from workflows.models import AuditEvent, HumanTask, ProcessInstance
from workflows.selectors import inbox
from workflows.services import (
    claim_task,
    complete_task,
    deploy,
    reassign_task,
    release_task,
    reschedule_task,
    start_instance,
    suspend_instance,
)

pytestmark = pytest.mark.django_db


def state_of(instance):
    instance.refresh_from_db()
    return instance.revision, instance.state, instance.status


class TestCompletion:
    def test_tasks_go_to_the_role_of_their_lane(self, approval, roles):
        submit = open_task(approval, "submit")
        assert (submit.lane, submit.role, submit.assignee, submit.form_file) == (
            "Requester",
            roles[0],
            None,
            "request.schema.json",
        )

    def test_completing_moves_the_process_on_and_records_who_and_what(self, approval, people):
        submit = open_task(approval, "submit")
        complete_task(task_id=submit.pk, data={"amount": 500, "reason": "laptop"}, user=people["alice"])

        submit.refresh_from_db()
        assert (submit.status, submit.completed_by, submit.data) == (
            "completed",
            people["alice"],
            {"amount": 500, "reason": "laptop", "items": []},
        )
        review = open_task(approval, "review")
        assert review.role.name == "reviewers" and review.due_at is not None
        event = AuditEvent.objects.get(kind="completed", task_id=submit.pk)
        assert (event.actor, event.details["data"]["amount"]) == (people["alice"], 500)

    def test_the_process_takes_the_path_the_data_chooses(self, approval, people):
        complete_task(
            task_id=open_task(approval, "submit").pk,
            data={"amount": 500, "reason": "laptop"},
            user=people["alice"],
        )
        complete_task(task_id=open_task(approval, "review").pk, data={"approved": True}, user=people["bob"])

        approval.refresh_from_db()
        assert approval.status == ProcessInstance.Status.COMPLETED and approval.ended_at is not None
        assert '"result":"approved"' in approval.state.replace(" ", "")

    def test_invalid_data_is_rejected_with_field_errors_and_changes_nothing(self, approval, people):
        submit = open_task(approval, "submit")
        before = state_of(approval)
        with translation.override("en"), pytest.raises(FormValidationError) as caught:
            complete_task(
                task_id=submit.pk,
                user=people["alice"],
                data={
                    "amount": -5,
                    "items": [{"qty": 0}],
                    "stage": "win_back",
                },
            )
        assert caught.value.errors == {
            "amount": ["Must be at least 1."],
            "reason": ["This field is required."],
            "items.0.name": ["This field is required."],
            "items.0.qty": ["Must be at least 1."],
            "stage": ["This form has no such field."],
        }
        assert state_of(approval) == before
        assert open_task(approval, "submit").status == "open"

    def test_field_errors_are_in_chinese_by_default(self, approval, people):
        with translation.override("zh-hans"), pytest.raises(FormValidationError) as caught:
            complete_task(task_id=open_task(approval, "submit").pk, data={"amount": 5}, user=people["alice"])
        assert caught.value.errors["reason"] == ["这个字段是必填项。"]

    def test_a_task_of_another_role_is_not_yours(self, approval, people):
        submit = open_task(approval, "submit")
        before = state_of(approval)
        with pytest.raises(TaskNotYours):
            complete_task(task_id=submit.pk, data={"amount": 5, "reason": "why not"}, user=people["mallory"])
        assert state_of(approval) == before

    def test_a_task_completed_by_someone_else_cannot_be_completed_again(self, approval, people):
        complete_task(
            task_id=open_task(approval, "submit").pk,
            data={"amount": 5, "reason": "pens"},
            user=people["alice"],
        )
        review = open_task(approval, "review")
        complete_task(task_id=review.pk, data={"approved": False}, user=people["bob"])
        before = state_of(approval)

        with translation.override("en"), pytest.raises(TaskAlreadyCompleted) as caught:
            complete_task(task_id=review.pk, data={"approved": True}, user=people["carol"])
        assert str(caught.value).startswith("This task was already completed by ")
        assert state_of(approval) == before

    def test_tasks_of_a_suspended_instance_cannot_be_completed(self, approval, people):
        suspend_instance(user=SYSTEM, instance_id=approval.pk)
        with pytest.raises(InstanceNotActive):
            complete_task(
                task_id=open_task(approval, "submit").pk,
                data={"amount": 5, "reason": "pens"},
                user=people["alice"],
            )

    def test_a_post_script_that_refuses_the_data_keeps_the_task_open(self):
        task = user_task("enter").replace(
            "</bpmn:userTask>",
            "<bpmn:extensionElements><spiffworkflow:postScript>share = 100 / parts</spiffworkflow:postScript>"
            "</bpmn:extensionElements></bpmn:userTask>",
        )
        deploy(user=SYSTEM, files=[text("post.bpmn", linear(task, process_id="post"))])
        instance = start_instance(user=SYSTEM, process_id="post", data={"parts": 0})
        before = state_of(instance)

        with pytest.raises(TaskRejected, match="ZeroDivisionError"):
            complete_task(task_id=instance.human_tasks.get().pk, data={}, user=SYSTEM)

        assert state_of(instance) == before
        assert instance.human_tasks.get().status == "open"
        assert AuditEvent.objects.filter(instance=instance, kind="rejected").count() == 1

    def test_refuse_in_a_post_script_shows_the_diagrams_message_and_keeps_the_task_open(self):
        script = 'if parts &lt; 1:\n    refuse("至少分成一份 (at least one part)")'
        task = user_task("enter").replace(
            "</bpmn:userTask>",
            f"<bpmn:extensionElements><spiffworkflow:postScript>{script}</spiffworkflow:postScript>"
            "</bpmn:extensionElements></bpmn:userTask>",
        )
        deploy(user=SYSTEM, files=[text("post.bpmn", linear(task, process_id="post"))])
        instance = start_instance(user=SYSTEM, process_id="post", data={"parts": 0})

        with pytest.raises(TaskRejected) as refused:
            complete_task(task_id=instance.human_tasks.get().pk, data={}, user=SYSTEM)

        assert str(refused.value) == "至少分成一份 (at least one part)"
        assert instance.human_tasks.get().status == "open"


class TestClaiming:
    def test_claim_takes_the_task_from_the_role(self, approval, people):
        complete_task(
            task_id=open_task(approval, "submit").pk,
            data={"amount": 5, "reason": "pens"},
            user=people["alice"],
        )
        review = open_task(approval, "review")
        assert set(inbox(people["carol"])) == {review}

        claim_task(task_id=review.pk, user=people["bob"])

        assert list(inbox(people["carol"])) == []
        assert list(inbox(people["bob"])) == [review]
        with pytest.raises(TaskNotYours):
            complete_task(task_id=review.pk, data={"approved": True}, user=people["carol"])

    def test_claim_of_a_claimed_task_fails(self, approval, people):
        complete_task(
            task_id=open_task(approval, "submit").pk,
            data={"amount": 5, "reason": "pens"},
            user=people["alice"],
        )
        review = open_task(approval, "review")
        claim_task(task_id=review.pk, user=people["bob"])
        with pytest.raises(TaskNotYours):
            claim_task(task_id=review.pk, user=people["carol"])

    def test_claim_needs_the_role(self, approval, people):
        with pytest.raises(NotAllowed):
            claim_task(task_id=open_task(approval, "submit").pk, user=people["bob"])

    def test_release_gives_the_task_back_to_the_role(self, approval, people):
        submit = open_task(approval, "submit")
        claim_task(task_id=submit.pk, user=people["alice"])
        release_task(task_id=submit.pk, user=people["alice"])
        submit.refresh_from_db()
        assert (submit.assignee, submit.claimed_by, submit.claimed_at) == (None, None, None)
        kinds = list(AuditEvent.objects.filter(task_id=submit.pk).values_list("kind", flat=True))
        assert kinds == ["claimed", "released"]

    def test_only_the_holder_can_release(self, approval, people):
        submit = open_task(approval, "submit")
        claim_task(task_id=submit.pk, user=people["alice"])
        with pytest.raises(TaskNotYours):
            release_task(task_id=submit.pk, user=people["bob"])

    def test_reassign_needs_the_permission_and_is_audited(self, approval, people, roles):
        submit = open_task(approval, "submit")
        with pytest.raises(NotAllowed):
            reassign_task(task_id=submit.pk, to_user=people["carol"], user=people["alice"])
        leader = UserFactory(username="leader")
        leader.user_permissions.add(Permission.objects.get(codename="reassign_humantask"))
        dave = UserFactory(username="dave")
        dave.groups.add(roles[0])

        reassign_task(task_id=submit.pk, to_user=dave, user=leader)

        submit.refresh_from_db()
        assert submit.assignee == dave
        event = AuditEvent.objects.get(kind="reassigned")
        assert event.details == {"from": None, "to": "dave"} and event.actor == leader
        complete_task(task_id=submit.pk, data={"amount": 5, "reason": "pens"}, user=dave)

    def test_a_reassignment_keeps_its_reason(self, approval, people, roles):
        submit = open_task(approval, "submit")
        dave = UserFactory(username="dave")
        dave.groups.add(roles[0])

        reassign_task(task_id=submit.pk, to_user=dave, user=SYSTEM, reason="alice is on leave")

        event = AuditEvent.objects.get(kind="reassigned")
        assert event.details == {"from": None, "to": "dave", "reason": "alice is on leave"}

    @pytest.mark.parametrize("target", ["carol", "mallory"])
    def test_a_task_is_reassigned_only_to_someone_who_holds_its_role(self, approval, people, target):
        submit = open_task(approval, "submit")
        claim_task(task_id=submit.pk, user=people["alice"])
        leader = UserFactory(username="leader", is_superuser=True)

        with pytest.raises(NotAllowed, match=f"^{target} does not hold the role requesters"):
            reassign_task(task_id=submit.pk, to_user=people[target], user=leader)

        submit.refresh_from_db()
        assert submit.assignee == people["alice"]
        assert list(AuditEvent.objects.filter(task_id=submit.pk).values_list("kind", flat=True)) == [
            "claimed"
        ]


def test_lane_owners_in_the_data_assign_a_named_person(people, roles):
    deploy(
        user=SYSTEM,
        files=[
            source(TEST_BPMN_DIR / name)
            for name in ("approval.bpmn", "request.schema.json", "review.schema.json")
        ],
    )
    instance = start_instance(
        user=SYSTEM, process_id="approval", data={"lane_owners": {"Requester": "alice"}}
    )
    submit = open_task(instance, "submit")
    assert submit.assignee == people["alice"]


def test_a_resolver_the_domain_registers_assigns_before_lane_owners(people, roles):
    from workflows.assignment import register_assignee_resolver, unregister_assignee_resolver

    def customer_owner(request):
        return people["bob"] if request.lane == "Requester" else None

    register_assignee_resolver(customer_owner)
    try:
        deploy(
            user=SYSTEM,
            files=[
                source(TEST_BPMN_DIR / name)
                for name in ("approval.bpmn", "request.schema.json", "review.schema.json")
            ],
        )
        instance = start_instance(
            user=SYSTEM, process_id="approval", data={"lane_owners": {"Requester": "alice"}}
        )
    finally:
        unregister_assignee_resolver(customer_owner)
    assert open_task(instance, "submit").assignee == people["bob"]


def test_the_inbox_puts_the_soonest_due_first_and_tasks_without_a_due_date_last(people, roles):
    from datetime import timedelta

    from django.utils import timezone

    deploy(
        user=SYSTEM,
        files=[
            source(TEST_BPMN_DIR / name)
            for name in ("approval.bpmn", "request.schema.json", "review.schema.json")
        ],
    )
    instances = [
        start_instance(user=SYSTEM, process_id="approval", business_key=f"REQ-{n}") for n in range(4)
    ]
    tasks = [open_task(i, "submit") for i in instances]
    now = timezone.now()
    HumanTask.objects.filter(pk=tasks[0].pk).update(due_at=now + timedelta(days=3))
    HumanTask.objects.filter(pk=tasks[1].pk).update(due_at=now + timedelta(days=1))
    HumanTask.objects.filter(pk=tasks[2].pk).update(assignee=people["alice"], due_at=now + timedelta(days=2))

    assert [t.pk for t in inbox(people["alice"])] == [tasks[1].pk, tasks[2].pk, tasks[0].pk, tasks[3].pk]
    assert [t.pk for t in inbox(people["alice"], limit=2)] == [tasks[1].pk, tasks[2].pk]
    assert inbox(people["mallory"]) == []


class TestHostileSubmissions:
    @pytest.mark.parametrize(
        ("data", "field", "phrase"),
        [
            (
                {"amount": 5, "reason": "pens", "items": nested(500)},
                "items" + ".0" * 31,
                "nested more than 32",
            ),
            ({"amount": float("nan"), "reason": "pens"}, "amount", "finite"),
            ({"amount": float("inf"), "reason": "pens"}, "amount", "finite"),
            ({"amount": 5, "reason": "x" * 200_000}, "reason", "longer than 100,000 characters"),
            (
                {"amount": 5, "reason": "pens", "items": [{"name": "x"}] * 30_000},
                "",
                "more than 20,000 values",
            ),
        ],
    )
    def test_data_beyond_the_limits_is_a_field_error_and_changes_nothing(
        self, approval, people, data, field, phrase
    ):
        before = state_of(approval)
        with pytest.raises(FormValidationError) as caught:
            complete_task(task_id=open_task(approval, "submit").pk, data=data, user=people["alice"])
        assert any(phrase in m for m in caught.value.errors[field]), caught.value.errors
        assert state_of(approval) == before

    def test_an_open_form_cannot_set_a_variable_the_diagram_reads(self, people):
        open_form = (
            (TEST_BPMN_DIR / "request.schema.json")
            .read_text()
            .replace('"additionalProperties": false\n}', '"additionalProperties": true\n}')
        )
        files = [
            source(TEST_BPMN_DIR / "approval.bpmn"),
            text("request.schema.json", open_form),
            source(TEST_BPMN_DIR / "review.schema.json"),
        ]
        deployment = deploy(user=SYSTEM, files=files)
        assert any("The form is open" in w.message for w in deployment.warnings)
        instance = start_instance(user=SYSTEM, process_id="approval", data={"department": "sales"})
        submit = open_task(instance, "submit")

        for field in ("approved", "department", "result"):
            with pytest.raises(FormValidationError) as caught:
                complete_task(
                    task_id=submit.pk, data={"amount": 5, "reason": "pens", field: True}, user=people["alice"]
                )
            assert caught.value.errors == {
                field: ["This field would overwrite process data; the form does not declare it."]
            }
        complete_task(
            task_id=submit.pk, data={"amount": 5, "reason": "pens", "colour": "blue"}, user=people["alice"]
        )
        assert open_task(instance, "review")

    def test_a_backtracking_pattern_checks_a_hostile_answer_in_linear_time(self, people):
        form = '{"type": "object", "properties": {"code": {"type": "string", "pattern": "^(a+)+$"}}}'
        deploy(
            user=SYSTEM,
            files=[
                text("p.bpmn", linear(user_task("ask", form="p.schema.json"), process_id="p")),
                text("p.schema.json", form),
            ],
        )
        instance = start_instance(user=SYSTEM, process_id="p")
        import time

        started = time.monotonic()
        with pytest.raises(FormValidationError):
            complete_task(task_id=instance.human_tasks.get().pk, data={"code": "a" * 5000 + "!"}, user=SYSTEM)
        assert time.monotonic() - started < 1


@pytest.mark.parametrize("mapping", ["mapped", "remapped", "named_group", "unmapped"])
def test_a_resolver_sees_the_role_the_task_is_stored_with(people, roles, mapping):
    from workflows.assignment import register_assignee_resolver, unregister_assignee_resolver
    from workflows.models import LaneRole

    _, reviewers = roles
    if mapping == "remapped":
        LaneRole.objects.filter(lane="Requester").update(role=reviewers)
    elif mapping == "named_group":
        LaneRole.objects.filter(lane="Requester").delete()
        Group.objects.create(name="Requester")
    elif mapping == "unmapped":
        LaneRole.objects.filter(lane="Requester").delete()
        Group.objects.get_or_create(name="coordinator")
    seen = []

    def record_role(request):
        seen.append((request.bpmn_id, request.role))

    register_assignee_resolver(record_role)
    try:
        deploy_approval()
        instance = start_instance(user=SYSTEM, process_id="approval")
    finally:
        unregister_assignee_resolver(record_role)
    submit = open_task(instance, "submit")
    assert seen == [("submit", submit.role.name)]
    expected = {"mapped": "requesters", "remapped": "reviewers", "named_group": "Requester"}
    assert submit.role.name == expected.get(mapping, "coordinator")


@pytest.mark.parametrize(
    ("lane", "candidates", "expected"),
    [
        ("Requester", "", "requesters"),
        ("Requester", "nobody, reviewers", "reviewers"),
        ("Nowhere", "", "coordinator"),
    ],
)
def test_the_role_a_resolver_asks_for_is_read_in_one_statement(
    roles, lane, candidates, expected, django_assert_num_queries
):
    from workflows.assignment import AssignmentRequest

    Group.objects.get_or_create(name="coordinator")
    request = AssignmentRequest(
        instance=None, lane=lane, bpmn_id="submit", data={}, properties={"candidateGroups": candidates}
    )
    with django_assert_num_queries(1):
        assert request.role == expected


class TestPoolRules:
    def test_a_pool_rule_the_domain_registers_keeps_a_member_from_taking_a_task_until_it_is_assigned(
        self, approval, people, roles
    ):
        def only_alice(user, task):
            return None if user.username == "alice" else "Only Alice takes requests."

        dave = UserFactory(username="dave")
        dave.groups.add(roles[0])
        submit = open_task(approval, "submit")
        register_pool_rule(only_alice)
        try:
            assert submit not in inbox(dave) and submit in inbox(people["alice"])
            with pytest.raises(NotAllowed, match=r"^Only Alice takes requests\.$"):
                claim_task(task_id=submit.pk, user=dave)
            with pytest.raises(TaskNotYours):
                complete_task(task_id=submit.pk, data={"amount": 5, "reason": "pens"}, user=dave)
            leader = UserFactory(username="leader", is_superuser=True)

            reassign_task(task_id=submit.pk, to_user=dave, user=leader)

            assert submit in inbox(dave)
            complete_task(task_id=submit.pk, data={"amount": 5, "reason": "pens"}, user=dave)
        finally:
            unregister_pool_rule(only_alice)


class TestRescheduling:
    def test_a_new_due_date_needs_the_permission_and_is_audited(self, approval, people):
        submit = open_task(approval, "submit")
        due = datetime(2026, 12, 8, 10, tzinfo=UTC)
        with pytest.raises(NotAllowed):
            reschedule_task(task_id=submit.pk, due_at=due, user=people["alice"])
        leader = UserFactory(username="leader")
        leader.user_permissions.add(Permission.objects.get(codename="reassign_humantask"))

        reschedule_task(task_id=submit.pk, due_at=due, user=leader)

        submit.refresh_from_db()
        assert submit.due_at == due
        event = AuditEvent.objects.get(kind="rescheduled", task_id=submit.pk)
        assert (event.actor, event.details["to"]) == (leader, due.isoformat())
