"""The stand-in Pulumi CLI, for what the real one cannot give tests, and the helpers that steer and inspect it.

The real Pulumi CLI is built here (``tools/pulumi/build``) and is the judge:
tests/real_engine proves terrane on it. ``bin/pulumi`` remains only to inject faults
the real CLI cannot be made to produce (a cloud error in one environment among
several) and to observe the calls (argv, environment, working directory, start time).
It is a standard-library script that answers like Pulumi CLI v3.205.0 and plays
scenarios instead of running programs; its refresh events are not written by hand
but replayed from streams recorded on the real CLI (``tests.recorded``).

``ROOT`` is what ``PulumiCommand(root=...)`` and ``TERRANE_PULUMI_ROOT`` take. Each
test gives its workspace a ``PULUMI_HOME`` of its own and wraps it in ``StandIn``;
the stand-in keeps everything under ``$PULUMI_HOME/standin/`` (formats in the
docstring of ``bin/pulumi``).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.project import ACR_READER_SECRET, AZURE_SECRET, EXTERNAL_ID, GCP_KEY, SampleProject

__all__ = ["EXECUTABLE", "ROOT", "VERSION", "StandIn", "standin_for"]

ROOT = Path(__file__).resolve().parent
EXECUTABLE = ROOT / "bin" / "pulumi"
VERSION = "3.205.0"


@dataclass(frozen=True)
class StandIn:
    """The stand-in's control directory inside one ``PULUMI_HOME``."""

    home: Path

    @property
    def control(self) -> Path:
        return self.home / "standin"

    def scenario(self, stack: str, **settings: Any) -> None:
        """Merge settings into what the stand-in plays for ``stack``.

        ``refresh_events`` (raw engine events that refresh replays as they are: a
        recording, ``tests.recorded.events(name)``), ``fail`` (message) with ``fail_on``
        (commands, default ["up"]; a failing refresh replays nothing), ``resources``
        [{type, name, op?, parent?, component?, inputs?, outputs?, diff?}] and ``delay``
        (seconds per resource) for preview and up.
        """
        data = self._read_scenario()
        data.setdefault("stacks", {}).setdefault(stack, {}).update(settings)
        self._write_scenario(data)

    def plugins(self, plugins: list[dict[str, Any]]) -> None:
        """What ``pulumi plugin ls`` reports: [{"name", "version", "kind"?, "size"?}]."""
        data = self._read_scenario()
        data["plugins"] = plugins
        self._write_scenario(data)

    def calls(self) -> list[dict[str, Any]]:
        """Every invocation so far: {argv, command, cwd, env, started, pid}."""
        path = self.control / "calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line]

    def calls_of(self, command: str) -> list[dict[str, Any]]:
        """The invocations of one command, named by its words: "up", "config set-all", "stack select"."""
        return [call for call in self.calls() if call["command"] == command]

    def _read_scenario(self) -> dict[str, Any]:
        path = self.control / "scenario.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def _write_scenario(self, data: dict[str, Any]) -> None:
        self.control.mkdir(parents=True, exist_ok=True)
        (self.control / "scenario.json").write_text(json.dumps(data, indent=2))


def standin_for(sample: SampleProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StandIn:
    """The stand-in as ``sample``'s operator runs it: its own HOME and PULUMI_HOME under ``tmp_path``, the sample
    accounts' secrets in the environment, and the operator's own cloud credentials, which no stack may see."""
    home = tmp_path / "pulumi-home"
    home.mkdir()
    operator_home = tmp_path / "operator"
    (operator_home / ".config" / "terrane").mkdir(parents=True)
    (operator_home / ".config" / "terrane" / "gcp-sa.json").write_text(GCP_KEY)
    monkeypatch.setenv("HOME", str(operator_home))
    monkeypatch.setenv("TERRANE_PULUMI_ROOT", str(ROOT))
    monkeypatch.setenv("PATH", f"{_interpreter(tmp_path)}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PULUMI_HOME", str(home))
    monkeypatch.setenv("TERRANE_PROJECT", str(sample.root))
    monkeypatch.setenv("TERRANE_AWS_EXTERNAL_ID", EXTERNAL_ID)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", AZURE_SECRET)
    monkeypatch.setenv("ACR_READER_SECRET", ACR_READER_SECRET)
    for name in ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE", "TERRANE_BACKEND_URL",
                 "TERRANE_SECRETS_PROVIDER", "PULUMI_BACKEND_URL"):
        monkeypatch.delenv(name, raising=False)
    # The operator's own credentials, which must not reach another cloud's stack.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAOPERATOR")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "operator-aws-secret")
    monkeypatch.setenv("ARM_CLIENT_SECRET", "operator-arm-secret")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(operator_home / "adc.json"))
    return StandIn(home)


def _interpreter(tmp_path: Path) -> Path:
    """A directory whose ``python3`` is this interpreter, for ``bin/pulumi``'s ``#!/usr/bin/env python3``.

    Found on PATH, a version manager's ``python3`` is often a shim: pyenv's is a shell script that costs some
    0.1 s of CPU a call: a third of the CPU time of tests/cli/test_drift.py and test_operations.py.
    """
    directory = tmp_path / "interpreter"
    directory.mkdir()
    (directory / "python3").symlink_to(Path(sys.executable).resolve())
    return directory
