"""Group customers, their key persons and the products they hold, with the history of every change."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onsite.access import check_customer_access, check_role, has_role
from onsite.amounts import format_amount
from onsite.exceptions import ConcurrentChange, InvalidInput, NotPermitted
from onsite.models import Customer, CustomerChange, KeyPerson, ProductHolding, Tier
from onsite.roles import ACCOUNT_MANAGER, COORDINATOR
from workflows.actors import person, person_id

Source = CustomerChange.Source

CUSTOMER_FIELDS = (
    "code",
    "name",
    "industry",
    "tier",
    "monthly_value",
    "potential",
    "region",
    "account_manager",
    "informatization_status",
)
KEY_PERSON_FIELDS = ("title", "department", "decision_role", "contact", "relationship", "notes")
PRODUCT_FIELDS = ("ownership", "start_date", "expiry_date")


def create_customer(*, values: dict, user: Any, source: str = Source.MANUAL) -> Customer:
    check_role(user, COORDINATOR, ACCOUNT_MANAGER)
    customer = Customer()
    assign(customer, values, CUSTOMER_FIELDS)
    # A new record has no "before": its history lists every value given, defaults included.
    changes = {
        name: [None, displayed(getattr(customer, name))]
        for name in values
        if getattr(customer, name) not in (None, "")
    }
    manager = customer.account_manager_id
    if not has_role(user, COORDINATOR) and manager != person_id(user):
        raise NotPermitted(_("An account manager can only add customers they look after."))
    validate(customer)
    with _refusing_clashes(customer):
        customer.save()
        record_change(customer, customer, CustomerChange.Action.CREATED, changes, source=source, actor=user)
    return customer


def update_customer(
    *, customer: Customer, values: dict, user: Any, source: str = Source.MANUAL, visit: Any = None
) -> dict:
    """Change the customer's own fields; returns what changed (field: [before, after])."""
    check_customer_access(user, customer)
    _check_values(values)
    if "account_manager" in values and not has_role(user, COORDINATOR):
        raise NotPermitted(_("Only a coordinator can hand a customer to another account manager."))
    # A tier sets the customer's service standard: changed by hand only with its reason, by those
    # `change_tier` allows (an import carries the operator's own records and is kept as such).
    tier = values.get("tier") if isinstance(values, dict) else None
    if source == Source.MANUAL and tier in Tier.values and tier != customer.tier:
        raise InvalidInput({"tier": [_("Change the service tier on its own, with the reason for it.")]})
    return change_customer(customer, values, actor=user, source=source, visit=visit)


def save_key_person(*, customer: Customer, name: str, values: dict, user: Any) -> KeyPerson:
    """Add the key person, or update the one of that name; blank values leave a field as it is."""
    check_customer_access(user, customer)
    return upsert_key_person(customer, name, values, actor=user, source=Source.MANUAL)


def save_product(
    *, customer: Customer, product: str, provider: str, values: dict, user: Any
) -> ProductHolding:
    """Add the product held, or update the one of that name and provider (a renewal moves its expiry)."""
    check_customer_access(user, customer)
    return upsert_product(customer, product, provider, values, actor=user, source=Source.MANUAL)


def remove_key_person(*, person: KeyPerson, user: Any) -> None:
    check_customer_access(user, person.customer)
    with transaction.atomic():
        record_change(
            person.customer, person, CustomerChange.Action.REMOVED, {}, source=Source.MANUAL, actor=user
        )
        person.delete()


def remove_product(*, holding: ProductHolding, user: Any) -> None:
    check_customer_access(user, holding.customer)
    with transaction.atomic():
        record_change(
            holding.customer, holding, CustomerChange.Action.REMOVED, {}, source=Source.MANUAL, actor=user
        )
        holding.delete()


# --- the writes themselves, shared with imports and visit summaries (callers check access) -------


def change_customer(customer: Customer, values: dict, *, actor: Any, source: str, visit: Any = None) -> dict:
    changes = assign(customer, values, CUSTOMER_FIELDS)
    if changes:
        validate(customer)
        with _refusing_clashes(customer):
            customer.save()
            record_change(
                customer,
                customer,
                CustomerChange.Action.UPDATED,
                changes,
                source=source,
                actor=actor,
                visit=visit,
            )
    return changes


def upsert_key_person(
    customer: Customer, name: str, values: dict, *, actor: Any, source: str, visit: Any = None
) -> KeyPerson:
    _check_values(values, names={"name": name})
    person = KeyPerson.objects.filter(customer=customer, name=name.strip()).first()
    created = person is None
    if created:
        person = KeyPerson(customer=customer, name=name.strip())
    changes = assign(person, {k: v for k, v in values.items() if v not in (None, "")}, KEY_PERSON_FIELDS)
    if created:
        changes = {"name": [None, person.name], **changes}
    _store(customer, person, created, changes, actor=actor, source=source, visit=visit)
    return person


