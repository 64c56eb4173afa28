"""What reading the drift history costs after a year of hourly runs over 300 environments.

``status`` and ``drift --notify`` read each environment's latest drift state.
This builds, in a temporary directory, the history such a year leaves
(``--envs`` environments, one run an hour for ``--days`` days, one environment
in ten drifted), records one more run the way ``terrane drift`` does (which
also drops the runs older than the retention policy), and then times:

- reading the latest states (``last_states``, what ``status`` does) from the
  year-old history, against the same from an empty one: the ratio is the target
  (no slower than an empty history);
- reading them the old way, line by line through the whole year, for reference;
- the one run's recording, including its compaction of the history, and the next one's.

It asserts nothing.

    python benchmarks/history_bench.py [--envs 300] [--days 365]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from terrane.engine.drift import history
from terrane.engine.drift.report import DriftReport, EnvironmentDrift


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", type=int, default=300)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=5, help="timed reads of each kind (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        empty = Path(scratch) / "empty" / "history.jsonl"
        full = Path(scratch) / "full" / "history.jsonl"
        started = time.monotonic()
        size = _year(full, args.envs, args.days)
        print(f"a history of {args.days * 24} hourly runs over {args.envs} environments: "
              f"{size / 2**20:.0f} MiB, written in {time.monotonic() - started:.0f} s")

        now = datetime.now(UTC).isoformat(timespec="seconds")
        run = DriftReport(now, now, tuple(EnvironmentDrift(f"env{index:03d}", "in_sync") for index in range(args.envs)))
        began = time.monotonic()
        history.append_history(full, run)
        recorded = time.monotonic() - began
        history.append_history(empty, run)
        kept = full.stat().st_size
        began = time.monotonic()
        history.append_history(full, run)
        next_run = time.monotonic() - began

        read_empty = _median(lambda: history.last_states(empty), args.runs)
        read_full = _median(lambda: history.last_states(full), args.runs)
        scan_full = _median(lambda: history._scan(full), 1)
        print(f"recording one more run: {recorded:.2f} s, which compacted the history to "
              f"{history.HISTORY_DAYS} days ({kept / 2**20:.0f} MiB) and made latest.json (once)")
        print(f"recording the run after it: {next_run * 1000:.1f} ms")
        print(f"latest states, after one run:      {read_empty * 1000:8.2f} ms")
        print(f"latest states, after a year:       {read_full * 1000:8.2f} ms   "
              f"{read_full / read_empty:.2f}x the first (target: no slower, 1.00x within noise)")
        print(f"the same read line by line:        {scan_full * 1000:8.0f} ms   (how it was before latest.json)")


def _year(path: Path, envs: int, days: int) -> int:
    path.parent.mkdir(parents=True)
    start = datetime.now(UTC) - timedelta(days=days)
    drifted = ["drifted", [["urn:pulumi:env::terrane::aws:ec2/vpc:Vpc::vpc", "update", ["tags.owner"]]]]
    with open(path, "w", encoding="utf-8") as file:
        for hour in range(days * 24):
            at = (start + timedelta(hours=hour)).isoformat(timespec="seconds")
            file.write(json.dumps({"started_at": at, "finished_at": at, "environments": [
                {"environment": f"env{index:03d}", "status": "drifted" if index % 10 == 0 else "in_sync",
                 "error": None, "drifted": int(index % 10 == 0), "ignored": 0,
                 "fingerprint": drifted if index % 10 == 0 else ["in_sync", []]}
                for index in range(envs)]}, separators=(",", ":")) + "\n")
    return path.stat().st_size


def _median(read: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        read()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


if __name__ == "__main__":
    main()
