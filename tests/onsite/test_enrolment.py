"""Programmes and enrolments: the stage suggested from the four factors, overrides and their reasons,
the refusals that leave nothing behind, the pinned process version, the team leader's stage reviews
and ending a programme early — through the real services and engine."""

from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.utils import timezone, translation

from onsite.exceptions import InvalidInput, NotPermitted, OnsiteError
from onsite.models import Enrolment, Programme, Stage, StageAssessment, StageChange, Visit
from onsite.services.programmes import (
    advance_stage,
    create_programme,
    end_enrolment_early,
    enrol_customer,
    record_stage_review,
)
from onsite.stages import clean_factors, describe, next_stage, suggest_stage
from tests.conftest import BPMN_DIR, source, text_source
from tests.factories import UserFactory
from tests.onsite.factories import CustomerFactory, RegionFactory
from tests.onsite.flow import (
    FACTORS,
    build_org,
    close_visit,
    complete,
    current_visit,
    customer_of,
    enrol,
    new_programme,
    open_task,
    refreshed,
    run_visit,
    stage_review,
)
from workflows.actors import SYSTEM
from workflows.models import AuditEvent, HumanTask, ProcessInstance
from workflows.selectors import instance_variables
from workflows.services import retry_instance
from workflows.services.deployment import deploy_files

pytestmark = pytest.mark.django_db
Status = ProcessInstance.Status
PUBLICITY_REASON = (
    "Informatization, our capability or the local economy is still basic: start with publicity."
)
WIN_BACK_REASON = (
    "A mature customer, strong capability and competitors present: start with targeted win-back."
)
GATHERING_REASON = (
    "The customer values informatization and we can offer solutions: start by gathering information."
)


def factors(economic_development=3, informatization_level=3, competition=3, our_capability=3) -> dict:
    return {
        "economic_development": economic_development,
        "informatization_level": informatization_level,
        "competition": competition,
        "our_capability": our_capability,
    }


def enrol_choosing(org, programme, customer, suggested: str, **kwargs) -> Enrolment:
    """The coordinator enrols with the factors that suggest `suggested` and chooses the stage."""
    return enrol_customer(
        programme=programme, customer=customer, factors=FACTORS[suggested], user=org.coordinator, **kwargs
    )


def visit_cycle_needing_a_template():
    """A newer visit cycle that wants data the programme process does not hand it: every programme
    instance fails when it calls it."""
    text = (
        (BPMN_DIR / "visit_cycle.bpmn")
        .read_text()
        .replace(
            '      <bpmn:dataOutput id="visit_report" name="走访结果" />\n'
            '      <bpmn:inputSet id="InputSet_visit_cycle" />',
            '      <bpmn:dataInput id="visit_template" name="走访模板" />\n'
            '      <bpmn:dataOutput id="visit_report" name="走访结果" />\n'
            '      <bpmn:inputSet id="InputSet_visit_cycle">\n'
            "        <bpmn:dataInputRefs>visit_template</bpmn:dataInputRefs>\n"
            "      </bpmn:inputSet>",
        )
    )
    assert "visit_template" in text
    (deployment,) = deploy_files(user=SYSTEM, files=[text_source("visit_cycle.bpmn", text)])
    return deployment.version


def deploy_newer_programme_process():
    text = (BPMN_DIR / "onsite_programme.bpmn").read_text()
    newer = text.replace('name="阶段目标评估"', 'name="阶段目标评估（新版）"')
    assert newer != text
    (deployment,) = deploy_files(user=SYSTEM, files=[text_source("onsite_programme.bpmn", newer)])
    assert deployment.created
    return deployment.version


def redeploy_visit_cycle():
    (deployment,) = deploy_files(user=SYSTEM, files=[source(BPMN_DIR / "visit_cycle.bpmn")])
    assert deployment.created
    return deployment.version


def recorded_rows() -> dict:
    """What an enrolment leaves behind, counted."""
    return {
        "enrolments": Enrolment.objects.count(),
        "assessments": StageAssessment.objects.count(),
        "stage_changes": StageChange.objects.count(),
        "visits": Visit.objects.count(),
        "instances": ProcessInstance.objects.count(),
        "tasks": HumanTask.objects.count(),
        "instance_events": AuditEvent.objects.filter(instance__isnull=False).count(),
    }


NO_ROWS = dict.fromkeys(
    ("enrolments", "assessments", "stage_changes", "visits", "instances", "tasks", "instance_events"), 0
)


@pytest.fixture
def programme(org):
    return new_programme(org)


