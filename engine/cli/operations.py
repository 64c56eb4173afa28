"""``terrane preview|up|refresh|destroy ENV...|--all`` and ``outputs ENV``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from terrane.engine.cli import context, output
from terrane.engine.errors import ExitCode, InvalidInputError, TerraneError

if TYPE_CHECKING:
    from terrane.engine.results import OperationResult


def _operation_options(function: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.argument("names", nargs=-1, metavar="ENV..."),
        click.option("--all", "all_", is_flag=True, help="Every environment of the project."),
        click.option("--parallel", default=1, show_default=True, type=click.IntRange(min=1),
                     help="How many environments run at once, each in its own process."),
        click.option("--wait", "wait", default=0.0, type=click.FloatRange(min=0), metavar="SECONDS",
                     help="Retry a locked stack with backoff for up to SECONDS."),
        click.option("--json", "as_json", is_flag=True, help="Print results as JSON on stdout."),
        click.option("--target", "targets", multiple=True, metavar="URN|NAME",
                     help="Only this resource of the one environment named (repeatable): its URN, its name, or "
                          "TYPE::NAME where names repeat, as terrane state ENV list shows them."),
        click.option("--target-dependents", is_flag=True,
                     help="With --target: the resources that depend on the targets too."),
    ]):
        function = option(function)
    return function


_yes_option = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")


@click.command("preview")
@_operation_options
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when changes are pending.")
@click.pass_context
def preview(ctx: click.Context, names: tuple[str, ...], all_: bool, parallel: int, wait: float, as_json: bool,
            targets: tuple[str, ...], target_dependents: bool, detailed_exitcode: bool) -> int:
    """Show what up would change in each environment."""
    results = _run(ctx, "preview", names, all_, parallel, wait, as_json, targeting=_targeting(targets, target_dependents))
    code = _exit_code(results)
    if code == ExitCode.OK and detailed_exitcode and any(result.pending_changes for result in results):
        return ExitCode.CHANGES
    return code


@click.command("up")
@_operation_options
@_yes_option
@click.option("--accept-pending", is_flag=True,
              help="Go ahead although a killed run left creates pending (they may exist in the cloud already).")
@click.pass_context
def up(ctx: click.Context, names: tuple[str, ...], all_: bool, parallel: int, wait: float, as_json: bool,
       targets: tuple[str, ...], target_dependents: bool, yes: bool, accept_pending: bool) -> int:
    """Create or update each environment's resources."""
    return _exit_code(_run(ctx, "up", names, all_, parallel, wait, as_json, confirm=not yes,
                           options={"accept_pending": True} if accept_pending else {},
                           targeting=_targeting(targets, target_dependents)))


@click.command("refresh")
@_operation_options
@click.pass_context
@click.option("--clear-pending-creates", is_flag=True,
              help="Drop from the state the creates a killed run left unfinished (check the cloud first).")
def refresh(ctx: click.Context, names: tuple[str, ...], all_: bool, parallel: int, wait: float, as_json: bool,
            targets: tuple[str, ...], target_dependents: bool, clear_pending_creates: bool) -> int:
    """Read each environment's resources from the cloud into its state."""
    return _exit_code(_run(ctx, "refresh", names, all_, parallel, wait, as_json,
                           options={"clear_pending_creates": True} if clear_pending_creates else {},
                           targeting=_targeting(targets, target_dependents)))


@click.command("destroy")
@_operation_options
@_yes_option
@click.pass_context
def destroy(ctx: click.Context, names: tuple[str, ...], all_: bool, parallel: int, wait: float, as_json: bool,
            targets: tuple[str, ...], target_dependents: bool, yes: bool) -> int:
    """Delete every resource of each environment, or with --target those named (refused for protect: true)."""
    return _exit_code(_run(ctx, "destroy", names, all_, parallel, wait, as_json, confirm=not yes,
                           targeting=_targeting(targets, target_dependents)))


