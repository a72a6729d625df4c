import pytest

from tests.onsite.dashboard_data import sales, world  # noqa: F401 - fixtures of the dashboard's tests
from tests.onsite.flow import build_org, deploy_processes


@pytest.fixture
def org():
    """The organisation of `tests.onsite.flow`, the on-site diagrams deployed."""
    deploy_processes()
    return build_org()
