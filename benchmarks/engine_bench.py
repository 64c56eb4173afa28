"""What terrane adds per environment over plain Pulumi, on the real Pulumi CLI.

Every stack runs the test cloud's program (``tests.helpers.testcloud:scaled``:
``testcloud-size`` Python dynamic resources kept as JSON files beside the
project), so the cloud costs nothing and what is left is Pulumi's own work and
terrane's. Each project is temporary: the repository's ``Pulumi.yaml`` and
``accounts.yaml``, environments derived from ``environments/aws-dev.yaml`` with
the tag ``testcloud-size``, a ``PULUMI_HOME`` and ``HOME`` of its own, the
file backend and generated passphrase terrane makes, the account's secret
through its environment variable, as ``tests/real_engine/conftest.py`` sets up.
The real CLI is ``TERRANE_PULUMI_ROOT``, else what ``tools/pulumi/build`` prints.

1. One environment of ``--resources`` resources, deployed once. Then, on that
   same stack, ``--runs`` alternating rounds (after a warm-up round; the order
   within a round flips every round) of

   - ``terrane preview``: ``Engine(project, program=...).preview(name)``, in
     this process, as the Python API runs it (validation, secret resolution,
     a worker process, the stack's config checked, then ``Stack.preview``);
   - plain preview: a one-shot Automation API script, ``select_stack`` on the
     same stack, project and program, then ``stack.preview()``;
   - ``terrane drift``: ``Engine(...).drift(name)``;
   - plain ``pulumi preview --refresh``: the same script,
     ``stack.preview_refresh(run_program=True)``;

   and prints the medians and the ratio terrane / plain against the target of
   at most 1.15x per environment. The ratio is the whole cost of checking an
   environment with terrane over the cost of doing the same with Pulumi alone:
   1.15x means terrane adds 15 % to what Pulumi itself takes.

   Why the plain baseline is a fresh process: terrane runs every environment
   in a worker process of its own, forked from a fork server that a run of
   one environment starts for it, and a user of plain Pulumi pays a fresh process
   too (``pulumi preview`` starts the language host and imports the program).
   Timing ``stack.preview()`` on a stack already open in a warm interpreter
   would charge terrane for start-up work that plain Pulumi cannot skip either.
   So the script does the least a hand-written one-shot Automation API script
   must: start Python, import ``pulumi.automation`` and the program, find the
   CLI (``pulumi version``), select the stack, run the operation. It runs with
   what terrane's worker gets: ``engine.operations.workspace.backend`` and
   ``allowed_environment`` (backend URL, passphrase file, ``PULUMI_HOME``, the
   allow-listed variables, ``PULUMI_PYTHON_CMD``) and the project as working
   directory, and it checks that it saw no change. The program reads only the
   environment's name and tags, which the script holds as literals, as a plain
   program would; it reads no terrane YAML.

   Then, to show where terrane's time goes: ``--probe-runs`` runs of each
   operation's worker, instrumented (``PROBE``: the real ``terrane.engine.operations.worker``
   with timers wrapped around its steps, in a new interpreter as
   ``TERRANE_START_METHOD=spawn`` starts it) and fed the job and environment the
   driver builds, beside the plain script's own phases from the timed rounds;
   from the timed rounds themselves, the worker's lifetime (from the fork
   server's ``spawn`` to its exit) and the rest, spent in the caller (Engine,
   validation, secret resolution, reading the worker's JSON lines); and the
   bare CLI's ``version``, ``config --json`` and ``config --json
   --show-secrets`` (what the worker's config check runs) with the worker's
   environment, to split that check into the CLI's start and decryption.

2. ``terrane drift --all --parallel P --json`` (the CLI, as a user runs it, so
   its own start-up is in the wall time) on projects of 1, 4 and 16
   environments of ``--drift-resources`` resources each, each environment its
   own stack, deployed first (``Engine.up(all=True)``); one environment only at
   the lowest ``--parallel``, since it runs alone at any. Each case is timed
   ``--drift-runs`` times (median) after a warm-up; before each case's run the
   plain ``preview --refresh`` of the single environment of the 1-environment
   project is timed again, and their median is the baseline. Printed: wall
   time, time per environment, and that per environment over the baseline.

It asserts nothing about timing, and exits 1 only when a run fails or reports
something other than an in-sync environment.

    python benchmarks/engine_bench.py [--resources 20] [--runs 5] [--probe-runs 3]
        [--envs 1,4,16] [--parallel 1,4] [--drift-resources 5] [--drift-runs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from terrane.engine.api import Engine
from terrane.engine.drift.reconcile import Reconcile
from terrane.engine.operations import pulumi_cli, workspace
from terrane.engine.operations.driver import Driver
from terrane.engine.operations.forkserver import Forked, ForkServer
from terrane.engine.operations.protocol import Job, Options, Result, message_from_json, to_json
from terrane.engine.project import open_project

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "tools" / "pulumi" / "build"
SAMPLE_ENV = REPO / "environments" / "aws-dev.yaml"
PROGRAM = "tests.helpers.testcloud:scaled"
SIZE_TAG = "testcloud-size"  # tests.helpers.testcloud.SIZE_TAG; not imported, it imports pulumi

TARGET = 1.15  # terrane / plain Pulumi, per environment

# The sample AWS account's secret reference; the test cloud never checks its value.
REFERENCES = {"TERRANE_AWS_EXTERNAL_ID": "bench-external-id"}
# Ambient settings that would point terrane at another backend, CLI, project or program.
CLEARED = ("TERRANE_BACKEND_URL", "TERRANE_SECRETS_PROVIDER", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE",
           "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_ACCESS_TOKEN", "TERRANE_PROJECT", "TERRANE_PROGRAM",
           "PULUMI_HOME")

Operation = Literal["preview", "drift"]
OPERATIONS: tuple[Operation, ...] = ("preview", "drift")
LABELS: dict[Operation, tuple[str, str]] = {
    "preview": ("terrane preview", "plain preview"),
    "drift": ("terrane drift", "plain preview --refresh"),
}

# A one-shot Automation API script: plain Pulumi on the same stack and program, timing its phases.
# argv[1]: JSON of stack, project, work_dir, pulumi_root, secrets_provider, operation, tags.
PLAIN = """
import time
started = time.monotonic()
import json, sys
from types import SimpleNamespace
args = json.loads(sys.argv[1])
spent = {}
began = time.monotonic()
from pulumi import automation as auto
spent["import pulumi.automation"] = time.monotonic() - began
began = time.monotonic()
from tests.helpers.testcloud import scaled
program = scaled(SimpleNamespace(name=args["stack"], tags=args["tags"]), None)
spent["import the program"] = time.monotonic() - began
began = time.monotonic()
command = auto.PulumiCommand(root=args["pulumi_root"])
spent["pulumi version"] = time.monotonic() - began
began = time.monotonic()
options = auto.LocalWorkspaceOptions(work_dir=args["work_dir"], secrets_provider=args["secrets_provider"],
                                     pulumi_command=command)
