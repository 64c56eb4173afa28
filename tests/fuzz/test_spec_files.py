"""Generated project files, by the thousand: each ends in a plan, or in exit 3 and a line that names the file.

Never a traceback, never exit 1, never a hang (hypothesis's deadline, per file,
``contract.DEADLINE``). Together the tests below try more than 10,000 files in CI
and a tenth of that in a developer's run (``tests.helpers.ci``); a failing one
shrinks to a minimal file, which belongs in ``tests/fuzz/corpus/``.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from terrane.engine.project import ACCOUNTS_FILE, ENVIRONMENTS_DIR
from tests.fuzz import documents
from tests.fuzz.contract import DEADLINE, ENV_FILE, FuzzProject, assert_plan_or_named_file
from tests.fuzz.documents import ENV_NAME, SMALL_ENVIRONMENTS
from tests.helpers.ci import examples

pytestmark = pytest.mark.fuzz

FUZZ = settings(
    deadline=DEADLINE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    # No explain phase: it replays every failure under a tracer, and a failing plan is slow enough.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    print_blob=True,
)


def _environment(project: FuzzProject, document: bytes) -> None:
    result = project.with_environment(document).plan(ENV_NAME)
    assert_plan_or_named_file(result, ENV_NAME, (ENV_FILE,))


def _accounts(project: FuzzProject, document: bytes, env: str) -> None:
    result = project.with_accounts(document).plan(env)
    assert_plan_or_named_file(result, env, (ACCOUNTS_FILE, f"{ENVIRONMENTS_DIR}/{env}.yaml"))


_SMALL_ENV = st.sampled_from(list(SMALL_ENVIRONMENTS))


@settings(FUZZ, max_examples=examples(ci=1_800, locally=180))
@given(document=documents.environment_within_schema().map(documents.dump))
def test_environments_within_the_schema(fuzz_project: FuzzProject, document: bytes) -> None:
    _environment(fuzz_project, document)


@settings(FUZZ, max_examples=examples(ci=2_000, locally=200))
@given(document=documents.environment_near_misses())
def test_environments_one_mutation_from_valid(fuzz_project: FuzzProject, document: bytes) -> None:
    _environment(fuzz_project, document)


@settings(FUZZ, max_examples=examples(ci=1_800, locally=180))
@given(document=documents.environment_raw_bytes())
def test_environments_of_raw_bytes(fuzz_project: FuzzProject, document: bytes) -> None:
    _environment(fuzz_project, document)


@settings(FUZZ, max_examples=examples(ci=1_000, locally=100))
@given(document=documents.environment_alias_bombs())
def test_environments_with_alias_bombs(fuzz_project: FuzzProject, document: bytes) -> None:
    _environment(fuzz_project, document)


@settings(FUZZ, max_examples=examples(ci=800, locally=80))
@given(document=documents.accounts_within_schema().map(documents.dump), env=_SMALL_ENV)
def test_accounts_within_the_schema(fuzz_project: FuzzProject, document: bytes, env: str) -> None:
    _accounts(fuzz_project, document, env)


@settings(FUZZ, max_examples=examples(ci=1_100, locally=110))
@given(document=documents.accounts_near_misses(), env=_SMALL_ENV)
def test_accounts_one_mutation_from_valid(fuzz_project: FuzzProject, document: bytes, env: str) -> None:
    _accounts(fuzz_project, document, env)


@settings(FUZZ, max_examples=examples(ci=1_000, locally=100))
@given(document=documents.accounts_raw_bytes(), env=_SMALL_ENV)
def test_accounts_of_raw_bytes(fuzz_project: FuzzProject, document: bytes, env: str) -> None:
    _accounts(fuzz_project, document, env)


@settings(FUZZ, max_examples=examples(ci=500, locally=50))
@given(document=documents.accounts_alias_bombs(), env=_SMALL_ENV)
def test_accounts_with_alias_bombs(fuzz_project: FuzzProject, document: bytes, env: str) -> None:
    _accounts(fuzz_project, document, env)


@settings(FUZZ, max_examples=examples(ci=60, locally=10))
@given(document=documents.any_valid_environment().map(documents.dump))
def test_valid_environments_plan(fuzz_project: FuzzProject, document: bytes) -> None:
    result = fuzz_project.with_environment(document).plan(ENV_NAME)
    assert result.code == 0, result.stderr
