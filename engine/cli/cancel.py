"""``terrane cancel ENV [--force] [--timeout SECONDS] [--json]``: renders what ``Engine.cancel`` found and did."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from terrane.engine.cli import context, output
from terrane.engine.errors import ExitCode

if TYPE_CHECKING:
    from terrane.engine.results import CancelResult


@click.command("cancel")
@click.argument("name", metavar="ENV")
@click.option("--force", is_flag=True,
              help="Break the locks of a holder on another host, or of one that cannot be named or stopped.")
@click.option("--timeout", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Stop waiting for the cancelled run after SECONDS (default: until it ends).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.pass_context
def command(ctx: click.Context, name: str, force: bool, timeout: float | None, as_json: bool) -> int:
    """Stop ENV's run on this host as Ctrl-C would, or clear the locks of one that is gone.

    A holder on another host is refused and named; --force breaks its locks. Exit 0 when the run was
    cancelled, its locks cleared or broken, or nothing held ENV; 1 otherwise.
    """
    result = context.engine(ctx).cancel(name, force=force, timeout=timeout)
    if as_json:
        output.print_json(result.to_dict())
    elif result.ok:
        output.stdout().print(_text(result), markup=False)
    else:
        output.stderr().print(f"error: {_text(result)}", markup=False)
    return ExitCode.OK if result.ok else ExitCode.FAILURE


def _text(result: CancelResult) -> str:
    name = result.environment
    holders = "; ".join(holder.describe() for holder in result.holders)
    if result.outcome == "nothing":
        return f"{name}: nothing to cancel: no run holds {name}"
    if result.outcome == "cancelled":
        return (f"{name}: cancelled {holders}: operations in flight finished and the state was saved"
                f"{_recorded(result)}. Run 'terrane preview {name}' to see what is left.")
    if result.outcome == "finished":
        return f"{name}: not cancelled: {holders} ended first: it {result.ended}{_recorded(result)}"
    if result.outcome == "ended":
        recorded = _recorded(result) or "; the stack's history records no update of it"
        return f"{name}: {holders} stopped without saying how it ended{recorded}"
    if result.outcome == "still_running":
        return (f"{name}: {holders} was asked to cancel and still runs (the steps in flight finish first); "
                f"'terrane cancel {name}' again waits for it")
    if result.outcome == "refused":
        return (f"{name} is held by {holders}: {result.reason}. Nothing was cancelled; if that run is gone, "
                f"break its lock with: terrane cancel {name} --force")
    if result.outcome == "cleared":
        return (f"{name}: cleared the locks of a run that is gone: {holders}. Operations it had in flight may be "
                f"pending in the state: the next 'terrane up {name}' names them")
    return (f"{name}: broke the locks of {holders}. Should that run still go on, it and the next may both write the "
            f"stack: once it ends, check with 'terrane refresh {name}'")


def _recorded(result: CancelResult) -> str:
    """How the stack's history records the stopped run's update, if it made one."""
    update = result.update
    if update is None:
        return ""
    said = f"; the stack's history records its {update.kind} as {update.result}"
    if result.ended == "cancelled" and update.result == "failed":
        said += " (Pulumi records a cancelled update as failed)"
    return said
