"""Choosing the program factory by import path: checked before anything runs, loaded in the worker."""

from __future__ import annotations

import pytest

from terrane.engine.api import Engine
from terrane.engine.errors import EngineError, InvalidInputError
from terrane.engine.operations import programs
from terrane.stacks.program import build_program
from tests.helpers.project import REPO, SampleProject


def test_the_default_is_terranes_own_program() -> None:
    assert programs.load(programs.DEFAULT, REPO) is build_program


@pytest.mark.parametrize("reference", ["terrane.stacks.program", "stacks/program.py:build", ":build", "a b:c", "x:y.z"])
def test_a_malformed_reference_is_invalid_input(reference: str, sample: SampleProject) -> None:
    with pytest.raises(InvalidInputError, match="expected an import path and a factory name"):
        Engine(sample.root, program=reference)


def test_an_unknown_module_or_factory_says_which(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(EngineError, match="cannot import the program nowhere_at_all:build") as missing:
        programs.load("nowhere_at_all:build", REPO)
    assert "PYTHONPATH" in (missing.value.hint or "")
    with pytest.raises(EngineError, match="terrane.stacks.program has no callable missing"):
        programs.load("terrane.stacks.program:missing", REPO)


def test_the_cli_checks_the_program_first(cli, sample: SampleProject) -> None:
    result = cli("--project", sample.root, "--program", "not a reference", "envs", "list")
    assert result.code == 3
    assert "expected an import path and a factory name" in result.stderr
