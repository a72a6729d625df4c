"""Customer screening (seed 002): each dimension alone, weighted together, the customers who are
always in, the filters, and the criteria it refuses."""

from decimal import Decimal

import pytest
from django.utils import translation

from onsite.exceptions import InvalidInput
from onsite.models import Industry, Region, Tier
from onsite.selectors.screening import (
    DEFAULT_INDUSTRY_SCORES,
    DIMENSIONS,
    INDUSTRY,
    POTENTIAL,
    VALUE,
    Reason,
    ScreenedCustomer,
    ScreeningCriteria,
    describe,
    screen_customers,
)
from onsite.services.programmes import end_enrolment_early
from tests.factories import UserFactory
from tests.onsite.factories import CustomerFactory, RegionFactory
from tests.onsite.flow import build_org, customer_of, deploy_processes, enrol, new_programme
from workflows.actors import SYSTEM

pytestmark = pytest.mark.django_db
ALWAYS_IN = "Party, government or military customer: always included."


@pytest.fixture
def org():
    return build_org()


def words(screened: ScreenedCustomer) -> tuple[str, ...]:
    return tuple(describe(reason) for reason in screened.reasons)


def ranked(criteria: ScreeningCriteria | None = None) -> list[tuple[str, Decimal]]:
    return [(s.customer.code, s.score) for s in screen_customers(criteria, user=SYSTEM)]


def only(dimension: str, **kwargs) -> ScreeningCriteria:
    return ScreeningCriteria(dimensions=(dimension,), **kwargs)


# --- each dimension alone -------------------------------------------------------------------------


def test_industry_alone_ranks_customers_by_the_score_of_their_industry(org):
    customer_of(org, code="C1", industry=Industry.OTHER)
    customer_of(org, code="C2", industry=Industry.FINANCE)
    customer_of(org, code="C3", industry=Industry.RETAIL)
    customer_of(org, code="C4", industry=Industry.EDUCATION)

    screened = screen_customers(only(INDUSTRY), user=SYSTEM)

    assert [(s.customer.code, s.score, s.scores) for s in screened] == [
        ("C2", Decimal("90.00"), {INDUSTRY: Decimal("90.00")}),
        ("C4", Decimal("80.00"), {INDUSTRY: Decimal("80.00")}),
        ("C3", Decimal("60.00"), {INDUSTRY: Decimal("60.00")}),
        ("C1", Decimal("40.00"), {INDUSTRY: Decimal("40.00")}),
    ]
    assert words(screened[0]) == ("Industry finance scores 90.",)


def test_industry_scores_can_be_replaced_and_an_unscored_industry_scores_zero(org):
    customer_of(org, code="C1", industry=Industry.FINANCE)
    customer_of(org, code="C2", industry=Industry.RETAIL)
    customer_of(org, code="C3", industry=Industry.TOURISM)

    criteria = only(INDUSTRY, industry_scores={Industry.RETAIL: 95, Industry.FINANCE: 30})

    assert ranked(criteria) == [("C2", Decimal("95.00")), ("C1", Decimal("30.00")), ("C3", Decimal("0.00"))]


def test_value_alone_ranks_customers_by_their_share_of_candidates_with_a_lower_monthly_value(org):
    customer_of(org, code="C1", monthly_value=Decimal("5000"))
    customer_of(org, code="C2", monthly_value=Decimal("80000"))
    customer_of(org, code="C3", monthly_value=Decimal("1000"))
    customer_of(org, code="C4", monthly_value=Decimal("20000"))
    customer_of(org, code="C5", monthly_value=Decimal("20000"))

    screened = screen_customers(only(VALUE), user=SYSTEM)

    # Five candidates: each other customer is a quarter; the two equal values share their place.
    assert [(s.customer.code, s.score) for s in screened] == [
        ("C2", Decimal("100.00")),
        ("C4", Decimal("62.50")),
        ("C5", Decimal("62.50")),
        ("C1", Decimal("25.00")),
        ("C3", Decimal("0.00")),
    ]
    assert words(screened[0]) == ("Value contribution 80,000.00 CNY a month, above 100% of the candidates.",)
    assert words(screened[-1]) == ("Value contribution 1,000.00 CNY a month, above 0% of the candidates.",)