def upsert_product(
    customer: Customer,
    product: str,
    provider: str,
    values: dict,
    *,
    actor: Any,
    source: str,
    visit: Any = None,
) -> ProductHolding:
    _check_values(values, names={"product": product, "provider": provider})
    with transaction.atomic():
        # Locked while read: an approved summary and a won win-back may change the same product at
        # once, and the second must build on the first's values, not overwrite them with stale ones.
        holding = (
            ProductHolding.objects.select_for_update()
            .filter(customer=customer, product=product.strip(), provider=provider.strip())
            .first()
        )
        created = holding is None
        if created:
            holding = ProductHolding(customer=customer, product=product.strip(), provider=provider.strip())
        changes = assign(holding, values, PRODUCT_FIELDS)
        if created:
            changes = {"product": [None, holding.product], "provider": [None, holding.provider], **changes}
        _store(customer, holding, created, changes, actor=actor, source=source, visit=visit)
    return holding


def upsert_key_persons(
    customer: Customer, rows: list[tuple[str, dict]], *, actor: Any, source: str, visit: Any = None
) -> list[CustomerChange]:
    """`upsert_key_person` for each (name, values) in turn, in a fixed number of statements however
    many rows: the persons read at once, created and updated at once. A name given twice is applied
    twice, as two calls would. Returns the history rows, unsaved (`record_changes` stores them)."""
    names = {name.strip() for name, _values in rows}
    for name, values in rows:
        _check_values(values, names={"name": name})
    known = {p.name: p for p in KeyPerson.objects.filter(customer=customer, name__in=names)}

    def make(name: str) -> KeyPerson:
        return KeyPerson(customer=customer, name=name)

    steps = [
        (
            name.strip(),
            {k: v for k, v in values.items() if v not in (None, "")},
            lambda p: {"name": [None, p.name]},
        )
        for name, values in rows
    ]
    return _upsert_all(customer, KeyPerson, known, steps, make, KEY_PERSON_FIELDS, actor, source, visit)


def upsert_products(
    customer: Customer, rows: list[tuple[str, str, dict]], *, actor: Any, source: str, visit: Any = None
) -> list[CustomerChange]:
    """`upsert_product` for each (product, provider, values) in turn, in a fixed number of
    statements however many rows; the products are locked while read, as `upsert_product` does.
    Returns the history rows, unsaved (`record_changes` stores them)."""
    for product, provider, values in rows:
        _check_values(values, names={"product": product, "provider": provider})
    keys = {(product.strip(), provider.strip()) for product, provider, _values in rows}
    held = ProductHolding.objects.select_for_update().filter(
        customer=customer, product__in={k[0] for k in keys}, provider__in={k[1] for k in keys}
    )
    known = {(h.product, h.provider): h for h in held if (h.product, h.provider) in keys}

    def make(key: tuple[str, str]) -> ProductHolding:
        return ProductHolding(customer=customer, product=key[0], provider=key[1])

    steps = [
        (
            (product.strip(), provider.strip()),
            values,
            lambda h: {"product": [None, h.product], "provider": [None, h.provider]},
        )
        for product, provider, values in rows
    ]
    return _upsert_all(customer, ProductHolding, known, steps, make, PRODUCT_FIELDS, actor, source, visit)


def _upsert_all(
    customer: Customer,
    model: type[models.Model],
    known: dict,
    steps: list,
    make: Any,
    fields: tuple[str, ...],
    actor: Any,
    source: str,
    visit: Any,
) -> list[CustomerChange]:
    """Apply each (key, values, first values) step to the record of that key (`known`, or a new
    one), then store the new records in one statement and the changed ones in another."""
    created: dict = {}
    updated: dict = {}
    history: list[tuple[models.Model, str, dict]] = []
    for key, values, first in steps:
        obj = known.get(key) or created.get(key)
        new = obj is None
        if new:
            obj = created[key] = make(key)
        changes = assign(obj, values, fields)
        if new:
            changes = first(obj) | changes
        if not changes:
            continue
        validate_fields(obj)
        if key in known:
            updated[key] = obj
        action = CustomerChange.Action.CREATED if new else CustomerChange.Action.UPDATED
        history.append((obj, action, changes))
    now = timezone.now()
    for obj in updated.values():
        obj.updated_at = now  # bulk_update does not set auto_now fields
    try:
        with transaction.atomic():
            model.objects.bulk_create(created.values())
            if updated:
                model.objects.bulk_update(updated.values(), [*fields, "updated_at"])
    except IntegrityError as exc:
        raise ConcurrentChange() from exc  # another request stored the same name since the read
    how = {"source": source, "actor": actor, "visit": visit}
    return [change_row(customer, obj, action, changes, at=now, **how) for obj, action, changes in history]


