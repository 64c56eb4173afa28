"""The drift history's latest-state file: a corrupt one, whatever its corruption, is rebuilt from the history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from terrane.engine.drift.history import append_history, last_states
from terrane.engine.drift.report import DriftReport, EnvironmentDrift

KEEP = 100_000  # days: these runs are dated in the past, and are not meant to expire here
FIRST = "2026-03-01T06:01:30+00:00"
SECOND = "2026-03-01T07:01:30+00:00"


def _run(finished: str, *environments: EnvironmentDrift) -> DriftReport:
    return DriftReport(started_at=finished, finished_at=finished, environments=environments)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "drift" / "history.jsonl"
    append_history(path, _run(FIRST, EnvironmentDrift("aws-dev", "in_sync"), EnvironmentDrift("gcp-dev", "in_sync")),
                   keep_days=KEEP)
    append_history(path, _run(SECOND, EnvironmentDrift("aws-dev", "error", error="AccessDenied")), keep_days=KEEP)
    return path


EXPECTED = {"aws-dev": ("error", SECOND), "gcp-dev": ("in_sync", FIRST)}


def _states(history: Path) -> dict[str, tuple[str, str]]:
    return {name: (entry["status"], entry["checked_at"]) for name, entry in last_states(history).items()}


def _aws(**changes: Any) -> dict[str, Any]:
    entry = {"environment": "aws-dev", "status": "in_sync", "error": None, "drifted": 0, "ignored": 0,
             "fingerprint": ["in_sync", []], "checked_at": SECOND}
    return {"aws-dev": {**entry, **changes}}


@pytest.mark.parametrize("latest", [
    pytest.param('{"aws-dev": {"status": "in_sy', id="truncated"),
    pytest.param("[]", id="a list"),
    pytest.param('"aws-dev"', id="a string"),
    pytest.param(json.dumps({"aws-dev": ["in_sync"]}), id="an entry that is a list"),
    pytest.param(json.dumps({"aws-dev": {"status": "in_sync"}}), id="no checked_at"),
    pytest.param(json.dumps(_aws(checked_at=1772348490)), id="checked_at a number"),
    pytest.param(json.dumps(_aws(status=None)), id="status null"),
    pytest.param(json.dumps(_aws(drifted="3")), id="drifted a string"),
    pytest.param(json.dumps(_aws(ignored=True)), id="ignored a boolean"),
    pytest.param(json.dumps(_aws(error=["AccessDenied"])), id="error a list"),
    pytest.param(json.dumps(_aws(environment="gcp-dev")), id="filed under another name"),
    pytest.param(b"\xff\xfe\x00", id="not UTF-8"),
])
def test_a_corrupt_latest_state_is_rebuilt_from_the_history(history: Path, latest: str | bytes) -> None:
    path = history.with_name("latest.json")
    if isinstance(latest, bytes):
        path.write_bytes(latest)
    else:
        path.write_text(latest)
    assert _states(history) == EXPECTED
    # The next run writes it whole again.
    append_history(history, _run("2026-03-01T08:01:30+00:00", EnvironmentDrift("gcp-dev", "drifted")), keep_days=KEEP)
    assert json.loads(path.read_text())["aws-dev"]["checked_at"] == SECOND
    assert _states(history) == {**EXPECTED, "gcp-dev": ("drifted", "2026-03-01T08:01:30+00:00")}


def test_a_sound_latest_state_is_read_as_it_is(history: Path) -> None:
    history.unlink()  # not read at all
    assert _states(history) == EXPECTED


def test_history_lines_with_entries_of_the_wrong_types_are_skipped(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    lines = [
        {"finished_at": FIRST, "environments": [{"environment": "aws-dev", "status": "drifted", "drifted": 2}]},
        {"finished_at": SECOND, "environments": [{"environment": "aws-dev", "status": 3}]},
        {"finished_at": SECOND, "environments": [{"environment": "aws-dev", "status": "in_sync", "drifted": "x"}]},
        {"finished_at": 7, "environments": [{"environment": "aws-dev", "status": "in_sync"}]},
        {"environments": [{"environment": "gcp-dev", "status": "in_sync"}]},
    ]
    history.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert _states(history) == {"aws-dev": ("drifted", FIRST)}