def test_a_single_candidate_has_the_full_value_score(org):
    customer_of(org, code="C1", monthly_value=Decimal("0"))

    assert ranked(only(VALUE)) == [("C1", Decimal("100.00"))]


def test_potential_alone_ranks_customers_from_very_high_to_very_low(org):
    for potential in (3, 1, 5, 2, 4):
        customer_of(org, code=f"P{potential}", potential=potential)

    screened = screen_customers(only(POTENTIAL), user=SYSTEM)

    assert [(s.customer.code, s.score) for s in screened] == [
        ("P5", Decimal("100.00")),
        ("P4", Decimal("75.00")),
        ("P3", Decimal("50.00")),
        ("P2", Decimal("25.00")),
        ("P1", Decimal("0.00")),
    ]
    assert words(screened[0]) == ("Development potential 5 of 5.",)


# --- weighted together ----------------------------------------------------------------------------


@pytest.fixture
def big_spender_and_riser(org):
    """A customer who pays much today but will not grow, and one who pays little but will."""
    customer_of(org, code="SPEND", industry=Industry.FINANCE, monthly_value=Decimal("100000"), potential=1)
    customer_of(org, code="RISE", industry=Industry.FINANCE, monthly_value=Decimal("1000"), potential=5)


def test_by_default_the_three_dimensions_are_weighted_two_five_three(big_spender_and_riser):
    screened = screen_customers(user=SYSTEM)

    # SPEND: 0.2 × 90 + 0.5 × 100 + 0.3 × 0; RISE: 0.2 × 90 + 0.5 × 0 + 0.3 × 100.
    assert [(s.customer.code, s.score) for s in screened] == [
        ("SPEND", Decimal("68.00")),
        ("RISE", Decimal("48.00")),
    ]
    assert screened[0].scores == {
        INDUSTRY: Decimal("90.00"),
        VALUE: Decimal("100.00"),
        POTENTIAL: Decimal("0.00"),
    }
    assert words(screened[0]) == (
        "Industry finance scores 90.",
        "Value contribution 100,000.00 CNY a month, above 100% of the candidates.",
        "Development potential 1 of 5.",
    )


def test_weighting_potential_above_value_puts_the_customer_who_will_grow_first(big_spender_and_riser):
    criteria = ScreeningCriteria(weights={INDUSTRY: 0, VALUE: 1, POTENTIAL: 3})

    assert ranked(criteria) == [("RISE", Decimal("75.00")), ("SPEND", Decimal("25.00"))]


def test_weights_are_relative_so_scaling_them_changes_nothing(big_spender_and_riser):
    tenfold = ScreeningCriteria(weights={INDUSTRY: 2, VALUE: 5, POTENTIAL: 3})
    as_text = ScreeningCriteria(weights={INDUSTRY: "0.2", VALUE: "0.5", POTENTIAL: "0.3"})

    assert (
        ranked(tenfold)
        == ranked(as_text)
        == ranked()
        == [("SPEND", Decimal("68.00")), ("RISE", Decimal("48.00"))]
    )


def test_a_weight_left_out_takes_its_default(big_spender_and_riser):
    # Only potential is given: industry 0.2 and value 0.5 stay. RISE: (18 + 0 + 4 × 100) / 4.7.
    criteria = ScreeningCriteria(weights={POTENTIAL: 4})

    assert ranked(criteria) == [("RISE", Decimal("88.94")), ("SPEND", Decimal("14.47"))]


def test_two_dimensions_combine_without_the_third(big_spender_and_riser):
    criteria = ScreeningCriteria(dimensions=(VALUE, POTENTIAL), weights={VALUE: 1, POTENTIAL: 1})

    screened = screen_customers(criteria, user=SYSTEM)

    assert [(s.customer.code, s.score) for s in screened] == [
        ("RISE", Decimal("50.00")),
        ("SPEND", Decimal("50.00")),
    ]
    assert all(set(s.scores) == {VALUE, POTENTIAL} for s in screened)
    assert not any("Industry" in reason for s in screened for reason in words(s))


