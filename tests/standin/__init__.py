"""A stand-in Pulumi CLI for tests, and the helpers that steer and inspect it.

The Pulumi CLI cannot be installed on these machines, so the Automation API is driven
against ``bin/pulumi``: a standard-library script that answers like Pulumi CLI v3.205.0
and plays scenarios instead of running programs. ``ROOT`` is what
``PulumiCommand(root=...)`` and ``TERRANE_PULUMI_ROOT`` take. Each test gives its
workspace a ``PULUMI_HOME`` of its own and wraps it in ``StandIn``; the stand-in keeps
everything under ``$PULUMI_HOME/standin/`` (formats in the docstring of ``bin/pulumi``).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ROOT", "EXECUTABLE", "VERSION", "StandIn"]

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

        ``resources`` [{type, name, op?, parent?, component?, inputs?, outputs?, diff?}],
        ``outputs`` {name: {"value": ..., "secret": bool}}, ``locked`` (a foreign lock that
        ``pulumi cancel`` cannot clear), ``fail`` (message) with ``fail_on`` (commands,
        default ["up"]), ``delay`` (seconds per resource), ``refresh`` {resource name: {op,
        diff}} and ``refresh_events`` (raw engine events that refresh replays).
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

    def state(self, stack: str) -> dict[str, Any]:
        """The stand-in's record of ``stack``: config, secrets, resources, outputs, history, tags."""
        return json.loads((self.control / "stacks" / f"{stack}.json").read_text())

    def hold_lock(self, stack: str) -> Path:
        """Leave a lock on ``stack`` as a crashed update would; ``pulumi cancel`` removes it."""
        directory = self.control / "locks" / stack
        directory.mkdir(parents=True, exist_ok=True)
        lock = directory / f"{uuid.uuid4()}.json"
        lock.write_text(json.dumps({"pid": os.getpid(), "username": "crashed", "hostname": socket.gethostname(),
                                    "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
        return lock

    def _read_scenario(self) -> dict[str, Any]:
        path = self.control / "scenario.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def _write_scenario(self, data: dict[str, Any]) -> None:
        self.control.mkdir(parents=True, exist_ok=True)
        (self.control / "scenario.json").write_text(json.dumps(data, indent=2))
