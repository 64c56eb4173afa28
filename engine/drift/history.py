"""The history of drift runs: one JSON line per run under ``.terrane/drift/history.jsonl``.

``append_history`` records a run; ``last_states`` reads back the latest entry
per environment (from ``latest.json`` beside it, whatever the history's age).
History lines and ``latest.json`` carry names, statuses and fingerprints, never
property values. Only ``details.json`` beside them (mode 0600) holds values: each
environment's latest check as ``terrane drift --json`` reports it (its drifted
resources, expected and actual values, secrets ``[secret]``), one entry per
environment, replaced by its next check; ``latest_details`` reads it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from terrane.engine.drift.properties import value_at
from terrane.engine.drift.report import DriftReport, EnvironmentDrift, ResourceDrift
from terrane.engine.files import write_atomically
from terrane.engine.store.locks import Lock

# Runs older than this leave the history when the next run is recorded; the latest state stays.
HISTORY_DAYS = 90


def append_history(path: Path, report: DriftReport, *, keep_days: int = HISTORY_DAYS) -> None:
    """Record this run: a JSON line in ``path`` (``.terrane/drift/history.jsonl``), and the latest state.

    Environments that are not deployed were not checked: they leave no trace,
    and a run that checked none writes nothing. ``latest.json`` beside the
    history holds each environment's latest entry, so that reading it costs
    the same whatever the history's age; ``details.json`` each checked
    environment's drifted resources with their (masked) values. Runs older than
    ``keep_days`` are dropped from the history (at most once a day, when its
    first line is older).
    """
    checked = [env for env in report.environments if env.status != "not_deployed"]
    if not checked:
        return
    with history_lock(path).acquire(wait=_HISTORY_WAIT_SECONDS):
        entry = _append(path, report, checked)
        latest = _latest(path)
        for item in entry["environments"]:
            latest[item["environment"]] = {**item, "checked_at": entry["finished_at"]}
        write_atomically(path.with_name(LATEST), json.dumps(latest, sort_keys=True, separators=(",", ":")))
        _write_details(path.with_name(DETAILS), checked, entry["finished_at"])
        _expire(path, keep_days)


LATEST = "latest.json"
DETAILS = "details.json"
_HISTORY_WAIT_SECONDS = 60.0


def history_lock(path: Path) -> Lock:
    return Lock(path.with_name(".history.lock"), "the drift history")


def _append(path: Path, report: DriftReport, checked: Sequence[EnvironmentDrift]) -> dict[str, Any]:
    entry = {
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "environments": [
            {"environment": env.environment, "status": env.status, "error": env.error,
             "drifted": len(env.resources), "ignored": env.ignored, "fingerprint": env.fingerprint}
            for env in checked
        ],
    }
    data = (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND and one unbuffered write: runs that finish together do not interleave within a line.
    with open(path, "ab", buffering=0) as file:
        if file.tell() and not _ends_with_newline(path):
            # A run that died mid-write left half a line; start ours on a fresh one.
            data = b"\n" + data
        view = memoryview(data)
        while view:
            view = view[file.write(view):]
    return entry


def _latest(path: Path) -> dict[str, dict[str, Any]]:
    """The latest-state file; rebuilt from the history when it is missing or corrupt (the next run writes it again).

    Corrupt: not JSON (a write cut short), not an object of entries (a list), or an entry that is not one
    ``append_history`` writes (a field missing or of the wrong type): one bad entry discredits the file.
    """
    latest = _read_json(path.with_name(LATEST))
    if isinstance(latest, dict) and all(_valid(entry) and entry["environment"] == name for name, entry in latest.items()):
        return latest
    return _scan(path)


def _valid(entry: Any) -> bool:
    """An environment's entry as ``append_history`` records it: its name, status and when it was checked as strings,
    its error a string or null, its counts integers (a history from before some of them has none)."""
    if not isinstance(entry, dict):
        return False
    strings = all(isinstance(entry.get(key), str) for key in ("environment", "status", "checked_at"))
    counts = all(type(entry.get(key, 0)) is int for key in ("drifted", "ignored"))
    return strings and counts and isinstance(entry.get("error"), (str, type(None)))


def _read_json(path: Path) -> Any:
    """What a JSON file holds; None when it is missing or not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def _entries(path: Path) -> dict[str, dict[str, Any]] | None:
    """A file of entries per environment (``details.json``); None when missing or not JSON."""
    entries = _read_json(path)
    if entries is None:
        return None
    return {name: entry for name, entry in entries.items() if isinstance(entry, dict)} if isinstance(entries, dict) else {}