# --- party, government and military customers -----------------------------------------------------


def test_party_government_military_customer_is_in_whatever_its_value(org):
    customer_of(org, code="BANK", industry=Industry.FINANCE, monthly_value=Decimal("90000"), potential=5)
    customer_of(org, code="SHOP", industry=Industry.RETAIL, monthly_value=Decimal("50000"), potential=5)
    customer_of(
        org, code="GOV", industry=Industry.PARTY_GOVERNMENT_MILITARY, monthly_value=Decimal("10"), potential=1
    )

    screened = screen_customers(ScreeningCriteria(min_score=Decimal(60), limit=1), user=SYSTEM)

    # BANK 98 and SHOP 67 pass the minimum, but the limit keeps only BANK; GOV scores 20.
    assert [(s.customer.code, s.always_in) for s in screened] == [("BANK", False), ("GOV", True)]
    government = screened[1]
    # Its score is what its dimensions make it; it is in despite the minimum and the limit.
    assert government.score == Decimal("20.00") < Decimal(60)
    assert words(government) == (
        ALWAYS_IN,
        "Value contribution 10.00 CNY a month, above 0% of the candidates.",
        "Development potential 1 of 5.",
    )


def test_party_government_military_customer_is_in_even_without_the_industry_dimension(org):
    customer_of(org, code="GOV", industry=Industry.PARTY_GOVERNMENT_MILITARY, potential=1)
    customer_of(org, code="BANK", industry=Industry.FINANCE, potential=5)

    screened = screen_customers(only(POTENTIAL, min_score=Decimal(50)), user=SYSTEM)

    assert [(s.customer.code, s.score, s.always_in) for s in screened] == [
        ("BANK", Decimal("100.00"), False),
        ("GOV", Decimal("0.00"), True),
    ]
    assert words(screened[1]) == (ALWAYS_IN, "Development potential 1 of 5.")


def test_party_government_military_customer_is_screened_like_any_other_when_not_always_included(org):
    customer_of(org, code="BANK", industry=Industry.FINANCE, monthly_value=Decimal("90000"), potential=5)
    customer_of(
        org, code="GOV", industry=Industry.PARTY_GOVERNMENT_MILITARY, monthly_value=Decimal("10"), potential=1
    )
    criteria = ScreeningCriteria(min_score=Decimal(60), always_include_party_government_military=False)

    screened = screen_customers(criteria, user=SYSTEM)

    assert [(s.customer.code, s.always_in) for s in screened] == [("BANK", False)]
    everyone = screen_customers(
        ScreeningCriteria(always_include_party_government_military=False), user=SYSTEM
    )
    government = next(s for s in everyone if s.customer.code == "GOV")
    assert not government.always_in
    assert words(government)[0] == "Industry party, government and military scores 100."


def test_every_result_has_a_score_from_0_to_100_and_a_reason_for_each_dimension(org):
    for number, industry in enumerate(Industry.values):
        customer_of(
            org,
            code=f"C{number:02d}",
            industry=industry,
            monthly_value=Decimal(number * 1500),
            potential=number % 5 + 1,
        )

    screened = screen_customers(user=SYSTEM)

    assert len(screened) == len(Industry.values)
    for item in screened:
        assert Decimal(0) <= item.score <= Decimal(100)
        assert item.score == item.score.quantize(Decimal("0.01"))
        assert set(item.scores) == set(DIMENSIONS)
        assert len(item.reasons) == 3 and all(r.endswith(".") for r in words(item))
    scores = [s.score for s in screened]
    assert scores == sorted(scores, reverse=True)
    government = next(s for s in screened if s.customer.industry == Industry.PARTY_GOVERNMENT_MILITARY)
    assert words(government)[0] == ALWAYS_IN


def test_equal_scores_are_listed_by_customer_code(org):
    for code in ("C3", "C1", "C2"):
        customer_of(org, code=code)

    assert [code for code, _score in ranked()] == ["C1", "C2", "C3"]


# --- filters --------------------------------------------------------------------------------------


