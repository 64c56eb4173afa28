"""The floors' venv holds exactly the lowest version of each dependency pyproject.toml admits, and this terrane."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.version import Version

from tests.helpers import floors
from tests.helpers.project import REPO


def test_every_runtime_dependency_has_a_floor() -> None:
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert len(floors.floors()) == len(dependencies)  # each with one >= bound, or floors() says which has none


@pytest.mark.floors
def test_the_venv_holds_each_dependency_at_its_floor(floor_venv: Path) -> None:
    wanted = floors.floors()
    found = floors.installed(floor_venv, list(wanted))
    assert {name: Version(version) for name, version in found.items()} == wanted


@pytest.mark.floors
def test_the_venv_runs_this_repositorys_terrane(floor_venv: Path) -> None:
    """Installed editable: a venv another clone set up last would render that clone's code."""
    where = Path(floors.python_at_floors(floor_venv, "import terrane.engine; print(terrane.engine.__file__)"))
    assert where.is_relative_to(REPO), f"the floors' venv runs the terrane of {where}: run tools/floors/venv here"
