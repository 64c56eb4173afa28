"""How the wall time of ``terrane drift --all`` grows with the number of environments and ``--parallel``.

It runs the real ``terrane`` command against the stand-in Pulumi CLI of
``tests/standin`` (``TERRANE_PULUMI_ROOT``), which plays each stack from a
scenario instead of calling a cloud: each resource's refresh waits ``--delay``
seconds, standing in for the cloud's latency. For each number of environments
it builds a temporary project (the repository's ``Pulumi.yaml`` and
``accounts.yaml``, and ``environments/envNN.yaml`` copies of ``aws-dev.yaml``)
with a ``PULUMI_HOME`` of its own, deploys it once with ``terrane up --all``,
then has each stack's refresh find one drifted property and one that
``aws-dev.yaml``'s ignore rule drops, so every check takes the whole drift path.

After a warm-up run, each case (environments x ``--parallel``) is timed as a
fresh ``terrane drift --all --parallel P --json``, in interleaved rounds; the
table shows the median wall time, its ratio to the baseline measured in the
same run (the first case: 1 environment at ``--parallel 1``), the ideal ratio
if environments cost only their delays and ran perfectly in parallel
(``ceil(envs / parallel)``), and seconds per environment. It asserts nothing;
it exits 1 only when a run fails or reports something other than what the
stand-in played.

    python benchmarks/drift_bench.py [--envs 1,4,8] [--parallel 1,4] [--delay 0.1] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
STANDIN_ROOT = REPO / "tests" / "standin"  # holds bin/pulumi, as TERRANE_PULUMI_ROOT expects
SAMPLE_ENV = REPO / "environments" / "aws-dev.yaml"

# What each stack holds: a slice of aws-dev's resources, refreshed one after another.
RESOURCES = [
    {"type": "aws:ec2/vpc:Vpc", "name": "vpc", "inputs": {"cidrBlock": "10.20.0.0/16"}},
    {"type": "aws:ec2/subnet:Subnet", "name": "private-a", "inputs": {"cidrBlock": "10.20.0.0/18"}},
    {"type": "aws:ec2/subnet:Subnet", "name": "private-b", "inputs": {"cidrBlock": "10.20.64.0/18"}},
    {"type": "aws:ec2/natGateway:NatGateway", "name": "nat-a"},
    {"type": "aws:kms/key:Key", "name": "cluster-key", "inputs": {"enableKeyRotation": True}},
    {"type": "aws:eks/cluster:Cluster", "name": "cluster", "inputs": {"version": "1.31"}},
    {"type": "aws:eks/nodeGroup:NodeGroup", "name": "system",
     "inputs": {"scalingConfig": {"desiredSize": 2, "minSize": 2, "maxSize": 4}}},
    {"type": "aws:secretsmanager/secret:Secret", "name": "db-password"},
]
# What every refresh finds: a tag added by hand (drift) and the autoscaler's work (ignored).
REFRESH = {
    "vpc": {"op": "update", "diff": {"tags.owner": "add"}},
    "system": {"op": "update", "diff": {"scalingConfig.desiredSize": "update"}},
}
# Variables the sample accounts' references need; the stand-in never checks their values.
REFERENCES = {"TERRANE_AWS_EXTERNAL_ID": "dummy-external-id"}
# Ambient settings that would point terrane at another backend or CLI.
CLEARED = ("TERRANE_BACKEND_URL", "TERRANE_SECRETS_PROVIDER", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE",
           "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_ACCESS_TOKEN", "TERRANE_PROJECT", "PULUMI_HOME")


class BenchError(Exception):
    """A run failed or reported something other than what the stand-in played."""


@dataclass(frozen=True)
class Case:
    envs: int
    parallel: int

    @property
    def ideal(self) -> int:
        """Rounds of environments a perfectly parallel run needs: its wall time in delays."""
        return math.ceil(self.envs / self.parallel)


@dataclass
class Series:
    case: Case
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass(frozen=True)
class Project:
    """A temporary terrane project of ``count`` environments, with its own stand-in state."""

    root: Path
    count: int

    @property
    def names(self) -> list[str]:
        return [f"env{i:02d}" for i in range(1, self.count + 1)]

    @property
    def pulumi_home(self) -> Path:
        return self.root / "pulumi-home"

    @property
    def directory(self) -> Path:
        return self.root / "project"

    @classmethod
    def create(cls, parent: Path, count: int) -> Project:
        project = cls(parent / f"{count}-envs", count)
        (project.directory / "environments").mkdir(parents=True)
        (project.root / "home").mkdir()
        project.pulumi_home.mkdir()
        for name in ("Pulumi.yaml", "accounts.yaml"):
            shutil.copy(REPO / name, project.directory / name)
        sample = yaml.safe_load(SAMPLE_ENV.read_text())
        for name in project.names:
            spec = {**sample, "name": name}
            (project.directory / "environments" / f"{name}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        return project

    def environ(self) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if name not in CLEARED}
        return {**env, **REFERENCES, "HOME": str(self.root / "home"), "PULUMI_HOME": str(self.pulumi_home),
                "TERRANE_PULUMI_ROOT": str(STANDIN_ROOT), "TERRANE_PROJECT": str(self.directory),
                "PULUMI_SKIP_UPDATE_CHECK": "true"}

    def play(self, **settings: Any) -> None:
        """Set what the stand-in plays for every stack (``$PULUMI_HOME/standin/scenario.json``)."""
        path = self.pulumi_home / "standin" / "scenario.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"stacks": {name: settings for name in self.names}}, indent=2))

    def deploy(self) -> None:
        self.play(resources=RESOURCES)
        code, _, stderr = self.terrane("up", "--all", "--parallel", "4", "--yes")
        if code != 0:
            raise BenchError(f"terrane up --all ({self.count} environments) exited {code}:\n{stderr}")

    def drift(self, parallel: int) -> float:
        """One timed ``terrane drift --all``; checks it reported every environment as played."""
        started = time.perf_counter()
        code, stdout, stderr = self.terrane("drift", "--all", "--parallel", str(parallel), "--json")
        seconds = time.perf_counter() - started
        if code != 2:
            raise BenchError(f"terrane drift --all --parallel {parallel} ({self.count} environments) "
                             f"exited {code}, expected 2 (drift found):\n{stderr}")
        report = json.loads(stdout)
        found = {(env["environment"], env["status"], len(env["resources"]), env["ignored"])
                 for env in report["environments"]}
        expected = {(name, "drifted", 1, 1) for name in self.names}
        if found != expected:
            raise BenchError(f"terrane drift reported {sorted(found)}, expected {sorted(expected)}")
        return seconds

    def terrane(self, *args: str) -> tuple[int, str, str]:
        completed = subprocess.run(terrane_command(*args), cwd=self.directory, env=self.environ(),
                                   stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
        return completed.returncode, completed.stdout, completed.stderr


def terrane_command(*args: str) -> list[str]:
    """The ``terrane`` console script of this interpreter's environment, as a user runs it."""
    script = Path(sys.executable).parent / "terrane"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "import sys; from engine.cli import main; sys.exit(main())", *args]