def test_a_region_screens_its_own_customers_and_its_counties_but_no_other_branch(org):
    customer_of(org, code="BRANCH")
    CustomerFactory(code="COUNTY", region=org.county, account_manager=org.manager)
    elsewhere = RegionFactory(code="WH", name="芜湖分公司")
    CustomerFactory(code="WUHU", region=elsewhere)
    CustomerFactory(
        code="WUHU-COUNTY", region=RegionFactory(code="WH-NL", kind=Region.Kind.COUNTY, parent=elsewhere)
    )

    assert {code for code, _ in ranked(ScreeningCriteria(region=org.branch))} == {"BRANCH", "COUNTY"}
    assert {code for code, _ in ranked(ScreeningCriteria(region=org.county))} == {"COUNTY"}
    assert {code for code, _ in ranked(ScreeningCriteria(region=elsewhere))} == {"WUHU", "WUHU-COUNTY"}


def test_value_shares_are_measured_among_the_customers_screened(org):
    customer_of(org, code="SMALL", monthly_value=Decimal("1000"))
    CustomerFactory(code="HUGE", region=RegionFactory(code="WH"), monthly_value=Decimal("999999"))

    in_branch = screen_customers(only(VALUE, region=org.branch), user=SYSTEM)

    # Alone in its region, the small customer is the most valuable candidate.
    assert [(s.customer.code, s.score) for s in in_branch] == [("SMALL", Decimal("100.00"))]
    assert ranked(only(VALUE)) == [("HUGE", Decimal("100.00")), ("SMALL", Decimal("0.00"))]


def test_industries_and_tiers_narrow_the_candidates(org):
    customer_of(org, code="FIN-A", industry=Industry.FINANCE, tier=Tier.A)
    customer_of(org, code="FIN-C", industry=Industry.FINANCE, tier=Tier.C)
    customer_of(org, code="EDU-A", industry=Industry.EDUCATION, tier=Tier.A)
    customer_of(org, code="GOV-C", industry=Industry.PARTY_GOVERNMENT_MILITARY, tier=Tier.C)

    def codes(**kwargs):
        return {code for code, _ in ranked(ScreeningCriteria(**kwargs))}

    assert codes(industries=(Industry.FINANCE,)) == {"FIN-A", "FIN-C"}
    assert codes(tiers=(Tier.A,)) == {"FIN-A", "EDU-A"}
    assert codes(industries=(Industry.FINANCE, Industry.EDUCATION), tiers=(Tier.A,)) == {"FIN-A", "EDU-A"}
    # Always in means always in among the candidates: the filters still apply to them.
    assert codes(tiers=(Tier.A,), min_score=Decimal(0)) == {"FIN-A", "EDU-A"}
    assert codes(industries=(Industry.PARTY_GOVERNMENT_MILITARY,)) == {"GOV-C"}


def test_min_score_and_limit_keep_the_best_customers(org):
    for potential in range(1, 6):
        customer_of(org, code=f"P{potential}", potential=potential)

    assert ranked(only(POTENTIAL, min_score=Decimal(50))) == [
        ("P5", Decimal("100.00")),
        ("P4", Decimal("75.00")),
        ("P3", Decimal("50.00")),
    ]
    assert [code for code, _ in ranked(only(POTENTIAL, limit=2))] == ["P5", "P4"]
    assert [code for code, _ in ranked(only(POTENTIAL, min_score=Decimal(80), limit=2))] == ["P5"]


class TestEnrolledCustomers:
    @pytest.fixture
    def customers(self, org):
        deploy_processes()
        return {code: customer_of(org, code=code) for code in ("ACTIVE", "ENDED", "NEVER")}

    def test_customers_in_an_active_programme_are_left_out(self, org, customers):
        programme = new_programme(org)
        enrol(org, programme, customers["ACTIVE"])
        ended = enrol(org, programme, customers["ENDED"])
        end_enrolment_early(enrolment=ended, reason="客户撤销驻点需求", user=org.coordinator)

        # A customer whose programme ended early can be screened again for the next one.
        assert [code for code, _ in ranked()] == ["ENDED", "NEVER"]

    def test_enrolled_customers_are_kept_when_asked(self, org, customers):
        enrol(org, new_programme(org), customers["ACTIVE"])

        assert [code for code, _ in ranked(ScreeningCriteria(exclude_enrolled=False))] == [
            "ACTIVE",
            "ENDED",
            "NEVER",
        ]