def _write_details(path: Path, checked: Sequence[EnvironmentDrift], checked_at: str) -> None:
    """Replace the checked environments' entries in ``details.json``; the others keep theirs.

    An entry is the environment as the report has it (``EnvironmentDrift.to_dict``),
    in sync an empty ``resources``, plus ``checked_at``. Reports mask secrets
    already; a value still in Pulumi's secret wire form is masked here all the same.
    """
    details = _entries(path) or {}
    for env in checked:
        details[env.environment] = {**env.to_dict(), "resources": [_masked(r.to_dict()) for r in env.resources],
                                    "checked_at": checked_at}
    write_atomically(path, json.dumps(details, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
                     mode=0o600)


def _masked(resource: dict[str, Any]) -> dict[str, Any]:
    return {**resource, "properties": [{**prop, "expected": value_at(prop["expected"], ()),
                                        "actual": value_at(prop["actual"], ())} for prop in resource["properties"]]}


def latest_details(path: Path) -> dict[str, tuple[str | None, EnvironmentDrift]]:
    """Environment -> (``checked_at``, its latest check with values), from ``details.json`` beside ``path``.

    Empty for a project whose last runs predate the file; an entry that cannot
    be read is left out, so the caller falls back to what the history has.
    """
    found: dict[str, tuple[str | None, EnvironmentDrift]] = {}
    for name, entry in (_entries(path.with_name(DETAILS)) or {}).items():
        try:
            env = EnvironmentDrift(name, entry["status"], error=entry.get("error"), ignored=int(entry.get("ignored") or 0),
                                   resources=tuple(ResourceDrift.from_dict(item) for item in entry["resources"]))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        checked_at = entry.get("checked_at")
        found[name] = (checked_at if isinstance(checked_at, str) else None, env)
    return found


def _expire(path: Path, keep_days: int) -> None:
    """Drop the runs that finished more than ``keep_days`` ago, once the oldest is a day past that.

    So the history is rewritten at most once a day, however often runs are recorded.
    """
    cutoff = datetime.now(UTC) - timedelta(days=keep_days)
    with open(path, encoding="utf-8", errors="replace") as file:
        if not _older(file.readline(), cutoff - timedelta(days=1)):
            return
        kept = [line for line in file if line.strip() and not _older(line, cutoff)]
    write_atomically(path, "".join(line if line.endswith("\n") else line + "\n" for line in kept))


# A run's line starts with its times: enough to date it without parsing the whole line.
_FINISHED = re.compile(r'"finished_at":\s*"([^"]+)"')


def _older(line: str, cutoff: datetime) -> bool:
    match = _FINISHED.search(line, 0, 200)
    try:
        finished = datetime.fromisoformat(match[1]) if match else None
    except ValueError:
        finished = None
    if finished is None:
        return True  # a corrupt line is not worth keeping
    return (finished if finished.tzinfo else finished.replace(tzinfo=UTC)) < cutoff


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as file:
        file.seek(-1, 2)
        return file.read(1) == b"\n"


def last_states(path: Path) -> dict[str, dict[str, Any]]:
    """Environment -> its latest entry in the history, plus ``checked_at`` (that run's ``finished_at``).

    An environment left out of later runs (another shard, not named) keeps its
    previous entry. Read from ``latest.json``, whatever the history's size; a
    project whose history predates it is read line by line until its next run.
    """
    return _latest(path)


def _scan(path: Path) -> dict[str, dict[str, Any]]:
    """The latest entries, from the whole history. A missing file is an empty history; a corrupt line is skipped."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            lines = file.readlines()
    except FileNotFoundError:
        return {}
    states: dict[str, dict[str, Any]] = {}
    for line in lines:
        try:
            run = json.loads(line)
        except ValueError:
            continue
        if not isinstance(run, dict) or not isinstance(run.get("environments"), list):
            continue
        for entry in run["environments"]:
            if isinstance(entry, dict) and _valid(state := {**entry, "checked_at": run.get("finished_at")}):
                states[entry["environment"]] = state
    return states
