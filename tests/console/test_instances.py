"""The instance monitor: the search and its filters (the domain's facets included), an instance's
page (its diagram's markers, tasks, variables, audit trail and linked instances), the coordinator's
actions with their reasons in the audit trail, the refusals, and the incidents."""

from datetime import timedelta

import pytest
from django.utils import timezone

from console.pagination import CappedPaginator
from console.selectors.instances import search_instances
from onsite.models import Region
from onsite.services.leads import create_lead
from tests.factories import UserFactory
from tests.onsite.factories import CustomerFactory, StaffProfileFactory
from tests.onsite.flow import (
    build_org,
    complete,
    current_visit,
    customer_of,
    deploy_processes,
    enrol,
    new_programme,
    open_task,
    plan,
    visit_opened,
)
from tests.pages.clients import signed_in
from tests.workflows.diagrams import linear, script_task, user_task
from tests.workflows.diagrams import source as text
from workflows.actors import SYSTEM
from workflows.models import AuditEvent, HumanTask, ProcessInstance, Timer
from workflows.services import deploy, start_instance, terminate_instance

pytestmark = pytest.mark.django_db

Status = ProcessInstance.Status
Kind = AuditEvent.Kind


@pytest.fixture
def org():
    deploy_processes()
    return build_org()


def probe(*steps: str) -> None:
    """Deploy the small `probe` process made of `steps` (a new version each time they change)."""
    deploy(user=SYSTEM, files=[text("probe.bpmn", linear(*steps, process_id="probe"))])


def failing() -> ProcessInstance:
    """A probe whose person's task is done and whose next step fails: an instance in error."""
    probe(user_task("first", name="第一步"), script_task("boom", "x = 1 / 0"))
    instance = start_instance(user=SYSTEM, process_id="probe", business_key="P-1", data={"amount": 3})
    complete(instance, "first", SYSTEM, {})
    instance.refresh_from_db()
    assert instance.status == Status.ERROR
    return instance


def visit_of(enrolment) -> ProcessInstance:
    """The enrolment's first visit, open (its timer fired if it has not opened yet)."""
    if Timer.objects.filter(instance=enrolment.instance, bpmn_id="Event_visit_opens").exists():
        return visit_opened(enrolment)
    return current_visit(enrolment)


def lead_of(org, customer, description="视频会议替换") -> ProcessInstance:
    lead = create_lead(
        customer=customer, description=description, urgency="high", user=customer.account_manager
    )
    return lead.follow_up


def found(client, query: str = "") -> list[int]:
    response = client.get(f"/console/instances/{query}")
    assert response.status_code == 200
    return [instance.pk for instance in response.context["page"].object_list]


# --- the search -------------------------------------------------------------------------------


