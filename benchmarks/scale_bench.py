"""terrane at scale: what it adds per environment; ``status``, ``drift --all`` and ``report --html`` of 300.

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
   terrane's own cost and the CLI's start-up (on this interpreter, not on a
   ``python3`` shim found on PATH, as the tests run it). All deployed with
   ``terrane up --all``; then ``terrane status`` and ``terrane drift --all
   --parallel 4``.
   Targets: ``status`` under 10 s (today 152 s); ``drift --all`` at least 3x
   faster than today's 195 s.

3. ``terrane report --html`` of the same environments (``--many``), as a user
   runs it, after part 2's drift runs (or, without part 2, one ``drift --all``)
   left a history: the median of ``--report-runs`` runs, and the page's size.
   The page must list every environment with its last update (counted in the
   HTML). The baseline, in the same run: the same page with terrane's update
   records moved out of the store (``.terrane/updates/``), so the last updates
   come from one ``pulumi stack history`` per stack, as before the records;
   both pages must show the same, but for the time they were made. Target:
   under 5 s.

It asserts nothing about timing, and exits 1 only when a run fails, reports
something other than an in-sync environment, or writes a page that does not
list every environment with its last update.

    python benchmarks/scale_bench.py [--envs 8] [--many 300] [--parallel 4] [--report-runs 3] [--parts 1,2,3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine_bench import (
    CLEARED,
    REFERENCES,
    BenchError,
    Project,
    counts,
    find_pulumi_root,
    terrane_command,
)

from terrane.engine.store.paths import STATE_DIR
from terrane.engine.store.updates import PREFIX as UPDATES

REPO = Path(__file__).resolve().parent.parent
STANDIN = REPO / "tests" / "standin"
START_METHODS = ("forkserver", "spawn")

OVERHEAD_TARGET = 0.15  # seconds per environment beyond the CLI's own work
STATUS_TARGET = 10.0  # seconds for the whole view of --many environments
DRIFT_SPEEDUP_TARGET = 3.0
REPORT_TARGET = 5.0  # seconds for report --html of --many environments
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

# The page's DOM contract (terrane.engine.report): an environment's row, its name, and its last update cell.
ROW = re.compile(r'<tr class="environment" [^>]*><th scope="row"><a [^>]*>([^<]*)</a></th>(?:<td>[^<]*</td>){3}\s*'
                 r'<td>(.*?)</td>', re.DOTALL)
LAST_UPDATE = re.compile(r'<time datetime="[^"]+">[^<]*</time><br><span class="muted">([^<]+)</span>')
GENERATED = re.compile(r'<p id="generated">.*?</p>', re.DOTALL)


def terrane(args: list[str], env: Mapping[str, str], cwd: Path, start_method: str) -> tuple[float, str]:
    """Run ``terrane ARGS`` with ``start_method``; its wall time and stdout. Exit 0 or BenchError."""
    started = time.monotonic()
    done = subprocess.run(terrane_command(*args), cwd=cwd, env={**env, "TERRANE_START_METHOD": start_method},
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise BenchError(f"terrane {' '.join(args)} ({start_method}) exited {done.returncode}:\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def in_sync(stdout: str, names: Sequence[str]) -> None:
    found = {(env["environment"], env["status"]) for env in json.loads(stdout)["environments"]}
    if found != {(name, "in_sync") for name in names}:
        raise BenchError(f"terrane drift --all reported {sorted(found)[:5]}...")


def load_average(at_start: float) -> str:
    """The machine's load at the start and at the end: the figures are only as quiet as the machine was."""
    one, five, fifteen = os.getloadavg()
    return (f"load average {at_start:.1f} at the start; at the end, with this run's own: {one:.1f} / {five:.1f} / "
            f"{fifteen:.1f} (1 / 5 / 15 min)")


def on_standin(parent: Path, label: str, names: list[str], parallel: int) -> tuple[Project, dict[str, str]]:
    """A project of ``names`` on the stand-in CLI, deployed with ``terrane up --all --parallel P``; and the
    environment terrane runs with there (the stand-in runs no program, so none is named).

    The stand-in's ``python3`` is this interpreter, as the tests run it (``tests.standin``): found on PATH, a
    version manager's is often a shim (pyenv's, a shell script, adds some 0.1 s to every CLI call).
    """
    project = Project.create(parent, label, names, 1, STANDIN)
    interpreter = project.root / "interpreter"
    interpreter.mkdir()
    (interpreter / "python3").symlink_to(Path(sys.executable).resolve())
    env = {name: value for name, value in os.environ.items() if name not in CLEARED}
    env.update(REFERENCES, HOME=str(project.root / "home"), PULUMI_HOME=str(project.root / "pulumi-home"),
               TERRANE_PULUMI_ROOT=str(STANDIN), TERRANE_PROJECT=str(project.directory),
               PATH=os.pathsep.join(filter(None, [str(interpreter), env.get("PATH")])))
    terrane(["up", "--all", "--yes", "--parallel", str(parallel)], env, project.directory, "forkserver")
    return project, env


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
            in_sync(stdout, names[:count])
            spans = [line.split() for line in log.read_text().splitlines()]
            measured[method][count] = (wall, sum(float(end) - float(start) for start, end in spans))
    return measured


