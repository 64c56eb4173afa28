"""The drift history in its store, on disk and in S3 (moto's server): one history for every writer, none lost."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from terrane.engine.drift.history import SNAPSHOT_AFTER, DriftHistory, project_history
from terrane.engine.drift.report import DriftReport, EnvironmentDrift
from terrane.engine.store.backends import open_store
from terrane.engine.store.objects import Conflict, LocalStore, ObjectStore
from terrane.engine.store.s3 import S3Store
from tests.helpers import emulators

START = datetime(2026, 3, 1, 6, 1, 30, tzinfo=UTC)


class Clock:
    """A clock a test moves."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _run(finished: datetime, *environments: EnvironmentDrift) -> DriftReport:
    return DriftReport(started_at=finished.isoformat(), finished_at=finished.isoformat(), environments=environments)


@pytest.fixture(params=["disk", "s3", pytest.param("azblob", marks=pytest.mark.emulators),
                        pytest.param("gs", marks=pytest.mark.emulators)])
def backend(request: pytest.FixtureRequest) -> str | None:
    """Each backend a history is kept beside: the file backend (None), and each object store on its emulator."""
    return emulators.new_backend(request, request.param)


@pytest.fixture
def store(backend: str | None, tmp_path: Path) -> ObjectStore:
    """The shared store of ``backend``: a project's ``.terrane`` directory, or a prefix of a bucket (container)."""
    return open_store(tmp_path, backend)


def test_the_backend_url_names_the_store(tmp_path: Path) -> None:
    assert isinstance(open_store(tmp_path, None), LocalStore)
    assert isinstance(open_store(tmp_path, (tmp_path / "state").as_uri()), LocalStore)
    s3 = open_store(tmp_path, "s3://bucket/a/b?region=eu-west-1")
    assert isinstance(s3, S3Store) and s3.where == "s3://bucket/a/b/.terrane/"
    assert open_store(tmp_path, "s3://bucket").where == "s3://bucket/.terrane/"


def test_a_key_is_written_once(store: ObjectStore) -> None:
    store.create("drift/runs/a.json", b"first")
    with pytest.raises(Conflict):
        store.create("drift/runs/a.json", b"second")
    assert store.get("drift/runs/a.json") == b"first"
    assert store.get("drift/runs/missing.json") is None
    store.create("drift/runs/b.json", b"")
    assert list(store.keys("drift/runs/")) == ["drift/runs/a.json", "drift/runs/b.json"]
    assert list(store.keys("drift/runs/", start_after="drift/runs/a.json")) == ["drift/runs/b.json"]
    store.delete("drift/runs/a.json")
    store.delete("drift/runs/a.json")  # gone already: nothing
    assert list(store.keys("drift/")) == ["drift/runs/b.json"]


def test_latest_states_details_and_timelines_read_back(store: ObjectStore) -> None:
    clock = Clock()
    history = DriftHistory(store, now=clock)
    history.record(_run(START, EnvironmentDrift("aws-dev", "in_sync"), EnvironmentDrift("gcp-dev", "in_sync"),
                        EnvironmentDrift("azure-dev", "not_deployed")))
    clock.now += timedelta(hours=1)
    history.record(_run(clock.now, EnvironmentDrift("aws-dev", "error", error="AccessDenied")))
    latest = history.latest()
    assert {name: (entry["status"], entry["checked_at"]) for name, entry in latest.items()} == {
        "aws-dev": ("error", clock.now.isoformat()), "gcp-dev": ("in_sync", START.isoformat())}
    assert history.details()["aws-dev"][1].error == "AccessDenied"
    assert [len(run["environments"]) for run in history.runs()] == [2, 1]
    # Nothing is told before a run notifies: the latest states stand for what the team saw.
    assert history.told() == latest


def test_a_run_that_checked_nothing_writes_nothing(store: ObjectStore) -> None:
    DriftHistory(store).record(_run(START, EnvironmentDrift("aws-dev", "not_deployed")))
    assert list(store.keys("drift/")) == []


def _write_runs(url: str | None, root: str, worker: int, runs: int) -> None:
    history = DriftHistory(open_store(Path(root), url))
    for run in range(runs):
        history.record(_run(datetime.now(UTC), EnvironmentDrift(f"env-{worker}-{run}", "in_sync")))


