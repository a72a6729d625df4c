from datetime import date, datetime
from decimal import Decimal

import pytest

from tests.workflows.conftest import nested
from workflows.bounds import DataLimits, DataRefused, check_data

LIMITS = DataLimits(depth=32, items=20_000, string=100_000, size=1024 * 1024)


def test_plain_data_within_the_limits_passes():
    check_data(
        {"name": "客户", "amount": 12.5, "count": 3, "flags": [True, None], "when": date(2026, 1, 1)}, LIMITS
    )
    check_data({"at": datetime(2026, 1, 1), "price": Decimal("1.10"), "deep": nested(31)}, LIMITS)


@pytest.mark.parametrize(
    ("value", "path", "message"),
    [
        ({"a": nested(500)}, "a" + ".0" * 31, "nested more than 32 levels"),
        ([nested(40)], "0" + ".0" * 31, "nested more than 32 levels"),
        ({"text": "x" * 100_001}, "text", "longer than 100,000 characters"),
        ({"items": list(range(20_001))}, "", "more than 20,000 values"),
        ({"blob": ["x" * 90_000] * 12}, "", "larger than 1,048,576 bytes"),
        ({"n": float("nan")}, "n", "finite"),
        ({"n": [1.0, float("-inf")]}, "n.1", "finite"),
        ({"n": Decimal("NaN")}, "n", "finite"),
        ({"n": 2**64}, "n", "Whole numbers"),
        ({"tags": {1, 2}}, "tags", "A set cannot be stored"),
        ({"raw": b"bytes"}, "raw", "A bytes cannot be stored"),
        ({1: "x"}, "", "Keys must be text"),
        ({"a\x00b": 1}, "", "not allowed"),
        ({"": 1}, "", "not allowed"),
        ({"k" * 201: 1}, "", "not allowed"),
    ],
)
def test_each_kind_of_excess_is_refused_with_where_it_is(value, path, message):
    with pytest.raises(DataRefused) as caught:
        check_data(value, LIMITS)
    assert caught.value.path == path
    assert message in caught.value.reason


def test_a_self_referencing_value_is_refused_without_recursing():
    loop: dict = {}
    loop["self"] = loop
    with pytest.raises(DataRefused, match="nested more than"):
        check_data(loop, LIMITS)


def test_a_value_sharing_one_list_many_times_counts_every_use():
    shared = list(range(1000))
    with pytest.raises(DataRefused, match="more than 20,000 values"):
        check_data([shared] * 100, LIMITS)