class TestSearch:
    def test_lists_every_instance_newest_first(self, org):
        first = lead_of(org, customer_of(org, code="HF-001"))
        second = lead_of(org, customer_of(org, code="HF-002"))

        assert found(signed_in(org.coordinator)) == [second.pk, first.pk]

    def test_filters_by_process(self, org):
        customer = customer_of(org, code="HF-001")
        lead = lead_of(org, customer)
        programme = enrol(org, new_programme(org), customer_of(org, code="HF-002")).instance
        client = signed_in(org.coordinator)

        assert found(client, "?process=lead_follow_up") == [lead.pk]
        assert found(client, "?process=onsite_programme") == [programme.pk]

    def test_filters_by_version_number(self, org):
        probe(user_task("first"))
        old = start_instance(user=SYSTEM, process_id="probe")
        probe(user_task("first"), user_task("second"))
        new = start_instance(user=SYSTEM, process_id="probe")
        client = signed_in(org.coordinator)

        assert found(client, "?process=probe&version=2") == [new.pk]
        assert found(client, "?process=probe&version=1") == [old.pk]

    def test_filters_by_status(self, org):
        running = lead_of(org, customer_of(org, code="HF-001"))
        ended = lead_of(org, customer_of(org, code="HF-002"))
        terminate_instance(instance_id=ended.pk, user=org.coordinator, reason="重复线索")
        client = signed_in(org.coordinator)

        assert found(client, "?status=running") == [running.pk]
        assert found(client, "?status=terminated") == [ended.pk]
        assert found(client, "?status=error") == []

    def test_filters_by_exact_business_key_or_by_its_beginning_with_a_star(self, org):
        hf1 = lead_of(org, customer_of(org, code="HF-001"))
        hf12 = lead_of(org, customer_of(org, code="HF-012"))
        fd = lead_of(org, customer_of(org, code="FD-001"))
        client = signed_in(org.coordinator)

        assert found(client, "?business_key=HF-001") == [hf1.pk]
        assert found(client, "?business_key=HF-0*") == [hf12.pk, hf1.pk]
        assert found(client, "?business_key=hf-0*") == []  # keys are matched as written
        assert found(client, "?business_key=FD*") == [fd.pk]

    def test_filters_by_the_customers_region_a_facet_the_domain_registers(self, org):
        in_branch = lead_of(org, customer_of(org, code="HF-001"))
        county_customer = CustomerFactory(code="FD-001", region=org.county, account_manager=org.manager)
        in_county = lead_of(org, county_customer)
        client = signed_in(org.coordinator)

        assert found(client, f"?region={org.county.pk}") == [in_county.pk]
        # A branch holds its counties.
        assert found(client, f"?region={org.branch.pk}") == [in_county.pk, in_branch.pk]
        other = Region.objects.create(code="AQ", name="安庆分公司")
        assert found(client, f"?region={other.pk}") == []

    def test_filters_by_the_account_managers_team(self, org):
        ours = lead_of(org, customer_of(org, code="HF-001"))
        outsider = UserFactory(username="feng", roles=["account_manager"])
        StaffProfileFactory(user=outsider, region=org.branch)
        lead_of(org, customer_of(org, manager=outsider, code="HF-002"))

        assert found(signed_in(org.coordinator), f"?team={org.team.pk}") == [ours.pk]

    def test_the_facets_are_offered_with_the_domains_choices(self, org):
        response = signed_in(org.coordinator).get("/console/instances/")

        form = response.context["form"]
        assert (str(org.county.pk), org.county.name) in form.fields["region"].choices
        assert (str(org.team.pk), org.team.name) in form.fields["team"].choices
        assert "肥东县" in response.content.decode()

    def test_filters_by_the_days_they_started_both_included(self, org):
        early = lead_of(org, customer_of(org, code="HF-001"))
        late = lead_of(org, customer_of(org, code="HF-002"))
        noon = timezone.make_aware(timezone.datetime(2026, 11, 2, 12))
        ProcessInstance.objects.filter(pk=early.pk).update(started_at=noon)
        ProcessInstance.objects.filter(pk=late.pk).update(started_at=noon + timedelta(days=3))
        client = signed_in(org.coordinator)

        assert found(client, "?started_from=2026-11-02&started_to=2026-11-02") == [early.pk]
        assert found(client, "?started_from=2026-11-03") == [late.pk]
        assert found(client, "?started_to=2026-11-05") == [late.pk, early.pk]

    def test_a_filter_that_does_not_parse_is_reported_and_filters_nothing(self, org):
        lead = lead_of(org, customer_of(org, code="HF-001"))
        response = signed_in(org.coordinator).get("/console/instances/?version=two&status=running")

        assert [i.pk for i in response.context["page"].object_list] == [lead.pk]
        assert "version" in response.context["form"].errors
        assert "is-invalid" in response.content.decode()

    def test_pages_of_25_keep_the_filters(self, org):
        probe(user_task("first"))
        started = [start_instance(user=SYSTEM, process_id="probe").pk for _ in range(30)]
        client = signed_in(org.coordinator)

        first = client.get("/console/instances/?process=probe")
        second = client.get("/console/instances/?process=probe&page=2")

        assert [i.pk for i in first.context["page"]] == started[::-1][:25]
        assert [i.pk for i in second.context["page"]] == started[::-1][25:]
        assert "?process=probe&amp;page=2" in first.content.decode()

    def test_a_page_costs_the_same_few_queries_however_many_rows_it_shows(
        self, org, django_assert_max_num_queries
    ):
        probe(user_task("first"))
        for n in range(30):
            start_instance(user=SYSTEM, process_id="probe", business_key=f"HF-{n:03d}")
        client = signed_in(org.coordinator)
        client.get("/console/instances/")  # the session and the user, once

        with django_assert_max_num_queries(12):
            response = client.get(
                f"/console/instances/?process=probe&business_key=HF*&region={org.branch.pk}"
            )
        assert response.status_code == 200
        with django_assert_max_num_queries(12):
            response = client.get("/console/instances/?status=running&page=2")
        assert len(response.context["page"]) == 5

    def test_the_count_stops_at_its_cap_and_says_there_are_more(self, org):
        probe(user_task("first"))
        for _ in range(12):
            start_instance(user=SYSTEM, process_id="probe")

        paginator = CappedPaginator(search_instances(process_id="probe"), 5, cap=10)

        assert (paginator.count, paginator.num_pages, paginator.more) == (10, 2, True)
        assert CappedPaginator(search_instances(process_id="probe"), 5, cap=12).more is False

    def test_leadership_searches_too_and_account_managers_find_no_console(self, org):
        lead = lead_of(org, customer_of(org, code="HF-001"))

        assert found(signed_in(org.director)) == [lead.pk]
        assert signed_in(org.manager).get("/console/instances/").status_code == 404


