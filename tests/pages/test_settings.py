"""The settings pages: the values in force, the changes scheduled and the history, an edit form for
coordinators; leadership reads them without the form and is refused a change (403); anyone else
gets a 404."""

from datetime import timedelta

import pytest
from django.utils import timezone

from onsite.models import IncentiveRule, ServiceStandard, ThresholdVersion
from onsite.selectors.standards import standard_in_effect
from onsite.thresholds import threshold
from onsite.views.navigation import navigation_for
from tests.onsite.flow import build_org
from tests.pages.clients import signed_in

pytestmark = pytest.mark.django_db

PAGES = [
    "/settings/",
    "/settings/standards/",
    "/settings/incentives/",
    "/settings/warnings/",
    "/settings/appraisal/",
]


@pytest.fixture
def org():
    return build_org()


def english(user):
    return signed_in(user, headers={"accept-language": "en"})


def next_week() -> str:
    return (timezone.localdate() + timedelta(days=7)).isoformat()


@pytest.mark.parametrize("path", PAGES)
def test_coordinators_and_leadership_see_each_page_others_get_a_404(org, path):
    assert english(org.coordinator).get(path).status_code == 200
    assert english(org.director).get(path).status_code == 200
    for user in (org.leader, org.manager, org.support["network"]):
        assert english(user).get(path).status_code == 404


def test_leadership_reads_without_a_form_and_a_change_it_posts_is_refused_with_403(org):
    page = english(org.director).get("/settings/warnings/").content.decode()
    assert "only coordinators change them" in page and '<form method="post" class="settings-form' not in page
    response = english(org.director).post(
        "/settings/warnings/", {"REVIEW_DUE_DAYS": "3", "effective_from": next_week(), "reason": "x"}
    )
    assert response.status_code == 403
    assert ThresholdVersion.objects.filter(group="warnings").count() == 1


def test_settings_are_in_the_navigation_of_coordinators_and_leadership_only(org):
    def urls(user):
        return [item.url for item in navigation_for(user)]

    assert urls(org.coordinator).count("/settings/") == 1 and "/settings/" in urls(org.director)
    assert "/settings/" not in urls(org.leader)


def test_a_threshold_change_for_next_week_is_scheduled_and_shown_in_the_history(org):
    client = english(org.coordinator)
    response = client.post(
        "/settings/warnings/",
        {
            "REVIEW_DUE_DAYS": "3",
            "LEAD_UNTOUCHED_DAYS": "",
            "effective_from": next_week(),
            "reason": "faster reviews",
        },
    )
    assert response.status_code == 302
    assert threshold("REVIEW_DUE_DAYS") == 2
    assert threshold("REVIEW_DUE_DAYS", on=timezone.localdate() + timedelta(days=7)) == 3

    page = client.get("/settings/warnings/").content.decode()
    assert "Days the team leader has to review a submitted summary" in page
    assert "faster reviews" in page and "scheduled" in page
    assert org.coordinator.get_full_name() in page or org.coordinator.username in page


def test_a_refused_change_shows_the_messages_and_keeps_what_was_typed(org):
    response = english(org.coordinator).post(
        "/settings/appraisal/",
        {"APPRAISAL_ATTAINMENT_CAP_PERCENT": "90", "effective_from": "2000-01-01", "reason": "lower"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a number from 100 to 300." in page
    assert "it cannot start in the past" in page
    assert 'value="90"' in page and 'value="lower"' in page
    assert ThresholdVersion.objects.filter(group="appraisal").count() == 1


def test_a_standards_change_from_next_week_leaves_todays_terms_and_is_in_the_history(org):
    client = english(org.coordinator)
    response = client.post(
        "/settings/standards/",
        {
            "tier": "B",
            "support_response_hours": "3",
            "effective_from": next_week(),
            "reason": "faster B support",
        },
    )
    assert response.status_code == 302
    assert standard_in_effect("B").support_response_hours == 4
    assert ServiceStandard.objects.filter(tier="B").latest("effective_from").support_response_hours == 3

    page = client.get("/settings/standards/").content.decode()
    assert "faster B support" in page and "scheduled" in page


def test_an_incentive_change_from_today_is_in_force_at_once(org):
    response = english(org.coordinator).post(
        "/settings/incentives/",
        {
            "event": "lead_won",
            "points": "30",
            "effective_from": timezone.localdate().isoformat(),
            "reason": "wins",
        },
    )
    assert response.status_code == 302
    rule = IncentiveRule.objects.filter(event="lead_won").latest("effective_from")
    assert (rule.points, rule.created_by, rule.reason) == (30, org.coordinator, "wins")


def test_an_unknown_settings_group_is_a_404(org):
    assert english(org.coordinator).get("/settings/bonuses/").status_code == 404