def test_eight_writers_at_once_lose_nothing(backend: str | None, store: ObjectStore, tmp_path: Path) -> None:
    """Eight processes (shards, machines) record at the same moment: every run and latest state is there."""
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_write_runs, args=(backend, str(tmp_path), worker, 6)) for worker in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert [writer.exitcode for writer in writers] == [0] * 8
    history = DriftHistory(store)
    expected = {f"env-{worker}-{run}" for worker in range(8) for run in range(6)}
    assert set(history.latest()) == expected
    assert set(history.details()) == expected
    assert sorted(entry["environment"] for run in history.runs() for entry in run["environments"]) == sorted(expected)
    assert list(store.keys("drift/snapshots/")), "48 runs make snapshots as they go"


def test_snapshots_fold_settled_runs_and_past_days_become_one_object(store: ObjectStore) -> None:
    clock = Clock()
    history = DriftHistory(store, now=clock, keep_days=3)
    for hour in range(SNAPSHOT_AFTER * 3):
        history.record(_run(clock.now, EnvironmentDrift("aws-dev", "drifted" if hour % 2 else "in_sync"),
                            EnvironmentDrift(f"env-{hour}", "in_sync")))
        clock.now += timedelta(hours=1)
    runs = list(store.keys("drift/runs/"))
    assert list(store.keys("drift/snapshots/")) and list(store.keys("drift/days/"))
    assert len(runs) < SNAPSHOT_AFTER * 3, "folded days leave the runs"
    assert len(list(history.runs())) == SNAPSHOT_AFTER * 3
    assert set(history.latest()) == {"aws-dev", *(f"env-{hour}" for hour in range(SNAPSHOT_AFTER * 3))}
    assert history.latest()["aws-dev"]["status"] == "drifted"
    # Days past keep_days leave the history; the latest state of every environment stays.
    clock.now += timedelta(days=5)
    history.record(_run(clock.now, EnvironmentDrift("aws-dev", "in_sync")))
    assert len(list(history.runs())) < SNAPSHOT_AFTER * 3
    assert "env-0" in history.latest()


def test_a_corrupt_snapshot_is_passed_over(store: ObjectStore) -> None:
    clock = Clock()
    history = DriftHistory(store, now=clock)
    history.record(_run(START, EnvironmentDrift("aws-dev", "drifted")))
    store.create("drift/snapshots/99999999T999999999999Z-bad.json", b'{"through": 3, "latest": [')
    assert history.latest()["aws-dev"]["status"] == "drifted"


def test_what_the_webhook_heard_is_per_environment(store: ObjectStore) -> None:
    """Two shards notify at once: each records only its own environments' news, so neither undoes the other's."""
    history = DriftHistory(store)
    history.record(_run(START, EnvironmentDrift("a", "drifted")), told={"a": {"status": "drifted"}})
    history.record(_run(START, EnvironmentDrift("b", "in_sync")), told={"b": {"status": "in_sync"}})
    history.record(_run(START, EnvironmentDrift("a", "in_sync")))  # a run without --notify
    assert {name: entry["status"] for name, entry in history.told().items()} == {"a": "drifted", "b": "in_sync"}


def test_a_history_from_before_the_store_moves_in_once(tmp_path: Path) -> None:
    drift = tmp_path / ".terrane" / "drift"
    drift.mkdir(parents=True)
    lines = [{"started_at": START.isoformat(), "finished_at": START.isoformat(),
              "environments": [{"environment": "aws-dev", "status": "drifted", "error": None, "drifted": 1,
                                "ignored": 0, "fingerprint": ["drifted", []]}]}]
    (drift / "history.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"half a line\n')
    (drift / "notified.json").write_text(json.dumps({"aws-dev": {"status": "in_sync"}}))
    history = project_history(tmp_path, {})
    assert sorted(path.name for path in drift.iterdir()) == [".history.lock", "days", "snapshots"]
    assert history.latest()["aws-dev"]["status"] == "drifted"
    assert history.told()["aws-dev"]["status"] == "in_sync"
    assert [run["finished_at"] for run in history.runs()] == [START.isoformat()]
    assert project_history(tmp_path, {}).latest() == history.latest()  # nothing moved twice

