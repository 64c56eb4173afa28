"""Engine event streams recorded from the real Pulumi CLI, as JSON, and the means to read them.

Each ``<name>.json`` holds ``{"cli": version, "operation": ..., "events": [...]}``: the
events exactly as the CLI streamed them to the Automation API. Tests that cannot run the
real CLI (the stand-in's scenarios, unit tests of drift) replay these instead of writing
events by hand. ``python -m tests.recorded.record`` records them again (it needs the real CLI).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def events(name: str) -> list[dict[str, Any]]:
    """The raw events of one recording."""
    return json.loads((HERE / f"{name}.json").read_text())["events"]  # type: ignore[no-any-return]


def engine_events(name: str) -> list[Any]:
    """The same events as the Automation API hands them to ``on_event``."""
    from pulumi.automation import EngineEvent

    return [EngineEvent.from_json(event) for event in events(name)]
