"""One stack operation in its own process: ``python -m terrane.engine.operations.worker``.

The driver starts a worker per environment with the allow-listed environment
of ``engine.operations.workspace`` (so the Automation API, which hands its own environment
to the Pulumi CLI, cannot leak anything else), and sends the ``Job`` on stdin:
resolved provider config included, since no secret may travel in an
environment variable. The worker answers on stdout in the messages of
``engine.operations.protocol``: progress as the engine reports it, then exactly
one ``Result`` or ``Failure``. The job's options reach Pulumi as the keyword
arguments they name, each one for the operation it belongs to.

SIGINT does not kill the worker: the Pulumi CLI (in the same process group)
cancels the update gracefully, and the worker reports it as cancelled. The
job is one line, and stdin stays open while the worker runs: when it closes,
the driver is gone (killed, even with SIGKILL), and the worker cancels the
same way rather than run on unwatched.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from terrane.engine.drift.report import ResourceDrift
from terrane.engine.operations import pulumi_messages
from terrane.engine.operations.protocol import (
    READ_ONLY,
    Diagnostic,
    Failure,
    Job,
    Message,
    Outcome,
    PlannedStep,
    ResourceEvent,
    Result,
    StackOutput,
    Update,
    job_from_json,
    to_json,
)

if TYPE_CHECKING:
    from terrane.engine.project import Project

Emit = Callable[[Message], None]


def main() -> int:
    job = job_from_json(sys.stdin.readline())
    lock = threading.Lock()

    def emit(message: Message) -> None:
        with lock:
            sys.stdout.write(to_json(message) + "\n")
            sys.stdout.flush()

    cancelled = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: cancelled.set())
    threading.Thread(target=_cancel_when_orphaned, daemon=True).start()
    try:
        emit(_outcome(job, emit, cancelled))
    except BrokenPipeError:
        return 1  # the driver is gone: there is no one to tell
    return 0


def _cancel_when_orphaned() -> None:
    """Cancel the operation gracefully once the driver is gone (its end of stdin closes, even on SIGKILL).

    SIGINT to the worker's process group reaches the Pulumi CLI, which lets the
    steps in flight finish, saves the state and releases the stack's lock; the
    worker's own handler only notes the cancellation.
    """
    sys.stdin.read()
    os.killpg(os.getpgrp(), signal.SIGINT)


def _outcome(job: Job, emit: Emit, cancelled: threading.Event) -> Outcome:
    from pulumi import automation as auto

    from terrane.engine.errors import ExitCode, TerraneError
    from terrane.engine.operations.stack_locks import StackLockedError

    try:
        return _run(job, emit)
    except auto.StackNotFoundError:
        return no_stack(job)
    except auto.ConcurrentUpdateError as exc:
        return Failure("locked", _locked_text(exc))
    except StackLockedError as exc:
        return Failure("locked", str(exc))
    except auto.CommandError as exc:
        return Failure("cancelled" if cancelled.is_set() else "failed", pulumi_messages.error_lines(exc))
    except TerraneError as exc:
        return Failure("invalid" if exc.exit_code == ExitCode.INVALID_INPUT else "failed", str(exc))


def no_stack(job: Job) -> Outcome:
    """The outcome of an operation on an environment that has no stack: an error if its stack was made and is gone."""
    name = job.environment
    missing = _missing_state(job)
    if missing:
        return Failure("failed", missing)
    if job.operation == "drift":
        return Result(deployed=False)
    return Failure("failed", f"{name} has no stack yet: run terrane up {name} first")


def _missing_state(job: Job) -> str | None:
    """Why an environment without a stack is an error: its ``Pulumi.<env>.yaml`` remains, so the stack was made."""
    from terrane.engine.operations import inventory, workspace
    from terrane.engine.project import open_project

    project = open_project(job.project)
    if not inventory.config_file(project, job.environment).exists():
        return None
    url = os.environ.get("PULUMI_BACKEND_URL") or workspace.backend(project, create=False).url
    return inventory.missing(project, url, job.environment)


def _run(job: Job, emit: Emit) -> Result:
    from pulumi import automation as auto

    from terrane.engine.operations.workspace import apply_config
    from terrane.engine.project import open_project

    project = open_project(job.project)
    stack, created = _open_stack(job, project)
    if job.operation == "outputs":
        return Result(outputs=_outputs(stack.outputs()))
    # The account's current credentials, so a changed account or rotated secret is what the operation uses.
    apply_config(stack, {key: auto.ConfigValue(setting.value, secret=setting.secret)
                         for key, setting in (job.config or {}).items()},
                 digest=job.config_digest, read_only=job.operation in READ_ONLY)
    progress = _Progress(emit, job.environment)
    started = time.monotonic()
    if job.operation == "drift":
        return Result(drift=_drift(stack, progress), duration=_since(started))
    if job.operation == "preview":
        planned = _Planned(progress)
        # A preview of a destroy runs the program too: its providers then take the account's current config.
        try:
            preview = (stack.preview_destroy(on_event=planned, run_program=True, **job.options.targeting())
                       if job.options.destroy else stack.preview(on_event=planned, **job.options.targeting()))
        except auto.CommandError:
            if created:  # a preview that failed (a missing plugin, a failing program) leaves no stack made for it
                stack.workspace.remove_stack(stack.name)
            raise
        return Result(changes=dict(preview.change_summary), planned=planned.steps(stack), duration=_since(started))
    if job.operation == "up":
        return _up(job, project, stack, progress, started)
    # A refresh or destroy runs the program too: its providers then take the account's current config (a
    # rotated credential, a linked cluster's new address), not the config the state kept from the last up.
    if job.operation == "refresh":
        done = stack.refresh(on_event=progress, clear_pending_creates=job.options.clear_pending_creates,
                             run_program=True, **job.options.targeting())
        return Result(changes=dict(done.summary.resource_changes or {}), duration=_since(started),
                      update=Update.of(done.summary))
    return _destroy(job, stack, progress, started)


def _open_stack(job: Job, project: Project) -> tuple[Any, bool]:
    """The environment's stack, its program adopting ``job.imports`` and marking what ``job.reconcile`` names, and
    whether it was made for this job."""
    from terrane.engine.drift.reconcile import reconciling
    from terrane.engine.operations import programs
    from terrane.engine.operations.inventory import config_file
    from terrane.engine.operations.workspace import open_stack
    from terrane.engine.store import imports as adopt_imports

    env = project.environment(job.environment)
    program = programs.load(job.program, project.root)(env, project.account_for(env))
    return open_stack(
        project,
        env.name,
        reconciling(adopt_imports.importing(program, job.imports), job.reconcile, f"{time.time_ns():x}"),
        secrets_provider=job.secrets_provider,
        pulumi_root=job.pulumi_root,
        # A stack whose Pulumi.<env>.yaml remains was made: gone, it is missing, not to be made afresh.
        create=job.operation not in READ_ONLY and not config_file(project, env.name).exists(),
    )


def _up(job: Job, project: Project, stack: Any, progress: _Progress, started: float) -> Result:
    """An up: stopped by the creates a killed run left pending, and by an import that would delete something."""
    from terrane.engine.errors import EngineError
    from terrane.engine.store import imports as adopt_imports

    if not job.options.accept_pending:
        _refuse_pending_creates(stack, project.pulumi_project, job.environment)
    if job.imports:
        # The engine follows an import with whatever brings the object to the program, a replacement
        # too: what adopt checked is checked again, in case the spec or the cloud changed since.
        planned = _Planned(progress)
        stack.preview(on_event=planned, refresh=job.options.refresh, **job.options.targeting())
        refused = adopt_imports.refusals(job.imports, [step.to_dict() for step in planned.steps(stack)])
        if refused:
            raise EngineError("\n".join(refused), hint=f"fix {adopt_imports.relative_path(job.environment)} or the spec")
    done = stack.up(on_event=progress, refresh=job.options.refresh, replace=list(job.reconcile.replace) or None,
                    **job.options.targeting())
    if job.imports:
        adopt_imports.clear(project.root, job.environment)
    return Result(changes=dict(done.summary.resource_changes or {}), outputs=_outputs(done.outputs),
                  duration=_since(started), update=Update.of(done.summary))


def _destroy(job: Job, stack: Any, progress: _Progress, started: float) -> Result:
    from terrane.engine.operations.workspace import renew_incarnation

    progress.unseen = _gone(stack, progress, job.options.targeting())
    done = stack.destroy(on_event=progress, run_program=True, **job.options.targeting())
    if not job.options.target:  # an emptied stack starts a new incarnation; a targeted one keeps the rest as it is
        renew_incarnation(stack)
    # Its program's steps (each resource registered as it is, a provider brought to the current
    # config) come before the deletes, and are gone with them: what a destroy did is what it deleted,
    # and not what the cloud had lost already (the engine counts the provider's delete of those too).
    deleted = (done.summary.resource_changes or {}).get("delete", 0) - len(progress.unseen)
    return Result(changes={"delete": deleted} if deleted else {}, duration=_since(started),
                  update=Update.of(done.summary))


def _gone(stack: Any, progress: _Progress, targeting: dict[str, Any]) -> frozenset[str]:
    """What the cloud no longer has, read as drift reads it: a preview-only refresh that runs the program, so the
    providers take the account's current config (a linked cluster's new address). Each is reported as gone."""
    from terrane.engine.drift.detect import RefreshReader

    reader = RefreshReader()

    def on_event(event: Any) -> None:
        step = reader.read(event)
        if step is not None and step.phase == "start":
            progress.resource("start", "refresh", step.urn, step.type)
        elif step is not None and step.drift and step.drift.change == "delete":
            progress.resource("done", "gone", step.urn, step.type)

    stack.preview_refresh(on_event=on_event, run_program=True, **targeting)
    return frozenset(urn for urn, found in reader.found.items() if found.change == "delete")


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)


def _drift(stack: Any, progress: _Progress) -> tuple[ResourceDrift, ...]:
    """A preview-only refresh that runs the program: nothing is written to the state.

    Progress reports the refresh's own steps only: each resource checked once,
    found in sync (``same``), changed (``update``) or gone (``delete``).
    """
    from terrane.engine.drift.detect import RefreshReader

    reader = RefreshReader()

    def on_event(event: Any) -> None:
        step = reader.read(event)
        if step is not None:
            op = "refresh" if step.phase == "start" else step.drift.change if step.drift else "same"
            progress.resource(step.phase, op, step.urn, step.type)
        elif event.diagnostic_event:
            progress(event)

    stack.preview_refresh(on_event=on_event, run_program=True)
    return tuple(reader.found.values())


class _Progress:
    """Turns engine events into the few facts progress needs, as the protocol's messages."""

    def __init__(self, emit: Emit, environment: str) -> None:
        self.emit = emit
        self.environment = environment
        self._refreshing: set[str] = set()
        """Resources whose refresh step started: its end says whether the cloud still has them."""
        self.unseen: frozenset[str] = frozenset()
        """Resources whose steps are not reported: a destroy's deletes of what the cloud had lost already."""

    def __call__(self, event: Any) -> None:
        if event.resource_pre_event:
            self._step("start", event.resource_pre_event.metadata)
        elif event.res_outputs_event:
            self._step("done", event.res_outputs_event.metadata)
        elif event.res_op_failed_event:
            self._step("failed", event.res_op_failed_event.metadata)
        elif event.diagnostic_event and event.diagnostic_event.severity in ("error", "warning"):
            self._diagnostic(event.diagnostic_event)

    def _diagnostic(self, diagnostic: Any) -> None:
        interrupted = pulumi_messages.INTERRUPTED.findall(diagnostic.message)
        if interrupted:
            message = pulumi_messages.interrupted(self.environment, interrupted)
        else:
            message = pulumi_messages.condensed(diagnostic.message)
            if not message or message.endswith("context canceled"):
                return  # a cancelled update's program, told to stop: the result says it was cancelled
        self.emit(Diagnostic(diagnostic.severity, diagnostic.urn, message))

    def _step(self, phase: Literal["start", "done", "failed"], metadata: Any) -> None:
        from terrane.engine.drift.detect import step_op

        if metadata.urn in self.unseen:
            return
        op = step_op(metadata)
        if op == "refresh" and phase == "start":
            self._refreshing.add(metadata.urn)
        elif metadata.urn in self._refreshing and phase != "start":
            # A refresh step ends as what it found: a resource deleted out of band is gone, not refreshed.
            self._refreshing.discard(metadata.urn)
            op = "gone" if op == "delete" or metadata.new is None else "refresh"
        self.resource(phase, op, metadata.urn, metadata.type)

    def resource(self, phase: Literal["start", "done", "failed"], op: str, urn: str, resource_type: str) -> None:
        self.emit(ResourceEvent(phase, op, urn, resource_type))