def print_overhead(cost: dict[str, dict[int, tuple[float, float]]], envs: int) -> None:
    print(f"\n1. what terrane adds to a drift check beyond the CLI's own work (the real CLI, --parallel 1): "
          f"wall time less the time inside the CLI, for 1 and {envs} environments; per environment, the "
          f"difference over {envs - 1}")
    header = (f"{'workers':<12}{'1 env: wall s':>14}{'in CLI s':>10}{f'{envs} envs: wall s':>17}{'in CLI s':>10}"
              f"{'s/env':>8}   target <= {OVERHEAD_TARGET} s")
    print(header)
    print("-" * len(header))
    for method, runs in cost.items():
        (one_wall, one_cli), (all_wall, all_cli) = runs[1], runs[envs]
        per_env = ((all_wall - all_cli) - (one_wall - one_cli)) / (envs - 1)
        verdict = "met" if per_env <= OVERHEAD_TARGET else "not met"
        print(f"{method:<12}{one_wall:>14.2f}{one_cli:>10.2f}{all_wall:>17.2f}{all_cli:>10.2f}{per_env:>8.3f}   "
              f"{verdict}")
    print("the run's own start (Python, validation, the fork server) is the 1-environment wall time less its CLI time")


# --- part 2 ------------------------------------------------------------------------------------


def many(project: Project, env: Mapping[str, str], parallel: int) -> tuple[dict[str, float], dict[str, float]]:
    """Per start method: the wall time of ``status``, and of ``drift --all --parallel P``, over the project."""
    status: dict[str, float] = {}
    drift: dict[str, float] = {}
    for method in START_METHODS:
        status[method], stdout = terrane(["status", "--json"], env, project.directory, method)
        listed = json.loads(stdout)["environments"]
        if len(listed) != len(project.names) or any(row["last_update"] is None or row["error"] for row in listed):
            raise BenchError(f"terrane status ({method}) did not see every stack deployed")
        drift[method], stdout = terrane(["drift", "--all", "--parallel", str(parallel), "--json"], env,
                                        project.directory, method)
        in_sync(stdout, project.names)
    return status, drift


def print_many(status: dict[str, float], drift: dict[str, float], count: int, parallel: int) -> None:
    today = {name: seconds / TODAY_ENVS for name, seconds in TODAY.items()}
    print(f"\n2. {count} environments on the stand-in CLI, drift --all --parallel {parallel}; today, per "
          f"environment (of {TODAY_ENVS}, --parallel 4): status {today['status']:.3f} s, drift {today['drift']:.3f} s")
    header = (f"{'workers':<12}{'status s':>10}{'s/env':>8}{'drift s':>9}{'s/env':>8}{'vs spawn':>10}"
              f"{'vs today':>10}")
    print(header)
    print("-" * len(header))
    for method in START_METHODS:
        per_env = drift[method] / count
        print(f"{method:<12}{status[method]:>10.2f}{status[method] / count:>8.3f}{drift[method]:>9.1f}"
              f"{per_env:>8.3f}{drift['spawn'] / drift[method]:>9.2f}x{today['drift'] / per_env:>9.2f}x")
    speedup = today["drift"] / (drift["forkserver"] / count)
    print(f"status of {count}: {status['forkserver']:.2f} s (target < {STATUS_TARGET:.0f} s for {TODAY_ENVS}: "
          f"{'met' if status['forkserver'] < STATUS_TARGET else 'not met'}); drift --all: {speedup:.1f}x faster per "
          f"environment than today (target {DRIFT_SPEEDUP_TARGET:.0f}x: "
          f"{'met' if speedup >= DRIFT_SPEEDUP_TARGET else 'not met'})")


# --- part 3 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """``terrane report --html``, timed: the median wall time, the runs, and the page the last run wrote."""

    seconds: float
    runs: int
    html: str

    @property
    def size(self) -> int:
        return len(self.html.encode())


def last_updates(html: str) -> list[tuple[str, str | None]]:
    """Each environment row of a page: its name, and what its last update says it was (``update succeeded``), or
    None when the row shows no last update."""
    return [(name, found[1] if (found := LAST_UPDATE.search(cell)) else None) for name, cell in ROW.findall(html)]


