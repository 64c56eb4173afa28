"""A fleet of 1,000 environments checked in 10 shards, as the Kubernetes Indexed Job runs them, on the stand-in CLI.

``--envs`` environments, each its own stack on the stand-in CLI
(``tests/standin``: it runs no program, so what is left is terrane's own cost
and the CLI's start-up), deployed with ``terrane up --all`` as a user deploys
them, so the store holds terrane's record of each update. Then ``terrane drift
--all --shard I/N --parallel P --json`` for I = 0..N-1 (``--shards``), what each
pod of ``deploy/kubernetes/indexed-job.yaml`` runs, here one shard after
another, since this machine's cores are few; each is timed as a user runs it
(the console script, its own process). Then ``terrane report --html`` of the
whole fleet, from the history the shards recorded together.

Printed: the deployment's time; each shard's environments and wall time, and
min / median / max; the history in the store after the shards (objects and
bytes under its ``drift/`` prefix, by kind) and the update records (under
``updates/``); the report's time (median of ``--report-runs``) and the page's
size. The project keeps its state on the file backend, so the store is the
project's ``.terrane/``, read through the same store interface as a bucket.

It asserts nothing about timing, and exits 1 only when a run fails, when the
shards do not check every environment exactly once and find it in sync, or when
the page does not list every environment with its last update.

    python benchmarks/fleet_bench.py [--envs 1000] [--shards 10] [--parallel 2] [--deploy-parallel 4]
        [--report-runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine_bench import BenchError, Project
from scale_bench import Page, load_average, on_standin, report_html, terrane

from terrane.engine.drift.history import DAYS, RUNS, SNAPSHOTS
from terrane.engine.store.backends import open_store
from terrane.engine.store.objects import ObjectStore
from terrane.engine.store.paths import STATE_DIR
from terrane.engine.store.updates import PREFIX as UPDATES

HISTORY = os.path.commonprefix([RUNS, SNAPSHOTS, DAYS])  # drift/: every object of the drift history
KINDS = {"runs": RUNS, "snapshots": SNAPSHOTS, "days": DAYS}


@dataclass(frozen=True)
class Shard:
    index: int
    environments: int
    seconds: float


@dataclass(frozen=True)
class Objects:
    """What a store holds under a prefix: objects and bytes, by kind (``stored``)."""

    count: Counter[str]
    size: Counter[str]


def drift_shards(project: Project, env: Mapping[str, str], shards: int, parallel: int) -> list[Shard]:
    """``drift --all --shard I/N`` for each I, one after another; together they must check every environment
    once, each in sync."""
    measured: list[Shard] = []
    checked: Counter[str] = Counter()
    for index in range(shards):
        seconds, stdout = terrane(["drift", "--all", "--shard", f"{index}/{shards}", "--parallel", str(parallel),
                                   "--json"], env, project.directory, "forkserver")
        found = json.loads(stdout)["environments"]
        drifted = [f"{row['environment']}: {row['status']}" for row in found if row["status"] != "in_sync"]
        if drifted:
            raise BenchError(f"shard {index}/{shards} found {len(drifted)} not in sync: {drifted[:5]}")
        checked.update(row["environment"] for row in found)
        measured.append(Shard(index, len(found), seconds))
    twice = sorted(name for name, times in checked.items() if times > 1)
    if twice or set(checked) != set(project.names):
        raise BenchError(f"the shards checked {len(checked)} of {len(project.names)} environments; "
                         f"more than once: {twice[:5]}")
    return measured


def stored(store: ObjectStore, prefix: str) -> Objects:
    """The objects under ``prefix``, by kind: the history's runs, snapshots and days, else ``other``."""
    count: Counter[str] = Counter()
    size: Counter[str] = Counter()
    for key in store.keys(prefix):
        kind = next((kind for kind, under in KINDS.items() if key.startswith(under)), "other")
        count[kind] += 1
        size[kind] += len(store.get(key) or b"")
    return Objects(count, size)


def print_fleet(args: argparse.Namespace, deployed: float, shards: list[Shard], history: Objects, records: Objects,
                page: Page) -> None:
    walls = [shard.seconds for shard in shards]
    sizes = [shard.environments for shard in shards]
    print(f"\ndeployed: terrane up --all --parallel {args.deploy_parallel}: {deployed:.0f} s "
          f"({deployed / args.envs:.2f} s per environment)")
    print(f"\ndrift --all --shard I/{args.shards} --parallel {args.parallel}, the shards one after another (this "
          f"machine has {os.cpu_count()} cores; the Indexed Job runs them at once, a pod each)")
    header = f"{'shard':<8}{'environments':>14}{'wall s':>9}{'s/env':>8}"
    print(header)
    print("-" * len(header))
    for shard in shards:
        print(f"{f'{shard.index}/{args.shards}':<8}{shard.environments:>14}{shard.seconds:>9.1f}"
              f"{shard.seconds / max(shard.environments, 1):>8.3f}")
    print(f"per shard: min {min(walls):.1f} s, median {statistics.median(walls):.1f} s, max {max(walls):.1f} s "
          f"({min(sizes)} to {max(sizes)} environments); {sum(walls):.0f} s in all, {sum(sizes)} environments "
          f"each checked once, in sync")
    kinds = ", ".join(f"{kind} {history.count[kind]} ({history.size[kind]:,} bytes)" for kind in sorted(history.count))
    print(f"\nthe history in the store after {args.shards} shards (the file backend's: {STATE_DIR}/{HISTORY} in the "
          f"project): "
          f"{sum(history.count.values())} objects, {sum(history.size.values()):,} bytes: {kinds}")
    print(f"the update records ({STATE_DIR}/{UPDATES}): {sum(records.count.values())} objects, "
          f"{sum(records.size.values()):,} bytes")
    print(f"\nreport --html of {args.envs} environments: {page.seconds:.2f} s (median of {page.runs}), page "
          f"{page.size:,} bytes, all {args.envs} listed with their last update")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", type=int, default=1000, help="environments in the fleet (default: 1000)")
    parser.add_argument("--shards", type=int, default=10, help="shards of drift --all (default: 10)")
    parser.add_argument("--parallel", type=int, default=2, help="--parallel of each shard (default: 2, as the "
                        "Indexed Job's)")
    parser.add_argument("--deploy-parallel", type=int, default=4, help="--parallel of up --all (default: 4)")
    parser.add_argument("--report-runs", type=int, default=3, help="timed runs of report --html (median)")
    args = parser.parse_args()
    if min(args.envs, args.shards, args.parallel, args.deploy_parallel, args.report_runs) < 1:
        parser.error("every option takes a positive number")
    at_start = os.getloadavg()[0]
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="terrane-fleet-"))
    try:
        deploying = time.monotonic()
        project, env = on_standin(scratch, "fleet", [f"env{index:04d}" for index in range(args.envs)],
                                  args.deploy_parallel)
        deployed = time.monotonic() - deploying
        shards = drift_shards(project, env, args.shards, args.parallel)
        store = open_store(project.directory, None)
        history, records = stored(store, HISTORY), stored(store, UPDATES)
        page = report_html(project, env, args.report_runs)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    load = load_average(at_start)

    print(f"a fleet of {args.envs} environments in {args.shards} shards on the stand-in CLI, {os.cpu_count()} CPUs, "
          f"{time.monotonic() - started:.0f} s in all; {load}")
    print_fleet(args, deployed, shards, history, records, page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