# --- the stage the four factors suggest -------------------------------------------------------------


@pytest.mark.parametrize(
    "scored",
    [
        factors(informatization_level=2, our_capability=5, competition=5, economic_development=5),
        factors(informatization_level=5, our_capability=2, competition=5, economic_development=5),
        factors(informatization_level=5, our_capability=5, competition=5, economic_development=1),
        FACTORS["publicity"],
    ],
    ids=["basic-informatization", "basic-capability", "poor-local-economy", "flow-publicity"],
)
def test_basic_informatization_or_capability_or_a_poor_local_economy_suggests_publicity(scored):
    suggestion = suggest_stage(scored)
    assert (suggestion.stage, describe(suggestion)) == (Stage.PUBLICITY, PUBLICITY_REASON)


def test_a_mature_customer_strong_capability_and_competitors_suggest_win_back():
    for scored in (FACTORS["win_back"], factors(informatization_level=5, our_capability=4, competition=3)):
        suggestion = suggest_stage(scored)
        assert (suggestion.stage, describe(suggestion)) == (Stage.WIN_BACK, WIN_BACK_REASON)


@pytest.mark.parametrize(
    "scored",
    [
        FACTORS["information_gathering"],
        factors(informatization_level=3, our_capability=3, economic_development=2),
        # Mature and capable, but no competitor to win the customer from.
        factors(informatization_level=5, our_capability=5, competition=2),
        factors(informatization_level=3, our_capability=5, competition=5),
    ],
    ids=["flow-gathering", "middling", "mature-without-competition", "capable-but-middling-customer"],
)
def test_between_basic_and_mature_the_suggestion_is_information_gathering(scored):
    suggestion = suggest_stage(scored)
    assert (suggestion.stage, describe(suggestion)) == (Stage.INFORMATION_GATHERING, GATHERING_REASON)


@pytest.mark.parametrize(
    ("scored", "errors"),
    [
        ({"economic_development": 3}, ["competition", "informatization_level", "our_capability"]),
        ({**factors(), "competition": 0}, ["competition"]),
        ({**factors(), "competition": 6}, ["competition"]),
        ({**factors(), "competition": "3"}, ["competition"]),
        ({**factors(), "competition": 3.5}, ["competition"]),
        ({**factors(), "competition": True}, ["competition"]),
        ({**factors(), "budget": 3}, ["budget"]),
    ],
    ids=["missing", "zero", "six", "text", "fraction", "boolean", "unknown-factor"],
)
def test_each_factor_must_be_a_whole_score_from_1_to_5(scored, errors):
    with pytest.raises(InvalidInput) as refused:
        suggest_stage(scored)

    assert sorted(refused.value.errors) == errors


@pytest.mark.parametrize("scored", [None, [3, 3, 3, 3], "3333", {("a",): 3}])
def test_factors_that_are_not_a_mapping_of_names_are_refused_on_the_factors(scored):
    with pytest.raises(InvalidInput):
        suggest_stage(scored)


def test_a_suggestion_is_a_code_worded_when_it_is_described():
    suggestion = suggest_stage(FACTORS["win_back"])

    assert suggestion.reason == "mature_with_competitors"
    with translation.override("zh-hans"):
        assert describe(suggestion) != WIN_BACK_REASON
    assert describe(suggestion) == WIN_BACK_REASON


def test_a_review_may_rescore_only_some_factors():
    assert clean_factors({"competition": 5}, required=False) == {"competition": 5}
    assert clean_factors({}, required=False) == {}


def test_the_stages_follow_each_other_from_publicity_to_win_back():
    assert next_stage(Stage.PUBLICITY) == Stage.INFORMATION_GATHERING
    assert next_stage("information_gathering") == Stage.WIN_BACK
    assert next_stage(Stage.WIN_BACK) is None


# --- programmes -----------------------------------------------------------------------------------


def test_a_programme_runs_the_latest_programme_process_version_unless_given_one(org):
    first = new_programme(org).process_version
    newer = deploy_newer_programme_process()

    later = new_programme(org)
    pinned = create_programme(
        name="  老版本方案  ",
        region=org.branch,
        start_date=date(2026, 11, 2),
        cadence="monthly",
        user=org.coordinator,
        process_version=first,
    )

    assert (first.model.process_id, first.number) == ("onsite_programme", 1)
    assert later.process_version == newer and newer.number == 2
    assert (pinned.name, pinned.process_version, pinned.coordinator) == ("老版本方案", first, org.coordinator)
    assert pinned.status == Programme.Status.ACTIVE


