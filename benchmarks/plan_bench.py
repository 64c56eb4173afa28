"""What ``terrane plan`` costs a user, against the same plan written by hand in plain Pulumi.

Every sample is a fresh interpreter, as a user's invocation is: wall time from
spawn to exit, and the child's own peak RSS (``os.wait4``). One warm-up round
(which also checks each hand-written baseline still renders the same plan) is
followed by ``--runs`` interleaved rounds of, for each environment measured,

- ``terrane plan ENV --json`` (cwd: the repository root),
- the environment's hand-written baseline (``BASELINES``), rendered the same way,

and, once per round, ``terrane --help`` and ``python -c pass`` as the
interpreter's floor; a probe checks that ``terrane --help`` imports no
``pulumi*`` module. ``--env all`` (the default) measures every environment in
``BASELINES``. It prints one section per environment, the start-up figures and
whether the targets are met; it asserts nothing, and exits 1 only when a
measured command fails. POSIX only (``os.wait4``).

    python benchmarks/plan_bench.py [--runs N] [--env NAME|all]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"


@dataclass(frozen=True)
class Baseline:
    """An environment's hand-written Pulumi program (run with ``--json``, see ``_baseline.py``)."""

    script: Path


BASELINES: dict[str, Baseline] = {
    "aws-dev": Baseline(BENCHMARKS / "handwritten_aws.py"),
    "azure-dev": Baseline(BENCHMARKS / "handwritten_azure.py"),
    "gcp-dev": Baseline(BENCHMARKS / "handwritten_gcp.py"),
}
ALL = "all"
# A round of all three environments takes about 18 s: warm-up and 3 rounds stay near 1.5 minutes.
RUNS_ONE_ENV = 5
RUNS_ALL_ENVS = 3

PLAN_OVER_BASELINE_TARGET = 1.0  # issue 10: no slower than the plan written by hand
PLAN_PEAK_RSS_TARGET_MB = 300.0

# Top-level packages worth naming when --help loads them (all slow to import).
_HEAVY = (
    "pulumi",
    "pulumi_aws",
    "pulumi_azure_native",
    "pulumi_gcp",
    "pulumi_kubernetes",
    "grpc",
    "google",
    "pydantic",
    "yaml",
    "rich",
    "boto3",
)

# Runs the CLI entry point as the console script does, then lists what got imported.
_HELP_PROBE = """
import contextlib, io, json, sys
from terrane.engine.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["--help"])
print(json.dumps({"code": code, "modules": sorted({name.split(".")[0] for name in sys.modules})}))
"""


class CommandFailedError(Exception):
    def __init__(self, argv: list[str], code: int, stderr: str) -> None:
        super().__init__(f"{' '.join(argv)} exited with {code}")
        self.stderr = stderr


@dataclass(frozen=True)
class Command:
    label: str
    argv: list[str]


@dataclass(frozen=True)
class Sample:
    wall_ms: float
    peak_rss_mb: float


@dataclass
class Series:
    command: Command
    samples: list[Sample]

    @property
    def median_ms(self) -> float:
        return statistics.median(s.wall_ms for s in self.samples)

    @property
    def min_ms(self) -> float:
        return min(s.wall_ms for s in self.samples)

    @property
    def peak_rss_mb(self) -> float:
        return max(s.peak_rss_mb for s in self.samples)


@dataclass(frozen=True)
class Suite:
    """What is measured for one environment."""

    env: str
    plan: Command
    baseline: Baseline | None
    hand: Command | None

    @classmethod
    def of(cls, env: str) -> Suite:
        baseline = BASELINES.get(env)
        hand = None
        if baseline:
            hand = Command(f"hand-written ({baseline.script.name})", [sys.executable, str(baseline.script), "--json"])
        return cls(env, Command(f"terrane plan {env} --json", terrane("plan", env, "--json")), baseline, hand)

    @property
    def commands(self) -> list[Command]:
        return [self.plan, *([self.hand] if self.hand else [])]


@dataclass(frozen=True)
class Outcome:
    """One environment's figures against the targets."""

    env: str
    ratio: float | None
    peak_rss_mb: float
    parity_ok: bool | None


