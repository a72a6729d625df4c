"""The speciality pool rule written twice, once per task (`speciality_refusal`, asked when someone
claims) and once as a filter (`speciality_admits`, the inbox's lists): the two must agree."""

from uuid import uuid4

import pytest
from django.contrib.auth.models import Group

from onsite.assignment import speciality_admits, speciality_refusal
from tests.factories import UserFactory
from tests.onsite.factories import SupportRequestFactory
from tests.onsite.flow import (
    build_org,
    complete,
    current_visit,
    customer_of,
    deploy_processes,
    enrol,
    new_programme,
    plan,
)
from workflows.models import HumanTask, ProcessInstance

pytestmark = pytest.mark.django_db


def test_the_filter_admits_exactly_the_pool_tasks_the_rule_lets_each_person_take():
    deploy_processes()
    org = build_org()
    programme = new_programme(org)
    with_support = current_visit(enrol(org, programme, customer_of(org)))
    complete(with_support, "Task_plan_visit", org.manager, plan(needs_support=True, speciality="solution"))
    without_support = current_visit(enrol(org, programme, customer_of(org)))
    complete(without_support, "Task_plan_visit", org.manager, plan())
    bare = [
        ProcessInstance.objects.create(
            version_id=with_support.version_id,
            process_id=with_support.process_id,
            status=with_support.status,
            state=with_support.state,
            serializer_version=with_support.serializer_version,
        )
        for _ in range(3)
    ]
    SupportRequestFactory(instance=bare[0], speciality="network", customer=customer_of(org))
    SupportRequestFactory(instance=bare[1], speciality="solution", customer=customer_of(org))
    support, manager = Group.objects.get(name="support_staff"), Group.objects.get(name="account_manager")
    instances = [with_support, without_support, *bare]
    tasks = HumanTask.objects.bulk_create(
        [
            HumanTask(id=uuid4(), instance=instance, bpmn_id="Task_x", name="x", role=role)
            for instance in instances
            for role in (support, manager, None)
        ]
    )
    people = [
        org.support["solution"],
        org.support["network"],
        UserFactory(roles=["support_staff"]),
        org.manager,
    ]

    for person in people:
        admitted = set(
            HumanTask.objects.filter(pk__in=[t.pk for t in tasks])
            .filter(speciality_admits(person))
            .values_list("pk", flat=True)
        )
        expected = {
            t.pk
            for t in HumanTask.objects.filter(pk__in=[t.pk for t in tasks]).select_related("role")
            if speciality_refusal(person, t) is None
        }
        assert admitted == expected, person.username
    # The cases differ: somebody is kept from something, and not from everything.
    solution_only = HumanTask.objects.filter(pk__in=[t.pk for t in tasks]).filter(
        speciality_admits(org.support["network"])
    )
    assert 0 < solution_only.count() < len(tasks)
