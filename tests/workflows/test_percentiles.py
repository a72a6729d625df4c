"""The continuous percentiles aggregate (`workflows.percentiles`): PostgreSQL's `percentile_cont` on
PostgreSQL, the same figures from the function registered on SQLite."""

import statistics
import uuid

import pytest
from django.utils import timezone

from tests.workflows.conftest import deploy_approval
from workflows.models import ProcessInstance, ProcessVersion, Wait
from workflows.percentiles import Percentiles, read_percentiles

pytestmark = pytest.mark.django_db


def lengths(values_by_element):
    deploy_approval()
    version = ProcessVersion.objects.get()
    instance = ProcessInstance.objects.create(version=version, process_id="approval", state="{}")
    now = timezone.now()
    Wait.objects.bulk_create(
        Wait(
            instance=instance,
            version=version,
            task_id=uuid.uuid4(),
            bpmn_id=bpmn_id,
            kind=Wait.Kind.TASK,
            started_at=now,
            ended_at=now,
            seconds=value,
        )
        for bpmn_id, values in values_by_element.items()
        for value in values
    )
    return Wait.objects.values("bpmn_id").order_by("bpmn_id")


def test_each_groups_percentiles_interpolate_between_ranks_as_percentile_cont_does():
    values = {"a": [5.0, 1.0, 3.0, 2.0, 8.0, 13.0, 21.0], "b": [7.0], "c": [1.0, 100.0]}
    rows = lengths(values).annotate(p=Percentiles("seconds", [0, 0.5, 0.9, 1]))

    found = {row["bpmn_id"]: read_percentiles(row["p"]) for row in rows}

    for bpmn_id, numbers in values.items():
        inclusive = statistics.quantiles(numbers, n=10, method="inclusive") if len(numbers) > 1 else [7.0] * 9
        expected = [min(numbers), statistics.median(numbers), inclusive[-1], max(numbers)]
        assert found[bpmn_id] == pytest.approx(expected)


def test_nulls_are_left_out_and_a_group_of_none_has_no_percentiles():
    rows = lengths({"a": [None, 4.0, None, 2.0], "b": [None]}).annotate(p=Percentiles("seconds", [0.5]))

    found = {row["bpmn_id"]: read_percentiles(row["p"]) for row in rows}

    assert found == {"a": [3.0], "b": []}


def test_fractions_outside_zero_to_one_are_refused():
    with pytest.raises(ValueError):
        Percentiles("seconds", [0.5, 1.5])