stack = auto.select_stack(stack_name=args["stack"], project_name=args["project"], program=program, opts=options)
spent["select the stack"] = time.monotonic() - began
began = time.monotonic()
if args["operation"] == "drift":
    result = stack.preview_refresh(run_program=True)
else:
    result = stack.preview()
spent["operation"] = time.monotonic() - began
json.dump({"started": started, "finished": time.monotonic(), "spent": spent,
           "changes": dict(result.change_summary)}, sys.stdout)
"""

# terrane's worker, unchanged but for timers around its steps; the job comes on stdin as the driver sends it.
# argv[1]: the file to write the timings to (stdout is the worker's).
PROBE = """
import time
started = time.monotonic()
import functools, json, sys
spent = {}

def timed(owner, name, label):
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        began = time.monotonic()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.monotonic() - began

    setattr(owner, name, wrapper)

began = time.monotonic()
from pulumi import automation as auto
spent["import pulumi.automation"] = time.monotonic() - began
began = time.monotonic()
from terrane.engine.operations import programs, worker, workspace
from terrane.engine import project
spent["import terrane"] = time.monotonic() - began
timed(project, "open_project", "read the project")
timed(project.Project, "environment", "read the project")
timed(project.Project, "account_for", "read the project")
timed(programs, "load", "import the program")
timed(auto.PulumiCommand, "__init__", "pulumi version")
timed(auto, "select_stack", "select the stack")
timed(auto, "create_or_select_stack", "select the stack")
timed(workspace, "apply_config", "read the config")
timed(auto.Stack, "preview", "operation")
timed(auto.Stack, "preview_refresh", "operation")
code = worker.main()
with open(sys.argv[1], "w") as stream:
    json.dump({"started": started, "finished": time.monotonic(), "spent": spent}, stream)