def test_a_programme_needs_its_process_deployed():
    org = build_org()

    with pytest.raises(OnsiteError) as refused:
        new_programme(org)

    assert str(refused.value) == "No process 'onsite_programme' is deployed."
    assert not Programme.objects.exists()


def test_a_programme_cannot_end_before_it_starts_nor_have_an_unknown_cadence(org):
    with pytest.raises(InvalidInput) as refused:
        create_programme(
            name="",
            region=org.branch,
            start_date=date(2026, 11, 2),
            end_date=date(2026, 11, 1),
            cadence="daily",
            user=org.coordinator,
        )

    assert refused.value.errors["end_date"] == ["The programme cannot end before it starts."]
    assert {"name", "cadence"} <= set(refused.value.errors)
    assert not Programme.objects.exists()


def test_only_a_coordinator_creates_a_programme(org):
    for user in (org.manager, org.leader, org.director):
        with pytest.raises(NotPermitted):
            create_programme(
                name="方案", region=org.branch, start_date=date(2026, 11, 2), cadence="weekly", user=user
            )
    assert not Programme.objects.exists()


# --- enrolling ------------------------------------------------------------------------------------


def test_the_suggested_stage_is_stored_with_the_four_factors_and_the_screening_result(org, programme):
    customer = customer_of(org)

    enrolment = enrol_customer(
        programme=programme,
        customer=customer,
        factors=FACTORS["information_gathering"],
        user=org.coordinator,
        screening_score=Decimal("71.25"),
        screening_reason="Industry finance scores 90.",
    )

    enrolment = refreshed(enrolment)
    assert (enrolment.stage, enrolment.status) == (Stage.INFORMATION_GATHERING, Enrolment.Status.ACTIVE)
    assert enrolment.factors() == FACTORS["information_gathering"]
    assert (enrolment.screening_score, enrolment.screening_reason) == (
        Decimal("71.25"),
        "Industry finance scores 90.",
    )
    assert enrolment.enrolled_by == org.coordinator
    # The programme instance starts in that stage, and so does the first visit.
    assert instance_variables(enrolment.instance)["stage"] == "information_gathering"
    assert Visit.objects.get(enrolment=enrolment).stage == Stage.INFORMATION_GATHERING


def test_the_initial_assessment_and_stage_history_give_the_suggestion_and_who_enrolled(org, programme):
    before = timezone.now()
    enrolment = enrol(org, programme, customer_of(org), "win_back")
    after = timezone.now()

    (assessment,) = enrolment.assessments.all()
    assert (assessment.stage, assessment.decision, assessment.note, assessment.assessed_by) == (
        Stage.WIN_BACK,
        StageAssessment.Decision.INITIAL,
        WIN_BACK_REASON,
        org.coordinator,
    )
    assert assessment.factors() == FACTORS["win_back"]
    (change,) = enrolment.stage_changes.all()
    assert (change.from_stage, change.to_stage, change.actor, change.reason) == (
        "",
        Stage.WIN_BACK,
        org.coordinator,
        WIN_BACK_REASON,
    )
    assert before <= change.at <= after and change.at == assessment.at


def test_a_stage_other_than_the_suggested_one_is_refused_without_a_reason(org, programme):
    customer = customer_of(org)

    for reason in ("", "   "):
        with pytest.raises(InvalidInput) as refused:
            enrol_choosing(org, programme, customer, "publicity", stage=Stage.WIN_BACK, reason=reason)
        assert refused.value.errors == {
            "reason": ["Say why the customer starts in another stage than the one suggested."]
        }

    assert recorded_rows() == NO_ROWS


def test_an_overridden_stage_is_in_the_stage_history_with_who_when_and_why(org, programme):
    before = timezone.now()
    enrolment = enrol_choosing(
        org,
        programme,
        customer_of(org),
        "publicity",
        stage=Stage.WIN_BACK,
        reason="  竞争对手合同下月到期，直接策反  ",
    )
    after = timezone.now()

    enrolment = refreshed(enrolment)
    assert enrolment.stage == Stage.WIN_BACK
    assert enrolment.factors() == FACTORS["publicity"]  # the factors stay as scored
    (change,) = enrolment.stage_changes.all()
    assert (change.from_stage, change.to_stage, change.actor, change.reason) == (
        "",
        Stage.WIN_BACK,
        org.coordinator,
        "竞争对手合同下月到期，直接策反",
    )
    assert before <= change.at <= after
    assessment = enrolment.assessments.get()
    assert (assessment.stage, assessment.note) == (Stage.WIN_BACK, "竞争对手合同下月到期，直接策反")
    assert instance_variables(enrolment.instance)["stage"] == "win_back"
    assert Visit.objects.get(enrolment=enrolment).stage == Stage.WIN_BACK