def run(argv: list[str]) -> tuple[Sample, str]:
    """Run ``argv`` once in a fresh process; return its wall time, peak RSS and stdout."""
    # Files rather than pipes: nothing has to drain them while wait4 blocks.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, cwd=REPO, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise CommandFailedError(argv, child.returncode, err.read().decode(errors="replace"))
        stdout = out.read().decode()
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    rss_mb = usage.ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else usage.ru_maxrss / 1024
    return Sample(wall_ms=wall * 1000, peak_rss_mb=rss_mb), stdout


def terrane(*args: str) -> list[str]:
    """The ``terrane`` console script of this interpreter's environment, as a user runs it."""
    script = Path(sys.executable).parent / "terrane"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "import sys; from terrane.engine.cli import entry; sys.exit(entry())", *args]


def help_imports() -> list[str]:
    """Top-level modules that ``terrane --help`` leaves imported."""
    _, stdout = run([sys.executable, "-c", _HELP_PROBE])
    return json.loads(stdout)["modules"]


def parity(plan_json: str, baseline_json: str) -> list[str]:
    """How the baseline's custom resources and outputs differ from the plan's (empty: none).

    Resources are matched by type and logical name; one type and name
    registered more than once counts each registration.
    """
    plan, baseline = json.loads(plan_json), json.loads(baseline_json)

    def custom(doc: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
        found: dict[tuple[str, str], list[str]] = defaultdict(list)
        for r in doc["resources"]:
            if r["custom"]:
                found[(r["type"], r["name"])].append(json.dumps(r["inputs"], sort_keys=True))
        return {key: sorted(inputs) for key, inputs in found.items()}

    ours, theirs = custom(plan), custom(baseline)
    problems = []
    counts, baseline_counts = Counter(), Counter()
    for (type_, _), inputs in ours.items():
        counts[type_] += len(inputs)
    for (type_, _), inputs in theirs.items():
        baseline_counts[type_] += len(inputs)
    for type_ in sorted(counts.keys() | baseline_counts.keys()):
        if counts[type_] != baseline_counts[type_]:
            problems.append(f"{type_}: {counts[type_]} in the plan, {baseline_counts[type_]} hand-written")
    for key in sorted(ours.keys() & theirs.keys()):
        if len(ours[key]) != len(theirs[key]):
            problems.append(f"{key[0]} {key[1]}: {len(ours[key])} in the plan, {len(theirs[key])} hand-written")
        elif ours[key] != theirs[key]:
            problems.append(f"{key[0]} {key[1]}: inputs differ")
    for key in sorted(ours.keys() ^ theirs.keys()):
        problems.append(f"{key[0]} {key[1]}: only {'in the plan' if key in ours else 'hand-written'}")
    if plan["outputs"] != baseline["outputs"]:
        problems.append("stack outputs differ")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs",
        type=int,
        help=f"timed samples per command (default: {RUNS_ONE_ENV}, or {RUNS_ALL_ENVS} with --env {ALL})",
    )
    parser.add_argument(
        "--env",
        default=ALL,
        help=f"environment to plan, or {ALL!r} for every one with a baseline: {', '.join(BASELINES)} (default: all)",
    )
    args = parser.parse_args()
    runs = args.runs if args.runs is not None else RUNS_ALL_ENVS if args.env == ALL else RUNS_ONE_ENV
    if runs < 1:
        parser.error("--runs must be at least 1")

    suites = [Suite.of(env) for env in (BASELINES if args.env == ALL else [args.env])]
    help_cmd = Command("terrane --help", terrane("--help"))
    bare_cmd = Command("python -c pass", [sys.executable, "-c", "pass"])
    commands = [command for suite in suites for command in suite.commands] + [help_cmd, bare_cmd]

    started = time.perf_counter()
    try:
        # Warm-up: compiles bytecode and warms the page cache; its output is the parity check.
        first = {c.label: run(c.argv)[1] for c in commands}
        series = {c.label: Series(c, []) for c in commands}
        for _ in range(runs):
            for command in commands:
                series[command.label].samples.append(run(command.argv)[0])
        loaded = help_imports()
    except CommandFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(exc.stderr, file=sys.stderr, end="")
        return 1
    elapsed = time.perf_counter() - started

    print(f"{runs} runs per command, each in a fresh interpreter ({Path(sys.executable)}), "
          f"{elapsed:.0f} s in all")
    width = max(len(c.label) for c in commands)
    outcomes = [_report_env(suite, series, first, width) for suite in suites]

    help_, bare = series[help_cmd.label], series[bare_cmd.label]
    print("\nstart-up")
    _table([help_, bare], width)
    print(f"--help / bare python:   {help_.median_ms / bare.median_ms:.1f}x  "
          f"({help_.median_ms - bare.median_ms:+.0f} ms, {help_.peak_rss_mb:.1f} MB peak RSS)")
    pulumi_modules = [name for name in loaded if name.startswith("pulumi")]
    heavy = [name for name in loaded if name in _HEAVY]
    print(f"--help imports:         {len(loaded)} top-level modules; slow ones: {', '.join(heavy) or 'none'}")

    _report_targets(outcomes, pulumi_modules)
    return 0