sys.exit(code)
"""

# Rows of the breakdown, in the order a worker (or the plain script) meets them.
PHASES = ("python start-up", "import pulumi.automation", "import terrane", "read the project",
          "import the program", "pulumi version", "select the stack", "read the config", "operation",
          "the rest (events, JSON)", "interpreter exit")


class BenchError(Exception):
    """A run failed or found something other than an in-sync environment."""


@dataclass(frozen=True)
class Run:
    """One process's wall time (spawn to exit) and the phases it spent it in."""

    wall: float
    phases: dict[str, float]


def timed_process(argv: list[str], *, env: Mapping[str, str], cwd: Path, stdin: str = "",
                  report: Path | None = None) -> tuple[Run, str]:
    """Run ``argv``; its timings are the JSON it prints last on stdout, or writes to ``report``."""
    spawned = time.monotonic()
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env),
                          cwd=cwd, text=True) as process:
        assert process.stdin and process.stdout and process.stderr
        # As terrane's driver feeds a worker: one line, and stdin open until the process ends.
        process.stdin.write(stdin + "\n")
        process.stdin.flush()
        errors: list[str] = []
        reader = threading.Thread(target=lambda: errors.append(process.stderr.read()))  # type: ignore[union-attr]
        reader.start()
        stdout = process.stdout.read()
        returncode = process.wait()
        reader.join()
    exited = time.monotonic()
    if returncode != 0:
        raise BenchError(f"{' '.join(argv[:3])}... exited {returncode}:\n{''.join(errors)[-3000:]}")
    timings = json.loads(report.read_text() if report else stdout)
    # time.monotonic is one system-wide clock on Linux: the child's readings compare with ours.
    spent: dict[str, float] = timings["spent"]
    phases = {"python start-up": timings["started"] - spawned, **spent,
              "the rest (events, JSON)": timings["finished"] - timings["started"] - sum(spent.values()),
              "interpreter exit": exited - timings["finished"]}
    return Run(exited - spawned, phases), stdout


@dataclass
class Series:
    label: str
    runs: list[Run] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(run.wall for run in self.runs)

    def phase(self, name: str) -> float | None:
        if not self.runs or name not in self.runs[0].phases:
            return None
        return statistics.median(run.phases.get(name, 0.0) for run in self.runs)


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """This process's environment replaced by ``values``, as ``terrane`` would have it, then restored."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# How engine.operations.driver starts a worker.
@contextmanager
def timing_workers(lifetimes: list[float]) -> Iterator[None]:
    """Meanwhile, each worker the driver forks notes its lifetime, from the fork server's ``spawn`` to its exit."""
    spawn, wait = ForkServer.spawn, Forked.wait
    started: dict[int, float] = {}

    def timed_spawn(server: ForkServer, *args: Any, **kwargs: Any) -> Forked:
        began = time.monotonic()
        forked = spawn(server, *args, **kwargs)
        started[id(forked)] = began
        return forked

    def timed_wait(forked: Forked) -> int:
        code = wait(forked)
        if id(forked) in started:  # the driver waits more than once; count it once
            lifetimes.append(time.monotonic() - started.pop(id(forked)))
        return code

    ForkServer.spawn, Forked.wait = timed_spawn, timed_wait  # type: ignore[method-assign]
    try:
        yield
    finally:
        ForkServer.spawn, Forked.wait = spawn, wait  # type: ignore[method-assign]