def test_choosing_the_suggested_stage_needs_no_reason(org, programme):
    enrolment = enrol_choosing(org, programme, customer_of(org), "win_back", stage=Stage.WIN_BACK)

    assert enrolment.stage == Stage.WIN_BACK
    assert enrolment.stage_changes.get().reason == WIN_BACK_REASON


def test_an_unknown_stage_is_refused_and_leaves_nothing(org, programme):
    with pytest.raises(InvalidInput) as refused:
        enrol_choosing(org, programme, customer_of(org), "publicity", stage="negotiation", reason="试试")

    assert refused.value.errors == {"stage": ["Unknown stage."]}
    assert recorded_rows() == NO_ROWS


def test_factors_out_of_range_are_refused_and_leave_nothing(org, programme):
    with pytest.raises(InvalidInput) as refused:
        enrol_customer(
            programme=programme,
            customer=customer_of(org),
            factors={**FACTORS["publicity"], "our_capability": 9},
            user=org.coordinator,
        )

    assert refused.value.errors == {"our_capability": ["Score this factor from 1 to 5."]}
    assert recorded_rows() == NO_ROWS


def test_a_customer_without_an_account_manager_is_refused_and_leaves_nothing(org, programme):
    orphan = CustomerFactory(name="无人负责的客户", region=org.branch, account_manager=None)

    with pytest.raises(InvalidInput) as refused:
        enrol(org, programme, orphan)

    assert refused.value.errors == {"customer": ["无人负责的客户 has no account manager."]}
    assert recorded_rows() == NO_ROWS


def test_a_customer_outside_the_programmes_region_is_refused_and_leaves_nothing(org, programme):
    elsewhere = CustomerFactory(name="芜湖客户", region=RegionFactory(code="WH"), account_manager=org.manager)

    with pytest.raises(InvalidInput) as refused:
        enrol(org, programme, elsewhere)

    assert refused.value.errors == {"customer": ["芜湖客户 is not in the programme's region 合肥分公司."]}
    assert recorded_rows() == NO_ROWS


def test_a_customer_in_one_of_the_programmes_counties_can_be_enrolled(org, programme):
    county_customer = CustomerFactory(region=org.county, account_manager=org.manager)

    enrolment = enrol(org, programme, county_customer)

    assert refreshed(enrolment).instance.status == Status.WAITING


def test_a_customer_already_in_an_active_programme_is_refused_and_leaves_nothing_new(org, programme):
    customer = customer_of(org, name="滨湖新区政务服务中心")
    first = enrol(org, programme, customer)
    recorded = recorded_rows()
    other = create_programme(
        name="2027年合肥驻点服务",
        region=org.branch,
        start_date=date(2027, 1, 4),
        cadence="monthly",
        user=org.coordinator,
    )

    for target in (programme, other):
        with pytest.raises(OnsiteError) as refused:
            enrol(org, target, customer)
        assert str(refused.value) == "滨湖新区政务服务中心 is already in programme 2026年合肥政企驻点服务."

    assert recorded_rows() == recorded
    assert refreshed(first).status == Enrolment.Status.ACTIVE


def test_a_customer_whose_programme_ended_early_can_join_another(org, programme):
    customer = customer_of(org)
    first = enrol(org, programme, customer)
    end_enrolment_early(enrolment=first, reason="客户机构调整", user=org.coordinator)
    other = create_programme(
        name="2027年合肥驻点服务",
        region=org.branch,
        start_date=date(2027, 1, 4),
        cadence="monthly",
        user=org.coordinator,
    )

    second = enrol(org, other, customer, "information_gathering")

    assert refreshed(second).instance.status == Status.WAITING
    assert sorted(customer.enrolments.values_list("programme", "status")) == [
        (programme.pk, Enrolment.Status.ENDED_EARLY),
        (other.pk, Enrolment.Status.ACTIVE),
    ]


def test_a_customer_cannot_rejoin_the_programme_it_already_left(org, programme):
    customer = customer_of(org, name="滨湖新区政务服务中心")
    first = enrol(org, programme, customer)
    end_enrolment_early(enrolment=first, reason="客户机构调整", user=org.coordinator)
    recorded = recorded_rows()

    with pytest.raises(OnsiteError) as refused:
        enrol(org, programme, customer)

    assert str(refused.value) == "滨湖新区政务服务中心 has already been in programme 2026年合肥政企驻点服务."
    assert recorded_rows() == recorded


