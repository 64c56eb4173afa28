"""A preview that fails leaves nothing behind: no stack, no ``Pulumi.<env>.yaml``, nothing in status."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers.project import SampleProject
from tests.helpers.testcloud import TestCloud


def failing(env: Any, account: Any) -> Callable[[], None]:
    """A program that fails before it registers anything, as one without its provider plugin does."""

    def run() -> None:
        raise RuntimeError("no resource plugin 'aws' found")

    return run


def test_a_failed_preview_of_a_new_environment_makes_no_stack(project: SampleProject, cli,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRANE_PROGRAM", f"{__name__}:failing")
    failed = cli("preview", "aws-dev")
    assert failed.code == 1 and "no resource plugin 'aws' found" in failed.stderr
    assert not (project.root / "Pulumi.aws-dev.yaml").exists()
    (row,) = [row for row in json.loads(cli("status", "--json").stdout)["environments"]
              if row["environment"] == "aws-dev"]
    assert row["last_update"] is None and row["error"] is None


def test_a_failed_preview_of_a_deployed_environment_keeps_its_stack(project: SampleProject, cloud: TestCloud, cli,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("up", "aws-dev", "--yes").code == 0
    monkeypatch.setenv("TERRANE_PROGRAM", f"{__name__}:failing")
    assert cli("preview", "aws-dev").code == 1
    assert (project.root / "Pulumi.aws-dev.yaml").exists()
    monkeypatch.setenv("TERRANE_PROGRAM", "tests.helpers.testcloud:program")
    assert json.loads(cli("preview", "aws-dev", "--json").stdout)["results"][0]["changes"] == {"same": 5}
