"""Every file the fuzzer found failing, replayed: each must end in a plan, or in exit 3 naming the file.

``corpus/environments/`` holds environment files (saved as ``environments/<ENV_NAME>.yaml``),
``corpus/accounts/`` files of ``accounts.yaml`` (planned with each small environment), byte
for byte as found. Add a file for every failure the fuzz tests shrink to.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from terrane.engine.project import ACCOUNTS_FILE, ENVIRONMENTS_DIR
from tests.fuzz.contract import DEADLINE, ENV_FILE, FuzzProject, assert_plan_or_named_file
from tests.fuzz.documents import ENV_NAME, SMALL_ENVIRONMENTS

CORPUS = Path(__file__).parent / "corpus"


def _files(kind: str) -> list[Path]:
    return sorted((CORPUS / kind).glob("*.yaml"))


@pytest.mark.parametrize("path", _files("environments"), ids=lambda path: path.stem)
def test_environment_file(fuzz_project: FuzzProject, path: Path) -> None:
    started = time.monotonic()
    result = fuzz_project.with_environment(path.read_bytes()).plan(ENV_NAME)
    assert_plan_or_named_file(result, ENV_NAME, (ENV_FILE,))
    assert time.monotonic() - started < DEADLINE.total_seconds()


@pytest.mark.parametrize("env", list(SMALL_ENVIRONMENTS))
@pytest.mark.parametrize("path", _files("accounts"), ids=lambda path: path.stem)
def test_accounts_file(fuzz_project: FuzzProject, path: Path, env: str) -> None:
    started = time.monotonic()
    result = fuzz_project.with_accounts(path.read_bytes()).plan(env)
    assert_plan_or_named_file(result, env, (ACCOUNTS_FILE, f"{ENVIRONMENTS_DIR}/{env}.yaml"))
    assert time.monotonic() - started < DEADLINE.total_seconds()
