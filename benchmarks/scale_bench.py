"""terrane at scale: what it adds per environment, and ``status`` and ``drift --all`` over 300 environments.

Every run is ``terrane`` as a user runs it (the console script, in a process of
its own), once with workers forked from the fork server (the default) and once
with ``TERRANE_START_METHOD=spawn``, a new interpreter per worker as before the
fork server: that is the baseline measured in the same run.

1. Overhead per environment, on the real Pulumi CLI (``TERRANE_PULUMI_ROOT``,
   else what ``tools/pulumi/build`` prints). ``--envs`` environments of the test
   cloud's program (``tests.helpers.testcloud:scaled``, one dynamic resource
   each), each its own stack, deployed first. ``terrane drift --all --parallel 1``
   runs with the CLI behind a shim that logs how long each of its invocations
   took. What terrane adds is the wall time less the time spent inside the CLI
   (which includes the program it runs), spread over the environments; the
   run's own start (Python, validation) is in it too. Target: 0.15 s.

2. 300 environments (``--many``) on the stand-in CLI (``tests/standin``), as
   today's figures were measured: it runs no program, so what is left is
   terrane's own cost and the CLI's start-up. All deployed with ``terrane up
   --all``; then ``terrane status`` and ``terrane drift --all --parallel 4``.
   Targets: ``status`` under 10 s (today 152 s); ``drift --all`` at least 3x
   faster than today's 195 s.

It asserts nothing about timing, and exits 1 only when a run fails or reports
something other than an in-sync environment.

    python benchmarks/scale_bench.py [--envs 8] [--many 300] [--parallel 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from engine_bench import (
    CLEARED,
    REFERENCES,
    BenchError,
    Project,
    find_pulumi_root,
    terrane_command,
)

REPO = Path(__file__).resolve().parent.parent
STANDIN = REPO / "tests" / "standin"
START_METHODS = ("forkserver", "spawn")

OVERHEAD_TARGET = 0.15  # seconds per environment beyond the CLI's own work
STATUS_TARGET = 10.0  # seconds for the whole view of --many environments
DRIFT_SPEEDUP_TARGET = 3.0
TODAY = {"status": 152.0, "drift": 195.0}  # seconds before the fork server: the stand-in, --parallel 4
TODAY_ENVS = 300

# bash's clock is a builtin: timing a call starts no process of its own.
SHIM = """#!/bin/bash
started=$EPOCHREALTIME
{real} "$@"
code=$?
echo "$started $EPOCHREALTIME" >> {log}
exit $code
"""


def terrane(args: list[str], env: Mapping[str, str], cwd: Path, start_method: str) -> tuple[float, str]:
    """Run ``terrane ARGS`` with ``start_method``; its wall time and stdout. Exit 0 (2 for drift) or BenchError."""
    started = time.monotonic()
    done = subprocess.run(terrane_command(*args), cwd=cwd, env={**env, "TERRANE_START_METHOD": start_method},
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise BenchError(f"terrane {' '.join(args)} ({start_method}) exited {done.returncode}:\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def in_sync(stdout: str, names: tuple[str, ...]) -> None:
    found = {(env["environment"], env["status"]) for env in json.loads(stdout)["environments"]}
    if found != {(name, "in_sync") for name in names}:
        raise BenchError(f"terrane drift --all reported {sorted(found)[:5]}...")


# --- part 1 ------------------------------------------------------------------------------------


def overhead(parent: Path, envs: int, pulumi_root: Path) -> dict[str, dict[int, tuple[float, float]]]:
    """Per start method and number of environments (1 and ``envs``): the (wall, in the CLI) seconds of a drift check."""
    names = [f"env{index:02d}" for index in range(envs)]
    project = Project.create(parent, "overhead", names, 1, pulumi_root)
    project.deploy(parallel=2)
    log = parent / "cli-times.log"
    shim = parent / "shim"
    (shim / "bin").mkdir(parents=True)
    (shim / "bin" / "pulumi").write_text(SHIM.format(real=pulumi_root / "bin" / "pulumi", log=log))
    (shim / "bin" / "pulumi").chmod(0o755)
    env = {**project.environ(), "TERRANE_PULUMI_ROOT": str(shim)}
    measured: dict[str, dict[int, tuple[float, float]]] = {method: {} for method in START_METHODS}
    for count, selected in ((1, names[:1]), (envs, ["--all"]), (1, names[:1]), (envs, ["--all"])):
        for method in START_METHODS:  # the first round warms up; the second is kept
            log.unlink(missing_ok=True)
            wall, stdout = terrane(["drift", *selected, "--parallel", "1", "--json"], env, project.directory, method)
            in_sync(stdout, tuple(names[:count]))
            spans = [line.split() for line in log.read_text().splitlines()]
            measured[method][count] = (wall, sum(float(end) - float(start) for start, end in spans))
    return measured


# --- part 2 ------------------------------------------------------------------------------------


def many(parent: Path, count: int, parallel: int) -> tuple[dict[str, float], dict[str, float]]:
    """Per start method: the wall time of ``status``, and of ``drift --all --parallel P``, over ``count``."""
    project = Project.create(parent, "many", [f"env{index:03d}" for index in range(count)], 1, STANDIN)
    env = {name: value for name, value in os.environ.items() if name not in CLEARED}
    env.update(REFERENCES, HOME=str(project.root / "home"), PULUMI_HOME=str(project.root / "pulumi-home"),
               TERRANE_PULUMI_ROOT=str(STANDIN), TERRANE_PROJECT=str(project.directory))
    terrane(["up", "--all", "--yes", "--parallel", str(parallel)], env, project.directory, "forkserver")
    status: dict[str, float] = {}
    drift: dict[str, float] = {}
    for method in START_METHODS:
        status[method], stdout = terrane(["status", "--json"], env, project.directory, method)
        listed = json.loads(stdout)["environments"]
        if len(listed) != count or any(row["last_update"] is None or row["error"] for row in listed):
            raise BenchError(f"terrane status ({method}) did not see every stack deployed")
        drift[method], stdout = terrane(["drift", "--all", "--parallel", str(parallel), "--json"], env,
                                        project.directory, method)
        in_sync(stdout, project.names)
    return status, drift


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", type=int, default=8, help="environments for the overhead (real CLI)")
    parser.add_argument("--many", type=int, default=300, help="environments for status and drift (stand-in)")
    parser.add_argument("--parallel", type=int, default=4, help="--parallel of drift --all over --many")
    args = parser.parse_args()
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="terrane-scale-"))
    try:
        pulumi_root = find_pulumi_root()
        cost = overhead(scratch, args.envs, pulumi_root)
        status, drift = many(scratch, args.many, args.parallel)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"terrane at scale, {os.cpu_count()} CPUs, {time.monotonic() - started:.0f} s in all")
    print(f"\n1. what terrane adds to a drift check beyond the CLI's own work (the real CLI, --parallel 1): "
          f"wall time less the time inside the CLI, for 1 and {args.envs} environments; per environment, the "
          f"difference over {args.envs - 1}")
    header = (f"{'workers':<12}{'1 env: wall s':>14}{'in CLI s':>10}{f'{args.envs} envs: wall s':>17}{'in CLI s':>10}"
              f"{'s/env':>8}   target <= {OVERHEAD_TARGET} s")
    print(header)
    print("-" * len(header))
    for method, runs in cost.items():
        (one_wall, one_cli), (all_wall, all_cli) = runs[1], runs[args.envs]
        per_env = ((all_wall - all_cli) - (one_wall - one_cli)) / (args.envs - 1)
        verdict = "met" if per_env <= OVERHEAD_TARGET else "not met"
        print(f"{method:<12}{one_wall:>14.2f}{one_cli:>10.2f}{all_wall:>17.2f}{all_cli:>10.2f}{per_env:>8.3f}   "
              f"{verdict}")
    print("the run's own start (Python, validation, the fork server) is the 1-environment wall time less its CLI time")

    today = {name: seconds / TODAY_ENVS for name, seconds in TODAY.items()}
    print(f"\n2. {args.many} environments on the stand-in CLI, drift --all --parallel {args.parallel}; today, per "
          f"environment (of {TODAY_ENVS}, --parallel 4): status {today['status']:.3f} s, drift {today['drift']:.3f} s")
    header = (f"{'workers':<12}{'status s':>10}{'s/env':>8}{'drift s':>9}{'s/env':>8}{'vs spawn':>10}"
              f"{'vs today':>10}")
    print(header)
    print("-" * len(header))
    for method in START_METHODS:
        per_env = drift[method] / args.many
        print(f"{method:<12}{status[method]:>10.2f}{status[method] / args.many:>8.3f}{drift[method]:>9.1f}"
              f"{per_env:>8.3f}{drift['spawn'] / drift[method]:>9.2f}x{today['drift'] / per_env:>9.2f}x")
    speedup = today["drift"] / (drift["forkserver"] / args.many)
    print(f"status of {args.many}: {status['forkserver']:.2f} s (target < {STATUS_TARGET:.0f} s for {TODAY_ENVS}: "
          f"{'met' if status['forkserver'] < STATUS_TARGET else 'not met'}); drift --all: {speedup:.1f}x faster per "
          f"environment than today (target {DRIFT_SPEEDUP_TARGET:.0f}x: "
          f"{'met' if speedup >= DRIFT_SPEEDUP_TARGET else 'not met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
