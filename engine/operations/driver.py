"""Stack operations on environments: one worker process per environment, at most N at once.

Everything that can be checked is checked before the first worker starts: the
environments validate, their accounts' secret references resolve, the Pulumi
CLI is there. Then each environment runs in its own process (``terrane.engine.operations.worker``,
forked from a warm ``terrane.engine.operations.forkserver`` unless ``TERRANE_START_METHOD=spawn``)
with its own allow-listed environment, and is told its ``Job`` and answers in the
typed messages of ``engine.operations.protocol``; one failing does not stop the others.
A locked stack is retried with backoff for up to ``wait`` seconds. Ctrl-C is
forwarded to the running workers, whose Pulumi CLI cancels gracefully.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from terrane.engine import clouds
from terrane.engine.accounts.secrets import Secret
from terrane.engine.clouds import provider_config
from terrane.engine.drift.reconcile import Reconcile
from terrane.engine.drift.report import ResourceDrift
from terrane.engine.errors import EngineError, InvalidInputError
from terrane.engine.operations import forkserver, inventory, programs, pulumi_cli, state_files, worker, workspace
from terrane.engine.operations.forkserver import Forked, ForkServer
from terrane.engine.operations.protocol import (
    READ_ONLY,
    Diagnostic,
    Failure,
    Job,
    Operation,
    Options,
    Outcome,
    PlannedStep,
    ProtocolError,
    ResourceEvent,
    Result,
    Setting,
    StackOutput,
    Update,
    message_from_json,
    to_json,
)
from terrane.engine.operations.pulumi_logs import cap as cap_pulumi_logs
from terrane.engine.project import Project
from terrane.engine.store import imports as adopt_imports
from terrane.engine.store import locks, updates
from terrane.engine.store.backends import open_store
from terrane.engine.store.environ import base_environment
from terrane.engine.store.objects import StoreError
from terrane.engine.store.paths import STATE_DIR
from terrane.stacks.spec.environments import Environment

Status = Literal["succeeded", "failed", "locked", "cancelled", "skipped"]
"""skipped: never started, because the run was interrupted (Ctrl-C, SIGTERM) first."""

# Operations that run the program: they need the account's credentials, may write the stack or
# Pulumi.<env>.yaml, and so run under the environment's terrane lock, one run at a time.
_RUNS_PROGRAM = ("preview", "up", "refresh", "destroy", "drift")

# Backoff between attempts on a locked stack.
_FIRST_RETRY_SECONDS = 1.0
_MAX_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class Progress:
    """Something a running environment reported: a resource started/done/failed, an error, a wait."""

    environment: str
    phase: Literal["start", "done", "failed", "diagnostic", "warning", "waiting", "finished"]
    op: str | None = None
    urn: str | None = None
    resource_type: str | None = None
    message: str | None = None

    @property
    def name(self) -> str | None:
        return self.urn.rsplit("::", 1)[-1] if self.urn else None


@dataclass(frozen=True)
class OperationResult:
    """How one environment's operation ended."""

    environment: str
    operation: Operation
    status: Status
    changes: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, StackOutput] = field(default_factory=dict)
    duration: float = 0.0
    error: str | None = None
    locked_by: Literal["terrane", "pulumi"] | None = None
    """Whose lock stopped a ``locked`` operation: another terrane run's, or a Pulumi update's."""
    deployed: bool = True
    """False: the environment has no stack, so a drift check found nothing to check."""
    drift: tuple[ResourceDrift, ...] = ()
    """What a drift check found changed in the cloud, before ignore rules."""
    planned: tuple[PlannedStep, ...] = ()
    """What a preview found would change, resource by resource."""

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    @property
    def pending_changes(self) -> bool:
        return any(count for op, count in self.changes.items() if op != "same")

    def to_dict(self, show_secrets: bool = False) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "operation": self.operation,
            "status": self.status,
            "changes": self.changes,
            "duration_seconds": self.duration,
            "outputs": {key: output.shown(show_secrets) for key, output in self.outputs.items()},
            "planned": [step.to_dict() for step in self.planned],
            "error": self.error,
        }


OnProgress = Callable[[Progress], None]
_Config = dict[str, tuple[str, bool]]
"""An account's provider config with its references resolved: ``{key: (value, secret)}``."""


