"""Programme administration pages: the programme list with its enrolment counts, a programme with its
enrolments by stage and pinned version, an enrolment with its stage assessments and history;
setting up a programme; screening with editable criteria, the ranked result and its reasons;
enrolling the chosen pilot group (all or none, another stage than the suggested one only with a
reason) and extending a running programme; and who may read and do what."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from onsite.models import Enrolment, Industry, Programme, StageAssessment, StageChange
from tests.factories import UserFactory
from tests.onsite.factories import TeamFactory, manager_in
from tests.onsite.flow import FACTORS, customer_of, enrol, new_programme, run_visit
from tests.pages.clients import signed_in
from workflows.models import ProcessInstance

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(org):
    """Four customers of the branch, from most to least valuable; the bureau, a government customer,
    always in."""
    return {
        "bank": customer_of(
            org,
            code="HF-001",
            name="合肥科技银行",
            industry=Industry.FINANCE,
            monthly_value=Decimal("90000"),
            potential=5,
        ),
        "hospital": customer_of(
            org,
            code="HF-002",
            name="合肥市第一人民医院",
            industry=Industry.HEALTHCARE_PHARMA,
            monthly_value=Decimal("50000"),
            potential=4,
            manager=org.other_manager,
        ),
        "shop": customer_of(
            org,
            code="HF-003",
            name="合肥百货",
            industry=Industry.RETAIL,
            monthly_value=Decimal("2000"),
            potential=1,
        ),
        "bureau": customer_of(
            org,
            code="HF-004",
            name="合肥市数据资源局",
            industry=Industry.PARTY_GOVERNMENT_MILITARY,
            monthly_value=Decimal("1000"),
            potential=1,
        ),
    }


@pytest.fixture
def programme(org):
    return new_programme(org)


def english(user):
    client = signed_in(user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    return client


def factor_fields(customer, stage: str) -> dict:
    return {f"{customer.pk}-{name}": str(value) for name, value in FACTORS[stage].items()}


# --- the list, a programme, an enrolment ---------------------------------------------------------


def test_the_list_shows_each_programme_with_region_status_dates_and_its_enrolments_counted_by_stage(
    org, customers, programme
):
    enrol(org, programme, customers["bank"], "win_back")
    enrol(org, programme, customers["hospital"], "publicity")
    closed = Programme.objects.create(
        name="2025年试点",
        region=org.branch,
        start_date=date(2025, 3, 1),
        end_date=date(2025, 12, 31),
        process_version=programme.process_version,
        coordinator=org.coordinator,
        status=Programme.Status.CLOSED,
    )

    page = english(org.coordinator).get("/programmes/")

    assert page.status_code == 200
    rows = page.context["page"].object_list
    assert [(p.name, p.enrolled, p.active, p.in_publicity, p.in_win_back) for p in rows] == [
        ("2026年合肥政企驻点服务", 2, 2, 1, 1),
        (closed.name, 0, 0, 0, 0),
    ]
    html = page.content.decode()
    assert "合肥分公司" in html and "2026-11-02" in html and "2025-12-31" in html
    assert f'href="/programmes/{programme.pk}/"' in html
    assert 'href="/programmes/new/"' in html


def test_a_programme_page_counts_its_enrolments_by_stage_and_names_its_cadence_and_pinned_version(
    org, customers, programme
):
    enrol(org, programme, customers["bank"], "win_back")
    enrol(org, programme, customers["hospital"], "publicity")
    enrol(org, programme, customers["shop"], "publicity")

    page = english(org.coordinator).get(f"/programmes/{programme.pk}/")

    counts = {item.stage: item.count for item in page.context["stages"]}
    assert counts == {"publicity": 2, "information_gathering": 0, "win_back": 1}
    html = page.content.decode()
    assert "weekly" in html and "after every visit" in html
    version = programme.process_version
    assert f"onsite_programme v{version.number}" in html
    for customer in ("合肥科技银行", "合肥市第一人民医院", "合肥百货"):
        assert customer in html
    assert "Screen and enrol customers" in html

    narrowed = english(org.coordinator).get(f"/programmes/{programme.pk}/?stage=win_back")
    assert [e.customer.code for e in narrowed.context["page"]] == ["HF-001"]


def test_an_enrolment_page_shows_its_factors_assessments_stage_history_and_current_visit(
    org, customers, programme
):
    enrolment = enrol(org, programme, customers["bank"], "publicity")
    run_visit(enrolment, org, decision="advance")

    page = english(org.coordinator).get(f"/programmes/enrolments/{enrolment.pk}/")

    assert page.status_code == 200
    assert [(a.decision, a.stage) for a in page.context["assessments"]] == [
        (StageAssessment.Decision.INITIAL, "publicity"),
        (StageAssessment.Decision.ADVANCE, "publicity"),
    ]
    assert [(c.from_stage, c.to_stage) for c in page.context["stage_changes"]] == [
        ("", "publicity"),
        ("publicity", "information_gathering"),
    ]
    html = page.content.decode()
    assert "客户信任度提升" in html  # the team leader's assessment
    assert "Publicity → Information gathering" in html
    visit = page.context["visit"]
    assert (visit.number, page.context["visits_made"]) == (2, 1)
    running = ProcessInstance.objects.get(
        parent=enrolment.instance, status__in=ProcessInstance.ACTIVE_STATUSES
    )
    assert page.context["visit_instance"] == running
    assert f"#{running.pk}" in html and f"#{enrolment.instance_id}" in html


# --- setting up a programme ----------------------------------------------------------------------


def test_a_coordinator_sets_up_a_programme_pinned_to_the_latest_programme_version(org, programme):
    client = english(org.coordinator)
    form = client.get("/programmes/new/")
    latest = form.context["versions"][0]
    assert form.context["typed"]["process_version"] == str(latest.pk)

    done = client.post(
        "/programmes/new/",
        {
            "name": "2027年肥东试点",
            "region": org.county.pk,
            "start_date": "2027-01-04",
            "end_date": "",
            "cadence": "biweekly",
            "visits_per_review": "",
            "process_version": latest.pk,
        },
    )

    created = Programme.objects.get(name="2027年肥东试点")
    assert done.status_code == 302 and done.url == f"/programmes/{created.pk}/"
    assert (created.region, created.start_date, created.cadence, created.visits_per_review) == (
        org.county,
        date(2027, 1, 4),
        "biweekly",
        2,
    )
    assert (created.process_version, created.coordinator) == (latest, org.coordinator)


def test_a_programme_refused_shows_each_message_at_its_field_and_keeps_what_was_typed(org):
    page = english(org.coordinator).post(
        "/programmes/new/",
        {
            "name": "2027年试点",
            "region": "",
            "start_date": "2027-01-04",
            "end_date": "2026-12-31",
            "cadence": "weekly",
            "visits_per_review": "99",
        },
    )

    assert page.status_code == 200
    errors = page.context["errors"]
    assert errors["region"] == ["Choose a region."]
    assert errors["end_date"] == ["The programme cannot end before it starts."]
    assert "visits_per_review" in errors
    html = page.content.decode()
    assert 'value="2027年试点"' in html and "is-invalid" in html
    assert not Programme.objects.exists()


def test_a_programme_pinned_to_a_version_of_another_process_is_refused(org):
    from workflows.models import ProcessVersion

    other = ProcessVersion.objects.filter(model__process_id="visit_cycle").first()
    from onsite.exceptions import InvalidInput
    from onsite.services.programmes import create_programme

    with pytest.raises(InvalidInput) as refused:
        create_programme(
            name="错版本",
            region=org.branch,
            start_date=date(2027, 1, 4),
            process_version=other,
            user=org.coordinator,
        )
    assert refused.value.errors == {"process_version": ["Choose a version of the programme process."]}


# --- screening ----------------------------------------------------------------------------------


def test_screening_ranks_customers_by_the_weighted_score_and_says_why(org, customers):
    page = english(org.coordinator).get("/programmes/screening/")

    rows = page.context["page"].object_list
    assert [row.customer.code for row in rows] == ["HF-001", "HF-002", "HF-003", "HF-004"]
    bank = rows[0]
    assert bank.score == Decimal("98.00")  # 0.2 × 90 + 0.5 × 100 + 0.3 × 100
    assert bank.reasons == [
        "Industry finance scores 90.",
        "Value contribution 90,000.00 CNY a month, above 100% of the candidates.",
        "Development potential 5 of 5.",
    ]
    # The bureau scores least, but is in whatever its score.
    assert rows[3].always_in and rows[3].reasons[0] == (
        "Party, government or military customer: always included."
    )
    html = page.content.decode()
    assert "98.00" in html and "Development potential 5 of 5." in html


def test_the_criteria_are_edited_in_the_form_and_rank_again(org, customers):
    query = urlencode(
        [
            ("screened", "1"),
            ("dimension", "potential"),
            ("weight_potential", "1"),
            ("limit", "1"),
            ("always_in", ""),
        ]
    )

    page = english(org.coordinator).get(f"/programmes/screening/?{query}")

    rows = page.context["page"].object_list
    assert [row.customer.code for row in rows] == ["HF-001"]
    assert rows[0].reasons == ["Development potential 5 of 5."]
    form = page.context["form"]
    assert form["dimensions"] == ["potential"] and form["always_in"] is False and form["limit"] == "1"


def test_criteria_that_will_not_do_are_shown_at_their_fields(org, customers):
    query = urlencode({"screened": "1", "dimension": "value", "weight_value": "-1", "limit": "ten"})

    page = english(org.coordinator).get(f"/programmes/screening/?{query}")

    assert page.status_code == 200
    assert page.context["errors"]["weights"] == ["Weights must be numbers of zero or more."]
    assert page.context["errors"]["limit"] == ["Give the number of customers as a whole number."]
    assert list(page.context["page"].object_list) == []


def test_customers_already_in_a_programme_are_left_out_of_the_screening(org, customers, programme):
    enrol(org, programme, customers["bank"])

    page = signed_in(org.coordinator).get("/programmes/screening/")

    assert "HF-001" not in [row.customer.code for row in page.context["page"].object_list]


# --- enrolling ----------------------------------------------------------------------------------


def test_the_enrol_page_shows_the_stage_the_factors_suggest(org, customers, programme):
    bank = customers["bank"]
    query = urlencode({"programme": programme.pk, "customer": bank.pk})

    blank = english(org.coordinator).get(f"/programmes/enrol/?{query}")
    assert blank.context["entries"][0]["suggestion"] is None

    scored = english(org.coordinator).post(
        "/programmes/enrol/",
        {
            "programme": programme.pk,
            "customer": bank.pk,
            "action": "preview",
            **factor_fields(bank, "win_back"),
        },
    )

    entry = scored.context["entries"][0]
    assert entry["suggestion"].stage == "win_back"
    assert "Suggested stage: targeted win-back" in scored.content.decode()
    assert not Enrolment.objects.exists()


def test_enrolling_the_chosen_pilot_group_stores_the_suggested_stage_factors_and_screening_score(
    org, customers, programme
):
    bank, hospital = customers["bank"], customers["hospital"]
    data = {
        "programme": programme.pk,
        "customer": [bank.pk, hospital.pk],
        "criteria": "",
        "action": "enrol",
        **factor_fields(bank, "win_back"),
        **factor_fields(hospital, "information_gathering"),
    }

    done = english(org.coordinator).post("/programmes/enrol/", data)

    assert done.status_code == 302 and done.url == f"/programmes/{programme.pk}/"
    enrolments = {e.customer.code: e for e in Enrolment.objects.filter(programme=programme)}
    assert {code: e.stage for code, e in enrolments.items()} == {
        "HF-001": "win_back",
        "HF-002": "information_gathering",
    }
    assert enrolments["HF-001"].factors() == FACTORS["win_back"]
    assert enrolments["HF-001"].screening_score == Decimal("98.00")
    assert "Development potential 5 of 5." in enrolments["HF-001"].screening_reason
    assert enrolments["HF-001"].instance.status == ProcessInstance.Status.WAITING


def test_another_stage_without_a_reason_is_refused_at_its_field_and_no_one_is_enrolled(
    org, customers, programme
):
    bank, hospital = customers["bank"], customers["hospital"]
    data = {
        "programme": programme.pk,
        "customer": [bank.pk, hospital.pk],
        "action": "enrol",
        **factor_fields(bank, "win_back"),
        **factor_fields(hospital, "publicity"),
        f"{hospital.pk}-stage": "win_back",
        f"{hospital.pk}-reason": "",
    }

    page = english(org.coordinator).post("/programmes/enrol/", data)

    assert page.status_code == 200
    bank_entry, hospital_entry = page.context["entries"]
    assert hospital_entry["errors"] == {
        "reason": ["Say why the customer starts in another stage than the one suggested."]
    }
    assert bank_entry["errors"] == {}
    html = page.content.decode()
    assert "Say why the customer starts in another stage than the one suggested." in html
    assert f'name="{hospital.pk}-stage"' in html
    assert not Enrolment.objects.exists()
    assert not ProcessInstance.objects.filter(process_id="onsite_programme").exists()


def test_another_stage_with_its_reason_is_enrolled_in_that_stage_and_the_history_says_why(
    org, customers, programme
):
    hospital = customers["hospital"]
    english(org.coordinator).post(
        "/programmes/enrol/",
        {
            "programme": programme.pk,
            "customer": hospital.pk,
            "action": "enrol",
            **factor_fields(hospital, "publicity"),
            f"{hospital.pk}-stage": "information_gathering",
            f"{hospital.pk}-reason": "院方已启动智慧医院建设",
        },
    )

    enrolment = Enrolment.objects.get(customer=hospital)
    assert enrolment.stage == "information_gathering"
    assert StageChange.objects.get(enrolment=enrolment).reason == "院方已启动智慧医院建设"


def test_unscored_factors_and_no_programme_are_refused_at_their_fields(org, customers, programme):
    bank = customers["bank"]

    page = english(org.coordinator).post(
        "/programmes/enrol/", {"programme": "", "customer": bank.pk, "action": "enrol"}
    )
    assert page.context["errors"] == {"programme": ["Choose a running programme."]}

    page = english(org.coordinator).post(
        "/programmes/enrol/", {"programme": programme.pk, "customer": bank.pk, "action": "enrol"}
    )
    fields = {field["name"]: field["errors"] for field in page.context["entries"][0]["fields"]}
    assert fields[f"{bank.pk}-competition"] == ["Score this factor from 1 to 5."]
    assert not Enrolment.objects.exists()


def test_more_customers_join_a_running_programme_the_same_way(org, customers, programme):
    enrol(org, programme, customers["bank"], "win_back")
    client = english(org.coordinator)

    screening = client.get(f"/programmes/screening/?programme={programme.pk}&region={org.branch.pk}")
    assert [p.pk for p in screening.context["programmes"]] == [programme.pk]
    assert 'href="/programmes/enrol/' not in screening.content.decode()  # a form, not a link
    shop = customers["shop"]
    client.post(
        "/programmes/enrol/",
        {
            "programme": programme.pk,
            "customer": shop.pk,
            "action": "enrol",
            **factor_fields(shop, "publicity"),
        },
    )

    assert sorted(programme.enrolments.values_list("customer__code", flat=True)) == ["HF-001", "HF-003"]


def test_a_customer_enrolled_meanwhile_is_named_and_no_one_of_the_group_is_enrolled(
    org, customers, programme
):
    bank, hospital = customers["bank"], customers["hospital"]
    enrol(org, programme, hospital, "publicity")

    page = english(org.coordinator).post(
        "/programmes/enrol/",
        {
            "programme": programme.pk,
            "customer": [bank.pk, hospital.pk],
            "action": "enrol",
            **factor_fields(bank, "win_back"),
            **factor_fields(hospital, "publicity"),
        },
    )

    hospital_entry = page.context["entries"][1]
    assert hospital_entry["errors"]["customer"] == [f"{hospital} is already in programme {programme}."]
    assert not Enrolment.objects.filter(customer=bank).exists()


# --- who may read and do what --------------------------------------------------------------------


def test_leadership_reads_every_programme_page_and_the_screening_without_any_action(
    org, customers, programme
):
    enrolment = enrol(org, programme, customers["bank"], "win_back")
    client = english(org.director)

    for url in (
        "/programmes/",
        f"/programmes/{programme.pk}/",
        f"/programmes/enrolments/{enrolment.pk}/",
        "/programmes/screening/",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        assert "/programmes/new/" not in html and 'name="customer"' not in html, url
        assert "Screen and enrol customers" not in html, url
    assert client.get("/programmes/new/").status_code == 404
    assert client.get(f"/programmes/enrol/?programme={programme.pk}").status_code == 404


def test_leadership_is_refused_setting_up_or_enrolling_with_a_403_and_nothing_changes(
    org, customers, programme
):
    client = signed_in(org.director)
    hospital = customers["hospital"]

    created = client.post(
        "/programmes/new/", {"name": "领导的方案", "region": org.branch.pk, "start_date": "2027-01-04"}
    )
    enrolled = client.post(
        "/programmes/enrol/",
        {
            "programme": programme.pk,
            "customer": hospital.pk,
            "action": "enrol",
            **factor_fields(hospital, "publicity"),
        },
    )
    previewed = client.post(
        "/programmes/enrol/", {"programme": programme.pk, "customer": hospital.pk, "action": "preview"}
    )

    assert (created.status_code, enrolled.status_code, previewed.status_code) == (403, 403, 403)
    assert Programme.objects.count() == 1
    assert not Enrolment.objects.exists()


def test_account_managers_and_support_staff_find_no_programme_page(org, customers, programme):
    enrolment = enrol(org, programme, customers["bank"])
    for user in (org.manager, org.support["network"], UserFactory(username="nobody")):
        client = signed_in(user)
        for url in (
            "/programmes/",
            f"/programmes/{programme.pk}/",
            f"/programmes/enrolments/{enrolment.pk}/",
            "/programmes/screening/",
            "/programmes/new/",
            f"/programmes/enrol/?programme={programme.pk}",
        ):
            assert client.get(url).status_code == 404, (user, url)
        assert client.post("/programmes/new/", {"name": "x"}).status_code == 403
    assert Programme.objects.count() == 1


def test_a_team_leader_reads_only_the_enrolments_of_their_teams_customers(org, customers, programme):
    ours = enrol(org, programme, customers["bank"])
    other_team = TeamFactory(region=org.branch)
    stranger = customer_of(org, manager=manager_in(other_team), code="HF-009", name="外组客户")
    theirs = enrol(org, programme, stranger)
    client = signed_in(org.leader)

    listed = client.get("/programmes/").context["page"].object_list
    assert [(p.pk, p.enrolled) for p in listed] == [(programme.pk, 1)]
    detail = client.get(f"/programmes/{programme.pk}/")
    assert [e.customer.code for e in detail.context["page"]] == ["HF-001"]
    assert client.get(f"/programmes/enrolments/{ours.pk}/").status_code == 200
    assert client.get(f"/programmes/enrolments/{theirs.pk}/").status_code == 404
    assert client.get("/programmes/screening/").status_code == 404
    assert "Screen and enrol customers" not in detail.content.decode()


def test_a_team_leader_finds_no_programme_without_their_customers(org, programme):
    client = signed_in(org.leader)

    assert client.get(f"/programmes/{programme.pk}/").status_code == 404
    assert list(client.get("/programmes/").context["page"].object_list) == []


def test_the_programmes_are_in_the_navigation_of_coordinators_leadership_and_team_leaders(org):
    from onsite.views.navigation import navigation_for

    def shown(user):
        return "/programmes/" in {item.url for item in navigation_for(user)}

    assert shown(org.coordinator) and shown(org.director) and shown(org.leader)
    assert not shown(org.manager) and not shown(org.support["network"])


def test_the_pages_are_in_chinese_by_default(org, customers, programme):
    enrolment = enrol(org, programme, customers["bank"], "win_back")
    client = signed_in(org.coordinator)

    assert "驻点服务方案" in client.get("/programmes/").content.decode()
    assert "按阶段的入选客户" in client.get(f"/programmes/{programme.pk}/").content.decode()
    assert "阶段历史" in client.get(f"/programmes/enrolments/{enrolment.pk}/").content.decode()
    assert "客户筛选" in client.get("/programmes/screening/").content.decode()


def test_the_suggestion_follows_the_factors_as_they_are_chosen(org, customers):
    bank = customers["bank"]
    query = urlencode({"prefix": f"{bank.pk}-", **factor_fields(bank, "information_gathering")})

    part = english(org.coordinator).get(f"/programmes/enrol/suggestion/?{query}")

    assert "Suggested stage: information gathering" in part.content.decode()
    unscored = english(org.coordinator).get(f"/programmes/enrol/suggestion/?prefix={bank.pk}-")
    assert "Suggested stage" not in unscored.content.decode()
    assert signed_in(org.director).get(f"/programmes/enrol/suggestion/?{query}").status_code == 404


def test_the_list_and_a_programme_page_ask_as_many_queries_for_three_rows_as_for_one(
    org, customers, programme
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(org.coordinator)

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    enrol(org, programme, customers["bank"])
    one = (queries("/programmes/"), queries(f"/programmes/{programme.pk}/"))
    enrol(org, programme, customers["hospital"])
    enrol(org, programme, customers["shop"])
    for name in ("二期", "三期"):
        Programme.objects.create(
            name=name,
            region=org.branch,
            start_date=date(2027, 1, 4),
            process_version=programme.process_version,
            coordinator=org.coordinator,
        )

    assert (queries("/programmes/"), queries(f"/programmes/{programme.pk}/")) == one


def test_a_coordinator_ends_a_customers_programme_early_with_a_reason(org, customers, programme):
    enrolment = enrol(org, programme, customers["bank"])
    client = english(org.coordinator)
    assert "End early" in client.get(f"/programmes/enrolments/{enrolment.pk}/").content.decode()

    refused = client.post(f"/programmes/enrolments/{enrolment.pk}/end/", {"reason": " "})
    assert refused.status_code == 200
    assert refused.context["errors"] == {"reason": ["Say why the programme ends early."]}
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE

    done = client.post(f"/programmes/enrolments/{enrolment.pk}/end/", {"reason": "客户机构撤并"})
    assert done.status_code == 302
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.end_reason) == (Enrolment.Status.ENDED_EARLY, "客户机构撤并")
    assert "End early" not in client.get(f"/programmes/enrolments/{enrolment.pk}/").content.decode()


def test_leadership_and_team_leaders_cannot_end_a_programme_early(org, customers, programme):
    enrolment = enrol(org, programme, customers["bank"])

    for user in (org.director, org.leader):
        page = english(user).get(f"/programmes/enrolments/{enrolment.pk}/")
        assert page.status_code == 200 and "End early" not in page.content.decode()
        ended = signed_in(user).post(f"/programmes/enrolments/{enrolment.pk}/end/", {"reason": "试试"})
        assert ended.status_code == 403
    assert (
        signed_in(org.manager)
        .post(f"/programmes/enrolments/{enrolment.pk}/end/", {"reason": "x"})
        .status_code
        == 404
    )
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE
