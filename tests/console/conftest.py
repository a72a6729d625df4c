"""Fixtures of the console's tests: the people of each role (the domain's roles carry the engine
permissions the console checks) and the on-site diagrams deployed."""

import pytest

from tests.factories import UserFactory
from tests.onsite.flow import deploy_processes


@pytest.fixture
def coordinator():
    return UserFactory(username="zhao", roles=["coordinator"])


@pytest.fixture
def director():
    return UserFactory(username="zhou", roles=["leadership"])


@pytest.fixture
def manager():
    return UserFactory(username="qian", roles=["account_manager"])


@pytest.fixture
def deployed():
    deploy_processes()


# The console's browser tests use the page tests' Chromium and its watched pages.
from tests.pages.conftest import browser, desktop, phone  # noqa: E402, F401
