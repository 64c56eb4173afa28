"""Every environment of the sample project and of the examples, planned by the floors' venv as by the newest versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import floors
from tests.helpers.project import REPO

PROJECTS = [REPO, *sorted(path.parent for path in (REPO / "examples").glob("*/Pulumi.yaml"))]


@pytest.mark.floors
@pytest.mark.parametrize("project", PROJECTS, ids=lambda path: path.relative_to(REPO).as_posix())
def test_every_environment_renders_at_the_floors_as_at_the_newest_versions(floor_venv: Path, project: Path) -> None:
    args = ("--project", project, "plan", "--all", "--json")
    floor, latest = floors.at_floors(floor_venv, *args), floors.newest(*args)
    assert floor.code == 0, floor.stderr
    assert latest.code == 0, latest.stderr
    plans = json.loads(floor.stdout)
    assert [plan["environment"] for plan in plans] == sorted(path.stem for path in project.glob("environments/*.yaml"))
    assert floors.differences(plans, json.loads(latest.stdout)) == []
