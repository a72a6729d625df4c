"""The warning and appraisal thresholds as versions: a change is a new version from a date (today or
later), with who, when, why and what changed; the values in force on a date are the latest version
effective by then; a value out of range, out of order or in the past is refused, nothing stored."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from onsite.exceptions import InvalidInput, NotPermitted
from onsite.models import ThresholdVersion
from onsite.selectors.thresholds import threshold_page, thresholds_in_force
from onsite.services.thresholds import change_thresholds
from onsite.thresholds import GROUPS, threshold
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator():
    return UserFactory(roles=["coordinator"])


def today() -> date:
    return timezone.localdate()


def change(user, *, days_ahead=0, reason="review of the rules", group="warnings", **values):
    return change_thresholds(
        group=group,
        values=values,
        effective_from=today() + timedelta(days=days_ahead),
        reason=reason,
        user=user,
    )


def test_the_migration_carries_todays_settings_in_as_each_groups_first_version():
    first = ThresholdVersion.objects.get(group="warnings")
    assert first.effective_from == date(2000, 1, 1) and first.changed_by is None
    assert thresholds_in_force("warnings", on=date(2000, 1, 1)) == {
        "VISIT_GRACE_DAYS": 3,
        "VISIT_ON_PLAN_TOLERANCE_DAYS": 1,
        "LEAD_UNTOUCHED_DAYS": 7,
        "FUNNEL_STALLED_DAYS": 30,
        "REVIEW_DUE_DAYS": 2,
        "RENEWAL_WINDOW_DAYS": 90,
        "WIN_BACK_WINDOW_DAYS": 90,
        "TARGET_BEHIND_PERCENT": 20,
    }
    assert set(thresholds_in_force("appraisal")) == set(GROUPS["appraisal"])


def test_a_change_from_next_week_leaves_the_current_values_in_force_until_then(coordinator):
    version = change(coordinator, days_ahead=7, LEAD_UNTOUCHED_DAYS=3, REVIEW_DUE_DAYS="4")

    assert version.changes == {"LEAD_UNTOUCHED_DAYS": [7, 3], "REVIEW_DUE_DAYS": [2, 4]}
    assert (version.changed_by, version.reason) == (coordinator, "review of the rules")
    assert version.values["FUNNEL_STALLED_DAYS"] == 30  # the others as they were
    assert threshold("LEAD_UNTOUCHED_DAYS") == 7
    assert threshold("LEAD_UNTOUCHED_DAYS", on=today() + timedelta(days=6)) == 7
    assert threshold("LEAD_UNTOUCHED_DAYS", on=today() + timedelta(days=7)) == 3
    assert threshold("LEAD_UNTOUCHED_DAYS", on=today() + timedelta(days=400)) == 3


def test_a_change_from_today_is_in_force_at_once_and_dates_before_keep_the_old_values(coordinator):
    change(coordinator, TARGET_BEHIND_PERCENT=30)

    assert threshold("TARGET_BEHIND_PERCENT") == 30
    assert threshold("TARGET_BEHIND_PERCENT", on=today() - timedelta(days=1)) == 20


def test_a_change_builds_on_the_values_in_force_on_its_own_date(coordinator):
    change(coordinator, days_ahead=10, FUNNEL_STALLED_DAYS=40)
    later = change(coordinator, days_ahead=20, REVIEW_DUE_DAYS=3)
    between = change(coordinator, days_ahead=5, REVIEW_DUE_DAYS=5)

    assert later.values["FUNNEL_STALLED_DAYS"] == 40
    assert between.values["FUNNEL_STALLED_DAYS"] == 30
    assert between.changes == {"REVIEW_DUE_DAYS": [2, 5]}


def test_a_second_change_for_the_same_date_corrects_the_first_and_both_stay_in_the_history(coordinator):
    change(coordinator, days_ahead=3, REVIEW_DUE_DAYS=5)
    change(coordinator, days_ahead=3, REVIEW_DUE_DAYS=4, reason="5 was a typo")

    assert threshold("REVIEW_DUE_DAYS", on=today() + timedelta(days=3)) == 4
    page = threshold_page(group="warnings", user=coordinator)
    assert [row.reason for row in page.scheduled] == ["5 was a typo", "review of the rules"]
    assert len(page.history) == 3


def test_out_of_range_unknown_and_unordered_values_are_refused_and_nothing_is_stored(coordinator):
    with pytest.raises(InvalidInput) as refused:
        change(coordinator, REVIEW_DUE_DAYS=0, TARGET_BEHIND_PERCENT="a lot", BONUS=3)
    assert refused.value.errors == {
        "REVIEW_DUE_DAYS": ["Enter a number from 1 to 30."],
        "TARGET_BEHIND_PERCENT": ["Enter a whole number."],
        "BONUS": ["Not a setting of this group."],
    }
    with pytest.raises(InvalidInput) as refused:
        change(coordinator, LEAD_UNTOUCHED_DAYS=40)
    assert refused.value.errors == {
        "LEAD_UNTOUCHED_DAYS": [
            "Warn of an untouched urgent lead no later than a lead stalls: at most 30 days."
        ]
    }
    with pytest.raises(InvalidInput) as refused:
        change(coordinator, group="appraisal", APPRAISAL_ATTAINMENT_CAP_PERCENT=90)
    assert refused.value.errors == {"APPRAISAL_ATTAINMENT_CAP_PERCENT": ["Enter a number from 100 to 300."]}
    assert ThresholdVersion.objects.count() == 2


def test_a_change_cannot_start_in_the_past_needs_a_reason_and_must_change_something(coordinator):
    with pytest.raises(InvalidInput) as refused:
        change(coordinator, days_ahead=-1, reason=" ", REVIEW_DUE_DAYS=3)
    assert refused.value.errors == {
        "effective_from": ["A change takes effect today or later; it cannot start in the past."],
        "reason": ["Say why the values change."],
    }
    with pytest.raises(InvalidInput) as refused:
        change(coordinator, REVIEW_DUE_DAYS=2)
    assert refused.value.errors == {"": ["These are the values in force on that date; nothing changes."]}
    assert ThresholdVersion.objects.count() == 2


@pytest.mark.parametrize("role", ["leadership", "team_leader", "account_manager", "support_staff"])
def test_only_coordinators_change_thresholds(role):
    with pytest.raises(NotPermitted):
        change(UserFactory(roles=[role]), REVIEW_DUE_DAYS=3)
    assert ThresholdVersion.objects.count() == 2


def test_coordinators_and_leadership_read_the_page_others_are_refused(coordinator):
    change(coordinator, days_ahead=7, REVIEW_DUE_DAYS=3)
    page = threshold_page(group="warnings", user=UserFactory(roles=["leadership"]))
    assert page.values["REVIEW_DUE_DAYS"] == 2
    assert [(c.name, c.before, c.after) for c in page.scheduled[0].changes] == [("REVIEW_DUE_DAYS", 2, 3)]
    assert [row.in_force for row in page.history] == [False, True]
    with pytest.raises(NotPermitted):
        threshold_page(group="warnings", user=UserFactory(roles=["team_leader"]))