def test_a_closed_programme_takes_no_enrolment(org, programme):
    Programme.objects.filter(pk=programme.pk).update(status=Programme.Status.CLOSED)

    with pytest.raises(OnsiteError) as refused:
        enrol(org, refreshed(programme), customer_of(org))

    assert str(refused.value) == "Programme 2026年合肥政企驻点服务 is closed."
    assert recorded_rows() == NO_ROWS


def test_a_programme_past_its_end_date_takes_no_enrolment(org):
    today = timezone.localdate()
    ended = create_programme(
        name="2025年驻点服务",
        region=org.branch,
        start_date=today - timedelta(days=365),
        end_date=today - timedelta(days=1),
        cadence="weekly",
        user=org.coordinator,
    )
    ending_today = create_programme(
        name="今日结束的方案",
        region=org.branch,
        start_date=today - timedelta(days=30),
        end_date=today,
        cadence="weekly",
        user=org.coordinator,
    )

    with pytest.raises(OnsiteError) as refused:
        enrol(org, ended, customer_of(org))

    assert str(refused.value) == "Programme 2025年驻点服务 is closed."
    assert recorded_rows() == NO_ROWS
    assert enrol(org, ending_today, customer_of(org)).programme == ending_today


@pytest.mark.parametrize("who", ["manager", "leader", "director", "inactive coordinator"])
def test_only_an_active_coordinator_enrols_customers(org, programme, who):
    user = {
        "manager": org.manager,
        "leader": org.leader,
        "director": org.director,
        "inactive coordinator": UserFactory(username="qin", roles=["coordinator"], is_active=False),
    }[who]

    with pytest.raises(NotPermitted):
        enrol_customer(
            programme=programme, customer=customer_of(org), factors=FACTORS["publicity"], user=user
        )

    assert recorded_rows() == NO_ROWS


def test_an_engine_failure_while_starting_the_programme_keeps_nothing(org, programme):
    customer = customer_of(org)
    visit_cycle_needing_a_template()

    with pytest.raises(OnsiteError) as refused:
        enrol(org, programme, customer)

    message = str(refused.value)
    assert message.startswith("The programme instance could not start: ")
    assert "visit_template" in message
    # Not even the instance in error, its events or the visit scheduled before the call failed.
    assert recorded_rows() == NO_ROWS

    # Once the cause is fixed the same customer enrols as if nothing had happened.
    redeploy_visit_cycle()
    enrolment = enrol(org, programme, customer)
    assert refreshed(enrolment).instance.status == Status.WAITING
    assert Visit.objects.get(enrolment=enrolment).number == 1


def test_enrolments_run_the_programmes_pinned_version_after_a_newer_one_is_deployed(org, programme):
    pinned = programme.process_version
    newer = deploy_newer_programme_process()

    enrolment = enrol(org, programme, customer_of(org))
    close_visit(enrolment, org)

    instance = refreshed(enrolment).instance
    assert (instance.version, instance.version.number) == (pinned, 1)
    assert open_task(instance, "Task_stage_review").name == "阶段目标评估"

    later = enrol(org, new_programme(org), customer_of(org, org.other_manager))
    close_visit(later, org)
    instance = refreshed(later).instance
    assert (instance.version, instance.version.number) == (newer, 2)
    assert open_task(instance, "Task_stage_review").name == "阶段目标评估（新版）"


# --- the team leader's stage review ---------------------------------------------------------------


@pytest.fixture
def enrolment(org, programme):
    return enrol(org, programme, customer_of(org, name="滨湖新区政务服务中心"))


