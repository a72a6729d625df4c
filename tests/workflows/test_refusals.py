import inspect

import pytest
from django.utils import translation

import onsite.exceptions
import workflows.exceptions
from onsite.exceptions import InvalidInput, NotPermitted
from workflows.exceptions import DeploymentError, EngineLimitError, FormValidationError, NotAllowed, Problem
from workflows.refusals import Refusal


def _exception_classes(module):
    return [obj for _, obj in inspect.getmembers(module, inspect.isclass) if issubclass(obj, Exception)]


@pytest.mark.parametrize(
    "cls", _exception_classes(workflows.exceptions) + _exception_classes(onsite.exceptions)
)
def test_every_refusal_of_the_engine_and_the_domain_shares_one_base_class(cls):
    assert issubclass(cls, Refusal)


def test_limit_form_and_deployment_errors_are_refusals_with_their_details():
    form = FormValidationError({"planned_date": ["This field is required."]})
    deployment = DeploymentError([Problem("visit.bpmn", "broken", element="Task_1")])
    assert isinstance(EngineLimitError("too big"), Refusal)
    assert form.field_errors == {"planned_date": ["This field is required."]}
    assert "planned_date" in str(form)
    assert deployment.problems[0].element == "Task_1" and "broken" in str(deployment.message)


def test_field_errors_are_kept_and_shown_with_the_message():
    refusal = InvalidInput({"expires_on": ["The expiry is before the start."]})
    assert refusal.field_errors == refusal.errors == {"expires_on": ["The expiry is before the start."]}
    assert str(refusal) == "Please correct the errors below. expires_on: The expiry is before the start."


def test_a_default_message_reads_in_the_language_of_whoever_shows_it():
    refusal = NotPermitted()
    with translation.override("zh-hans"):
        chinese = str(refusal.message)
    with translation.override("en"):
        english = str(refusal.message)
    assert english == "You are not allowed to do this." and chinese != english


def test_an_empty_message_falls_back_to_the_default():
    assert str(NotAllowed("")) == "You are not allowed to do this."