def _report_env(suite: Suite, series: dict[str, Series], first: dict[str, str], width: int) -> Outcome:
    """Print one environment's section; return its figures against the targets."""
    plan = series[suite.plan.label]
    print(f"\n{suite.env}")
    _table([plan, *([series[suite.hand.label]] if suite.hand else [])], width)
    if suite.baseline is None or suite.hand is None:
        print(f"baseline:               none for {suite.env} (add one to BASELINES)")
        return Outcome(suite.env, None, plan.peak_rss_mb, None)

    hand = series[suite.hand.label]
    ratio = plan.median_ms / hand.median_ms
    print(f"plan / hand-written:    {ratio:.2f}x  ({plan.median_ms - hand.median_ms:+.0f} ms, "
          f"{plan.peak_rss_mb - hand.peak_rss_mb:+.1f} MB peak RSS)")
    problems = parity(first[suite.plan.label], first[suite.hand.label])
    if problems:
        print(f"baseline parity:        DIFFERS from the plan, update {suite.baseline.script.name}:")
        for problem in problems[:10]:
            print(f"  - {problem}")
        if len(problems) > 10:
            print(f"  - and {len(problems) - 10} more")
    else:
        resources = sum(1 for r in json.loads(first[suite.plan.label])["resources"] if r["custom"])
        print(f"baseline parity:        same {resources} custom resources, inputs and outputs as the plan")
    return Outcome(suite.env, ratio, plan.peak_rss_mb, not problems)


def _table(rows: list[Series], width: int) -> None:
    print(f"{'command':<{width}}  {'median ms':>9}  {'min ms':>7}  {'peak RSS MB':>11}")
    for s in rows:
        print(f"{s.command.label:<{width}}  {s.median_ms:>9.0f}  {s.min_ms:>7.0f}  {s.peak_rss_mb:>11.1f}")


def _report_targets(outcomes: list[Outcome], pulumi_modules: list[str]) -> None:
    ratio_head = f"plan <= {PLAN_OVER_BASELINE_TARGET}x hand-written"
    rss_head = f"plan peak RSS < {PLAN_PEAK_RSS_TARGET_MB:.0f} MB"
    rows = []
    for o in outcomes:
        if o.ratio is None:
            ratio = "not measured (no baseline)"
        else:
            ratio = f"{o.ratio:.2f}x  {_verdict(o.ratio <= PLAN_OVER_BASELINE_TARGET)}"
            if not o.parity_ok:
                ratio += " (baseline differs)"
        rows.append((o.env, ratio, f"{o.peak_rss_mb:.0f} MB  {_verdict(o.peak_rss_mb < PLAN_PEAK_RSS_TARGET_MB)}"))
    env_width = max(len("--help loads no pulumi*"), *(len(env) for env, _, _ in rows))
    ratio_width = max(len(ratio_head), *(len(ratio) for _, ratio, _ in rows))
    print("\ntargets")
    print(f"  {'':<{env_width}}  {ratio_head:<{ratio_width}}  {rss_head}")
    for env, ratio, rss in rows:
        print(f"  {env:<{env_width}}  {ratio:<{ratio_width}}  {rss}")
    print(f"  {'--help loads no pulumi*':<{env_width}}  {', '.join(pulumi_modules) or 'none loaded'}  "
          f"{_verdict(not pulumi_modules)}")


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":
    sys.exit(main())
