"""The history of drift runs, kept in the shared store (``terrane.engine.store.objects``) beside the state.

Every machine and shard that reaches the backend reads and writes one history,
and no write changes an object another writer made, so writers at the same
moment lose nothing. Under the store's ``drift/``:

- ``runs/DAY/STAMP-TOKEN.json``: one object per run, written once. It holds
  the run's line (when it ran and, per environment, its status, error, counts
  and fingerprint), each checked environment's details (its drifted resources
  with expected and actual values, secrets ``[secret]``), and, for a run that
  notified, what the webhook was told (``told``).
- ``snapshots/STAMP-TOKEN.json``: the latest state, details and ``told`` of
  every environment, folded from the runs up to a key (``through``), so that
  reading them costs the same whatever the history's age. A run recorded once
  enough runs are older than a few minutes writes a new one.
- ``days/DAY.json``: a past day's run lines in one object, for the timelines,
  once a snapshot holds that day's runs; the run objects it folds are removed.
  Days and runs older than ``HISTORY_DAYS`` leave; the latest states stay.

Lines and the latest state carry names, statuses and fingerprints, never
property values; only the details do, as ``terrane drift --json`` reports
them. A project whose history predates the store (``history.jsonl``,
``latest.json``, ``details.json`` and ``notified.json`` in
``.terrane/drift/``) has it moved in the first time it is opened.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from terrane.engine.drift.properties import value_at
from terrane.engine.drift.report import DriftReport, EnvironmentDrift, ResourceDrift
from terrane.engine.store.backends import open_store
from terrane.engine.store.locks import Lock
from terrane.engine.store.objects import Conflict, LocalStore, ObjectStore, create_new
from terrane.engine.store.paths import BACKEND_ENV

HISTORY_DAYS = 90
"""Runs older than this leave the history; each environment's latest state stays."""
SNAPSHOT_AFTER = 10
"""Runs beyond what the newest snapshot folds that make the next run write a new one."""
RUNS_KEPT = timedelta(hours=1)
"""How long a snapshot must have stood before the runs it folds may go into a day: a reader that took an
older snapshot has read the runs long before."""
_READERS = 8

RUNS, SNAPSHOTS, DAYS = "drift/runs/", "drift/snapshots/", "drift/days/"


@dataclass
class Fold:
    """What a set of runs says: each environment's latest entry, details and what the webhook was told.

    Runs are folded in any order: an environment's entry is its newest run's, by key (``at``), so a run written
    late never hides a newer one.
    """

    folded: set[str] = field(default_factory=set)
    """The runs it holds that were still in ``runs/`` when it was made."""
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    details: dict[str, dict[str, Any]] = field(default_factory=dict)
    told: dict[str, dict[str, Any]] = field(default_factory=dict)
    """What the webhook was last told of each environment a notifying run checked."""
    at: dict[str, str] = field(default_factory=dict)
    """The key of the run each environment's latest entry and details are from."""
    told_at: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, run: Mapping[str, Any]) -> None:
        if key in self.folded:
            return
        self.folded.add(key)
        checked_at = run.get("finished_at")
        details = _dicts(run.get("details"))
        for entry in _entries(run):
            name = entry["environment"]
            if key >= self.at.get(name, ""):
                self.at[name] = key
                self.latest[name] = {**entry, "checked_at": checked_at}
                self.details.pop(name, None)
                if name in details:
                    self.details[name] = {**details[name], "checked_at": checked_at}
        for name, told in _dicts(run.get("told")).items():
            if key >= self.told_at.get(name, ""):
                self.told_at[name], self.told[name] = key, told

    def to_json(self) -> bytes:
        return _dumps({"folded": sorted(self.folded), "latest": self.latest, "details": self.details,
                       "told": self.told, "at": self.at, "told_at": self.told_at})

    @classmethod
    def from_json(cls, data: bytes | None) -> Fold | None:
        value = _loads(data)
        if not isinstance(value, dict) or not isinstance(value.get("folded"), list):
            return None
        return cls(folded={key for key in value["folded"] if isinstance(key, str)},
                   latest=_valid_entries(value.get("latest")), details=_dicts(value.get("details")),
                   told=_dicts(value.get("told")), at=_strings(value.get("at")), told_at=_strings(value.get("told_at")))


