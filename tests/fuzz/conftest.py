"""The project every fuzz test writes its generated files into."""

from __future__ import annotations

import pytest

from tests.fuzz.contract import FuzzProject
from tests.fuzz.documents import SAMPLE_ENVIRONMENTS


@pytest.fixture(scope="session")
def fuzz_project(tmp_path_factory: pytest.TempPathFactory) -> FuzzProject:
    project = FuzzProject.copy_to(tmp_path_factory.mktemp("fuzz") / "project")
    for env in SAMPLE_ENVIRONMENTS.values():
        # Each cloud's SDK is imported by its first plan: once here, not inside an example's deadline.
        assert project.plan(env).code == 0
    return project