def counts(text: str) -> list[int]:
    values = [int(item) for item in text.split(",") if item.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a comma-separated list of positive integers")
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=counts, default=[1, 4, 8], help="numbers of environments (default: 1,4,8)")
    parser.add_argument("--parallel", type=counts, default=[1, 4], help="--parallel values (default: 1,4)")
    parser.add_argument("--delay", type=float, default=0.1,
                        help=f"seconds each resource's refresh waits, the stand-in's cloud latency "
                             f"({len(RESOURCES)} resources per environment; default: 0.1)")
    parser.add_argument("--runs", type=int, default=1, help="timed runs per case; the median is shown (default: 1)")
    args = parser.parse_args()
    if args.runs < 1 or args.delay < 0:
        parser.error("--runs must be at least 1 and --delay at least 0")

    # The baseline first: the smallest project at the lowest parallelism.
    cases = [Case(envs, parallel) for envs in sorted(set(args.envs)) for parallel in sorted(set(args.parallel))
             if parallel <= envs or parallel == min(args.parallel)]
    series = {case: Series(case) for case in cases}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="terrane-drift-bench-") as temp:
        try:
            projects = {count: Project.create(Path(temp), count) for count in sorted(set(args.envs))}
            for project in projects.values():
                project.deploy()
                project.play(resources=RESOURCES, refresh=REFRESH, delay=args.delay)
            deployed = time.perf_counter() - started
            projects[cases[0].envs].drift(cases[0].parallel)  # warm-up: bytecode, page cache
            for _ in range(args.runs):
                for case in cases:
                    series[case].seconds.append(projects[case.envs].drift(case.parallel))
        except BenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    elapsed = time.perf_counter() - started

    baseline = series[cases[0]]
    print(f"terrane drift --all against the stand-in Pulumi CLI: {len(RESOURCES)} resources per environment, "
          f"{args.delay:g} s per resource refreshed ({len(RESOURCES) * args.delay:g} s of 'cloud' per environment), "
          f"{os.cpu_count()} CPUs")
    print(f"{args.runs} timed run(s) per case after a warm-up; deploying took {deployed:.0f} s, "
          f"{elapsed:.0f} s in all")
    print(f"baseline: {baseline.case.envs} environment(s) at --parallel {baseline.case.parallel}, "
          f"{baseline.median:.2f} s\n")
    header = f"{'envs':>5} {'parallel':>8} {'wall s':>8} {'ratio':>7} {'ideal':>6} {'s/env':>7}"
    print(header)
    print("-" * len(header))
    for case in cases:
        wall = series[case].median
        print(f"{case.envs:>5} {case.parallel:>8} {wall:>8.2f} {wall / baseline.median:>6.2f}x "
              f"{case.ideal / baseline.case.ideal:>5.0f}x {wall / case.envs:>7.2f}")
    print("\nratio: wall time over the baseline's. ideal: the ratio if an environment cost only its "
          "'cloud' time and --parallel P ran P at once.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
