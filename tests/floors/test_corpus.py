"""Every file of the fuzz corpus ends the same at the floors as at the newest versions.

The same exit code, and the same plan or the same first line of the error: how a broken file is read
and reported (PyYAML, pydantic) is the floors' to match too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fuzz.contract import FuzzProject, run
from tests.fuzz.documents import ENV_NAME, SMALL_ENVIRONMENTS
from tests.helpers import floors
from tests.helpers.project import REPO

FILES = sorted((REPO / "tests" / "fuzz" / "corpus").glob("*/*.yaml"))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> FuzzProject:
    return FuzzProject.copy_to(tmp_path_factory.mktemp("corpus") / "project")


@pytest.mark.floors
@pytest.mark.parametrize("path", FILES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_the_file_ends_at_the_floors_as_at_the_newest_versions(floor_venv: Path, project: FuzzProject,
                                                               path: Path) -> None:
    if path.parent.name == "environments":
        envs = [ENV_NAME]
        project.with_environment(path.read_bytes())
    else:
        envs = list(SMALL_ENVIRONMENTS)
        project.with_accounts(path.read_bytes())
    args = ("--project", str(project.root), "plan", *envs, "--json")
    floor, latest = floors.at_floors(floor_venv, *args), run(*args)
    assert (floor.code, floor.stderr.partition("\n")[0]) == (latest.code, latest.stderr.partition("\n")[0])
    if floor.code == 0:
        assert floors.differences(json.loads(floor.stdout), json.loads(latest.stdout)) == []
