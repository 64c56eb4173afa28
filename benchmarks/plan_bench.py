"""What ``terrane plan`` costs a user, against the same plan written by hand in plain Pulumi.

Every sample is a fresh interpreter, as a user's invocation is: wall time from
spawn to exit, and the child's own peak RSS (``os.wait4``). One warm-up round
(which also checks the hand-written baseline still renders the same plan) is
followed by ``--runs`` interleaved rounds of:

- ``terrane plan ENV --json`` (cwd: the repository root),
- the environment's hand-written baseline (``BASELINES``), rendered the same way,
- ``terrane --help``, and ``python -c pass`` as the interpreter's floor,

and a probe checks that ``terrane --help`` imports no ``pulumi*`` module.
It prints figures and whether the targets are met; it asserts nothing, and
exits 1 only when a measured command fails. POSIX only (``os.wait4``).

    python benchmarks/plan_bench.py [--runs N] [--env NAME]
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
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

# Environment -> its hand-written Pulumi program (run with --json, see handwritten_aws.py).
BASELINES: dict[str, Path] = {
    "aws-dev": REPO / "benchmarks" / "handwritten_aws.py",
}

PLAN_OVER_BASELINE_TARGET = 1.5
PLAN_PEAK_RSS_TARGET_MB = 300.0

# Top-level packages worth naming when --help loads them (all slow to import).
_HEAVY = ("pulumi", "pulumi_aws", "pulumi_kubernetes", "grpc", "google", "pydantic", "yaml", "rich", "boto3")

# Runs the CLI entry point as the console script does, then lists what got imported.
_HELP_PROBE = """
import contextlib, io, json, sys
from engine.cli import main
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
    return [sys.executable, "-c", "import sys; from engine.cli import main; sys.exit(main())", *args]


def help_imports() -> list[str]:
    """Top-level modules that ``terrane --help`` leaves imported."""
    _, stdout = run([sys.executable, "-c", _HELP_PROBE])
    return json.loads(stdout)["modules"]


def parity(plan_json: str, baseline_json: str) -> list[str]:
    """How the baseline's custom resources and outputs differ from the plan's (empty: none)."""
    plan, baseline = json.loads(plan_json), json.loads(baseline_json)

    def custom(doc: dict[str, Any]) -> dict[tuple[str, str], Any]:
        return {(r["type"], r["name"]): r["inputs"] for r in doc["resources"] if r["custom"]}

    ours, theirs = custom(plan), custom(baseline)
    problems = []
    counts, baseline_counts = Counter(t for t, _ in ours), Counter(t for t, _ in theirs)
    for type_ in sorted(counts.keys() | baseline_counts.keys()):
        if counts[type_] != baseline_counts[type_]:
            problems.append(f"{type_}: {counts[type_]} in the plan, {baseline_counts[type_]} hand-written")
    for key in sorted(ours.keys() & theirs.keys()):
        if ours[key] != theirs[key]:
            problems.append(f"{key[0]} {key[1]}: inputs differ")
    for key in sorted(ours.keys() ^ theirs.keys()):
        problems.append(f"{key[0]} {key[1]}: only {'in the plan' if key in ours else 'hand-written'}")
    if plan["outputs"] != baseline["outputs"]:
        problems.append("stack outputs differ")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed samples per command (default: 7)")
    parser.add_argument("--env", default="aws-dev", help="environment to plan (default: aws-dev)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    baseline = BASELINES.get(args.env)
    plan_cmd = Command(f"terrane plan {args.env} --json", terrane("plan", args.env, "--json"))
    commands = [plan_cmd]
    if baseline:
        commands.append(Command(f"hand-written ({baseline.name})", [sys.executable, str(baseline), "--json"]))
    commands += [
        Command("terrane --help", terrane("--help")),
        Command("python -c pass", [sys.executable, "-c", "pass"]),
    ]

    try:
        # Warm-up: compiles bytecode and warms the page cache; its output is the parity check.
        first = {c.label: run(c.argv)[1] for c in commands}
        series = {c.label: Series(c, []) for c in commands}
        for _ in range(args.runs):
            for command in commands:
                series[command.label].samples.append(run(command.argv)[0])
        loaded = help_imports()
    except CommandFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(exc.stderr, file=sys.stderr, end="")
        return 1

    print(f"env {args.env}: {args.runs} runs per command, each in a fresh interpreter ({Path(sys.executable)})\n")
    width = max(len(c.label) for c in commands)
    print(f"{'command':<{width}}  {'median ms':>9}  {'min ms':>7}  {'peak RSS MB':>11}")
    for command in commands:
        s = series[command.label]
        print(f"{command.label:<{width}}  {s.median_ms:>9.0f}  {s.min_ms:>7.0f}  {s.peak_rss_mb:>11.1f}")
    print()

    plan = series[plan_cmd.label]
    help_, bare = series["terrane --help"], series["python -c pass"]
    ratio = None
    if baseline:
        hand = series[commands[1].label]
        ratio = plan.median_ms / hand.median_ms
        print(f"plan / hand-written:    {ratio:.2f}x  ({plan.median_ms - hand.median_ms:+.0f} ms, "
              f"{plan.peak_rss_mb - hand.peak_rss_mb:+.1f} MB peak RSS)")
        problems = parity(first[plan_cmd.label], first[commands[1].label])
        if problems:
            print(f"baseline parity:        DIFFERS from the plan, update {baseline.name}:")
            for problem in problems[:10]:
                print(f"  - {problem}")
        else:
            resources = sum(1 for r in json.loads(first[plan_cmd.label])["resources"] if r["custom"])
            print(f"baseline parity:        same {resources} custom resources, inputs and outputs as the plan")
    print(f"--help / bare python:   {help_.median_ms / bare.median_ms:.1f}x  "
          f"({help_.median_ms - bare.median_ms:+.0f} ms, {help_.peak_rss_mb:.1f} MB peak RSS)")
    pulumi_modules = [name for name in loaded if name.startswith("pulumi")]
    heavy = [name for name in loaded if name in _HEAVY]
    print(f"--help imports:         {len(loaded)} top-level modules; slow ones: {', '.join(heavy) or 'none'}")
    print()

    print("targets")
    if ratio is None:
        print(f"  plan <= {PLAN_OVER_BASELINE_TARGET}x hand-written:  not measured "
              f"(no baseline for {args.env}: add one to BASELINES)")
    else:
        print(f"  plan <= {PLAN_OVER_BASELINE_TARGET}x hand-written:  {ratio:.2f}x  "
              f"{_verdict(ratio <= PLAN_OVER_BASELINE_TARGET)}")
    print(f"  plan peak RSS < {PLAN_PEAK_RSS_TARGET_MB:.0f} MB:      {plan.peak_rss_mb:.0f} MB  "
          f"{_verdict(plan.peak_rss_mb < PLAN_PEAK_RSS_TARGET_MB)}")
    print(f"  --help loads no pulumi*:     {', '.join(pulumi_modules) or 'none loaded'}  "
          f"{_verdict(not pulumi_modules)}")
    return 0


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":
    sys.exit(main())