class DriftHistory:
    """The drift history in ``store``; ``now`` is the clock (a test's own)."""

    def __init__(self, store: ObjectStore, *, keep_days: int = HISTORY_DAYS,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.keep_days = keep_days
        self.now = now
        if isinstance(store, LocalStore):
            _move_in_legacy(store, self)

    def record(self, report: DriftReport, *, told: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Record this run, and for a run that notified, what the webhook now knows of its environments (``heard``).

        Environments that are not deployed were not checked: they leave no trace, and a run that checked none
        writes nothing.
        """
        checked = [env for env in report.environments if env.status != "not_deployed"]
        if not checked:
            return
        run: dict[str, Any] = {"started_at": report.started_at, "finished_at": report.finished_at,
                               "environments": [_line(env) for env in checked],
                               "details": {env.environment: _detail(env) for env in checked}}
        if told:
            run["told"] = dict(told)
        create_new(self.store, RUNS + f"{self.now():%Y-%m-%d}/", _dumps(run), self.now())
        self._tidy()

    def latest(self) -> dict[str, dict[str, Any]]:
        """Environment -> its latest entry, plus ``checked_at`` (that run's ``finished_at``)."""
        return self.fold()[0].latest

    def details(self) -> dict[str, tuple[str | None, EnvironmentDrift]]:
        """Environment -> (``checked_at``, its latest check with values); an entry that does not read is left out."""
        found: dict[str, tuple[str | None, EnvironmentDrift]] = {}
        for name, entry in self.fold()[0].details.items():
            try:
                env = EnvironmentDrift(name, entry["status"], error=entry.get("error"),
                                       ignored=int(entry.get("ignored") or 0),
                                       resources=tuple(ResourceDrift.from_dict(item) for item in entry["resources"]))
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
            checked_at = entry.get("checked_at")
            found[name] = (checked_at if isinstance(checked_at, str) else None, env)
        return found

    def told(self) -> dict[str, dict[str, Any]]:
        """Per environment, the status and fingerprint the webhook last heard of; for one no run notified of, its
        latest state (what the team saw before notifications)."""
        fold = self.fold()[0]
        return {**fold.latest, **fold.told}

    def fold(self) -> tuple[Fold, int]:
        """The newest snapshot with every run it does not hold, and how many of those there were."""
        _, fold = self._snapshot(SNAPSHOTS + "~")
        runs = list(self.store.keys(RUNS))
        pending = [key for key in runs if key not in fold.folded]
        for key, run in self._read(pending):
            fold.add(key, run)
        fold.folded &= set(runs)
        return fold, len(pending)

    def runs(self) -> Iterator[dict[str, Any]]:
        """Every run's line the history keeps (days, then runs), for the timelines."""
        folded: set[str] = set()
        for _, day in self._read(list(self.store.keys(DAYS))):
            folded.update(key for key in day.get("keys", ()) if isinstance(key, str))
            yield from (run for run in day.get("runs", ()) if isinstance(run, dict))
        for _, run in self._read([key for key in self.store.keys(RUNS) if key not in folded]):
            yield _run_line(run)

    def _snapshot(self, before: str) -> tuple[str, Fold]:
        """The newest snapshot written before the key ``before`` that reads, with its key; else an empty fold."""
        for key in reversed(list(self.store.keys(SNAPSHOTS))):
            if key < before and (fold := Fold.from_json(self.store.get(key))) is not None:
                return key, fold
        return "", Fold()

    def _tidy(self) -> None:
        """A new snapshot once enough runs are beyond the newest; past days folded into one object; old ones gone."""
        fold, pending = self.fold()
        if pending >= SNAPSHOT_AFTER:
            create_new(self.store, SNAPSHOTS, fold.to_json(), self.now())
        settled, stood = self._snapshot(f"{SNAPSHOTS}{self.now() - RUNS_KEPT:%Y%m%dT%H%M%S%fZ}")
        if settled:
            self._fold_days(fold.folded, stood.folded)
            for key in self.store.keys(SNAPSHOTS):
                if key < settled:
                    self.store.delete(key)
        cutoff = f"{DAYS}{self.now() - timedelta(days=self.keep_days):%Y-%m-%d}"
        for key in self.store.keys(DAYS):
            if key < cutoff:
                self.store.delete(key)

    def _fold_days(self, present: set[str], settled: set[str]) -> None:
        """Each day before today as one object, once a snapshot that has stood an hour holds all its runs that are
        ``present`` (``settled``); then they go."""
        today = f"{RUNS}{self.now():%Y-%m-%d}/"
        by_day: dict[str, list[str]] = {}
        for key in present:
            if key < today:
                by_day.setdefault(key[len(RUNS):len(RUNS) + 10], []).append(key)
        for day, keys in sorted(by_day.items()):
            if not settled.issuperset(keys):
                continue  # the day's last runs are not in a settled snapshot yet: a later run folds it whole
            runs = [_run_line(run) for _, run in self._read(sorted(keys))]
            try:
                self.store.create(f"{DAYS}{day}.json", _dumps({"keys": sorted(keys), "runs": runs}))
            except Conflict:  # folded before: what that object holds goes, the rest (written late) stays
                stored = _loads(self.store.get(f"{DAYS}{day}.json"))
                keys = [key for key in stored.get("keys", ()) if key in present] if isinstance(stored, dict) else []
            for key in keys:
                self.store.delete(key)

    def _read(self, keys: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
        """The objects at ``keys`` that are JSON objects, in key order; one gone meanwhile is left out."""
        with ThreadPoolExecutor(max_workers=_READERS) as pool:
            found = list(zip(keys, pool.map(self.store.get, keys), strict=True))
        return [(key, value) for key, data in found if isinstance(value := _loads(data), dict)]


def project_history(root: Path, environ: Mapping[str, str] = os.environ) -> DriftHistory:
    """The project's drift history: in its backend's store when that is shared, else in ``.terrane/drift``."""
    return DriftHistory(open_store(root, environ.get(BACKEND_ENV), environ))


def _run_line(run: Mapping[str, Any]) -> dict[str, Any]:
    """A run as the timelines read it: when it ran, and each environment's line (no values)."""
    return {key: value for key, value in run.items() if key in ("started_at", "finished_at", "environments")}


def _line(env: EnvironmentDrift) -> dict[str, Any]:
    return {"environment": env.environment, "status": env.status, "error": env.error,
            "drifted": len(env.resources), "ignored": env.ignored, "fingerprint": env.fingerprint}


def _detail(env: EnvironmentDrift) -> dict[str, Any]:
    """The environment as the report has it; a value still in Pulumi's secret wire form is masked here too."""
    return {**env.to_dict(), "resources": [_masked(resource.to_dict()) for resource in env.resources]}


def _masked(resource: dict[str, Any]) -> dict[str, Any]:
    return {**resource, "properties": [{**prop, "expected": value_at(prop["expected"], ()),
                                        "actual": value_at(prop["actual"], ())} for prop in resource["properties"]]}


def _entries(run: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """A run's well-typed environment entries; the others are skipped."""
    entries = run.get("environments")
    for entry in entries if isinstance(entries, list) else ():
        if _valid({**entry, "checked_at": run.get("finished_at")} if isinstance(entry, dict) else None):
            yield entry


def _valid(entry: Any) -> bool:
    """An environment's entry as ``record`` writes it: its name, status and when it was checked as strings,
    its error a string or null, its counts integers (a history from before some of them has none)."""
    if not isinstance(entry, dict):
        return False
    strings = all(isinstance(entry.get(key), str) for key in ("environment", "status", "checked_at"))
    counts = all(type(entry.get(key, 0)) is int for key in ("drifted", "ignored"))
    return strings and counts and isinstance(entry.get("error"), (str, type(None)))


def _valid_entries(value: Any) -> dict[str, dict[str, Any]]:
    return {name: entry for name, entry in _dicts(value).items() if _valid(entry) and entry["environment"] == name}


def _strings(value: Any) -> dict[str, str]:
    return {name: item for name, item in value.items() if isinstance(item, str)} if isinstance(value, dict) else {}


def _dicts(value: Any) -> dict[str, dict[str, Any]]:
    return {name: entry for name, entry in value.items() if isinstance(entry, dict)} if isinstance(value, dict) else {}


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _loads(data: bytes | None) -> Any:
    try:
        return json.loads(data) if data is not None else None
    except ValueError:
        return None


LEGACY = ("history.jsonl", "latest.json", "details.json", "notified.json")


def _move_in_legacy(store: LocalStore, history: DriftHistory) -> None:
    """A history written before the store (one ``history.jsonl``, rewritten in place) moved in, once.

    Its lines become days, and its latest states, details and notification state a snapshot; then the old
    files go. A line that does not parse is left behind, as the old reader skipped it.
    """
    directory = store.root / "drift"
    if not (directory / LEGACY[0]).exists():
        return
    with Lock(directory / ".history.lock", "the drift history").acquire(wait=60.0):
        if not (directory / LEGACY[0]).exists():
            return
        fold = Fold()
        days: dict[str, list[dict[str, Any]]] = {}
        for run in _legacy_runs(directory / LEGACY[0]):
            days.setdefault(str(run["finished_at"])[:10], []).append(run)
            fold.add(f"{RUNS}0000-before/{len(fold.folded):09d}", run)
        fold.latest.update(_valid_entries(_loads(store.get(f"drift/{LEGACY[1]}"))))
        fold.details.update(_dicts(_loads(store.get(f"drift/{LEGACY[2]}"))))
        fold.told = _dicts(_loads(store.get(f"drift/{LEGACY[3]}")))
        for day, runs in days.items():
            try:
                store.create(f"{DAYS}{day}.before.json", _dumps({"keys": [], "runs": runs}))
            except Conflict:
                pass  # a move cut short made it already
        now = history.now()
        store.create(f"{SNAPSHOTS}{now:%Y%m%dT%H%M%S%fZ}-legacy.json", fold.to_json())
        for name in LEGACY:
            (directory / name).unlink(missing_ok=True)


def _legacy_runs(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8", errors="replace") as file:
        for line in file:
            run = _loads(line.encode())
            if isinstance(run, dict) and isinstance(run.get("finished_at"), str):
                yield run
