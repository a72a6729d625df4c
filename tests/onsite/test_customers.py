"""Group customers, their key persons and the products they hold, changed through the services: every
change leaves a history row (who, when, field: [before, after], from which source and visit); a save
that changes nothing leaves none; refused input and refused users store nothing."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from onsite.exceptions import InvalidInput, NotPermitted
from onsite.models import Customer, CustomerChange, KeyPerson, ProductHolding, Team, Visit
from onsite.services.customers import (
    create_customer,
    remove_key_person,
    remove_product,
    save_key_person,
    save_product,
    update_customer,
)
from tests.factories import UserFactory
from tests.onsite.factories import KeyPersonFactory, ProductHoldingFactory, manager_in
from tests.onsite.flow import (
    at,
    build_org,
    close_visit,
    customer_of,
    deploy_processes,
    enrol,
    new_programme,
    refreshed,
    run_visit,
    summary,
)
from workflows.clock import frozen

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return build_org()


@pytest.fixture
def customer(org):
    return customer_of(org, name="江淮城市商业银行", informatization_status="办公网由我方提供")


def stored(customer) -> Customer:
    """The customer as the database has it (not the object a refused call may have touched)."""
    return Customer.objects.get(pk=customer.pk)


def history(customer) -> list[CustomerChange]:
    return list(CustomerChange.objects.filter(customer=customer).order_by("id"))


def new_customer_values(org, manager=None) -> dict:
    return {
        "code": " GC-9001 ",
        "name": "滨湖新区政务服务中心",
        "industry": "party_government_military",
        "tier": "A",
        "monthly_value": "25000.50",
        "potential": 4,
        "region": org.branch,
        "account_manager": manager or org.manager,
        "informatization_status": "办公网由我方提供",
    }


class TestHistory:
    def test_creating_a_customer_stores_it_and_records_every_value_set_with_author_and_time(self, org):
        before = timezone.now()
        customer = create_customer(values=new_customer_values(org), user=org.coordinator)

        customer = stored(customer)
        assert (
            customer.code,
            customer.industry,
            customer.tier,
            customer.monthly_value,
            customer.potential,
        ) == (
            "GC-9001",
            "party_government_military",
            "A",
            Decimal("25000.50"),
            4,
        )
        (change,) = history(customer)
        assert (change.entity, change.entity_id, change.label, change.action) == (
            "customer",
            customer.pk,
            "滨湖新区政务服务中心",
            "created",
        )
        assert (change.source, change.actor, change.visit) == ("manual", org.coordinator, None)
        assert before <= change.at <= timezone.now()
        # A new customer has no "before" values.
        assert change.changes == {
            "code": [None, "GC-9001"],
            "name": [None, "滨湖新区政务服务中心"],
            "industry": [None, "party_government_military"],
            "tier": [None, "A"],
            "monthly_value": [None, "25000.50"],
            "potential": [None, 4],
            "region": [None, "合肥分公司"],
            "account_manager": [None, "qian"],
            "informatization_status": [None, "办公网由我方提供"],
        }

    def test_updating_a_customer_records_only_the_fields_that_changed_with_before_and_after(
        self, org, customer
    ):
        customer = stored(customer)
        changes = update_customer(
            customer=customer,
            values={
                "name": " 江淮城市商业银行 ",  # the same, once trimmed
                "tier": "B",  # the same (a new tier is change_tier's, with its reason)
                "monthly_value": "20000",
                "potential": 3,  # the same
                "informatization_status": "办公网、视频会议均由我方提供",
            },
            user=org.manager,
        )

        assert changes == {
            "monthly_value": ["10000.00", "20000.00"],
            "informatization_status": ["办公网由我方提供", "办公网、视频会议均由我方提供"],
        }
        (change,) = history(customer)
        assert (change.entity, change.action, change.source, change.actor) == (
            "customer",
            "updated",
            "manual",
            org.manager,
        )
        assert change.changes == changes
        assert (stored(customer).tier, stored(customer).monthly_value) == ("B", Decimal("20000"))

    def test_saving_the_same_values_again_records_no_history(self, org, customer):
        person = save_key_person(
            customer=customer,
            name="王主任",
            values={"title": "主任", "relationship": "normal"},
            user=org.manager,
        )
        save_product(
            customer=customer,
            product="视频会议",
            provider="竞争对手A",
            values={"ownership": "competitor", "expiry_date": date(2027, 3, 31)},
            user=org.manager,
        )
        recorded = len(history(customer))

        customer = stored(customer)
        assert (
            update_customer(
                customer=customer,
                values={"name": "江淮城市商业银行 ", "monthly_value": "10000", "tier": "B", "potential": "3"},
                user=org.manager,
            )
            == {}
        )
        again = save_key_person(
            customer=customer,
            name=" 王主任",
            values={"title": "主任", "relationship": "normal"},
            user=org.manager,
        )
        save_product(
            customer=customer,
            product="视频会议 ",
            provider="竞争对手A",
            values={"ownership": "competitor", "expiry_date": "2027-03-31"},
            user=org.manager,
        )

        assert again.pk == person.pk
        assert len(history(customer)) == recorded == 2
        assert KeyPerson.objects.filter(customer=customer).count() == 1
        assert ProductHolding.objects.filter(customer=customer).count() == 1

    def test_a_new_key_person_is_recorded_and_blank_values_later_leave_fields_as_they_are(
        self, org, customer
    ):
        person = save_key_person(
            customer=customer,
            name=" 王主任 ",
            values={"title": "主任", "contact": "0551-12345678", "department": ""},
            user=org.manager,
        )
        save_key_person(
            customer=customer,
            name="王主任",
            values={
                "title": "",
                "contact": None,
                "relationship": "strong",
                "decision_role": "decision_maker",
            },
            user=org.leader,
        )

        person = KeyPerson.objects.get(pk=person.pk)
        assert (person.name, person.title, person.contact, person.relationship, person.decision_role) == (
            "王主任",
            "主任",
            "0551-12345678",
            "strong",
            "decision_maker",
        )
        created, updated = history(customer)
        assert (created.entity, created.entity_id, created.label, created.action, created.actor) == (
            "key_person",
            person.pk,
            "王主任",
            "created",
            org.manager,
        )
        assert created.changes == {
            "name": [None, "王主任"],
            "title": ["", "主任"],
            "contact": ["", "0551-12345678"],
        }
        assert (updated.action, updated.actor, updated.changes) == (
            "updated",
            org.leader,
            {"relationship": ["", "strong"], "decision_role": ["", "decision_maker"]},
        )

    def test_a_renewal_moves_the_products_expiry_and_records_the_old_and_new_date(self, org, customer):
        holding = save_product(
            customer=customer,
            product="视频会议",
            provider="竞争对手A",
            values={"ownership": "competitor", "start_date": "2024-04-01", "expiry_date": "2027-03-31"},
            user=org.manager,
        )
        renewed = save_product(
            customer=customer,
            product="视频会议",
            provider="竞争对手A",
            values={"expiry_date": "2029-03-31"},
            user=org.manager,
        )

        assert renewed.pk == holding.pk
        assert ProductHolding.objects.get(pk=holding.pk).expiry_date == date(2029, 3, 31)
        created, updated = history(customer)
        assert (created.entity, created.label, created.action) == (
            "product",
            "视频会议 (竞争对手A)",
            "created",
        )
        assert created.changes == {
            "product": [None, "视频会议"],
            "provider": [None, "竞争对手A"],
            "ownership": ["", "competitor"],
            "start_date": [None, "2024-04-01"],
            "expiry_date": [None, "2027-03-31"],
        }
        assert (updated.entity_id, updated.action, updated.changes) == (
            holding.pk,
            "updated",
            {"expiry_date": ["2027-03-31", "2029-03-31"]},
        )

    def test_removing_a_key_person_or_a_product_deletes_it_and_keeps_a_history_row_naming_it(
        self, org, customer
    ):
        person = KeyPersonFactory(customer=customer, name="张科长")
        holding = ProductHoldingFactory(customer=customer, product="视频会议", provider="竞争对手A")
        person_id, holding_id = person.pk, holding.pk

        remove_key_person(person=person, user=org.manager)
        remove_product(holding=holding, user=org.coordinator)

        assert not KeyPerson.objects.filter(pk=person_id).exists()
        assert not ProductHolding.objects.filter(pk=holding_id).exists()
        assert [
            (c.entity, c.entity_id, c.label, c.action, c.changes, c.source, c.actor)
            for c in history(customer)
        ] == [
            ("key_person", person_id, "张科长", "removed", {}, "manual", org.manager),
            ("product", holding_id, "视频会议 (竞争对手A)", "removed", {}, "manual", org.coordinator),
        ]

    def test_a_new_tier_is_not_set_by_a_plain_update_and_nothing_is_stored(self, org, customer):
        with pytest.raises(InvalidInput) as refused:
            update_customer(
                customer=customer, values={"tier": "A", "monthly_value": "20000"}, user=org.coordinator
            )
        assert refused.value.errors == {
            "tier": ["Change the service tier on its own, with the reason for it."]
        }
        assert (stored(customer).tier, stored(customer).monthly_value) == ("B", Decimal("10000"))
        assert history(customer) == []

    def test_fields_the_services_do_not_set_are_refused_and_nothing_is_stored(self, org, customer):
        with pytest.raises(InvalidInput) as refused:
            update_customer(
                customer=customer,
                values={"monthly_value": "20000", "created_at": "2020-01-01"},
                user=org.coordinator,
            )
        assert refused.value.errors == {"created_at": ["This field cannot be set here."]}
        with pytest.raises(InvalidInput) as refused:
            save_product(
                customer=customer,
                product="视频会议",
                provider="竞争对手A",
                values={"ownership": "competitor", "customer": customer},
                user=org.manager,
            )
        assert refused.value.errors == {"customer": ["This field cannot be set here."]}
        assert stored(customer).tier == "B"
        assert not ProductHolding.objects.exists()
        assert history(customer) == []


class TestInvalidInput:
    @pytest.mark.parametrize(
        ("values", "field", "message"),
        [
            ({"industry": "mining"}, "industry", "Value 'mining' is not a valid choice."),
            ({"tier": "S"}, "tier", "Value 'S' is not a valid choice."),
            ({"monthly_value": -5}, "monthly_value", "The monthly value cannot be negative (-5)."),
            ({"monthly_value": "lots"}, "monthly_value", "“lots” value must be a decimal number."),
            ({"potential": 0}, "potential", "The potential must be a whole number from 1 to 5, not 0."),
            ({"potential": 6}, "potential", "The potential must be a whole number from 1 to 5, not 6."),
            ({"potential": -1}, "potential", "The potential must be a whole number from 1 to 5, not -1."),
            ({"name": ""}, "name", "This field cannot be blank."),
            ({"name": "   "}, "name", "This field cannot be blank."),
            ({"name": None}, "name", "This field cannot be blank."),
        ],
    )
    def test_an_invalid_customer_value_is_refused_on_its_field_and_nothing_is_stored(
        self, org, customer, values, field, message
    ):
        before = stored(customer)
        with pytest.raises(InvalidInput) as refused:
            # Valid changes alongside the invalid one are not kept either.
            update_customer(
                customer=customer, values={"monthly_value": "20000", **values}, user=org.coordinator
            )

        assert set(refused.value.errors) == {field}
        assert message in refused.value.errors[field]
        after = stored(customer)
        assert [getattr(after, f) for f in ("name", "industry", "tier", "monthly_value", "potential")] == [
            getattr(before, f) for f in ("name", "industry", "tier", "monthly_value", "potential")
        ]
        assert history(customer) == []

    def test_a_new_customer_missing_its_name_and_industry_is_not_created(self, org):
        values = {**new_customer_values(org), "name": "", "industry": ""}
        with pytest.raises(InvalidInput) as refused:
            create_customer(values=values, user=org.coordinator)

        assert refused.value.errors == {
            "name": ["This field cannot be blank."],
            "industry": ["This field cannot be blank."],
        }
        assert not Customer.objects.exists()
        assert not CustomerChange.objects.exists()

    def test_a_new_customer_with_a_code_already_taken_is_not_created(self, org, customer):
        values = {**new_customer_values(org), "code": customer.code}
        with pytest.raises(InvalidInput) as refused:
            create_customer(values=values, user=org.coordinator)

        assert refused.value.errors == {"code": ["Group customer with this Customer code already exists."]}
        assert list(Customer.objects.values_list("pk", flat=True)) == [customer.pk]
        assert not CustomerChange.objects.exists()

    def test_invalid_key_person_and_product_values_are_refused_and_nothing_is_stored(self, org, customer):
        attempts = {
            "relationship": lambda: save_key_person(
                customer=customer, name="王主任", values={"relationship": "close"}, user=org.manager
            ),
            "name": lambda: save_key_person(customer=customer, name="  ", values={}, user=org.manager),
            "ownership": lambda: save_product(
                customer=customer, product="视频会议", provider="竞争对手A", values={}, user=org.manager
            ),
            "expiry_date": lambda: save_product(
                customer=customer,
                product="视频会议",
                provider="竞争对手A",
                values={"ownership": "competitor", "expiry_date": "2027-02-30"},
                user=org.manager,
            ),
        }
        for field, attempt in attempts.items():
            with pytest.raises(InvalidInput) as refused:
                attempt()
            assert list(refused.value.errors) == [field]

        assert not KeyPerson.objects.exists()
        assert not ProductHolding.objects.exists()
        assert history(customer) == []


class TestWhoMayChange:
    def test_another_manager_cannot_change_the_customer_but_its_team_leader_and_the_coordinator_can(
        self, org, customer
    ):
        with pytest.raises(NotPermitted):
            update_customer(customer=customer, values={"monthly_value": "20000"}, user=org.other_manager)
        with pytest.raises(NotPermitted):
            save_product(
                customer=customer,
                product="视频会议",
                provider="竞争对手A",
                values={"ownership": "competitor"},
                user=org.other_manager,
            )
        assert stored(customer).tier == "B" and not ProductHolding.objects.exists()
        assert history(customer) == []

        update_customer(customer=customer, values={"monthly_value": "20000"}, user=org.leader)
        update_customer(customer=customer, values={"potential": 5}, user=org.coordinator)

        assert (stored(customer).monthly_value, stored(customer).potential) == (Decimal("20000"), 5)
        assert [(c.actor, c.changes) for c in history(customer)] == [
            (org.leader, {"monthly_value": ["10000.00", "20000.00"]}),
            (org.coordinator, {"potential": [3, 5]}),
        ]

    def test_the_leader_of_another_team_leadership_and_support_cannot_change_the_customer(
        self, org, customer
    ):
        other_leader = UserFactory(username="feng", roles=["team_leader"])
        Team.objects.create(name="政企客户二组", region=org.branch, leader=other_leader)

        for outsider in (other_leader, org.director, org.support["solution"]):
            with pytest.raises(NotPermitted):
                update_customer(customer=customer, values={"monthly_value": "20000"}, user=outsider)
            with pytest.raises(NotPermitted):
                save_key_person(customer=customer, name="王主任", values={}, user=outsider)

        assert stored(customer).tier == "B" and not KeyPerson.objects.exists()
        assert history(customer) == []

    def test_only_the_coordinator_hands_a_customer_to_another_manager_who_then_looks_after_it(
        self, org, customer
    ):
        with pytest.raises(NotPermitted):
            update_customer(customer=customer, values={"account_manager": org.other_manager}, user=org.leader)
        assert stored(customer).account_manager == org.manager

        update_customer(
            customer=customer, values={"account_manager": org.other_manager}, user=org.coordinator
        )

        (change,) = history(customer)
        assert (change.actor, change.changes) == (org.coordinator, {"account_manager": ["qian", "wu"]})
        customer = stored(customer)
        with pytest.raises(NotPermitted):
            update_customer(customer=customer, values={"monthly_value": "20000"}, user=org.manager)
        update_customer(customer=customer, values={"monthly_value": "20000"}, user=org.other_manager)
        assert stored(customer).monthly_value == Decimal("20000")

    def test_a_manager_may_add_a_customer_they_look_after_but_not_one_for_another_manager(self, org):
        with pytest.raises(NotPermitted):
            create_customer(values=new_customer_values(org, org.other_manager), user=org.manager)
        with pytest.raises(NotPermitted):
            create_customer(values=new_customer_values(org), user=org.support["solution"])
        assert not Customer.objects.exists()

        created = create_customer(values=new_customer_values(org), user=org.manager)

        assert stored(created).account_manager == org.manager
        assert [(c.action, c.actor) for c in history(created)] == [("created", org.manager)]

    def test_an_inactive_coordinator_cannot_change_anything(self, org, customer):
        org.coordinator.is_active = False
        org.coordinator.save()

        with pytest.raises(NotPermitted):
            update_customer(customer=customer, values={"monthly_value": "20000"}, user=org.coordinator)
        with pytest.raises(NotPermitted):
            create_customer(values=new_customer_values(org), user=org.coordinator)
        assert stored(customer).tier == "B" and Customer.objects.count() == 1
        assert history(customer) == []

    def test_a_manager_of_another_team_cannot_remove_the_customers_records(self, org, customer):
        other_team = Team.objects.create(
            name="政企客户二组", region=org.branch, leader=UserFactory(username="feng", roles=["team_leader"])
        )
        outsider = manager_in(other_team, "chu")
        person = KeyPersonFactory(customer=customer)
        holding = ProductHoldingFactory(customer=customer)

        with pytest.raises(NotPermitted):
            remove_key_person(person=person, user=outsider)
        with pytest.raises(NotPermitted):
            remove_product(holding=holding, user=outsider)

        assert KeyPerson.objects.filter(pk=person.pk).exists()
        assert ProductHolding.objects.filter(pk=holding.pk).exists()
        assert history(customer) == []


class TestFromVisitSummaries:
    @pytest.fixture
    def enrolment(self, org, customer):
        deploy_processes()
        return enrol(org, new_programme(org), customer)

    def test_an_approved_summary_updates_the_customer_with_history_naming_the_summary_and_its_visit(
        self, org, customer, enrolment
    ):
        # Known before the visit, entered by hand: the competitor's contract, ending earlier.
        save_product(
            customer=customer,
            product="视频会议",
            provider="竞争对手A",
            values={"ownership": "competitor", "expiry_date": "2027-01-31"},
            user=org.manager,
        )
        with frozen(at(2026, 12, 1, 18)):
            instance = close_visit(
                enrolment,
                org,
                visited_at=at(2026, 12, 1, 10),
                summary_data=summary(leads=[], resource_needs=[]),
            )

        visit = Visit.objects.get(instance=instance)
        manual, *from_summary = history(customer)
        assert (manual.source, manual.visit) == ("manual", None)
        assert {(c.source, c.visit, c.actor) for c in from_summary} == {("summary", visit, org.manager)}
        recorded = {(c.entity, c.label, c.action): c.changes for c in from_summary}
        assert recorded == {
            ("customer", "江淮城市商业银行", "updated"): {
                "informatization_status": ["办公网由我方提供", "办公网由我方提供，视频会议使用竞争对手产品"]
            },
            ("product", "视频会议 (竞争对手A)", "updated"): {"expiry_date": ["2027-01-31", "2027-03-31"]},
            ("product", "互联网专线 (我方)", "created"): {
                "product": [None, "互联网专线"],
                "provider": [None, "我方"],
                "ownership": ["", "ours"],
                "expiry_date": [None, "2028-06-30"],
            },
            ("key_person", "王主任", "created"): {
                "name": [None, "王主任"],
                "title": ["", "主任"],
                "department": ["", "中心办公室"],
                "relationship": ["", "normal"],
            },
            ("key_person", "张科长", "created"): {
                "name": [None, "张科长"],
                "title": ["", "信息科科长"],
                "contact": ["", "0551-12345678"],
                "relationship": ["", "strong"],
            },
            # The decision chain names the same persons: only their role is new.
            ("key_person", "王主任", "updated"): {"decision_role": ["", "decision_maker"]},
            ("key_person", "张科长", "updated"): {"decision_role": ["", "influencer"]},
        }
        assert len(from_summary) == len(recorded)
        assert refreshed(customer).informatization_status == "办公网由我方提供，视频会议使用竞争对手产品"

    def test_a_later_summary_repeating_what_is_known_records_no_history(self, org, customer, enrolment):
        repeated = summary(leads=[], resource_needs=[])
        with frozen(at(2026, 12, 2, 10)):
            first = run_visit(enrolment, org, visited_at=at(2026, 12, 1, 10), summary_data=repeated)
        recorded = len(history(customer))
        with frozen(at(2026, 12, 9, 18)):
            second = close_visit(enrolment, org, visited_at=at(2026, 12, 8, 10), summary_data=repeated)

        assert Visit.objects.get(instance=second).status == "closed"
        assert recorded == 7
        assert len(history(customer)) == recorded
        assert {c.visit for c in history(customer)} == {Visit.objects.get(instance=first)}


class TestInputOfTheWrongKind:
    """Whatever a caller passes, the answer is a refusal on the field and nothing is stored."""

    @pytest.mark.parametrize(
        "values, field",
        [
            ({"region": "HF"}, "region"),
            ({"region": None}, "region"),
            ({"account_manager": 5}, "account_manager"),
            ({"account_manager": "qian"}, "account_manager"),
        ],
        ids=["region-as-text", "no-region", "manager-as-id", "manager-as-name"],
    )
    def test_a_related_record_that_is_not_one_is_refused_on_its_field(self, org, customer, values, field):
        before = (stored(customer).region_id, stored(customer).account_manager_id)

        with pytest.raises(InvalidInput) as refused:
            update_customer(customer=customer, values=values, user=org.coordinator)

        assert set(refused.value.field_errors) == {field}
        assert (stored(customer).region_id, stored(customer).account_manager_id) == before
        assert history(customer) == []

    def test_a_new_customer_without_a_region_is_refused_on_the_region(self, org):
        with pytest.raises(InvalidInput) as refused:
            create_customer(values={**new_customer_values(org), "region": None}, user=org.coordinator)

        assert set(refused.value.field_errors) == {"region"}
        assert not Customer.objects.filter(code="GC-9001").exists()

    @pytest.mark.parametrize("values", [None, [("tier", "A")], "tier=A"])
    def test_values_that_are_not_a_mapping_are_refused(self, org, customer, values):
        with pytest.raises(InvalidInput):
            update_customer(customer=customer, values=values, user=org.coordinator)
        with pytest.raises(InvalidInput):
            save_key_person(customer=customer, name="张主任", values=values, user=org.coordinator)

    @pytest.mark.parametrize("name", [None, "  ", 7])
    def test_a_key_person_or_product_without_a_name_is_refused_on_the_name(self, org, customer, name):
        with pytest.raises(InvalidInput) as refused:
            save_key_person(customer=customer, name=name, values={}, user=org.coordinator)
        assert set(refused.value.field_errors) == {"name"}

        with pytest.raises(InvalidInput) as refused:
            save_product(customer=customer, product=name, provider="电信", values={}, user=org.coordinator)
        assert set(refused.value.field_errors) == {"product"}
        assert (KeyPerson.objects.count(), ProductHolding.objects.count()) == (0, 0)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_code_stored_by_another_request_between_the_check_and_the_save_is_a_field_error():
    """The other request's row is not yet committed when this one checks the code, and is when this
    one writes: the database refuses the second row, and the caller hears which field clashed."""
    import threading
    import time

    from django.db import connection, transaction

    from onsite.customer_codes import customer_code_key

    org = build_org()
    written, failures = threading.Event(), []

    def other_request():
        try:
            with transaction.atomic():
                Customer.objects.create(
                    code="GC-9001",
                    code_key=customer_code_key("GC-9001"),
                    name="另一个请求",
                    industry="finance",
                    region=org.branch,
                )
                written.set()
                time.sleep(0.5)  # commit while this request is on its way to the write
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=other_request)
    thread.start()
    written.wait(10)
    try:
        with pytest.raises(InvalidInput) as refused:
            create_customer(values=new_customer_values(org), user=org.coordinator)
    finally:
        thread.join(10)

    assert failures == []
    assert set(refused.value.field_errors) == {"code"}
    assert list(Customer.objects.filter(code="GC-9001").values_list("name", flat=True)) == ["另一个请求"]
    assert not CustomerChange.objects.exists()