@click.command("outputs")
@click.argument("name", metavar="ENV")
@click.option("--json", "as_json", is_flag=True, help="Print the outputs as JSON on stdout.")
@click.option("--show-secrets", is_flag=True, help="Show secret outputs (the kubeconfig) in plain text.")
@click.pass_context
def outputs(ctx: click.Context, name: str, as_json: bool, show_secrets: bool) -> None:
    """Print ENV's stack outputs; secrets show as [secret]."""
    values = {key: value.shown(show_secrets) for key, value in context.engine(ctx, runs_stacks=True).outputs(name).items()}
    if as_json:
        output.print_json(values)
        return
    if not values:
        output.stderr().print(f"{name} has no outputs", markup=False)
    console = output.stdout()
    for key, value in sorted(values.items()):
        console.print(f"{key}: {json.dumps(value) if not isinstance(value, str) else value}", markup=False)


def _targeting(targets: tuple[str, ...], dependents: bool) -> dict[str, Any]:
    """``--target`` and ``--target-dependents`` as the Engine's verbs take them."""
    return {"targets": targets, "target_dependents": dependents}


def _run(ctx: click.Context, operation: str, names: tuple[str, ...], all_: bool, parallel: int, wait: float,
         as_json: bool, *, confirm: bool = False, options: dict[str, bool] | None = None,
         targeting: dict[str, Any]) -> list[OperationResult]:
    """Run ``operation``; with ``confirm``, first show its preview and ask, as ``pulumi up`` does."""
    from terrane.engine.cli.progress import ProgressView, changes, summary

    engine = context.engine(ctx, runs_stacks=True)
    if confirm:
        if not sys.stdin.isatty():
            raise InvalidInputError(f"{operation} changes infrastructure: pass --yes to run it without a terminal")
        with ProgressView("preview") as view:
            previews = engine.preview(*names, all=all_, parallel=parallel, wait=wait, destroy=operation == "destroy",
                                      on_progress=view, **targeting)
        err = output.stderr()
        err.print(changes(previews))
        err.print(summary(previews))
        if not all(result.ok for result in previews):
            for result in previews:
                if not result.ok:
                    _report(result)
            err.print(f"the preview failed: nothing was changed; fix the error and run terrane {operation} again",
                      markup=False)
            return previews
        listed = ", ".join(result.environment for result in previews)
        if not click.confirm(f"Do you want to perform this {operation} on {listed}?", default=False, err=True):
            raise TerraneError("aborted: nothing was changed")
    with ProgressView(operation) as view:
        results = getattr(engine, operation)(*names, all=all_, parallel=parallel, wait=wait, on_progress=view,
                                             **(options or {}), **targeting)
    if as_json:
        output.print_json({"schema_version": 1, "operation": operation,
                           "results": [result.to_dict() for result in results]})
    else:
        console = output.stdout()
        if operation == "preview":
            console.print(changes(results))
        console.print(summary(results))
    for result in results:
        if not result.ok:
            _report(result)
    return results


def _report(result: OperationResult) -> None:
    err = output.stderr()
    name = result.environment
    if result.status == "locked" and result.locked_by == "terrane":
        err.print(f"error: {result.error}. Wait for it (--wait SECONDS retries), or stop it: terrane cancel {name}",
                  markup=False)
    elif result.status == "locked":
        err.print(f"error: {name} is locked by another update: {result.error}. Wait for it (--wait SECONDS retries); "
                  f"'terrane cancel {name}' stops it if it runs on this host, clears it if its holder is gone, and "
                  f"otherwise names it (--force breaks it)", markup=False)
    elif result.status == "skipped":
        err.print(f"{name}: not started: the run was interrupted before its turn; nothing was changed", markup=False)
    elif result.status == "cancelled":
        err.print(f"error: {name}: {result.operation} cancelled; operations in flight finished and the state "
                  f"was saved. Run 'terrane preview {name}' to see what is left.", markup=False)
    else:
        err.print(f"error: {name}: {result.error}", markup=False)


def _exit_code(results: list[OperationResult]) -> int:
    return ExitCode.OK if all(result.ok for result in results) else ExitCode.FAILURE