def test_advancing_records_the_assessed_factors_and_the_stage_change_with_who_when_and_why(org, enrolment):
    visit = Visit.objects.get(enrolment=enrolment)
    close_visit(enrolment, org)
    rescored = {"economic_development": 4, "informatization_level": 3, "competition": 5, "our_capability": 4}
    before = timezone.now()

    complete(
        refreshed(enrolment).instance, "Task_stage_review", org.leader, stage_review("advance", rescored)
    )

    after = timezone.now()
    enrolment = refreshed(enrolment)
    assert enrolment.stage == Stage.INFORMATION_GATHERING
    assert enrolment.factors() == rescored
    review = enrolment.assessments.get(decision=StageAssessment.Decision.ADVANCE)
    assert (review.stage, review.note, review.assessed_by, review.visit) == (
        Stage.PUBLICITY,  # the stage whose goal was met
        "客户信任度提升",
        org.leader,
        visit,
    )
    assert review.factors() == rescored
    assert before <= review.at <= after and review.task_id is not None
    assert list(enrolment.stage_changes.values_list("from_stage", "to_stage", "actor", "reason")) == [
        ("", Stage.PUBLICITY, org.coordinator.pk, PUBLICITY_REASON),
        (Stage.PUBLICITY, Stage.INFORMATION_GATHERING, org.leader.pk, "客户信任度提升"),
    ]
    change = enrolment.stage_changes.get(from_stage=Stage.PUBLICITY)
    assert before <= change.at <= after and change.task_id is not None
    # The engine follows: its variable and the next visit are in the new stage.
    assert instance_variables(enrolment.instance)["stage"] == "information_gathering"
    assert Visit.objects.get(enrolment=enrolment, number=2).stage == Stage.INFORMATION_GATHERING


def test_continuing_records_the_assessment_but_no_stage_change(org, enrolment):
    run_visit(enrolment, org, decision="continue")

    enrolment = refreshed(enrolment)
    assert enrolment.stage == Stage.PUBLICITY
    assert enrolment.stage_changes.count() == 1  # only the enrolment's
    review = enrolment.assessments.get(decision=StageAssessment.Decision.CONTINUE)
    assert (review.stage, review.assessed_by) == (Stage.PUBLICITY, org.leader)
    assert enrolment.factors() == review.factors() == stage_review("continue")["factors"]
    assert Visit.objects.get(enrolment=enrolment, number=2).stage == Stage.PUBLICITY


def test_a_review_that_rescores_some_factors_changes_only_those(org, enrolment):
    close_visit(enrolment, org)
    data = {
        "stage_decision": "continue",
        "stage_assessment": "客户竞争压力加大",
        "factors": {"competition": 5},
    }

    complete(refreshed(enrolment).instance, "Task_stage_review", org.leader, data)

    enrolment = refreshed(enrolment)
    assert enrolment.factors() == {**FACTORS["publicity"], "competition": 5}
    review = enrolment.assessments.get(decision=StageAssessment.Decision.CONTINUE)
    assert review.factors() == {
        "economic_development": None,
        "informatization_level": None,
        "competition": 5,
        "our_capability": None,
    }


def test_a_retried_programme_instance_schedules_its_visit_and_records_its_stage_change_once(org, enrolment):
    # A newer visit cycle the programme cannot call: the next visit, started as soon as the first
    # one closes, fails; the team leader's stage review is open beside it all the same.
    visit_cycle_needing_a_template()
    close_visit(enrolment, org)

    instance = refreshed(enrolment).instance
    assert instance.status == Status.ERROR and "visit_template" in instance.error["message"]
    assert instance.error["bpmn_id"] == "CallActivity_visit"  # after visit 2 was scheduled
    assert open_task(instance, "Task_stage_review")

    redeploy_visit_cycle()
    retry_instance(instance_id=instance.pk, user=org.coordinator)
    complete(refreshed(enrolment).instance, "Task_stage_review", org.leader, stage_review("advance"))

    enrolment = refreshed(enrolment)
    assert enrolment.instance.status == Status.WAITING
    assert enrolment.stage == Stage.INFORMATION_GATHERING  # moved on once
    assert list(enrolment.stage_changes.values_list("from_stage", "to_stage")) == [
        ("", Stage.PUBLICITY),
        (Stage.PUBLICITY, Stage.INFORMATION_GATHERING),
    ]
    assert enrolment.assessments.count() == 2
    # Visit 2, scheduled once; not yet made, it moved to the new stage with the enrolment.
    assert list(enrolment.visits.values_list("number", "stage")) == [
        (1, Stage.PUBLICITY),
        (2, Stage.INFORMATION_GATHERING),
    ]
    assert Visit.objects.get(instance=current_visit(enrolment)).number == 2


def test_the_same_stage_review_task_recorded_again_changes_nothing(org, enrolment):
    run_visit(enrolment, org, decision="advance")
    enrolment = refreshed(enrolment)
    review = enrolment.assessments.get(decision=StageAssessment.Decision.ADVANCE)
    change = enrolment.stage_changes.get(from_stage=Stage.PUBLICITY)

    again = record_stage_review(
        enrolment=enrolment,
        decision="continue",
        note="重复提交",
        factors=FACTORS["win_back"],
        visit=None,
        actor=org.coordinator,
        task_id=review.task_id,
    )
    moved_to = advance_stage(
        enrolment=enrolment, reason="重复提交", actor=org.coordinator, task_id=change.task_id
    )

    assert again == review and again.decision == StageAssessment.Decision.ADVANCE
    assert moved_to == Stage.INFORMATION_GATHERING
    enrolment = refreshed(enrolment)
    assert enrolment.stage == Stage.INFORMATION_GATHERING  # not win-back
    assert enrolment.factors() == stage_review("advance")["factors"]  # not the repeated scores
    assert enrolment.assessments.count() == 2 and enrolment.stage_changes.count() == 2


