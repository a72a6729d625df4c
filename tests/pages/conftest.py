"""Page tests. Views and access rules through Django's test client; the flows in a real browser
(tests/browser.py: the `desktop` and `phone` fixtures, defined for the whole suite)."""

import pytest

from tests.onsite.flow import build_org, deploy_processes


@pytest.fixture
def org():
    """The organisation of `tests.onsite.flow`, the on-site diagrams deployed."""
    deploy_processes()
    return build_org()
