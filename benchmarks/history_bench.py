"""What the drift history costs after a year of hourly runs over 300 environments.

``status`` and ``drift --notify`` read each environment's latest drift state;
``report --html`` reads every run the history keeps. This records, in a
temporary directory and with a clock that moves an hour a run, the runs such a
year leaves (``--envs`` environments, one run an hour for ``--days`` days, one
environment in ten drifted), each the way ``terrane drift`` records it (with
its snapshots, days and expiry), and then times:

- reading the latest states (``DriftHistory.latest``, what ``status`` does)
  after the whole history, against the same after its first day: the ratio is
  the target (no slower however old the history);
- reading every run kept (``DriftHistory.runs``, what the page's timelines read);
- recording one more run.

It prints the store's size and object count after the year, and asserts nothing.

    python benchmarks/history_bench.py [--envs 300] [--days 365]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from terrane.engine.drift.history import HISTORY_DAYS, DriftHistory
from terrane.engine.drift.report import DriftReport, EnvironmentDrift, PropertyDrift, ResourceDrift
from terrane.engine.store.objects import LocalStore

VPC = ResourceDrift("urn:pulumi:env::terrane::aws:ec2/vpc:Vpc::vpc", "aws:ec2/vpc:Vpc", "update",
                    (PropertyDrift("tags.owner", "update", "alice", "bob"),))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", type=int, default=300)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=5, help="timed reads of each kind (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        clock = Clock(datetime.now(UTC) - timedelta(days=args.days))
        day = DriftHistory(LocalStore(Path(scratch) / "day"), now=clock)
        for hour in range(24):
            day.record(_run(clock.now + timedelta(hours=hour), args.envs))
        full = DriftHistory(LocalStore(Path(scratch) / "full"), now=clock)
        started = time.monotonic()
        for _ in range(args.days * 24):
            full.record(_run(clock.now, args.envs))
            clock.now += timedelta(hours=1)
        took = time.monotonic() - started
        objects = [path for path in (Path(scratch) / "full").rglob("*") if path.is_file()]
        print(f"{args.days * 24} hourly runs over {args.envs} environments recorded in {took:.0f} s "
              f"({took / (args.days * 24) * 1000:.1f} ms a run); the store keeps {HISTORY_DAYS} days: "
              f"{len(objects)} objects, {sum(path.stat().st_size for path in objects) / 2**20:.0f} MiB")

        began = time.monotonic()
        full.record(_run(clock.now, args.envs))
        recorded = time.monotonic() - began
        read_day = _median(day.latest, args.runs)
        read_full = _median(full.latest, args.runs)
        every_run = _median(lambda: sum(1 for _ in full.runs()), 1)
        print(f"recording one more run: {recorded * 1000:.0f} ms")
        print(f"latest states, after a day:        {read_day * 1000:8.2f} ms")
        print(f"latest states, after {args.days} days:{'':<{max(0, 8 - len(str(args.days)))}}{read_full * 1000:8.2f} ms   "
              f"{read_full / read_day:.2f}x the first day (target: no slower, 1.00x within noise)")
        print(f"every run kept (the timelines):    {every_run * 1000:8.0f} ms")


def _run(at: datetime, envs: int) -> DriftReport:
    stamp = at.isoformat(timespec="seconds")
    return DriftReport(stamp, stamp, tuple(
        EnvironmentDrift(f"env{index:03d}", "drifted", resources=(VPC,)) if index % 10 == 0
        else EnvironmentDrift(f"env{index:03d}", "in_sync") for index in range(envs)))


def _median(read: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        read()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


if __name__ == "__main__":
    main()
