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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["EXECUTABLE", "ROOT", "VERSION", "StandIn"]

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