class Driver:
    def __init__(self, project: Project, on_progress: OnProgress | None = None, *,
                 program: str = programs.DEFAULT) -> None:
        self.project = project
        self.on_progress = on_progress or (lambda _: None)
        self.program = programs.check(program)
        self._running: dict[str, Forked | subprocess.Popen[str]] = {}
        self._forkserver: ForkServer | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def run(
        self, operation: Operation, environments: Sequence[Environment], *, parallel: int = 1, wait_seconds: float = 0,
        options: Mapping[str, bool] | None = None, keep_going: bool = False,
        imports: Mapping[str, Sequence[adopt_imports.Import]] | None = None,
        reconcile: Mapping[str, Reconcile] | None = None,
    ) -> list[OperationResult]:
        """Run ``operation`` on each environment.

        ``options`` name ``protocol.Options``: ``refresh`` (read the cloud into the state
        before ``up``), ``accept_pending`` (``up``), ``clear_pending_creates`` (``refresh``);
        ``destroy`` makes a ``preview`` the preview of a destroy. One that is unknown, or
        not for ``operation``, is refused (``ProtocolError``) before anything runs.
        Every environment's secret references are resolved before anything
        runs: one that does not resolve stops the run (``InvalidInputError``),
        or with ``keep_going`` fails that environment alone.
        A ``preview`` or ``up`` adopts the resources of the environment's import plan
        (``imports/<env>.json``), or with ``imports``, those it gives for the environment.
        An ``up`` marks (and may replace) the Kubernetes objects ``reconcile`` names per environment, so that
        the provider applies them whatever its diff says (``engine.drift.reconcile``).
        """
        if parallel < 1:
            raise InvalidInputError("--parallel must be at least 1")
        chosen = Options.of(options or {})
        chosen.check(operation)
        start_method = forkserver.start_method()
        cli = pulumi_cli.locate()
        cap_pulumi_logs()  # the Pulumi CLI writes a log per run, and never caps their number
        backend = workspace.backend(self.project, create=False)
        # Started first, the fork server imports what every worker needs while the jobs are prepared.
        forks = start_method == "forkserver" and not (operation in READ_ONLY and backend.holds_no_stack)
        with self._fork_server(cli) if forks else nullcontext():
            ready, results = self._prepare(operation, environments, cli, backend, keep_going, imports or {})
            if operation not in READ_ONLY and ready:
                # Only now that the input holds: the state directory and passphrase of a first run.
                backend = workspace.backend(self.project)
            jobs = {env.name: self._job(env, backend, *ready[env.name], operation=operation, options=chosen, cli=cli,
                                        reconcile=(reconcile or {}).get(env.name, Reconcile()))
                    for env in environments if env.name in ready}
            results.update(self._execute(jobs, parallel, wait_seconds))
        return [results[env.name] for env in environments]

    def _prepare(
        self, operation: Operation, environments: Sequence[Environment], cli: pulumi_cli.PulumiCli,
        backend: workspace.Backend, keep_going: bool, imports: Mapping[str, Sequence[adopt_imports.Import]],
    ) -> tuple[dict[str, tuple[_Config | None, Sequence[adopt_imports.Import]]], dict[str, OperationResult]]:
        """Each environment's resolved config (None: it has no stack) and imports; or, with ``keep_going``, its result
        if it cannot run."""
        # Checking for drift: one look at the backend says which environments have no stack, and
        # need neither credentials nor a worker. Should it fail, each worker looks for itself.
        existing = None
        if operation == "drift":
            with suppress(EngineError):
                existing = inventory.stacks(cli, self.project, backend, [env.name for env in environments])
        ready: dict[str, tuple[_Config | None, Sequence[adopt_imports.Import]]] = {}
        results: dict[str, OperationResult] = {}
        for env in environments:
            absent = backend.holds_no_stack or (existing is not None and env.name not in existing)
            try:
                inventory.check(existing, env.name)  # its state unreadable or missing: an error of its own
                state_files.check_room(operation, backend.url, self.project.pulumi_project, env.name)
                config = None if operation in READ_ONLY and absent else self._config(operation, env)
                ready[env.name] = config, self._imports(operation, env, imports)
            except InvalidInputError as exc:
                if not keep_going:
                    raise
                results[env.name] = OperationResult(env.name, operation, "failed", error=exc.one_line())
            except EngineError as exc:  # a linked cluster out of reach: that environment alone fails
                results[env.name] = OperationResult(env.name, operation, "failed", error=exc.one_line())
        return ready, results

    def _execute(self, jobs: Mapping[str, tuple[Job, dict[str, str]]], parallel: int,
                 wait_seconds: float) -> dict[str, OperationResult]:
        """Run the jobs, ``parallel`` at once; Ctrl-C or SIGTERM stops those not started."""
        self._stopping.clear()
        results: dict[str, OperationResult] = {}
        with _sigterm_interrupts(), ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="terrane") as pool:
            futures: dict[Future[OperationResult], str] = {
                pool.submit(self._attempts, name, job, env, wait_seconds): name for name, (job, env) in jobs.items()
            }
            pending = set(futures)
            while pending:
                try:
                    done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                except KeyboardInterrupt:
                    self._interrupt()
                    continue
                for future in done:
                    results[futures[future]] = future.result()
        return results

    def stacks(self, names: Sequence[str] = ()) -> dict[str, pulumi_cli.StackSummary]:
        """The project's stacks as the backend lists them, in one call: when each was last written, its resources;
        for each of ``names`` whose state does not read or is missing, a summary with its error (``inventory``)."""
        return inventory.stacks(pulumi_cli.locate(), self.project, workspace.backend(self.project, create=False), names)

    def last_updates(self, names: Sequence[str], parallel: int = 4, *,
                     listed: Mapping[str, str] | None = None) -> dict[str, pulumi_cli.UpdateRecord]:
        """The newest update of each of ``names``' stacks (``inventory.last_updates``); ``listed``: when each state
        was last written, else one ``pulumi stack ls`` says."""
        backend = workspace.backend(self.project, create=False)
        if backend.holds_no_stack or not names:
            return {}
        if listed is None:
            listed = {name: stack.last_update for name, stack in self.stacks(names).items() if stack.last_update}
        return inventory.last_updates(pulumi_cli.locate(), self.project, backend, names, listed, parallel)

    def _config(self, operation: Operation, env: Environment) -> _Config:
        """The account's provider config, ``{key: (value, secret)}``, with its references resolved; {} if not needed."""
        if operation not in _RUNS_PROGRAM:
            return {}
        account = self.project.account_for(env)
        resolved = provider_config(env.account, account, env.resolved_region(account))
        clouds.of(account).preflight(env.account, account, resolved)
        return {key: (value.reveal(), True) if isinstance(value, Secret) else (value, False)
                for key, value in resolved.items()}

    def _imports(self, operation: Operation, env: Environment,
                 given: Mapping[str, Sequence[adopt_imports.Import]]) -> Sequence[adopt_imports.Import]:
        """What a preview or an up of ``env`` adopts: ``given``, else its import plan; an invalid plan is invalid input."""
        if operation not in ("preview", "up"):
            return ()
        if env.name in given:
            return given[env.name]
        plan = adopt_imports.read(self.project.root, env.name)
        return plan.imports if plan else ()

    def _job(self, env: Environment, backend: workspace.Backend, config: _Config | None,
             imports: Sequence[adopt_imports.Import], *, operation: Operation, options: Options,
             cli: pulumi_cli.PulumiCli, reconcile: Reconcile) -> tuple[Job, dict[str, str]]:
        """What the worker gets, and the environment it runs with; ``config`` None: the environment has no stack."""
        job = Job(
            str(self.project.root), env.name, operation, self.program,
            None if config is None else {key: Setting(value, secret) for key, (value, secret) in config.items()},
            workspace.config_digest(self.project, backend, config or {}, create=operation not in READ_ONLY),
            options, tuple(imports), reconcile, str(cli.root) if cli.root else None, backend.secrets_provider,
        )
        return job, workspace.allowed_environment(self.project.account_for(env), backend)

    def _attempts(self, name: str, job: Job, env: Mapping[str, str], wait_seconds: float) -> OperationResult:
        deadline = time.monotonic() + wait_seconds
        delay = _FIRST_RETRY_SECONDS
        while True:
            if self._stopping.is_set():
                result = OperationResult(name, job.operation, "skipped",
                                         error="not started: the run was interrupted")
            else:
                result = self._locked_once(name, job, env)
                if problem := result.status != "locked" and state_files.after_writing(  # a state cut short: say so
                        result.operation, env.get("PULUMI_BACKEND_URL", ""), self.project.pulumi_project, name):
                    result = replace(result, status="failed", error="; ".join(filter(None, (result.error, problem))))
            remaining = deadline - time.monotonic()
            if result.status != "locked" or remaining <= 0:
                self.on_progress(Progress(name, "finished", message=result.status))
                return result
            pause = min(delay, remaining)
            self.on_progress(Progress(name, "waiting", message=f"locked by another update; retrying in {pause:.0f}s"))
            self._stopping.wait(pause)
            delay = min(delay * 2, _MAX_RETRY_SECONDS)

    def _locked_once(self, name: str, job: Job, env: Mapping[str, str]) -> OperationResult:
        """``_once`` under the environment's terrane lock, when the operation may write its stack or config."""
        if job.operation not in _RUNS_PROGRAM or job.no_stack:
            return self._once(name, job, env)
        try:
            held = locks.environment_lock(self.project.root / STATE_DIR, name).acquire()
        except locks.LockedError as exc:
            return OperationResult(name, job.operation, "locked", error=str(exc), locked_by="terrane")
        with held:
            result = self._once(name, job, env, on_start=held.note_worker)
            held.release(ended=result.status)  # what terrane cancel reports of a run it stopped
            return result

    def _once(self, name: str, job: Job, env: Mapping[str, str],
              on_start: Callable[[int], None] | None = None) -> OperationResult:
        if job.no_stack:
            # Nothing has ever been deployed to the project's state directory; don't make one to look.
            return _result(name, job.operation, worker.no_stack(job), duration=0.0)
        started = time.monotonic()
        try:
            process: Forked | subprocess.Popen[str] = (
                self._forkserver.spawn(env, self.project.root) if self._forkserver
                else forkserver.spawn_worker(env, self.project.root))
        except OSError as exc:
            return OperationResult(name, job.operation, "failed", error=f"could not start a worker: {exc}")
        # The job goes on stdin, which stays open: the worker cancels its operation
        # when it closes, that is when this process ends, however it ends.
        with process:
            assert process.stdin and process.stdout and process.stderr
            with self._lock:
                self._running[name] = process
            if on_start:
                on_start(process.pid)
            stderr: list[str] = []
            reader = threading.Thread(target=stderr.extend, args=(process.stderr,), daemon=True)
            reader.start()
            try:
                process.stdin.write(to_json(job) + "\n")
                process.stdin.flush()
                outcome = self._listen(name, process.stdout)
                process.wait()
                reader.join()
            finally:
                with self._lock:
                    self._running.pop(name, None)
        duration = round(time.monotonic() - started, 3)
        if outcome is None:
            detail = "".join(stderr).strip().splitlines()
            return OperationResult(name, job.operation, "failed", duration=duration,
                                   error=f"the worker stopped unexpectedly: {detail[-1] if detail else process.returncode}")
        if isinstance(outcome, Result) and outcome.update:
            self._record_update(name, outcome.update)
        return _result(name, job.operation, outcome, duration)

    def _record_update(self, name: str, update: Update) -> None:
        """Keep the update in the shared store, for the page; one that cannot be kept is asked of Pulumi later."""
        try:
            updates.record(open_store(self.project.root, workspace.backend(self.project, create=False).url), name,
                           asdict(update))
        except StoreError as exc:
            self.on_progress(Progress(name, "warning", message=f"the update is not recorded in the shared store "
                                                               f"({exc}); the page will ask Pulumi's history"))

    def _listen(self, name: str, lines: Iterable[str]) -> Outcome | None:
        """The worker's outcome, its progress passed on as it comes; None if it ended without one.

        A line that does not read fails the operation, whatever the worker says after it; the rest is still read, so
        the worker is never left blocked on a full pipe.
        """
        outcome: Outcome | None = None
        unreadable: ProtocolError | None = None
        for line in lines:
            try:
                message = message_from_json(line)
            except ProtocolError as exc:
                unreadable = unreadable or exc
                continue
            if isinstance(message, ResourceEvent | Diagnostic):
                self.on_progress(_progress(name, message))
            else:
                outcome = message
        return Failure("failed", str(unreadable)) if unreadable else outcome

    @contextmanager
    def _fork_server(self, cli: pulumi_cli.PulumiCli) -> Iterator[None]:
        """The fork server the run's workers are forked from, while the run lasts."""
        self._forkserver = forkserver.take(base_environment())
        self._forkserver.preload(self.project.root, (programs.module_of(self.program),),
                                 str(cli.root) if cli.root else None)
        try:
            yield
        finally:
            self._forkserver.close()
            self._forkserver = None

    def _interrupt(self) -> None:
        """Start nothing more; have each running worker's Pulumi CLI cancel gracefully."""
        self._stopping.set()
        with self._lock:
            running = list(self._running.items())
        for name, process in running:
            # Noted for terrane cancel, which must not ask again: a second SIGINT terminates.
            locks.environment_lock(self.project.root / STATE_DIR, name).cancelling(os.getpid())
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (a pod evicted, ``kill``) interrupts the run as Ctrl-C does, while it lasts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _result(name: str, operation: Operation, outcome: Outcome, duration: float) -> OperationResult:
    """The result of a worker's ``outcome``; ``duration``, unless the worker timed the operation itself."""
    if isinstance(outcome, Failure):
        status: Status = "locked" if outcome.kind == "locked" else "cancelled" if outcome.kind == "cancelled" else "failed"
        return OperationResult(name, operation, status, duration=duration, error=outcome.message,
                               locked_by="pulumi" if status == "locked" else None)
    return OperationResult(
        name, operation, "succeeded", changes=dict(outcome.changes), outputs=dict(outcome.outputs),
        duration=duration if outcome.duration is None else outcome.duration, deployed=outcome.deployed,
        drift=outcome.drift, planned=outcome.planned,
    )


def _progress(name: str, message: ResourceEvent | Diagnostic) -> Progress:
    if isinstance(message, Diagnostic):
        return Progress(name, "warning" if message.severity == "warning" else "diagnostic", urn=message.urn,
                        message=message.message)
    return Progress(name, message.phase, op=message.op, urn=message.urn, resource_type=message.resource_type)