# --- the instance page ---------------------------------------------------------------------------


def page_of(client, instance):
    response = client.get(f"/console/instances/{instance.pk}/")
    assert response.status_code == 200
    return response


class TestInstancePage:
    def test_marks_done_active_and_failed_elements_of_the_diagram(self, org):
        instance = failing()
        waiting = start_instance(user=SYSTEM, process_id="probe")

        failed_page = page_of(signed_in(org.coordinator), instance).context["page"]
        waiting_page = page_of(signed_in(org.coordinator), waiting).context["page"]

        assert failed_page.markers["first"] == ["done"]
        assert failed_page.markers["boom"] == ["failed"]
        assert waiting_page.markers == {"start": ["done"], "first": ["active"]}
        assert (
            'id="instance-diagram-markers"' in page_of(signed_in(org.coordinator), waiting).content.decode()
        )

    def test_a_waiting_visit_marks_the_task_it_waits_for_and_what_led_there(self, org):
        enrolment = enrol(org, new_programme(org), customer_of(org, code="HF-001"))
        visit = visit_of(enrolment)
        complete(visit, "Task_plan_visit", org.manager, plan())

        markers = page_of(signed_in(org.coordinator), visit).context["page"].markers

        assert markers["Task_plan_visit"] == ["done"]
        assert markers["Task_prepare_resources"] == ["active"]
        assert "Task_write_summary" not in markers

    def test_a_tasks_role_is_named_in_words_the_domain_gives_in_the_readers_language(self, org):
        visit = visit_of(enrol(org, new_programme(org), customer_of(org, code="HF-001")))
        client = signed_in(org.coordinator)

        chinese = page_of(client, visit).content.decode()
        client.post("/i18n/setlang/", {"language": "en", "next": "/"})
        english = page_of(client, visit).content.decode()

        assert "Account manager" in english and "account_manager</div>" not in english
        assert "客户经理" in chinese

    def test_a_programme_whose_visit_was_terminated_is_marked_failed_at_its_call(self, org):
        enrolment = enrol(org, new_programme(org), customer_of(org, code="HF-001"))
        visit = visit_of(enrolment)
        terminate_instance(instance_id=visit.pk, user=org.coordinator, reason="误操作")

        page = page_of(signed_in(org.coordinator), enrolment.instance).context["page"]

        assert page.instance.status == Status.ERROR
        assert page.markers["CallActivity_visit"] == ["failed"]
        assert page.error_element == "驻点走访"

    def test_shows_the_error_first_with_its_element(self, org):
        instance = failing()

        response = page_of(signed_in(org.coordinator), instance)
        html = response.content.decode()

        assert response.context["page"].error["bpmn_id"] == "boom"
        assert "ZeroDivisionError" in response.context["page"].error["message"]
        assert html.index('id="error-title"') < html.index('id="diagram-title"')
        assert f"/console/instances/{instance.pk}/retry/" in html

    def test_lists_its_tasks_with_who_when_and_the_data_submitted(self, org):
        customer = customer_of(org, code="HF-001")
        enrolment = enrol(org, new_programme(org), customer)
        visit = visit_of(enrolment)
        complete(visit, "Task_plan_visit", org.manager, plan())

        response = page_of(signed_in(org.coordinator), visit)
        tasks = {t.bpmn_id: t for t in response.context["page"].tasks}
        html = response.content.decode()

        done = tasks["Task_plan_visit"]
        assert (done.status, done.completed_by) == (HumanTask.Status.COMPLETED, org.manager)
        assert done.data["objectives"] == "了解信息化现状，介绍云视讯与政务云"
        assert "了解信息化现状，介绍云视讯与政务云" in html
        assert "planned_date" in html
        assert tasks["Task_prepare_resources"].status == HumanTask.Status.OPEN
        # The open task can be given to the role's other members.
        assert {u.username for u in tasks["Task_prepare_resources"].candidates} >= {"qian", "wu"}

    def test_shows_the_variables_read_only_big_values_cut_short(self, org):
        probe(user_task("first"))
        instance = start_instance(
            user=SYSTEM, process_id="probe", data={"customer_name": "滨湖新区", "notes": ["x" * 100] * 60}
        )

        response = page_of(signed_in(org.coordinator), instance)
        html = response.content.decode()

        assert response.context["page"].variables["customer_name"] == "滨湖新区"
        assert "滨湖新区" in html
        assert "more characters" in html or "个字符" in html
        assert "<textarea" not in html.split('id="variables-title"')[1].split("</section>")[0]

    def test_shows_the_audit_trail_newest_first_in_words(self, org):
        lead = lead_of(org, customer_of(org, code="HF-001"))
        task = open_task(lead, "Task_follow_up_lead")
        client = signed_in(org.coordinator)
        client.post(
            f"/console/instances/{lead.pk}/tasks/{task.pk}/reassign/",
            {"to_user": org.other_manager.pk, "reason": "钱经理休假"},
        )

        response = page_of(client, lead)
        events = response.context["page"].events
        html = response.content.decode()

        assert [e.kind for e in events][:1] == [Kind.REASSIGNED]
        assert events[-1].kind == Kind.STARTED
        assert "qian → wu" in html and "钱经理休假" in html

    def test_links_the_calling_instance_the_called_ones_and_those_of_the_same_customer(self, org):
        customer = customer_of(org, code="HF-001")
        enrolment = enrol(org, new_programme(org), customer)
        visit = visit_of(enrolment)
        lead = lead_of(org, customer)
        lead_of(org, customer_of(org, code="HF-002"))  # another customer's
        client = signed_in(org.coordinator)

        visit_page = page_of(client, visit).context["page"]
        programme_page = page_of(client, enrolment.instance).context["page"]

        assert visit_page.instance.parent == enrolment.instance
        assert [i.pk for i in visit_page.same_key.instances] == [lead.pk]
        assert [i.pk for i in programme_page.children.instances] == [visit.pk]
        assert [i.pk for i in programme_page.same_key.instances] == [lead.pk]
        html = page_of(client, visit).content.decode()
        assert f'href="/console/instances/{enrolment.instance_id}/"' in html
        assert f'href="/console/instances/{lead.pk}/"' in html

    def test_the_page_reads_a_bounded_number_of_queries(self, org, django_assert_max_num_queries):
        customer = customer_of(org, code="HF-001")
        enrolment = enrol(org, new_programme(org), customer)
        visit = visit_of(enrolment)
        for n in range(3):
            lead_of(org, customer, description=f"线索{n}")
        client = signed_in(org.coordinator)
        page_of(client, visit)

        with django_assert_max_num_queries(20):
            page_of(client, visit)

    def test_leadership_reads_the_page_without_any_action(self, org):
        instance = failing()

        html = page_of(signed_in(org.director), instance).content.decode()

        assert 'id="error-title"' in html
        assert "/retry/" not in html and "/terminate/" not in html and "/reassign/" not in html

    def test_an_unknown_instance_and_account_managers_get_404(self, org):
        instance = failing()

        assert signed_in(org.coordinator).get("/console/instances/999999/").status_code == 404
        assert signed_in(org.manager).get(f"/console/instances/{instance.pk}/").status_code == 404


