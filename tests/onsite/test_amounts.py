"""Money and points: one reader for amounts typed in forms and files, one printer with two decimals."""

from decimal import Decimal

import pytest

from onsite.amounts import format_amount, parse_amount, to_cents
from onsite.exceptions import InvalidInput


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        (1234.5, Decimal("1234.5")),
        (80, Decimal("80")),
        (Decimal("0.10"), Decimal("0.10")),
        ("1,234.50", Decimal("1234.50")),
        (" 25 000 元", Decimal("25000")),
        ("¥80", Decimal("80")),
        ("１，２００．５元", Decimal("1200.5")),  # full-width digits and comma
        ("999999999999.99", Decimal("999999999999.99")),
    ],
)
def test_an_amount_is_read_from_numbers_and_from_text_as_people_write_it(value, amount):
    assert parse_amount(value, field="value") == amount


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_blank_amount_is_none(value):
    assert parse_amount(value, field="value") is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "abc is not an amount of money."),
        ("NaN", "NaN is not an amount of money."),
        ("Infinity", "Infinity is not an amount of money."),
        (True, "True is not an amount of money."),
        ("-5", "An amount of money cannot be negative (-5)."),
        (10**12, "1000000000000 is more than the largest amount accepted."),
    ],
)
def test_what_is_not_an_amount_the_database_can_hold_is_a_field_error(value, message):
    with pytest.raises(InvalidInput) as refused:
        parse_amount(value, field="won_value")

    assert refused.value.errors == {"won_value": [message]}


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (Decimal("147.400000000000"), "147.40"),  # a sum as SQLite returns it
        (Decimal("147.40000000000000"), "147.40"),
        (Decimal("2"), "2.00"),
        (Decimal("0.005"), "0.01"),  # half up, like the records
        (Decimal("1E+3"), "1000.00"),
        (147.4, "147.40"),
        (0, "0.00"),
        (None, ""),
    ],
)
def test_money_and_points_print_with_two_decimals(value, printed):
    assert format_amount(value) == printed


def test_figures_are_kept_in_cents():
    assert to_cents(Decimal("147.400000000000")) == Decimal("147.40")
    assert str(to_cents(None)) == "0.00"