def _store(customer: Customer, obj: models.Model, created: bool, changes: dict, **how: Any) -> None:
    if not changes:
        return
    validate(obj)
    action = CustomerChange.Action.CREATED if created else CustomerChange.Action.UPDATED
    with _refusing_clashes(obj):
        obj.save()
        record_change(customer, obj, action, changes, **how)


def assign(obj: models.Model, values: dict, allowed: tuple[str, ...]) -> dict:
    """Set the allowed fields that differ; returns field: [before, after] as displayable values."""
    _check_values(values)
    unknown = sorted(str(name) for name in set(values) - set(allowed))
    if unknown:
        raise InvalidInput({name: [_("This field cannot be set here.")] for name in unknown})
    changes = {}
    for name, value in values.items():
        field = obj._meta.get_field(name)
        if isinstance(field, models.CharField | models.TextField) and value is None:
            value = ""
        if isinstance(value, str) and not isinstance(field, models.ForeignKey):
            value = value.strip()
        if field.is_relation:
            before = getattr(obj, name) if getattr(obj, field.attname) is not None else None
        else:
            before = getattr(obj, name)
        if field.is_relation:
            _check_related(field, value)
        try:
            value = value if field.is_relation else field.to_python(value)
        except ValidationError as exc:
            raise InvalidInput({name: exc.messages}) from None
        if _comparable(before) != _comparable(value):
            setattr(obj, name, value)
            changes[name] = [displayed(before), displayed(value)]
    return changes


def _check_values(values: Any, *, names: dict[str, Any] | None = None) -> None:
    if not isinstance(values, dict):
        raise InvalidInput({"values": [_("Give the values as field: value.")]})
    errors = {
        field: [_("This field is required.")]
        for field, name in (names or {}).items()
        if not isinstance(name, str) or not name.strip()
    }
    if errors:
        raise InvalidInput(errors)


def _check_related(field: models.Field, value: Any) -> None:
    """A related record is given as a stored instance of its model (or None where it may be empty)."""
    if value is None:
        if not field.null:
            raise InvalidInput({field.name: [_("This field is required.")]})
        return
    if not isinstance(value, field.related_model) or value.pk is None:
        raise InvalidInput(
            {field.name: [_("Choose a %(record)s.") % {"record": field.related_model._meta.verbose_name}]}
        )


@contextmanager
def _refusing_clashes(obj: models.Model) -> Iterator[None]:
    """`transaction.atomic()`, turning a clash at save time - another request stored the same code or
    name between our check and our write - into the field error the check gives now."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        validate(obj)  # rolled back, so it sees the other request's row and names the field
        raise ConcurrentChange() from exc


def validate_fields(obj: models.Model) -> None:
    """`validate` without the checks that read the database (related rows exist, uniqueness,
    constraints): for rows stored in bulk, whose relations are rows in hand and whose clashes the
    database refuses."""
    relations = [f.name for f in obj._meta.concrete_fields if f.is_relation]
    try:
        obj.full_clean(exclude=relations, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from None


def validate(obj: models.Model) -> None:
    try:
        obj.full_clean(validate_unique=True, validate_constraints=True)
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from None


def record_change(
    customer: Customer,
    obj: models.Model,
    action: str,
    changes: dict,
    *,
    source: str,
    actor: Any,
    visit: Any = None,
    reason: str = "",
) -> CustomerChange:
    row = change_row(
        customer, obj, action, changes, source=source, actor=actor, visit=visit, at=timezone.now()
    )
    row.reason = reason
    row.save()
    return row


def record_changes(rows: list[CustomerChange]) -> None:
    """History rows made by `change_row` (or returned by the bulk upserts), stored in one statement."""
    CustomerChange.objects.bulk_create(rows)


def change_row(
    customer: Customer,
    obj: models.Model,
    action: str,
    changes: dict,
    *,
    source: str,
    actor: Any,
    visit: Any = None,
    at: Any,
) -> CustomerChange:
    entity = {
        Customer: CustomerChange.Entity.CUSTOMER,
        KeyPerson: CustomerChange.Entity.KEY_PERSON,
        ProductHolding: CustomerChange.Entity.PRODUCT,
    }[type(obj)]
    return CustomerChange(
        customer=customer,
        entity=entity,
        entity_id=obj.pk,
        label=str(obj)[:200],
        action=action,
        changes=changes,
        source=source,
        visit=visit,
        actor=person(actor),
        at=at,
    )


def _comparable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def displayed(value: Any) -> Any:
    """A value as the history shows it (JSON-serializable)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format_amount(value)  # the customer's only decimal is money
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