# --- the actions ---------------------------------------------------------------------------------


def post(client, instance, action: str, reason: str = "原因", **data):
    """As the page's forms post: back to the instance page when refused (`next`)."""
    url = f"/console/instances/{instance.pk}/{action}/?next=/console/instances/{instance.pk}/"
    return client.post(url, {"reason": reason, **data})


def last_event(instance, kind) -> AuditEvent:
    return AuditEvent.objects.filter(instance=instance, kind=kind).latest("pk")


def messages_of(client, instance) -> list[str]:
    return [str(m) for m in page_of(client, instance).context["messages"]]


class TestActions:
    def test_retry_of_an_instance_in_error_is_audited_with_its_reason(self, org):
        instance = failing()
        client = signed_in(org.coordinator)

        response = post(client, instance, "retry", "已修复脚本")

        assert response.status_code == 302 and response.url == f"/console/instances/{instance.pk}/"
        event = last_event(instance, Kind.RETRIED)
        assert (event.actor, event.details["reason"], event.details["tasks"]) == (
            org.coordinator,
            "已修复脚本",
            ["boom"],
        )

    def test_suspend_then_resume_each_audited_with_its_reason(self, org):
        lead = lead_of(org, customer_of(org, code="HF-001"))
        client = signed_in(org.coordinator)

        post(client, lead, "suspend", "客户暂停合作")
        lead.refresh_from_db()
        assert lead.status == Status.SUSPENDED
        assert last_event(lead, Kind.SUSPENDED).details["reason"] == "客户暂停合作"

        post(client, lead, "resume", "恢复合作")
        lead.refresh_from_db()
        assert lead.status == Status.RUNNING
        assert last_event(lead, Kind.RESUMED).details["reason"] == "恢复合作"

    def test_terminate_is_audited_with_its_reason(self, org):
        lead = lead_of(org, customer_of(org, code="HF-001"))

        post(signed_in(org.coordinator), lead, "terminate", "重复线索")

        lead.refresh_from_db()
        assert lead.status == Status.TERMINATED
        event = last_event(lead, Kind.TERMINATED)
        assert (event.actor, event.details["reason"]) == (org.coordinator, "重复线索")

    def test_reassigning_an_open_task_is_audited_with_its_reason(self, org):
        lead = lead_of(org, customer_of(org, code="HF-001"))
        task = open_task(lead, "Task_follow_up_lead")

        response = signed_in(org.coordinator).post(
            f"/console/instances/{lead.pk}/tasks/{task.pk}/reassign/",
            {"to_user": org.other_manager.pk, "reason": "钱经理休假"},
        )

        assert response.status_code == 302
        task.refresh_from_db()
        assert task.assignee == org.other_manager
        assert last_event(lead, Kind.REASSIGNED).details == {
            "from": "qian",
            "to": "wu",
            "reason": "钱经理休假",
        }

    def test_an_action_without_a_reason_changes_nothing_and_says_why(self, org):
        lead = lead_of(org, customer_of(org, code="HF-001"))
        client = signed_in(org.coordinator)

        response = post(client, lead, "suspend", "   ")

        assert response.status_code == 302 and response.url == f"/console/instances/{lead.pk}/"
        lead.refresh_from_db()
        assert lead.status == Status.RUNNING
        assert any("reason" in m or "原因" in m for m in messages_of(client, lead))

    def test_retrying_a_running_instance_is_refused_with_a_message(self, org):
        lead = lead_of(org, customer_of(org, code="HF-001"))
        client = signed_in(org.coordinator)

        response = post(client, lead, "retry")

        assert response.status_code == 302
        assert not AuditEvent.objects.filter(instance=lead, kind=Kind.RETRIED).exists()
        assert messages_of(client, lead) == ["只有出错的流程实例可以重试。"]

    def test_terminating_a_finished_instance_is_refused_with_a_message(self, org):
        lead = lead_of(org, customer_of(org, code="HF-001"))
        terminate_instance(instance_id=lead.pk, user=org.coordinator, reason="重复线索")
        client = signed_in(org.coordinator)

        response = post(client, lead, "terminate")

        assert response.status_code == 302
        assert AuditEvent.objects.filter(instance=lead, kind=Kind.TERMINATED).count() == 1
        assert len(messages_of(client, lead)) == 1

    def test_leadership_may_not_act(self, org):
        instance = failing()
        lead = lead_of(org, customer_of(org, code="HF-001"))
        task = open_task(lead, "Task_follow_up_lead")
        client = signed_in(org.director)

        assert post(client, instance, "retry").status_code == 403
        assert post(client, lead, "suspend").status_code == 403
        assert post(client, lead, "terminate").status_code == 403
        reassign = client.post(
            f"/console/instances/{lead.pk}/tasks/{task.pk}/reassign/",
            {"to_user": org.other_manager.pk, "reason": "x"},
        )
        assert reassign.status_code == 403
        lead.refresh_from_db()
        assert lead.status == Status.RUNNING

    def test_account_managers_find_nothing_to_act_on(self, org):
        lead = lead_of(org, customer_of(org, code="HF-001"))

        assert post(signed_in(org.manager), lead, "suspend").status_code == 404
        lead.refresh_from_db()
        assert lead.status == Status.RUNNING

    def test_actions_are_posted_only(self, org):
        lead = lead_of(org, customer_of(org, code="HF-001"))

        assert signed_in(org.coordinator).get(f"/console/instances/{lead.pk}/suspend/").status_code == 405