def test_win_back_is_the_last_stage(org, programme):
    enrolment = enrol(org, programme, customer_of(org), "win_back")

    with pytest.raises(OnsiteError) as refused:
        advance_stage(enrolment=enrolment, reason="", actor=org.leader, task_id=uuid4())

    assert str(refused.value) == "Targeted win-back is the last stage."

    assert refreshed(enrolment).stage == Stage.WIN_BACK
    assert enrolment.stage_changes.count() == 1


def test_a_review_and_a_stage_change_made_outside_a_task_are_not_taken_for_retries(org, programme):
    # The enrolment's own assessment and stage change have no task: a call without one must not find them.
    other = enrol(org, programme, customer_of(org, org.other_manager), "win_back")
    enrolment = enrol(org, programme, customer_of(org))

    first = record_stage_review(
        enrolment=enrolment,
        decision="advance",
        note="目标达成",
        factors={},
        visit=None,
        actor=org.leader,
        task_id=None,
    )
    second = record_stage_review(
        enrolment=enrolment,
        decision="advance",
        note="再次评估",
        factors={},
        visit=None,
        actor=org.leader,
        task_id=None,
    )
    moved_to = advance_stage(enrolment=enrolment, reason="目标达成", actor=org.leader, task_id=None)

    assert (first.enrolment, first.note, second.note) == (enrolment, "目标达成", "再次评估")
    assert enrolment.assessments.count() == 3 and other.assessments.count() == 1
    assert moved_to == Stage.INFORMATION_GATHERING == refreshed(enrolment).stage
    assert list(enrolment.stage_changes.values_list("from_stage", "to_stage", "actor")) == [
        ("", Stage.PUBLICITY, org.coordinator.pk),
        (Stage.PUBLICITY, Stage.INFORMATION_GATHERING, org.leader.pk),
    ]


# --- ending a programme early ---------------------------------------------------------------------


def test_ending_a_programme_early_needs_a_reason(org, enrolment):
    for reason in ("", "  "):
        with pytest.raises(InvalidInput) as refused:
            end_enrolment_early(enrolment=enrolment, reason=reason, user=org.coordinator)
        assert refused.value.errors == {"reason": ["Say why the programme ends early."]}

    enrolment = refreshed(enrolment)
    assert enrolment.status == Enrolment.Status.ACTIVE
    assert enrolment.instance.status == Status.WAITING
    assert current_visit(enrolment).status == Status.RUNNING


def test_ending_early_ends_the_programme_instance_with_the_reason(org, enrolment):
    ended = end_enrolment_early(enrolment=enrolment, reason="  客户机构调整  ", user=org.coordinator)

    assert (ended.status, ended.end_reason) == (Enrolment.Status.ENDED_EARLY, "客户机构调整")
    assert ended.ended_at is not None
    instance = refreshed(ended.instance)
    assert instance.status == Status.COMPLETED
    assert instance_variables(instance)["programme_outcome"] == "ended_early"
    assert not HumanTask.objects.filter(instance__root_id=instance.pk, status=HumanTask.Status.OPEN).exists()
    assert not ProcessInstance.objects.filter(parent=instance, status__in=ProcessInstance.ACTIVE_STATUSES)


def test_a_programme_that_has_ended_cannot_end_again(org, enrolment):
    end_enrolment_early(enrolment=enrolment, reason="客户机构调整", user=org.coordinator)

    with pytest.raises(OnsiteError) as refused:
        end_enrolment_early(enrolment=refreshed(enrolment), reason="再次结束", user=org.coordinator)

    assert str(refused.value) == "This programme has already ended."

    assert refreshed(enrolment).end_reason == "客户机构调整"


def test_only_a_coordinator_ends_a_programme_early(org, enrolment):
    for user in (org.manager, org.leader, org.director):
        with pytest.raises(NotPermitted):
            end_enrolment_early(enrolment=enrolment, reason="客户机构调整", user=user)

    assert refreshed(enrolment).status == Enrolment.Status.ACTIVE
    assert refreshed(enrolment).instance.status == Status.WAITING