def check_page(page: Page, names: Sequence[str]) -> None:
    """BenchError unless the page lists exactly ``names``, each with its last update, an update that succeeded."""
    rows = last_updates(page.html)
    if sorted(name for name, _ in rows) != sorted(names):
        raise BenchError(f"the page lists {len(rows)} environments, not the {len(names)} deployed")
    missing = sorted(name for name, update in rows if update != "update succeeded")
    if missing:
        raise BenchError(f"the page shows no successful last update for {len(missing)} environments: {missing[:5]}")


def report_html(project: Project, env: Mapping[str, str], runs: int) -> Page:
    """``terrane report --html`` of every environment, ``runs`` times; the page is checked."""
    path = project.root / "page.html"
    times = [terrane(["report", "--html", str(path)], env, project.directory, "forkserver")[0] for _ in range(runs)]
    page = Page(statistics.median(times), runs, path.read_text())
    check_page(page, project.names)
    return page


def report_pages(project: Project, env: Mapping[str, str], runs: int) -> tuple[Page, Page]:
    """The page as terrane writes it (last updates from its records in the store), and the same with the records
    moved out, so each stack's history is asked; they must show the same."""
    from_store = report_html(project, env, runs)
    records = project.directory / STATE_DIR / UPDATES
    aside = records.with_name(f"{records.name}.aside")
    records.rename(aside)
    try:
        from_history = report_html(project, env, runs)
    finally:
        aside.rename(records)
    if GENERATED.sub("", from_store.html) != GENERATED.sub("", from_history.html):
        raise BenchError("the page from the update records differs from the page from each stack's history")
    return from_store, from_history


def print_pages(from_store: Page, from_history: Page, count: int, drift_runs: int) -> None:
    print(f"\n3. report --html of {count} environments on the stand-in CLI (the console script, its own process; "
          f"{drift_runs} drift --all in the history), median of {from_store.runs} runs; each page lists all {count} "
          f"with their last update")
    header = f"{'last updates from':<38}{'report s':>10}{'s/env':>8}{'page bytes':>12}"
    print(header)
    print("-" * len(header))
    for label, page in (("terrane's records (one listing)", from_store),
                        ("pulumi stack history, one per stack", from_history)):
        print(f"{label:<38}{page.seconds:>10.2f}{page.seconds / count:>8.4f}{page.size:>12,}")
    print(f"the records: {from_history.seconds / from_store.seconds:.1f}x faster, the page the same but for its "
          f"time; report --html of {count}: {from_store.seconds:.2f} s (target < {REPORT_TARGET:.0f} s for "
          f"{TODAY_ENVS}: {'met' if from_store.seconds < REPORT_TARGET else 'not met'})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", type=int, default=8, help="environments for the overhead (real CLI)")
    parser.add_argument("--many", type=int, default=300, help="environments for status, drift and report (stand-in)")
    parser.add_argument("--parallel", type=int, default=4, help="--parallel of up --all and drift --all over --many")
    parser.add_argument("--report-runs", type=int, default=3, help="timed runs of report --html, each way (median)")
    parser.add_argument("--parts", type=counts, default=[1, 2, 3], help="the parts to run (default: 1,2,3)")
    args = parser.parse_args()
    parts = set(args.parts)
    if not parts <= {1, 2, 3} or args.envs < 2 or args.report_runs < 1:
        parser.error("--parts takes 1, 2 and 3; --envs must be at least 2, --report-runs at least 1")
    at_start = os.getloadavg()[0]
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="terrane-scale-"))
    status: dict[str, float] = {}
    drift: dict[str, float] = {}
    pages: tuple[Page, Page] | None = None
    try:
        cost = overhead(scratch, args.envs, find_pulumi_root()) if 1 in parts else None
        if parts & {2, 3}:
            project, env = on_standin(scratch, "many", [f"env{index:03d}" for index in range(args.many)],
                                      args.parallel)
            if 2 in parts:
                status, drift = many(project, env, args.parallel)
            else:  # the page's history: one run
                in_sync(terrane(["drift", "--all", "--parallel", str(args.parallel), "--json"], env,
                                project.directory, "forkserver")[1], project.names)
            pages = report_pages(project, env, args.report_runs) if 3 in parts else None
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    load = load_average(at_start)

    print(f"terrane at scale, {os.cpu_count()} CPUs, {time.monotonic() - started:.0f} s in all; {load}")
    if cost is not None:
        print_overhead(cost, args.envs)
    if 2 in parts:
        print_many(status, drift, args.many, args.parallel)
    if pages is not None:
        print_pages(*pages, args.many, len(START_METHODS) if 2 in parts else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