# --- the incidents -------------------------------------------------------------------------------


class TestIncidents:
    def test_lists_the_instances_in_error_latest_failure_first(self, org):
        older, newer = failing(), failing()
        AuditEvent.objects.filter(instance=newer, kind=Kind.ERROR).update(
            at=timezone.now() - timedelta(days=2)
        )
        AuditEvent.objects.filter(instance=older, kind=Kind.ERROR).update(
            at=timezone.now() - timedelta(days=1)
        )
        lead_of(org, customer_of(org, code="HF-001"))  # running: not an incident

        response = signed_in(org.coordinator).get("/console/incidents/")

        assert [i.pk for i in response.context["page"]] == [older.pk, newer.pk]
        html = response.content.decode()
        assert "ZeroDivisionError" in html and "第一步" not in html.split("<tbody>")[1].split("</tbody>")[0]
        assert f'href="/console/instances/{older.pk}/"' in html

    def test_the_incidents_tab_counts_them(self, org):
        failing()

        html = signed_in(org.coordinator).get("/console/").content.decode()

        assert 'href="/console/incidents/"' in html
        assert 'text-bg-danger">1<' in html

    def test_no_incident_says_so(self, org):
        response = signed_in(org.director).get("/console/incidents/")

        assert response.status_code == 200 and list(response.context["page"]) == []