# --- a group at once (the pilot group a screening chose) --------------------------------------------


def test_a_group_is_enrolled_each_in_the_stage_its_factors_suggest(org, programme):
    from onsite.services.programmes import Candidate, enrol_customers

    first, second = customer_of(org), customer_of(org)

    enrolled = enrol_customers(
        programme=programme,
        candidates=[
            Candidate(customer=first, factors=FACTORS["win_back"], screening_score=Decimal("80")),
            Candidate(customer=second, factors=FACTORS["publicity"]),
        ],
        user=org.coordinator,
    )

    assert [(e.customer, e.stage, e.screening_score) for e in enrolled] == [
        (first, "win_back", Decimal("80")),
        (second, "publicity", None),
    ]


def test_a_group_with_one_refusal_says_every_customers_messages_and_enrols_no_one(org, programme):
    from onsite.services.programmes import Candidate, enrol_customers

    first, second, third = customer_of(org), customer_of(org), customer_of(org)
    enrol(org, programme, third)

    with pytest.raises(InvalidInput) as refused:
        enrol_customers(
            programme=programme,
            candidates=[
                Candidate(customer=first, factors=FACTORS["win_back"]),
                Candidate(customer=second, factors=FACTORS["publicity"], stage="win_back"),
                Candidate(customer=third, factors={**FACTORS["publicity"], "competition": 9}),
            ],
            user=org.coordinator,
        )

    assert refused.value.errors == {
        f"{second.pk}-reason": ["Say why the customer starts in another stage than the one suggested."],
        f"{third.pk}-competition": ["Score this factor from 1 to 5."],
        f"{third.pk}-customer": [f"{third} is already in programme {programme}."],
    }
    assert Enrolment.objects.filter(customer__in=[first, second]).count() == 0


def test_a_group_whose_instance_fails_to_start_keeps_no_one(org, programme):
    from onsite.services.programmes import Candidate, enrol_customers

    first, second = customer_of(org), customer_of(org)
    visit_cycle_needing_a_template()

    with pytest.raises(OnsiteError):
        enrol_customers(
            programme=programme,
            candidates=[Candidate(customer=c, factors=FACTORS["publicity"]) for c in (first, second)],
            user=org.coordinator,
        )

    assert recorded_rows() == NO_ROWS


def test_a_group_needs_customers_each_once_a_coordinator_and_an_open_programme(org, programme):
    from onsite.services.programmes import Candidate, enrol_customers

    customer = customer_of(org)
    twice = [Candidate(customer=customer, factors=FACTORS["publicity"])] * 2

    with pytest.raises(InvalidInput) as refused:
        enrol_customers(programme=programme, candidates=[], user=org.coordinator)
    assert refused.value.errors == {"customers": ["Choose one or more customers to enrol."]}
    with pytest.raises(InvalidInput) as refused:
        enrol_customers(programme=programme, candidates=twice, user=org.coordinator)
    assert refused.value.errors == {"customers": ["Choose each customer once."]}
    with pytest.raises(NotPermitted):
        enrol_customers(programme=programme, candidates=twice[:1], user=org.director)
    programme.status = Programme.Status.CLOSED
    programme.save()
    with pytest.raises(OnsiteError):
        enrol_customers(programme=programme, candidates=twice[:1], user=org.coordinator)
    assert not Enrolment.objects.exists()


def test_a_programme_typed_in_a_form_is_read_and_one_pinned_to_another_process_refused(org):
    from workflows.models import ProcessVersion

    created = create_programme(
        name=" 2027年试点 ",
        region=org.branch,
        start_date="2027-01-04",
        end_date="2027-12-31",
        cadence="monthly",
        visits_per_review="3",
        user=org.coordinator,
    )
    assert (created.name, created.start_date, created.end_date, created.visits_per_review) == (
        "2027年试点",
        date(2027, 1, 4),
        date(2027, 12, 31),
        3,
    )

    visit_cycle = ProcessVersion.objects.filter(model__process_id="visit_cycle").first()
    with pytest.raises(InvalidInput) as refused:
        create_programme(
            name="错版本",
            region=None,
            start_date="",
            process_version=visit_cycle,
            user=org.coordinator,
        )
    assert refused.value.errors["process_version"] == ["Choose a version of the programme process."]
    assert refused.value.errors["region"] == ["Choose a region."]
    assert refused.value.errors["start_date"] == ["Give the date the programme starts."]
    assert Programme.objects.count() == 1
