"""Seed 002's rules for the closed-loop summary, enforced when the account manager submits it: all
seven parts present (an empty one says so), one entry per person, contract dates that can be. A
refused summary keeps the task open with field errors and changes nothing."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from onsite.models import KeyPerson, ProductHolding, Visit, VisitSummary
from onsite.services.summaries import LIST_PARTS
from tests.onsite.flow import (
    APPROVE,
    REWORK,
    complete,
    customer_of,
    enrol,
    new_programme,
    open_task,
    summary,
    visit_made,
)
from workflows.models import HumanTask, ProcessInstance
from workflows.refusals import Refusal
from workflows.services import fire_due_timers

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(org):
    """A visit made, its summary to write."""
    return visit_made(enrol(org, new_programme(org), customer_of(org)))


def refused(instance: ProcessInstance, user, data: dict) -> dict[str, list[str]]:
    """Submit the summary, expecting a refusal; returns its field errors."""
    with pytest.raises(Refusal) as caught:
        complete(instance, "Task_write_summary", user, data)
    return caught.value.field_errors


def assert_nothing_kept(instance: ProcessInstance) -> None:
    assert open_task(instance, "Task_write_summary")  # still waiting for the manager
    assert refreshed_status(instance) == ProcessInstance.Status.RUNNING
    assert not VisitSummary.objects.exists()
    assert Visit.objects.get(instance=instance).status == Visit.Status.VISITED


def refreshed_status(instance: ProcessInstance) -> str:
    instance.refresh_from_db()
    return instance.status


# --- all seven parts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "part", ["product_expiries", "decision_chain", "key_persons", "leads", "resource_needs"]
)
def test_a_part_omitted_from_the_summary_is_refused_by_the_form(visit, org, part):
    data = summary()
    del data[part]

    errors = refused(visit, org.manager, data)

    assert part in errors
    assert_nothing_kept(visit)


@pytest.mark.parametrize(
    "part", ["product_expiries", "decision_chain", "key_persons", "leads", "resource_needs"]
)
def test_an_empty_part_without_saying_there_is_nothing_to_report_is_refused(visit, org, part):
    data = summary()
    data[part] = []
    data["none_reasons"] = {}

    errors = refused(visit, org.manager, data)

    assert list(errors) == [part]
    assert "无" in errors[part][0]
    assert_nothing_kept(visit)


def test_an_empty_part_that_says_why_is_accepted_and_its_note_kept(visit, org):
    data = summary(leads=[], resource_needs=[])
    data["none_reasons"] = {"leads": "无：客户本季度无新需求", "resource_needs": " 无：暂不需要支撑 "}

    complete(visit, "Task_write_summary", org.manager, data)

    assert VisitSummary.objects.get().none_reasons == {
        "leads": "无：客户本季度无新需求",
        "resource_needs": "无：暂不需要支撑",
    }


def test_a_summary_reworked_is_taken_as_submitted_again_not_merged_with_the_first(visit, org):
    first = summary(leads=[])  # "nothing to report" for the leads the first time
    complete(visit, "Task_write_summary", org.manager, first)
    complete(visit, "Task_review_summary", org.leader, REWORK)

    # The rework fills the leads and drops the note; the first pass's note must not come back.
    complete(visit, "Task_write_summary", org.manager, summary())
    complete(visit, "Task_review_summary", org.leader, APPROVE)

    approved = VisitSummary.objects.get()
    assert approved.none_reasons == {}
    assert approved.leads.count() == 2


def test_a_note_saying_nothing_to_report_for_a_part_with_entries_is_refused(visit, org):
    data = summary()
    data["none_reasons"] = {"leads": "无"}

    assert refused(visit, org.manager, data) == {
        "none_reasons.leads": ["This part has entries; remove the note that there is nothing to report."]
    }


@pytest.mark.parametrize("part", ["informatization_status", "next_goals"])
def test_a_text_part_of_blanks_is_refused(visit, org, part):
    data = summary()
    data[part] = "    "

    assert part in refused(visit, org.manager, data)
    assert_nothing_kept(visit)


# --- key persons and the decision chain -------------------------------------------------------


def test_a_key_person_listed_twice_is_refused_naming_the_duplicate(visit, org):
    data = summary()
    # The same person, typed once with a full-width space and letters: still the same person.
    data["key_persons"].append({"name": " 王主任 ", "title": "主任"})

    errors = refused(visit, org.manager, data)

    assert errors == {"key_persons.2.name": ["王主任 is already entry 1; merge the two into one."]}
    assert_nothing_kept(visit)


def test_a_person_listed_twice_in_the_decision_chain_is_refused(visit, org):
    data = summary()
    data["decision_chain"].append({"position": "副主任", "name": "张科长", "role": "user"})

    assert refused(visit, org.manager, data) == {
        "decision_chain.2.name": ["张科长 is already entry 2; merge the two into one."]
    }


def test_a_decision_chain_position_without_a_name_creates_no_key_person(visit, org):
    data = summary()
    data["decision_chain"].append({"position": "分管副局长", "role": "decision_maker"})

    complete(visit, "Task_write_summary", org.manager, data)
    complete(visit, "Task_review_summary", org.leader, APPROVE)

    customer = Visit.objects.get(instance=visit).customer
    assert sorted(KeyPerson.objects.filter(customer=customer).values_list("name", flat=True)) == [
        "张科长",
        "王主任",
    ]
    assert VisitSummary.objects.get().decision_chain.filter(name="").get().position == "分管副局长"


# --- product dates ------------------------------------------------------------------------------


def product(**values) -> dict:
    return {"product": "视频会议", "provider": "竞争对手A", "ownership": "competitor"} | values


def test_a_product_expiring_before_it_starts_is_refused_at_the_summary(visit, org):
    data = summary(products=[product(start_date="2027-01-01", expiry_date="2026-03-31")])

    assert refused(visit, org.manager, data) == {
        "product_expiries.0.expiry_date": [
            "The contract cannot expire (2026-03-31) before it starts (2027-01-01)."
        ]
    }
    assert_nothing_kept(visit)


def test_a_product_expiring_before_the_start_the_customer_record_holds_is_refused(visit, org):
    customer = Visit.objects.get(instance=visit).customer
    ProductHolding.objects.create(
        customer=customer,
        product="视频会议",
        provider="竞争对手A",
        ownership="competitor",
        start_date=date(2026, 6, 1),
        expiry_date=date(2027, 6, 1),
    )
    data = summary(products=[product(expiry_date="2026-05-31")])

    assert list(refused(visit, org.manager, data)) == ["product_expiries.0.expiry_date"]
    # Before, the summary was accepted and the team leader's approval put the visit in error.
    assert_nothing_kept(visit)


@pytest.mark.parametrize(
    ("field", "value"),
    [("expiry_date", "9999-12-31"), ("expiry_date", "0001-01-01"), ("start_date", "1900-01-01")],
)
def test_an_impossible_contract_date_is_refused_at_the_summary(visit, org, field, value):
    item = product(expiry_date="2027-03-31") | {field: value}

    errors = refused(visit, org.manager, summary(products=[item]))

    assert list(errors) == [f"product_expiries.0.{field}"]
    assert "is not a possible contract date" in errors[f"product_expiries.0.{field}"][0]


def test_a_date_that_does_not_exist_is_refused_by_the_form(visit, org):
    errors = refused(visit, org.manager, summary(products=[product(expiry_date="2027-02-30")]))

    assert list(errors) == ["product_expiries.0.expiry_date"]


def test_a_product_listed_twice_is_refused(visit, org):
    data = summary(products=[product(expiry_date="2027-03-31"), product(expiry_date="2027-04-30")])

    assert list(refused(visit, org.manager, data)) == ["product_expiries.1.product"]


def test_a_summary_with_a_start_date_sets_the_products_start_on_approval(visit, org):
    data = summary(products=[product(start_date="2024-04-01", expiry_date="2027-03-31")])

    complete(visit, "Task_write_summary", org.manager, data)
    complete(visit, "Task_review_summary", org.leader, APPROVE)

    holding = ProductHolding.objects.get(product="视频会议")
    assert (holding.start_date, holding.expiry_date) == (date(2024, 4, 1), date(2027, 3, 31))
    assert refreshed_status(visit) == ProcessInstance.Status.COMPLETED


def test_every_error_of_a_summary_is_reported_at_once(visit, org):
    data = summary(leads=[], products=[product(start_date="2027-01-01", expiry_date="2026-03-31")])
    data["none_reasons"] = {}
    data["key_persons"].append({"name": "张科长"})

    assert set(refused(visit, org.manager, data)) == {
        "leads",
        "key_persons.2.name",
        "product_expiries.0.expiry_date",
    }
    assert not HumanTask.objects.filter(bpmn_id="Task_review_summary").exists()


# --- the team leader's action on an overdue summary ---------------------------------------------


def overdue(instance: ProcessInstance):
    """Fire the summary's deadline: the team leader's escalation task opens."""
    fire_due_timers(now=timezone.now() + timedelta(hours=49))
    return open_task(instance, "Task_escalate_summary")


def test_reassign_hands_the_summary_task_to_the_account_manager_the_leader_picks(visit, org):
    overdue(visit)

    complete(
        visit, "Task_escalate_summary", org.leader, {"escalation_action": "reassign", "reassign_to": "wu"}
    )

    assert open_task(visit, "Task_write_summary").assignee == org.other_manager
    complete(visit, "Task_write_summary", org.other_manager, summary())  # the new holder can submit it
    assert VisitSummary.objects.get().submitted_by == org.other_manager


@pytest.mark.parametrize("reassign_to", ["", "nobody", "li"])  # missing, unknown, not an account manager
def test_reassign_without_an_account_manager_to_hand_to_is_refused_and_the_task_stays_open(
    visit, org, reassign_to
):
    overdue(visit)

    with pytest.raises(Refusal) as caught:
        complete(
            visit,
            "Task_escalate_summary",
            org.leader,
            {"escalation_action": "reassign", "reassign_to": reassign_to},
        )

    assert list(caught.value.field_errors) == ["reassign_to"]
    assert open_task(visit, "Task_escalate_summary")
    assert open_task(visit, "Task_write_summary").assignee == org.manager


def test_extend_sets_the_summarys_new_deadline(visit, org):
    overdue(visit)
    new_due = (timezone.now() + timedelta(days=2)).replace(microsecond=0)

    complete(
        visit,
        "Task_escalate_summary",
        org.leader,
        {"escalation_action": "extend", "new_due_at": new_due.isoformat()},
    )

    assert Visit.objects.get(instance=visit).summary_due_at == new_due
    complete(visit, "Task_write_summary", org.manager, summary())
    assert VisitSummary.objects.get().on_time  # submitted by the extended deadline


@pytest.mark.parametrize("new_due_at", [None, "past"])
def test_extend_without_a_later_deadline_is_refused(visit, org, new_due_at):
    overdue(visit)
    data = {"escalation_action": "extend"}
    if new_due_at:
        data["new_due_at"] = (timezone.now() - timedelta(hours=1)).isoformat()

    with pytest.raises(Refusal) as caught:
        complete(visit, "Task_escalate_summary", org.leader, data)

    assert list(caught.value.field_errors) == ["new_due_at"]
    assert open_task(visit, "Task_escalate_summary")


# --- what approving a summary costs -------------------------------------------------------------


def rows_of_each_kind(n: int, *, existing: bool = False) -> dict:
    """A summary with `n` key persons, decision-chain entries, products, leads and resource needs.
    The products are ours or far from expiry (no win-back); each lead starts its follow-up process
    and each resource need its support process."""
    data = summary(
        products=[
            product(product=f"专线{i}", provider="我方", ownership="ours", expiry_date="2029-06-30")
            for i in range(n)
        ],
        leads=[
            {"description": f"需求{i}", "urgency": "medium", "estimated_value": 1000 * i} for i in range(n)
        ],
        resource_needs=[
            {"speciality": "network", "description": f"勘察{i}", "due_date": "2026-12-15"} for i in range(n)
        ],
    ) | {
        "key_persons": [
            {"name": f"联系人{i}", "title": "科员", "contact": f"1390000{i:04d}"} for i in range(n)
        ],
        "decision_chain": [{"position": "科员", "name": f"联系人{i}", "role": "user"} for i in range(n)],
    }
    data["none_reasons"] = {part: "无：本次走访未涉及" for part in LIST_PARTS if not data[part]}
    return data


def approval_statements(visit: ProcessInstance, org, data: dict) -> int:
    """The statements the team leader's approval runs in the domain: the service itself and its
    visit read as the operation locks it. It starts no process: those start once it committed
    (`start_summary_follow_ups`)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from onsite.services import summaries

    complete(visit, "Task_write_summary", org.manager, data)
    started = ProcessInstance.objects.count()
    with CaptureQueriesContext(connection) as captured:
        row = Visit.objects.select_for_update(of=("self",)).select_related("customer", "account_manager")
        summaries.review_summary(
            visit=row.get(instance=visit), decision="approve", comment="", actor=org.leader, at=timezone.now()
        )
    assert ProcessInstance.objects.count() == started
    return len(captured.captured_queries)