# --- refused criteria -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criteria", "field", "message"),
    [
        (
            ScreeningCriteria(weights={VALUE: -1}),
            "weights",
            "Weights must be numbers of zero or more.",
        ),
        (
            ScreeningCriteria(weights={VALUE: "a lot"}),
            "weights",
            "Weights must be numbers of zero or more.",
        ),
        (
            ScreeningCriteria(weights={VALUE: "Infinity"}),
            "weights",
            "Weights must be numbers of zero or more.",
        ),
        (
            ScreeningCriteria(weights={VALUE: float("nan")}),
            "weights",
            "Weights must be numbers of zero or more.",
        ),
        (
            ScreeningCriteria(weights={INDUSTRY: 0, VALUE: 0, POTENTIAL: 0}),
            "weights",
            "At least one weight must be above zero.",
        ),
        (
            ScreeningCriteria(dimensions=(VALUE,), weights={VALUE: Decimal("0.00")}),
            "weights",
            "At least one weight must be above zero.",
        ),
        (
            ScreeningCriteria(dimensions=("size",)),
            "dimensions",
            "Choose one or more of: industry, value, potential.",
        ),
        (
            ScreeningCriteria(dimensions=()),
            "dimensions",
            "Choose one or more of: industry, value, potential.",
        ),
        (ScreeningCriteria(limit=0), "limit", "Choose at least one customer."),
        (ScreeningCriteria(industries=("fintech",)), "industries", "Unknown industry: fintech."),
        (ScreeningCriteria(tiers=("S",)), "tiers", "Unknown service tier: S."),
        (
            ScreeningCriteria(industry_scores={**DEFAULT_INDUSTRY_SCORES, "fintech": 90}),
            "industry_scores",
            "Score known industries from 0 to 100.",
        ),
        (
            ScreeningCriteria(industry_scores={Industry.FINANCE: 150}),
            "industry_scores",
            "Score known industries from 0 to 100.",
        ),
        (
            ScreeningCriteria(industry_scores={Industry.FINANCE: "high"}),
            "industry_scores",
            "Score known industries from 0 to 100.",
        ),
    ],
    ids=[
        "negative-weight",
        "weight-not-a-number",
        "infinite-weight",
        "nan-weight",
        "all-weights-zero",
        "only-dimension-weighs-zero",
        "unknown-dimension",
        "no-dimension",
        "limit-zero",
        "unknown-industry",
        "unknown-tier",
        "score-for-an-unknown-industry",
        "industry-score-above-100",
        "industry-score-not-a-number",
    ],
)
def test_invalid_criteria_are_refused_with_a_message_on_the_field(org, criteria, field, message):
    customer_of(org)

    with pytest.raises(InvalidInput) as refused:
        screen_customers(criteria, user=SYSTEM)

    assert refused.value.errors == {field: [message]}


def test_several_invalid_criteria_are_reported_together(org):
    criteria = ScreeningCriteria(dimensions=(VALUE, "size"), weights={VALUE: -2}, limit=-1)

    with pytest.raises(InvalidInput) as refused:
        screen_customers(criteria, user=SYSTEM)

    assert set(refused.value.errors) == {"dimensions", "weights", "limit"}


def test_an_empty_database_screens_to_an_empty_list():
    assert screen_customers(user=SYSTEM) == []
    assert (
        screen_customers(ScreeningCriteria(dimensions=(VALUE,), min_score=Decimal(0), limit=5), user=SYSTEM)
        == []
    )


def test_criteria_that_match_no_customer_screen_to_an_empty_list(org):
    customer_of(org, industry=Industry.FINANCE)

    assert screen_customers(ScreeningCriteria(industries=(Industry.TOURISM,)), user=SYSTEM) == []
    assert screen_customers(ScreeningCriteria(region=RegionFactory(code="WH")), user=SYSTEM) == []