# A replacement is three steps to the engine (create the new, replace, delete the old): one change to a reader.
# An import over a resource the stack has already (import-replacement) is an import that replaces it.
_PLANNED_OPS: dict[str, Literal["create", "update", "replace", "delete", "import"]] = {
    "create": "create", "update": "update", "delete": "delete", "replace": "replace",
    "create-replacement": "replace", "delete-replaced": "replace", "import": "import",
    "import-replacement": "import"}


class _Planned:
    """Keeps, from a preview's events, each resource's change and the property paths it changes."""

    def __init__(self, progress: _Progress) -> None:
        self.progress = progress
        self._steps: dict[str, PlannedStep] = {}
        self._over: set[str] = set()
        """Resources imported over an object the stack has already (import-replacement)."""

    def __call__(self, event: Any) -> None:
        self.progress(event)
        if not event.resource_pre_event:
            return
        from terrane.engine.drift.detect import step_op

        metadata = event.resource_pre_event.metadata
        op = _PLANNED_OPS.get(step_op(metadata))
        if op is None or metadata.type == "pulumi:pulumi:Stack":
            return
        step = self._steps.get(metadata.urn) or PlannedStep(metadata.urn, metadata.type, op)
        paths = sorted(metadata.detailed_diff or ()) or sorted(metadata.diffs or ())
        step = replace(step, paths=tuple(sorted({*step.paths, *paths})))
        if step_op(metadata) == "import-replacement":
            self._over.add(metadata.urn)
        if op == "replace":
            # An import is followed by the steps that bring the adopted object to the program: a
            # replacement among them would delete what was adopted. Its keys say what forces it.
            step = replace(step, replace_keys=tuple(sorted({*step.replace_keys, *(metadata.keys or ())})))
        self._steps[metadata.urn] = step

    def steps(self, stack: Any) -> tuple[PlannedStep, ...]:
        """The steps, an import over the stack's own object naming that object's id as the state has it.

        The events cannot say it: the steps that follow an import carry as their old state either the stack's
        object or the imported one, in whichever order the engine's import continuation races them.
        """
        if not self._over:
            return tuple(self._steps.values())
        ids = {resource["urn"]: resource.get("id") for resource in _exported(stack).get("resources") or ()
               if not resource.get("delete")}
        return tuple(replace(step, replaces_id=ids.get(step.urn)) if step.urn in self._over else step
                     for step in self._steps.values())


