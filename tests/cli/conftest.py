"""What the CLI's drift and report tests share: every environment deployed on the stand-in."""

from __future__ import annotations

import pytest

from tests import recorded
from tests.standin import StandIn


@pytest.fixture
def deployed(standin: StandIn, cli) -> StandIn:
    """Every environment deployed, and each refresh replaying the in-sync one recorded from the real CLI."""
    for env in ("aws-dev", "azure-dev", "gcp-dev"):
        standin.scenario(env, refresh_events=recorded.events("drift-in-sync"))
    assert cli("up", "--all", "--yes", "--parallel", "3").code == 0
    return standin