# --- malformed criteria ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "criteria, field",
    [
        (ScreeningCriteria(min_score="high"), "min_score"),
        (ScreeningCriteria(min_score=Decimal(101)), "min_score"),
        (ScreeningCriteria(min_score=float("nan")), "min_score"),
        (ScreeningCriteria(limit="3"), "limit"),
        (ScreeningCriteria(limit=2.5), "limit"),
        (ScreeningCriteria(weights=[1, 2]), "weights"),
        (ScreeningCriteria(industry_scores=None), "industry_scores"),
        (ScreeningCriteria(industries="finance"), "industries"),
        (ScreeningCriteria(industries=[["finance"]]), "industries"),
        (ScreeningCriteria(tiers=None), "tiers"),
        (ScreeningCriteria(dimensions=5), "dimensions"),
        (ScreeningCriteria(region="HF"), "region"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_criteria_of_the_wrong_kind_are_refused_on_their_field_not_with_a_crash(org, criteria, field):
    customer_of(org)

    with pytest.raises(InvalidInput) as refused:
        screen_customers(criteria, user=SYSTEM)

    assert set(refused.value.errors) == {field}


def test_a_lowest_score_given_as_text_screens_like_the_number(org):
    customer_of(org, code="LOW", industry=Industry.OTHER)
    customer_of(org, code="HIGH", industry=Industry.FINANCE)

    assert ranked(only(INDUSTRY, min_score="50")) == [("HIGH", Decimal("90.00"))]


# --- reasons are data -----------------------------------------------------------------------------


def test_reasons_are_codes_and_values_worded_in_the_language_active_when_described(org):
    customer_of(org, industry=Industry.FINANCE, potential=4)
    with translation.override("zh-hans"):
        [screened] = screen_customers(only(POTENTIAL), user=SYSTEM)

    assert screened.reasons == (Reason(POTENTIAL, {"potential": 4}),)
    assert words(screened) == ("Development potential 4 of 5.",)


# --- who screens whom -----------------------------------------------------------------------------


def test_the_candidates_are_the_customers_the_reader_may_read(org):
    mine = customer_of(org, code="MINE")
    customer_of(org, org.other_manager, code="THEIRS")

    assert [s.customer for s in screen_customers(user=org.manager)] == [mine]
    assert {s.customer.code for s in screen_customers(user=org.coordinator)} == {"MINE", "THEIRS"}
    assert {s.customer.code for s in screen_customers(user=org.director)} == {"MINE", "THEIRS"}
    assert {s.customer.code for s in screen_customers(user=org.leader)} == {"MINE", "THEIRS"}
    assert screen_customers(user=UserFactory(roles=["support_staff"])) == []
    assert screen_customers(user=None) == []


# --- the screening page's query, read back into criteria ------------------------------------------


def test_a_screening_form_query_is_read_into_criteria(org):
    from django.http import QueryDict

    from onsite.selectors.screening import criteria_from

    query = QueryDict(mutable=True)
    query.setlist("dimension", ["value", "potential"])
    query.update(
        {"screened": "1", "weight_value": "0.7", "score_finance": "50", "region": str(org.branch.pk)}
    )
    query.update({"min_score": "40", "limit": "10"})

    criteria = criteria_from(query)

    assert criteria.dimensions == ("value", "potential")
    assert criteria.weights[VALUE] == "0.7" and criteria.weights[POTENTIAL] == Decimal("0.3")
    assert criteria.industry_scores[Industry.FINANCE] == "50"
    assert (criteria.region, criteria.min_score, criteria.limit) == (org.branch, "40", 10)
    assert criteria.always_include_party_government_military is False  # its box unticked


def test_an_empty_query_gives_the_default_criteria(org):
    from django.http import QueryDict

    from onsite.selectors.screening import criteria_from

    assert criteria_from(QueryDict("")) == ScreeningCriteria()


def test_a_query_that_will_not_do_is_refused_at_each_field(org):
    from django.http import QueryDict

    from onsite.selectors.screening import criteria_from

    with pytest.raises(InvalidInput) as refused:
        criteria_from(
            QueryDict("screened=1&dimension=value&weight_value=x&region=999&limit=ten&min_score=200")
        )

    assert set(refused.value.errors) == {"weights", "region", "limit", "min_score"}