@dataclass(frozen=True)
class Project:
    """A temporary terrane project of test-cloud environments, with its own Pulumi home and state."""

    root: Path
    names: tuple[str, ...]
    size: int
    pulumi_root: Path

    @property
    def directory(self) -> Path:
        return self.root / "project"  # its cloud is root/testcloud, beside it

    @property
    def tags(self) -> dict[str, str]:
        return {**yaml.safe_load(SAMPLE_ENV.read_text()).get("tags", {}), SIZE_TAG: str(self.size)}

    @classmethod
    def create(cls, parent: Path, label: str, names: list[str], size: int, pulumi_root: Path) -> Project:
        project = cls(parent / label, tuple(names), size, pulumi_root)
        (project.directory / "environments").mkdir(parents=True)
        (project.root / "home").mkdir()
        (project.root / "pulumi-home").mkdir()
        for name in ("Pulumi.yaml", "accounts.yaml"):
            shutil.copy(REPO / name, project.directory / name)
        sample = yaml.safe_load(SAMPLE_ENV.read_text())
        for name in names:
            spec = {**sample, "name": name, "tags": project.tags}
            (project.directory / "environments" / f"{name}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        return project

    def environ(self) -> dict[str, str]:
        """What ``terrane`` runs with here: the caller's environment, pointed at this project and CLI."""
        env = {name: value for name, value in os.environ.items() if name not in CLEARED}
        python_path = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        return {**env, **REFERENCES, "HOME": str(self.root / "home"), "PULUMI_HOME": str(self.root / "pulumi-home"),
                "TERRANE_PULUMI_ROOT": str(self.pulumi_root), "TERRANE_PROJECT": str(self.directory),
                "TERRANE_PROGRAM": PROGRAM, "PYTHONPATH": python_path, "PULUMI_SKIP_UPDATE_CHECK": "true"}

    def deploy(self, parallel: int) -> None:
        with environment(self.environ()):
            results = Engine(self.directory, program=PROGRAM).up(all=True, parallel=parallel)
        failed = [f"{result.environment}: {result.error}" for result in results if not result.ok]
        if failed:
            raise BenchError("terrane up failed:\n" + "\n".join(failed))

    # --- terrane, through the Python API in this process -----------------------------------

    def terrane(self, operation: Operation, name: str) -> Run:
        """``Engine(...).preview(name)`` or ``.drift(name)``, timed from the Engine's creation.

        Its phases: the worker process's lifetime, and the rest, spent in this process.
        """
        lifetimes: list[float] = []
        with environment(self.environ()), timing_workers(lifetimes):
            started = time.monotonic()
            engine = Engine(self.directory, program=PROGRAM)
            if operation == "preview":
                [result] = engine.preview(name)
                seconds = time.monotonic() - started
                if not result.ok or result.pending_changes:
                    raise BenchError(f"terrane preview {name}: {result.status} {result.changes} {result.error}")
            else:
                report = engine.drift(name)
                seconds = time.monotonic() - started
                [checked] = report.environments
                if checked.status != "in_sync":
                    raise BenchError(f"terrane drift {name}: {checked.status} {checked.error or ''}")
        [worker] = lifetimes
        return Run(seconds, {"worker, fork to exit": worker, "in the caller": seconds - worker})

    def probe(self, operation: Operation, name: str, scratch: Path) -> Run:
        """The worker of ``operation``, instrumented (``PROBE``), fed what the driver would feed it."""
        job, worker_env = self.job(operation, name)
        report = scratch / f"probe-{operation}.json"
        run, stdout = timed_process([sys.executable, "-c", PROBE, str(report)], env=worker_env, cwd=self.directory,
                                    stdin=to_json(job), report=report)
        outcome = message_from_json(stdout.splitlines()[-1])
        if not isinstance(outcome, Result):
            raise BenchError(f"instrumented worker, {operation} {name}: {outcome}")
        pending = {op: count for op, count in outcome.changes.items() if op != "same"}
        if pending or outcome.drift:
            raise BenchError(f"instrumented worker, {operation} {name}: {outcome}")
        return run

    def job(self, operation: Operation, name: str) -> tuple[Job, dict[str, str]]:
        """The driver's own job and allow-listed environment for a worker, exactly what it hands one."""
        with environment(self.environ()):
            project = open_project(self.directory)
            [env] = Engine(self.directory, program=PROGRAM).environments([name])
            backend = workspace.backend(project, create=operation != "drift")
            driver = Driver(project, program=PROGRAM)
            return driver._job(env, backend, driver._config(operation, env), (), operation=operation, options=Options(),
                               cli=pulumi_cli.locate(), reconcile=Reconcile())

    def config_reads(self, name: str) -> dict[str, float]:
        """How long the CLI takes to start, and to list the stack's config without and with its secrets.

        Run as the Automation API runs them, with the worker's environment; the last is ``apply_config``'s read.
        """
        _, worker_env = self.job("drift", name)
        pulumi = [str(self.pulumi_root / "bin" / "pulumi"), "--non-interactive"]
        commands = {
            "pulumi version": [*pulumi, "version"],
            "pulumi config --json": [*pulumi, "config", "--json", "--stack", name],
            "pulumi config --json --show-secrets": [*pulumi, "config", "--show-secrets", "--json", "--stack", name],
        }
        seconds = {}
        for label, argv in commands.items():
            started = time.monotonic()
            completed = subprocess.run(argv, env={**worker_env, "PULUMI_AUTOMATION_API": "true"},
                                       cwd=self.directory, capture_output=True, text=True, check=False)
            seconds[label] = time.monotonic() - started
            if completed.returncode != 0:
                raise BenchError(f"{' '.join(argv[2:])} exited {completed.returncode}:\n{completed.stderr[-3000:]}")
        return seconds

    # --- plain Pulumi, with the Automation API -----------------------------------------------

    def plain(self, operation: Operation, name: str) -> Run:
        """The one-shot script (``PLAIN``), with the environment terrane's worker gets."""
        environ = self.environ()
        project = open_project(self.directory)
        account = project.account_for(project.environment(name))
        backend = workspace.backend(project, environ)
        args = {"stack": name, "project": project.pulumi_project, "work_dir": str(self.directory),
                "pulumi_root": str(self.pulumi_root), "secrets_provider": backend.secrets_provider,
                "operation": operation, "tags": self.tags}
        run, stdout = timed_process([sys.executable, "-c", PLAIN, json.dumps(args)],
                                    env=workspace.allowed_environment(account, backend, environ), cwd=self.directory)
        changes = json.loads(stdout)["changes"]
        if set(changes) != {"same"}:
            raise BenchError(f"plain {operation} of {name} saw changes: {changes}")
        return run

    # --- the CLI ------------------------------------------------------------------------------

    def drift_all(self, parallel: int) -> float:
        """One timed ``terrane drift --all --parallel P --json``; every environment must be in sync."""
        started = time.monotonic()
        completed = subprocess.run(terrane_command("drift", "--all", "--parallel", str(parallel), "--json"),
                                   cwd=self.directory, env=self.environ(), stdin=subprocess.DEVNULL,
                                   capture_output=True, text=True, check=False)
        seconds = time.monotonic() - started
        if completed.returncode != 0:
            raise BenchError(f"terrane drift --all --parallel {parallel} ({len(self.names)} environments) "
                             f"exited {completed.returncode}:\n{completed.stderr[-3000:]}")
        found = {(env["environment"], env["status"]) for env in json.loads(completed.stdout)["environments"]}
        if found != {(name, "in_sync") for name in self.names}:
            raise BenchError(f"terrane drift --all reported {sorted(found)}")
        return seconds


def terrane_command(*args: str) -> list[str]:
    """The ``terrane`` console script of this interpreter's environment, as a user runs it."""
    script = Path(sys.executable).parent / "terrane"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "import sys; from terrane.engine.cli import entry; sys.exit(entry())", *args]


