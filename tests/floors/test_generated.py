"""Generated valid environments, the same sample every run, planned by the floors' venv as by the newest versions.

The environments come from the fuzz tests' strategy (``tests.fuzz.documents``) drawn derandomized: many
clouds, regions, networks new and existing, clusters, pools, secrets and tags, each rendered by both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.fuzz import documents
from tests.helpers import floors
from tests.helpers.ci import examples
from tests.helpers.project import SampleProject

pytestmark = [pytest.mark.floors, pytest.mark.fuzz]

SAMPLE = examples(ci=30, locally=6)


def _drawn(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` examples of ``strategy``, the same ones each run."""
    drawn: list[Any] = []

    @settings(database=None, derandomize=True, max_examples=count, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(value: Any) -> None:
        drawn.append(value)

    draw()
    return drawn


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A copy of the sample project with the generated environments beside its own, and their names."""
    project = SampleProject.copy_to(tmp_path_factory.mktemp("generated") / "project")
    names = [f"{documents.ENV_NAME}-{index:02}" for index in range(SAMPLE)]
    for name, env in zip(names, _drawn(documents.any_valid_environment(), SAMPLE), strict=True):
        project.env_path(name).write_bytes(documents.dump({**env, "name": name}))
    return project.root, names


def test_generated_environments_render_at_the_floors_as_at_the_newest_versions(
    floor_venv: Path, generated: tuple[Path, list[str]]
) -> None:
    root, names = generated
    args = ("--project", root, "plan", *names, "--json")
    floor, latest = floors.at_floors(floor_venv, *args), floors.newest(*args)
    assert floor.code == 0, floor.stderr
    assert latest.code == 0, latest.stderr
    plans = json.loads(floor.stdout)
    assert [plan["environment"] for plan in plans] == names
    assert floors.differences(plans, json.loads(latest.stdout)) == []