def _refuse_pending_creates(stack: Any, project: str, environment: str) -> None:
    """Stop an up over the creates a killed run left pending: it would make again what may exist already.

    An update running elsewhere has its creates in flight pending too: a stack that Pulumi's locks say is
    held is locked, not left behind.
    """
    from terrane.engine.errors import EngineError
    from terrane.engine.operations import stack_locks

    pending = _exported(stack).get("pending_operations") or []
    creates = [operation["resource"]["urn"] for operation in pending if operation.get("type") == "creating"]
    if not creates:
        return
    held = stack_locks.read(os.environ.get("PULUMI_BACKEND_URL", ""), project, environment)
    if held.holders:
        raise stack_locks.StackLockedError("; ".join(holder.describe() for holder in held.holders))
    listed = ", ".join(urn.rsplit("::", 1)[-1] for urn in creates)
    unless = f" (unless a run elsewhere is creating them now: {held.unreadable})" if held.unreadable else ""
    raise EngineError(
        f"an earlier run was killed while creating {listed}{unless}: they may exist in the cloud but not in the "
        f"state, and up would create them again. Check the cloud (delete or import what exists), then drop them "
        f"from the state with 'terrane refresh {environment} --clear-pending-creates'; or go ahead as they are "
        f"with 'terrane up {environment} --accept-pending'")


def _exported(stack: Any) -> dict[str, Any]:
    """The stack's deployment as exported, secrets still encrypted (Stack.export_stack decrypts them, at a cost
    of the CLI's time)."""
    workspace = stack.workspace
    exported = workspace.pulumi_command.run(["stack", "export", "--stack", stack.name], workspace.work_dir,
                                            workspace.env_vars)
    deployment: dict[str, Any] = json.loads(exported.stdout).get("deployment") or {}
    return deployment


def _locked_text(exc: Exception) -> str:
    """Who holds the stack's Pulumi locks, as the CLI names them; else the CLI's own words."""
    from terrane.engine.operations.stack_locks import holders_in

    return "; ".join(holder.describe() for holder in holders_in(str(exc))) or pulumi_messages.error_lines(exc)


def _outputs(outputs: Any) -> dict[str, StackOutput]:
    # Secret outputs go back to the driver as secrets; it decides what to show.
    return {key: StackOutput(value.value, value.secret) for key, value in outputs.items()}


if __name__ == "__main__":
    sys.exit(main())
