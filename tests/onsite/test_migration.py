"""Moving running visits and programmes to changed diagrams, through the engine's migration
service, and finishing them there."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from onsite.models import Enrolment, Programme, Visit
from tests.onsite.changed_diagrams import (
    deploy_text,
    programme_text,
    visit_cycle_text,
    with_final_report,
    with_thank_you_call,
    without_plan_task,
)
from tests.onsite.flow import (
    APPROVE,
    PLAIN_SUMMARY,
    RESOURCES,
    close_visit,
    complete,
    current_visit,
    customer_of,
    enrol,
    new_programme,
    open_task,
    plan,
    record,
    refreshed,
    run_visit,
)
from workflows.exceptions import ConcurrentUpdate, MigrationRefused, NotAllowed
from workflows.models import AuditEvent, HumanTask, ProcessInstance, TaskDraft, Timer
from workflows.selectors import instance_variables
from workflows.services import save_draft
from workflows.services.migration import migrate_instance, migrate_instances, plan_migration, repin

pytestmark = pytest.mark.django_db
Status = ProcessInstance.Status


@pytest.fixture
def enrolment(org):
    return enrol(org, new_programme(org), customer_of(org))


def _row(instance: ProcessInstance) -> tuple:
    instance = refreshed(instance)
    tasks = sorted(HumanTask.objects.filter(instance=instance).values_list("id", "bpmn_id", "status"))
    timers = sorted(Timer.objects.filter(instance=instance).values_list("task_id", "due_at"))
    return instance.state, instance.revision, instance.version_id, instance.status, tasks, timers


def test_a_waiting_visit_moves_to_a_version_with_a_new_task_later_and_finishes_there(org, enrolment):
    visit = current_visit(enrolment)
    source = visit.version
    target = deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))
    planning = open_task(visit, "Task_plan_visit")

    plan_ = plan_migration(from_version=source, to_version=target, user=org.coordinator)
    [check] = plan_.checks
    assert (check.instance_id, check.movable, check.waiting) == (
        visit.pk,
        True,
        [("Task_plan_visit", "制定走访计划")],
    )
    assert plan_.changes.added == [("Task_thank_customer", "回访致谢")]

    migrate_instance(instance_id=visit.pk, to_version=target, user=org.coordinator, reason="新增回访致谢")

    visit = refreshed(visit)
    assert (visit.version, visit.status) == (target, Status.RUNNING)
    assert open_task(visit, "Task_plan_visit").pk == planning.pk
    close_visit(enrolment, org)
    thanks = open_task(visit, "Task_thank_customer")
    complete(visit, "Task_thank_customer", thanks.assignee, {})
    assert refreshed(visit).status == Status.COMPLETED


def test_a_renamed_element_the_visit_is_not_waiting_at_does_not_stop_the_move(org, enrolment):
    visit = current_visit(enrolment)
    text = visit_cycle_text().replace('name="记录现场服务"', 'name="记录现场服务情况"', 1)
    target = deploy_text("visit_cycle.bpmn", text)

    migrate_instance(instance_id=visit.pk, to_version=target, user=org.coordinator)

    complete(visit, "Task_plan_visit", org.manager, plan())
    complete(visit, "Task_prepare_resources", org.manager, RESOURCES)
    assert open_task(visit, "Task_record_visit").name == "记录现场服务情况"


def test_a_programme_mid_stage_moves_to_a_changed_diagram_and_finishes_there(org, enrolment):
    run_visit(enrolment, org, decision="advance")
    programme = refreshed(enrolment).instance
    assert refreshed(enrolment).stage == "information_gathering"
    target = deploy_text("onsite_programme.bpmn", with_final_report(programme_text()))

    [check] = plan_migration(from_version=programme.version, to_version=target, user=org.coordinator).checks
    assert check.movable, check.reasons
    migrate_instance(instance_id=programme.pk, to_version=target, user=org.coordinator, reason="方案总结")

    assert refreshed(programme).version == target
    run_visit(enrolment, org, decision="advance")
    run_visit(enrolment, org, decision="advance")
    assert refreshed(programme).status == Status.RUNNING
    report = open_task(programme, "Task_final_report")
    complete(programme, "Task_final_report", report.assignee or org.leader, {})
    enrolment = refreshed(enrolment)
    assert enrolment.status == Enrolment.Status.COMPLETED
    assert refreshed(programme).status == Status.COMPLETED


def test_a_visit_waiting_on_a_removed_element_is_refused_and_left_untouched(org, enrolment):
    visit = current_visit(enrolment)
    target = deploy_text("visit_cycle.bpmn", without_plan_task(visit_cycle_text()))
    before = _row(visit)

    [check] = plan_migration(from_version=visit.version, to_version=target, user=org.coordinator).checks
    assert not check.movable
    assert check.reasons == ["'制定走访计划' (ready) does not exist in the new version."]
    with pytest.raises(MigrationRefused, match="does not exist in the new version"):
        migrate_instance(instance_id=visit.pk, to_version=target, user=org.coordinator)

    assert _row(visit) == before
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.MIGRATED).exists()


def test_a_visit_past_a_removed_element_moves_and_keeps_what_was_done_there(org, enrolment):
    visit = current_visit(enrolment)
    complete(visit, "Task_plan_visit", org.manager, plan(date="2026-12-08"))
    target = deploy_text("visit_cycle.bpmn", without_plan_task(visit_cycle_text()))

    [check] = plan_migration(from_version=visit.version, to_version=target, user=org.coordinator).checks
    assert check.movable, check.reasons
    migrate_instance(instance_id=visit.pk, to_version=target, user=org.coordinator)

    assert instance_variables(refreshed(visit))["planned_date"] == "2026-12-08"
    complete(visit, "Task_prepare_resources", org.manager, RESOURCES)
    complete(visit, "Task_record_visit", org.manager, record(timezone.now()))
    complete(visit, "Task_write_summary", org.manager, PLAIN_SUMMARY)
    complete(visit, "Task_review_summary", org.leader, APPROVE)
    assert refreshed(visit).status == Status.COMPLETED
    assert Visit.objects.get(instance=visit).planned_date.isoformat() == "2026-12-08"


def test_the_dry_run_changes_nothing(org, enrolment):
    visit = current_visit(enrolment)
    target = deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))
    before = _row(visit)

    plan_migration(from_version=visit.version, to_version=target, user=org.coordinator)

    assert _row(visit) == before


def test_open_tasks_keep_their_assignee_draft_and_due_date_and_timers_their_due_time(org, enrolment):
    visit = current_visit(enrolment)
    complete(visit, "Task_plan_visit", org.manager, plan())
    complete(visit, "Task_prepare_resources", org.manager, RESOURCES)
    complete(visit, "Task_record_visit", org.manager, record(timezone.now() - timedelta(hours=1)))
    summary = open_task(visit, "Task_write_summary")
    save_draft(task_id=summary.pk, user=org.manager, data={"next_goals": "两周内回访"})
    summary = refreshed(summary)
    timer = Timer.objects.get(instance=visit, bpmn_id="Event_summary_overdue")
    assert summary.due_at == timer.due_at
    target = deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))

    migrate_instance(instance_id=visit.pk, to_version=target, user=org.coordinator)

    moved = open_task(visit, "Task_write_summary")
    assert moved.pk == summary.pk
    assert (moved.assignee, moved.claimed_by, moved.claimed_at, moved.due_at) == (
        org.manager,
        summary.claimed_by,
        summary.claimed_at,
        summary.due_at,
    )
    assert TaskDraft.objects.get(task=moved, user=org.manager).data == {"next_goals": "两周内回访"}
    assert Timer.objects.get(instance=visit, bpmn_id="Event_summary_overdue").due_at == timer.due_at
    complete(visit, "Task_write_summary", org.manager, PLAIN_SUMMARY)
    assert not TaskDraft.objects.filter(task=moved).exists()


def test_the_move_is_recorded_in_the_audit_trail(org, enrolment):
    visit = current_visit(enrolment)
    target = deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))

    migrate_instance(instance_id=visit.pk, to_version=target, user=org.coordinator, reason="新增回访致谢")

    event = AuditEvent.objects.get(instance=visit, kind=AuditEvent.Kind.MIGRATED)
    assert (event.actor, event.version) == (org.coordinator, target)
    assert event.details == {"from_version": 1, "to_version": 2, "reason": "新增回访致谢"}


def test_an_instance_changed_since_the_dry_run_is_refused(org, enrolment):
    visit = current_visit(enrolment)
    target = deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))
    [check] = plan_migration(from_version=visit.version, to_version=target, user=org.coordinator).checks
    complete(visit, "Task_plan_visit", org.manager, plan())
    before = _row(visit)

    with pytest.raises(ConcurrentUpdate, match="changed since the dry run"):
        migrate_instance(
            instance_id=visit.pk, to_version=target, user=org.coordinator, revision=check.revision
        )

    assert _row(visit) == before


def test_several_instances_move_each_on_its_own(org, enrolment):
    failed = current_visit(enrolment)
    ProcessInstance.objects.filter(pk=failed.pk).update(status=Status.ERROR)
    waiting = current_visit(enrol(org, enrolment.programme, customer_of(org)))
    target = deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))

    outcomes = migrate_instances(
        instance_ids=[failed.pk, waiting.pk], to_version=target, user=org.coordinator
    )

    assert [(o.instance_id, o.migrated) for o in outcomes] == [(failed.pk, False), (waiting.pk, True)]
    assert outcomes[0].message == "The instance is in error: retry or terminate it first."
    assert (refreshed(failed).version_id, refreshed(waiting).version) == (failed.version_id, target)


def test_an_instance_in_error_is_listed_as_not_movable(org, enrolment):
    visit = current_visit(enrolment)
    ProcessInstance.objects.filter(pk=visit.pk).update(status=Status.ERROR)
    target = deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))

    [check] = plan_migration(from_version=visit.version, to_version=target, user=org.coordinator).checks

    assert check.reasons == ["It is in error: retry or terminate it first."]
    with pytest.raises(MigrationRefused):
        migrate_instance(instance_id=visit.pk, to_version=target, user=org.coordinator)


def test_a_suspended_instance_moves_and_stays_suspended(org, enrolment):
    from workflows.services import suspend_instance

    visit = current_visit(enrolment)
    suspend_instance(instance_id=visit.pk, user=org.coordinator)
    target = deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))

    migrate_instance(instance_id=visit.pk, to_version=target, user=org.coordinator)

    assert (refreshed(visit).status, refreshed(visit).version) == (Status.SUSPENDED, target)


def test_programmes_pinned_to_the_old_version_are_repinned(org, enrolment):
    programme = enrolment.programme
    source = programme.process_version
    target = deploy_text("onsite_programme.bpmn", with_final_report(programme_text()))

    assert repin(from_version=source, to_version=target, user=org.coordinator) == 1

    assert refreshed(programme).process_version == target
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.REPINNED)
    assert (event.version, event.actor) == (target, org.coordinator)
    assert event.details["records"] == {"onsite.programme": [programme.pk]}
    newcomer = enrol(org, Programme.objects.get(pk=programme.pk), customer_of(org))
    assert newcomer.instance.version == target


def test_only_coordinators_move_instances_and_leadership_may_see_the_dry_run(org, enrolment):
    visit = current_visit(enrolment)
    target = deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))

    assert plan_migration(from_version=visit.version, to_version=target, user=org.director).checks
    for user in (org.director, org.manager):
        with pytest.raises(NotAllowed):
            migrate_instance(instance_id=visit.pk, to_version=target, user=user)
        with pytest.raises(NotAllowed):
            repin(from_version=visit.version, to_version=target, user=user)
    with pytest.raises(NotAllowed):
        plan_migration(from_version=visit.version, to_version=target, user=org.manager)


def test_instances_move_only_between_versions_of_one_model(org, enrolment):
    visit = current_visit(enrolment)
    programme_version = refreshed(enrolment).instance.version

    with pytest.raises(MigrationRefused, match="same process model"):
        plan_migration(from_version=visit.version, to_version=programme_version, user=org.coordinator)
    with pytest.raises(MigrationRefused, match="already runs on version 1"):
        migrate_instance(instance_id=visit.pk, to_version=visit.version, user=org.coordinator)


def _command(*args) -> str:
    out = StringIO()
    call_command("migrate_instances", *args, "--language", "en", stdout=out)
    return out.getvalue()


def test_the_command_prints_the_dry_run_and_changes_nothing(org, enrolment):
    visit = current_visit(enrolment)
    deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))
    before = _row(visit)

    output = _command("visit_cycle", "--from", "1", "--dry-run")

    assert f"#{visit.pk} {visit.business_key} (running), waiting at 制定走访计划: can move" in output
    assert "Dry run: 1 of 1 instance can move; nothing was changed." in output
    assert _row(visit) == before


def test_the_command_moves_every_movable_instance_and_repins(org, enrolment):
    visit = current_visit(enrolment)
    deploy_text("visit_cycle.bpmn", with_thank_you_call(visit_cycle_text()))

    output = _command("visit_cycle", "--reason", "新增回访致谢", "--repin")  # from v1, the one with visits

    assert output.startswith("visit_cycle v1 → v2\n")
    assert f"#{visit.pk}: moved" in output
    assert "1 instance moved to v2." in output
    assert "0 pinned records moved to v2." in output
    assert refreshed(visit).version.number == 2
    assert (
        AuditEvent.objects.get(instance=visit, kind=AuditEvent.Kind.MIGRATED).details["reason"]
        == "新增回访致谢"
    )


def test_the_command_fails_when_an_instance_it_names_cannot_move(org, enrolment):
    visit = current_visit(enrolment)
    deploy_text("visit_cycle.bpmn", without_plan_task(visit_cycle_text()))

    with pytest.raises(CommandError, match=r"Some of the instances named cannot move\."):
        _command("visit_cycle", "--from", "1", "--to", "2", "--instance", str(visit.pk))

    assert refreshed(visit).version.number == 1
