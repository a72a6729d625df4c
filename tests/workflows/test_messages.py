import pytest

from tests.conftest import TEST_BPMN_DIR, source
from tests.workflows.conftest import nested
from workflows.actors import SYSTEM
from workflows.exceptions import InvalidData, MessageNotDelivered, WorkflowError
from workflows.models import AuditEvent, MessageSubscription, ProcessInstance
from workflows.services import deliver_message, deploy, start_instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders():
    deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "message_wait.bpmn")])
    return {
        key: start_instance(
            user=SYSTEM, process_id="message_wait", business_key=f"ORDER-{key}", data={"order_id": key}
        )
        for key in ("A-1", "B-2")
    }


def test_a_waiting_catch_event_is_a_subscription_with_its_correlation(orders):
    subscription = MessageSubscription.objects.get(instance=orders["A-1"])
    assert (subscription.message_name, subscription.bpmn_id, subscription.correlations) == (
        "payment_received",
        "wait_payment",
        {"order_id": "A-1"},
    )


def test_message_reaches_the_instance_its_correlation_property_names(orders):
    delivered = deliver_message(
        user=SYSTEM,
        name="payment_received",
        correlation={"order_id": "B-2"},
        payload={"order_id": "B-2", "amount": 99},
    )

    assert [i.pk for i in delivered] == [orders["B-2"].pk]
    for instance in orders.values():
        instance.refresh_from_db()
    assert orders["B-2"].status == ProcessInstance.Status.COMPLETED
    assert '"paid":99' in orders["B-2"].state.replace(" ", "")
    assert orders["A-1"].status == ProcessInstance.Status.WAITING
    event = AuditEvent.objects.get(kind="message_delivered")
    assert (event.instance_id, event.details["payload"]["amount"]) == (orders["B-2"].pk, 99)


def test_message_can_be_addressed_by_business_key(orders):
    deliver_message(
        user=SYSTEM,
        name="payment_received",
        correlation={"business_key": "ORDER-A-1"},
        payload={"order_id": "A-1", "amount": 5},
    )
    orders["A-1"].refresh_from_db()
    assert orders["A-1"].status == ProcessInstance.Status.COMPLETED


def test_no_receiver_is_a_clear_error(orders):
    with pytest.raises(MessageNotDelivered, match="payment_received"):
        deliver_message(
            user=SYSTEM, name="payment_received", correlation={"order_id": "Z-9"}, payload={"order_id": "Z-9"}
        )
    with pytest.raises(MessageNotDelivered):
        deliver_message(user=SYSTEM, name="refund", correlation={"order_id": "A-1"}, payload={})


def test_a_delivered_message_is_not_delivered_twice(orders):
    deliver_message(
        user=SYSTEM,
        name="payment_received",
        correlation={"order_id": "A-1"},
        payload={"order_id": "A-1", "amount": 1},
    )
    with pytest.raises(MessageNotDelivered):
        deliver_message(
            user=SYSTEM,
            name="payment_received",
            correlation={"order_id": "A-1"},
            payload={"order_id": "A-1", "amount": 1},
        )


def test_payload_keys_that_scripts_cannot_read_are_refused(orders):
    with pytest.raises(WorkflowError):
        deliver_message(
            user=SYSTEM, name="payment_received", correlation={"order_id": "A-1"}, payload={"_hidden": 1}
        )


def test_correlation_names_must_be_identifiers(orders):
    with pytest.raises(WorkflowError, match="is not a correlation name"):
        deliver_message(
            user=SYSTEM, name="payment_received", correlation={"order_id') OR 1=1 --": 1}, payload={}
        )


def test_an_event_subprocess_started_by_a_message_is_deliverable():
    deploy(user=SYSTEM, files=[source(TEST_BPMN_DIR / "event_subprocess.bpmn")])
    instance = start_instance(user=SYSTEM, process_id="event_subprocess", business_key="EV-1")
    assert set(
        MessageSubscription.objects.filter(instance=instance).values_list("message_name", "bpmn_id")
    ) == {("customer_note", "note_arrives")}

    deliver_message(
        user=SYSTEM, name="customer_note", correlation={"business_key": "EV-1"}, payload={"text": "hi"}
    )

    assert set(instance.human_tasks.filter(status="open").values_list("bpmn_id", flat=True)) == {
        "work",
        "read_note",
    }
    assert AuditEvent.objects.filter(instance=instance, kind="message_delivered").exists()


@pytest.mark.parametrize(
    "correlation",
    [
        {"nothing__isnull": True},
        {"order_id__startswith": "A"},
        {"order_id__regex": ".*"},
        {"order_id__gt": ""},
        {"business_key__contains": "ORDER"},
    ],
)
def test_correlation_names_never_become_database_lookups(orders, correlation):
    with pytest.raises(MessageNotDelivered):
        deliver_message(
            user=SYSTEM, name="payment_received", correlation=correlation, payload={"order_id": "A-1"}
        )
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.MESSAGE_DELIVERED).exists()


@pytest.mark.parametrize(
    "correlation",
    [
        {"order_id": {"$ne": None}},
        {"order_id": ["A-1", "B-2"]},
        {"order_id": "x" * 256},
        {"instance_id": "1 OR 1=1"},
        {"business_key": 7},
    ],
)
def test_correlation_values_must_be_plain_scalars(orders, correlation):
    with pytest.raises(InvalidData):
        deliver_message(
            user=SYSTEM, name="payment_received", correlation=correlation, payload={"order_id": "A-1"}
        )


def test_correlation_values_are_compared_exactly(orders):
    numbered = start_instance(
        user=SYSTEM, process_id="message_wait", business_key="ORDER-1", data={"order_id": 1}
    )
    for loose in (True, "1"):
        with pytest.raises(MessageNotDelivered):
            deliver_message(
                user=SYSTEM,
                name="payment_received",
                correlation={"order_id": loose},
                payload={"order_id": loose},
            )
    delivered = deliver_message(
        user=SYSTEM,
        name="payment_received",
        correlation={"order_id": 1},
        payload={"order_id": 1, "amount": 1},
    )
    assert [i.pk for i in delivered] == [numbered.pk]


@pytest.mark.parametrize(
    ("payload", "phrase"),
    [
        ({"order_id": "A-1", "deep": nested(500)}, "nested more than 32 levels"),
        ({"order_id": "A-1", "amount": float("nan")}, "finite"),
        ({"order_id": "A-1", "note": "x" * 200_000}, "longer than 100,000 characters"),
        ({"order_id": "A-1", "tags": {"a"}}, "A set cannot be stored"),
    ],
)
def test_a_payload_beyond_the_data_limits_is_refused_before_anything_changes(orders, payload, phrase):
    with pytest.raises(InvalidData, match=phrase):
        deliver_message(
            user=SYSTEM, name="payment_received", correlation={"order_id": "A-1"}, payload=payload
        )
    assert orders["A-1"].__class__.objects.get(pk=orders["A-1"].pk).status == ProcessInstance.Status.WAITING
