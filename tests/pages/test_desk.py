"""The team leader's desk: the review queue, the team page and the warnings, with the data made
through the services and the engine; who may open which team's desk."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from onsite.models import Team
from tests.factories import UserFactory
from tests.onsite.factories import StaffProfileFactory, manager_in
from tests.onsite.flow import SUMMARY, complete, customer_of, enrol, new_programme, visit_made

pytestmark = pytest.mark.django_db


def summaries_awaiting_review(org, count: int, programme=None):
    """`count` customers of the team's manager, each with a visit made and its summary written: a
    summary review waiting for the team leader each."""
    programme = programme or new_programme(org)
    customers = []
    for _ in range(count):
        customer = customer_of(org)
        visit = visit_made(enrol(org, programme, customer))
        complete(visit, "Task_write_summary", org.manager, SUMMARY)
        customers.append(customer)
    return customers


def test_a_summary_awaiting_review_is_in_the_leaders_queue_with_its_customer_and_manager(client, org):
    [customer] = summaries_awaiting_review(org, 1)
    client.force_login(org.leader)

    page = client.get("/desk/").content.decode()

    assert "待审核或退回的总结" in page
    assert customer.code in page and customer.name in page
    assert org.manager.get_full_name() in page
    assert "审核驻点服务总结" in page