def find_pulumi_root() -> Path:
    """``TERRANE_PULUMI_ROOT``, else the root ``tools/pulumi/build`` prints last (building it the first time)."""
    if os.environ.get("TERRANE_PULUMI_ROOT"):
        root = Path(os.environ["TERRANE_PULUMI_ROOT"]).expanduser()
    else:
        built = subprocess.run([str(BUILD)], stdout=subprocess.PIPE, text=True, check=False)
        if built.returncode != 0 or not built.stdout.strip():
            raise BenchError(f"{BUILD.relative_to(REPO)} failed ({built.returncode}); set TERRANE_PULUMI_ROOT")
        root = Path(built.stdout.strip().splitlines()[-1])
    if not (root / "bin" / "pulumi").is_file():
        raise BenchError(f"no bin/pulumi in {root}")
    return root


def counts(text: str) -> list[int]:
    values = [int(item) for item in text.split(",") if item.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a comma-separated list of positive integers")
    return values


# --- part 1: one environment, terrane against plain Pulumi ------------------------------------


@dataclass
class Single:
    """Part 1's figures: terrane and plain series per operation, the instrumented workers, the config reads."""

    terrane: dict[Operation, Series]
    plain: dict[Operation, Series]
    probes: dict[Operation, Series]
    config_reads: list[dict[str, float]]


def measure_single(project: Project, runs: int, probe_runs: int, scratch: Path) -> Single:
    name = project.names[0]
    single = Single(terrane={op: Series(LABELS[op][0]) for op in OPERATIONS},
                    plain={op: Series(LABELS[op][1]) for op in OPERATIONS},
                    probes={op: Series(f"{op} worker") for op in OPERATIONS}, config_reads=[])
    for round_ in range(runs + 1):  # round 0 warms up: bytecode, page cache, the CLI's first start
        for operation in OPERATIONS:
            pair = [("terrane", project.terrane), ("plain", project.plain)]
            for side, measure in pair if round_ % 2 == 0 else reversed(pair):
                run = measure(operation, name)
                if round_:
                    (single.terrane if side == "terrane" else single.plain)[operation].runs.append(run)
    for _ in range(probe_runs):
        for operation in OPERATIONS:
            single.probes[operation].runs.append(project.probe(operation, name, scratch))
        single.config_reads.append(project.config_reads(name))
    return single


def report_single(single: Single, project: Project, runs: int, probe_runs: int) -> None:
    print(f"\n1. one environment of {project.size} dynamic resources ({project.size + 2} with the stack and its "
          f"component); {runs} alternating rounds after a warm-up, medians")
    header = f"{'terrane / plain':<42}{'terrane s':>10}{'plain s':>9}{'ratio':>8}   target <= {TARGET}x"
    print(header)
    print("-" * len(header))
    for operation in OPERATIONS:
        terrane, plain = single.terrane[operation], single.plain[operation]
        ratio = terrane.median / plain.median
        label = f"{terrane.label} / {plain.label}"
        print(f"{label:<42}{terrane.median:>10.2f}{plain.median:>9.2f}{ratio:>7.2f}x   "
              f"{'met' if ratio <= TARGET else 'NOT met'} ({terrane.median - plain.median:+.2f} s)")
    if probe_runs:
        report_breakdown(single, probe_runs)


def report_breakdown(single: Single, probe_runs: int) -> None:
    print(f"\nwhere the time goes (s, medians): terrane's phases from its worker instrumented ({probe_runs} "
          f"run(s) per operation),\nthe plain script's from the rounds above")
    width = 30
    header = f"{'':<{width}}" + "".join(f"{'terrane ' + op:>17}{'plain':>9}" for op in OPERATIONS)
    print(header)
    print("-" * len(header))

    def cell(value: float | None, cell_width: int) -> str:
        return f"{value:>{cell_width}.2f}" if value is not None else f"{'-':>{cell_width}}"

    def row(label: str, terrane: dict[Operation, float | None], plain: dict[Operation, float | None]) -> None:
        print(f"{label:<{width}}" + "".join(cell(terrane[op], 17) + cell(plain[op], 9) for op in OPERATIONS))

    for phase in PHASES:
        row(phase, {op: single.probes[op].phase(phase) for op in OPERATIONS},
            {op: single.plain[op].phase(phase) for op in OPERATIONS})
    none: dict[Operation, float | None] = {op: None for op in OPERATIONS}
    row("process, spawn to exit", {op: single.probes[op].median for op in OPERATIONS},
        {op: single.plain[op].median for op in OPERATIONS})
    print("timed rounds:")
    row("  worker, fork to exit", {op: single.terrane[op].phase("worker, fork to exit") for op in OPERATIONS},
        {op: single.plain[op].median for op in OPERATIONS})
    row("  in the caller", {op: single.terrane[op].phase("in the caller") for op in OPERATIONS}, none)
    row("  total", {op: single.terrane[op].median for op in OPERATIONS},
        {op: single.plain[op].median for op in OPERATIONS})
    print("read the config: apply_config, which checks the config digest in Pulumi.<env>.yaml, and lists the "
          "stack's config\n  with its secrets (the last line below) only when that digest does not match;\nin the caller: Engine(), validation, secret resolution, starting the worker, reading its "
          "JSON lines.")
    reads = {label: statistics.median(read[label] for read in single.config_reads) for label in single.config_reads[0]}
    print("the CLI alone, with the worker's environment: "
          + ", ".join(f"{label} {seconds:.2f} s" for label, seconds in reads.items()))


# --- part 2: drift --all over many environments -----------------------------------------------


@dataclass(frozen=True)
class Case:
    envs: int
    parallel: int


def measure_many(projects: dict[int, Project], cases: list[Case], runs: int
                 ) -> tuple[dict[Case, list[float]], list[float]]:
    """Wall times of each case, and the plain single-environment baseline timed before each case's run."""
    smallest = projects[min(projects)]
    walls: dict[Case, list[float]] = {case: [] for case in cases}
    baseline: list[float] = []
    smallest.plain("drift", smallest.names[0])  # warm-up
    smallest.drift_all(cases[0].parallel)
    for _ in range(runs):
        for case in cases:
            baseline.append(smallest.plain("drift", smallest.names[0]).wall)
            walls[case].append(projects[case.envs].drift_all(case.parallel))
    return walls, baseline


def report_many(walls: dict[Case, list[float]], baseline: list[float], size: int, runs: int) -> None:
    base = statistics.median(baseline)
    print(f"\n2. terrane drift --all (the CLI), {size} dynamic resources per environment, each its own stack; "
          f"{runs} timed run(s) per case after a warm-up")
    print(f"baseline: plain preview --refresh of one environment of {size} resources, {base:.2f} s "
          f"(median of {len(baseline)}, one before each case's run)")
    header = f"{'envs':>5}{'parallel':>10}{'wall s':>9}{'s/env':>8}{'s/env / baseline':>18}"
    print(header)
    print("-" * len(header))
    for case, seconds in walls.items():
        wall = statistics.median(seconds)
        per_env = wall / case.envs
        print(f"{case.envs:>5}{case.parallel:>10}{wall:>9.2f}{per_env:>8.2f}{per_env / base:>17.2f}x")
    print("s/env / baseline: each environment's share of the wall time over a plain preview --refresh of one "
          "environment;\n  it includes the CLI's own start-up, shared by the environments of a run.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=20, help="resources of part 1's environment (default: 20)")
    parser.add_argument("--runs", type=int, default=5, help="part 1's timed rounds (default: 5)")
    parser.add_argument("--probe-runs", type=int, default=3,
                        help="instrumented worker runs per operation (default: 3; 0 skips the breakdown)")
    parser.add_argument("--envs", type=counts, default=[1, 4, 16], help="part 2's numbers of environments "
                        "(default: 1,4,16)")
    parser.add_argument("--parallel", type=counts, default=[1, 4], help="part 2's --parallel values (default: 1,4)")
    parser.add_argument("--drift-resources", type=int, default=5,
                        help="resources per environment in part 2 (default: 5)")
    parser.add_argument("--drift-runs", type=int, default=1, help="part 2's timed runs per case (default: 1)")
    args = parser.parse_args()
    if min(args.resources, args.runs, args.drift_resources, args.drift_runs) < 1 or args.probe_runs < 0:
        parser.error("--resources, --runs, --drift-resources and --drift-runs must be at least 1")

    started = time.monotonic()
    try:
        pulumi_root = find_pulumi_root()
        version = subprocess.run([str(pulumi_root / "bin" / "pulumi"), "version"], capture_output=True, text=True,
                                 check=True).stdout.strip()
        with tempfile.TemporaryDirectory(prefix="terrane-engine-bench-") as temp:
            scratch = Path(temp)
            single_project = Project.create(scratch, "single", ["aws-dev"], args.resources, pulumi_root)
            single_project.deploy(parallel=1)
            single = measure_single(single_project, args.runs, args.probe_runs, scratch)
            part1 = time.monotonic() - started

            envs = sorted(set(args.envs))
            projects = {count: Project.create(scratch, f"{count}-envs", [f"env{i:02d}" for i in range(1, count + 1)],
                                              args.drift_resources, pulumi_root) for count in envs}
            deploying = time.monotonic()
            for project in projects.values():
                project.deploy(parallel=4)
            deployed = time.monotonic() - deploying
            # One environment runs alone at any --parallel: only the lowest is worth timing.
            cases = [Case(count, parallel) for count in envs for parallel in sorted(set(args.parallel))
                     if parallel <= count or parallel == min(args.parallel)]
            walls, baseline = measure_many(projects, cases, args.drift_runs)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started

    print(f"terrane against plain Pulumi (Automation API) on the real Pulumi CLI {version} ({pulumi_root}), "
          f"{os.cpu_count()} CPUs")
    print(f"{elapsed:.0f} s in all: part 1 {part1:.0f} s; part 2 deployed {sum(envs)} stacks in {deployed:.0f} s, "
          f"measured in {elapsed - part1 - deployed:.0f} s")
    report_single(single, single_project, args.runs, args.probe_runs)
    report_many(walls, baseline, args.drift_resources, args.drift_runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