# Approving a summary, its processes aside, on SQLite and PostgreSQL (docs/PERFORMANCE.md): 26 for a
# summary with no rows, 45 for one with rows of every kind, however many rows.
MOST_STATEMENTS = 48


@pytest.mark.parametrize("existing", [False, True], ids=["new records", "records the customer has"])
def test_approving_a_summary_runs_as_many_statements_for_ten_rows_of_each_kind_as_for_one(org, existing):
    counts = {}
    for n in (0, 1, 10):
        enrolment = enrol(org, new_programme(org), customer_of(org))
        instance = visit_made(enrolment)
        if existing:
            customer = enrolment.customer
            for i in range(n):
                KeyPerson.objects.create(customer=customer, name=f"联系人{i}", title="前任")
                ProductHolding.objects.create(
                    customer=customer, product=f"专线{i}", provider="我方", ownership="competitor"
                )
        counts[n] = approval_statements(instance, org, rows_of_each_kind(n))

    # Before, 100 statements for one row of each kind and 586 for ten (46 with no rows).
    assert counts[1] == counts[10] <= MOST_STATEMENTS
    assert counts[0] < counts[1]
    # Everything was applied, once per row.
    customer = enrolment.customer
    assert customer.leads.count() == customer.support_requests.count() == 10
    assert KeyPerson.objects.filter(customer=customer, decision_role="user").count() == 10
    assert ProductHolding.objects.filter(customer=customer, ownership="ours").count() == 10
