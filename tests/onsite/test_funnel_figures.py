"""The funnel's figures (`onsite.selectors.funnel`) against values worked out by hand from leads and
moves built in the test, per manager, team, region and period, for readers who may see more or less,
in a constant number of queries."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from onsite.exceptions import InvalidInput, NotPermitted
from onsite.models import FunnelStageSetting
from onsite.selectors.funnel import sales_funnel
from tests.onsite.factories import CustomerFactory, LeadFactory, LeadStageMoveFactory
from tests.onsite.flow import at, customer_of
from tests.onsite.threshold_values import set_thresholds

pytestmark = pytest.mark.django_db
NOW = at(2026, 12, 31, 12)
D = Decimal


def funnel_lead(customer, steps: list[tuple[str, datetime]], *, status: str = "following", **values):
    """A lead that made these moves (stage, when), the last being where it is now."""
    lead = LeadFactory(
        customer=customer,
        status=status,
        stage=steps[-1][0],
        created_at=steps[0][1],
        stage_entered_at=steps[-1][1],
        **values,
    )
    previous = ""
    for (stage, moved), following in zip(steps, [*steps[1:], (None, None)], strict=True):
        LeadStageMoveFactory(
            lead=lead, from_stage=previous, to_stage=stage, at=moved, left_at=following[1], actor=lead.owner
        )
        previous = stage
    return lead


WON = {"status": "won", "won_value": D(1000)}


@pytest.fixture
def leads(org):
    """Seven leads, six of qian's (the branch) and one of wu's (the county):

    | lead | stage now | status | value | moves (stay length)
    | L1 | preparation | new | 100,000 | prep 12-01 09:00 (still)
    | L2 | entry_point | following | 200,000 | prep 12-16 → 12-20 (4 d)
    | L3 | solution | following | 300,000 | prep 10-01 → cp 10-03 (2 d) → solution 11-01 (29 d in cp)
    | L4 | won | won | 250,000 won | prep 10-01 → solution 10-11 (10 d) → won 10-21 (10 d)
    | L5 | after_sale | won | 50,000 won | prep 09-01 → solution 09-07 (6 d) → won 09-10 (3 d) → after 10-10 (30 d)
    | L6 | sales_visit | lost | 400,000 | prep 10-01 → sales_visit 10-02 (1 d), then lost
    | L7 (wu) | pain_points | following | 80,000 | prep 12-07 → pain 12-15 (8 d)
    """
    ours = customer_of(org)
    theirs = CustomerFactory(region=org.county, account_manager=org.other_manager)
    return {
        "L1": funnel_lead(
            ours, [("preparation", at(2026, 12, 1, 9))], status="new", estimated_value=D(100000)
        ),
        "L2": funnel_lead(
            ours,
            [("preparation", at(2026, 12, 16, 9)), ("entry_point", at(2026, 12, 20, 9))],
            estimated_value=D(200000),
        ),
        "L3": funnel_lead(
            ours,
            [
                ("preparation", at(2026, 10, 1, 9)),
                ("customer_profile", at(2026, 10, 3, 9)),
                ("solution", at(2026, 11, 1, 9)),
            ],
            estimated_value=D(300000),
        ),
        "L4": funnel_lead(
            ours,
            [
                ("preparation", at(2026, 10, 1, 9)),
                ("solution", at(2026, 10, 11, 9)),
                ("won", at(2026, 10, 21, 9)),
            ],
            status="won",
            estimated_value=D(280000),
            won_value=D(250000),
        ),
        "L5": funnel_lead(
            ours,
            [
                ("preparation", at(2026, 9, 1, 9)),
                ("solution", at(2026, 9, 7, 9)),
                ("won", at(2026, 9, 10, 9)),
                ("after_sale", at(2026, 10, 10, 9)),
            ],
            status="won",
            won_value=D(50000),
        ),
        "L6": funnel_lead(
            ours,
            [("preparation", at(2026, 10, 1, 9)), ("sales_visit", at(2026, 10, 2, 9))],
            status="lost",
            estimated_value=D(400000),
            lost_reason="预算取消",
        ),
        "L7": funnel_lead(
            theirs,
            [("preparation", at(2026, 12, 7, 9)), ("pain_points", at(2026, 12, 15, 9))],
            estimated_value=D(80000),
        ),
    }


def figures(funnel, field: str) -> dict:
    return {f.stage: getattr(f, field) for f in funnel.stages}


class TestFigures:
    def test_count_value_and_lost_per_stage(self, org, leads):
        funnel = sales_funnel(user=org.coordinator, now=NOW)

        assert figures(funnel, "count") == {
            "preparation": 1,
            "customer_profile": 0,
            "entry_point": 1,
            "sales_visit": 0,
            "pain_points": 1,
            "solution": 1,
            "won": 1,
            "after_sale": 1,
        }
        assert figures(funnel, "value") == {
            "preparation": D(100000),
            "customer_profile": D(0),
            "entry_point": D(200000),
            "sales_visit": D(0),  # the lead there was lost
            "pain_points": D(80000),
            "solution": D(300000),
            "won": D(250000),  # the value won, not the estimate
            "after_sale": D(50000),
        }
        assert figures(funnel, "lost") == {
            stage: int(stage == "sales_visit") for stage in figures(funnel, "lost")
        }

    def test_the_weighted_pipeline_is_each_open_stages_value_times_its_win_probability(self, org, leads):
        funnel = sales_funnel(user=org.coordinator, now=NOW)

        # Default probabilities 5, 10, 20, 30, 50, 70 (open stages), 100, 100.
        assert figures(funnel, "weighted") == {
            "preparation": D(5000),
            "customer_profile": D(0),
            "entry_point": D(40000),
            "sales_visit": D(0),
            "pain_points": D(40000),
            "solution": D(210000),
            "won": D(250000),
            "after_sale": D(50000),
        }
        assert funnel.weighted_pipeline == D(5000) + D(40000) + D(40000) + D(210000)

    def test_the_probabilities_are_the_ones_the_coordinator_set(self, org, leads):
        FunnelStageSetting.objects.filter(stage="solution").update(win_probability=90)
        FunnelStageSetting.objects.filter(stage="preparation").update(win_probability=0)

        funnel = sales_funnel(user=org.coordinator, now=NOW)

        assert funnel.stage("solution").win_probability == 90
        assert funnel.weighted_pipeline == D(0) + D(40000) + D(40000) + D(270000)

    def test_conversion_is_the_share_of_leads_reaching_a_stage_that_reach_the_next(self, org, leads):
        funnel = sales_funnel(user=org.coordinator, now=NOW)

        # How far each got: L1 1, L2 3, L3 6, L4 7, L5 8, L6 4 (lost there), L7 5.
        assert figures(funnel, "reached") == {
            "preparation": 7,
            "customer_profile": 6,
            "entry_point": 6,
            "sales_visit": 5,
            "pain_points": 4,
            "solution": 3,
            "won": 2,
            "after_sale": 1,
        }
        assert figures(funnel, "conversion") == {
            "preparation": D(6) / 7,
            "customer_profile": D(1),
            "entry_point": D(5) / 6,
            "sales_visit": D(4) / 5,
            "pain_points": D(3) / 4,
            "solution": D(2) / 3,
            "won": D(1) / 2,
            "after_sale": None,
        }

    def test_median_days_per_stage_over_the_stays_that_ended_with_a_move(self, org, leads):
        funnel = sales_funnel(user=org.coordinator, now=NOW)

        # Preparation: 4, 2, 10, 6, 1, 8 days → 1 2 4 | 6 8 10 → (4 + 6) / 2.
        assert figures(funnel, "median_days") == {
            "preparation": D("5.00"),
            "customer_profile": D("29.00"),
            "entry_point": None,  # L2 is still there
            "sales_visit": None,  # L6 was lost there: it did not move on
            "pain_points": None,
            "solution": D("6.50"),  # 10 and 3
            "won": D("30.00"),
            "after_sale": None,
        }

    def test_the_median_is_the_middle_stay_or_the_mean_of_the_two_middle_ones(self, org, leads):
        ours = leads["L1"].customer
        funnel_lead(ours, [("preparation", at(2026, 12, 1, 9)), ("entry_point", at(2026, 12, 3, 21))])

        funnel = sales_funnel(user=org.coordinator, now=NOW, manager=org.manager)

        # qian's preparation stays: 4, 2, 10, 6, 1 and 2.5 days → 1 2 2.5 | 4 6 10 → 3.25.
        assert funnel.stage("preparation").median_days == D("3.25")
        # Without the new one: 1 2 4 6 10 → 4.
        leads["L1"].customer.leads.filter(stage_entered_at=at(2026, 12, 3, 21)).delete()
        assert sales_funnel(user=org.coordinator, now=NOW, manager=org.manager).stage(
            "preparation"
        ).median_days == D("4.00")

    def test_stays_of_equal_length_each_count_towards_the_median(self, org, leads):
        ours = leads["L1"].customer
        for _ in range(3):
            funnel_lead(ours, [("solution", at(2026, 12, 1, 9)), ("won", at(2026, 12, 2, 9))], **WON)

        funnel = sales_funnel(user=org.coordinator, now=NOW)

        # Solution stays: 10, 3 and three of 1 day → 1 1 1 3 10 → 1.
        assert funnel.stage("solution").median_days == D("1.00")
        funnel_lead(ours, [("solution", at(2026, 12, 1, 9)), ("won", at(2026, 12, 4, 9))], **WON)
        # 1 1 1 | 3 3 10 → 2.
        assert sales_funnel(user=org.coordinator, now=NOW).stage("solution").median_days == D("2.00")

    def test_a_stay_is_measured_to_the_hundredth_of_a_day(self, org, leads):
        lead = funnel_lead(
            leads["L1"].customer,
            [("preparation", at(2026, 12, 1, 9)), ("entry_point", at(2026, 12, 2, 11, 0, 36))],
        )

        # 1 day 2 h 0 min 36 s = 1.08375 days, to the hundredth half up.
        assert lead.stage_moves.get(to_stage="preparation").stay_days == D("1.08")
        assert sales_funnel(user=org.coordinator, now=NOW).stage("entry_point").median_days is None

    def test_open_leads_in_a_stage_longer_than_the_threshold_are_stalled(self, org, leads, settings):
        funnel = sales_funnel(user=org.coordinator, now=NOW)

        # 30 days before 12-31 12:00 is 12-01 12:00: L1 (since 12-01 09:00) and L3 (since 11-01).
        assert funnel.stalled_after_days == 30
        assert [(s.lead_id, s.stage, s.days) for s in funnel.stalled] == [
            (leads["L3"].pk, "solution", 60),
            (leads["L1"].pk, "preparation", 30),
        ]
        assert figures(funnel, "stalled") == {
            stage: int(stage in ("preparation", "solution")) for stage in figures(funnel, "stalled")
        }

        set_thresholds(FUNNEL_STALLED_DAYS=15)
        funnel = sales_funnel(user=org.coordinator, now=NOW)
        # Also L7 (pain points since 12-15 09:00, 16 days); L2 (entry point since 12-20) is not.
        assert {s.lead_id for s in funnel.stalled} == {leads[k].pk for k in ("L1", "L3", "L7")}
        assert funnel.stalled_total == 3

    def test_the_longest_stalled_are_listed_and_all_of_them_counted(self, org, leads):
        funnel = sales_funnel(user=org.coordinator, now=NOW, stalled_listed=1)

        assert [s.lead_id for s in funnel.stalled] == [leads["L3"].pk]
        assert funnel.stalled_total == 2
        assert sum(figures(funnel, "stalled").values()) == 2


class TestScope:
    def test_per_manager(self, org, leads):
        funnel = sales_funnel(user=org.coordinator, manager=org.other_manager, now=NOW)

        assert {f.stage: f.count for f in funnel.stages if f.count} == {"pain_points": 1}
        assert funnel.weighted_pipeline == D(40000)

    def test_per_team_and_region(self, org, leads):
        team = sales_funnel(user=org.coordinator, team=org.team, now=NOW)
        county = sales_funnel(user=org.coordinator, region=org.county, now=NOW)
        branch = sales_funnel(user=org.coordinator, region=org.branch, now=NOW)

        assert team.stage("preparation").reached == branch.stage("preparation").reached == 7
        assert county.stage("preparation").reached == 1  # a branch covers its counties, not back
        assert county.stage("pain_points").count == 1
        assert county.stage("preparation").median_days == D("8.00")  # L7's stay alone
        assert team.stage("preparation").median_days == D("5.00")

    def test_per_period_counts_the_leads_created_in_it(self, org, leads):
        funnel = sales_funnel(user=org.coordinator, start=date(2026, 11, 1), end=date(2027, 1, 1), now=NOW)

        # L1 (12-01), L2 (12-16) and L7 (12-07).
        assert funnel.stage("preparation").reached == 3
        assert {f.stage: f.count for f in funnel.stages if f.count} == {
            "preparation": 1,
            "entry_point": 1,
            "pain_points": 1,
        }
        assert funnel.stage("preparation").median_days == D("6.00")  # 4 and 8

    def test_a_manager_reads_only_the_leads_of_the_customers_they_look_after(self, org, leads):
        funnel = sales_funnel(user=org.other_manager, now=NOW)

        assert funnel.stage("preparation").reached == 1
        assert [s.lead_id for s in funnel.stalled] == []
        # The medians too are of wu's own leads: L7's eight days in preparation, nothing else.
        assert {f.stage: f.median_days for f in funnel.stages if f.median_days} == {"preparation": D("8.00")}

    def test_a_manager_may_not_ask_for_another_managers_funnel(self, org, leads):
        with pytest.raises(NotPermitted):
            sales_funnel(user=org.manager, manager=org.other_manager, now=NOW)

    def test_leadership_reads_every_funnel_and_the_team_leader_their_team(self, org, leads):
        assert sales_funnel(user=org.director, now=NOW).stage("preparation").reached == 7
        assert sales_funnel(user=org.leader, team=org.team, now=NOW).stage("preparation").reached == 7

    @pytest.mark.parametrize(
        ("start", "end"),
        [(date(2026, 12, 1), date(2026, 12, 1)), ("2026-12-01", None), (datetime(2026, 12, 1), None)],
    )
    def test_a_period_that_is_not_one_is_refused(self, org, start, end):
        with pytest.raises(InvalidInput):
            sales_funnel(user=org.coordinator, start=start, end=end)


@pytest.mark.parametrize("size", [1, 30])
def test_the_funnel_reads_in_a_constant_number_of_queries_whatever_the_number_of_leads(
    org, size, django_assert_num_queries
):
    ours = customer_of(org)
    stages = ["preparation", "entry_point", "solution", "won"]
    for n in range(size):
        steps = [(stage, at(2026, 10, 1 + i + n % 5, 9)) for i, stage in enumerate(stages[: 1 + n % 4])]
        extra = {"won_value": D(1000)} if steps[-1][0] == "won" else {}
        funnel_lead(ours, steps, status="won" if extra else "following", estimated_value=D(5000), **extra)
    reader = get_user_model().objects.get(pk=org.coordinator.pk)

    # The reader's roles, the thresholds in force, the stage settings, the aggregate, the medians,
    # the stalled leads.
    with django_assert_num_queries(6):
        funnel = sales_funnel(user=reader, now=NOW)

    assert funnel.stage("preparation").reached == size
