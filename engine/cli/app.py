"""The command tree of ``terrane`` and its global options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from terrane.engine.cli import (
    accounts,
    adopt,
    audit,
    cancel,
    doctor,
    drift,
    envs,
    init,
    operations,
    plan,
    report,
    state,
)
from terrane.engine.cli.context import Globals
from terrane.engine.results import DEFAULT_PROGRAM, PROGRAM_ENV_VAR, check_program


class ClosedPipeError(Exception):
    """The reader of stdout went away (``terrane plan ENV | head -1``): the command ends quietly."""


class _Terrane(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        # Click ends the process with exit code 1 on a closed pipe, as on a failure; ``main`` decides instead.
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            raise ClosedPipeError from exc


@click.group(cls=_Terrane, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="TERRANE_PROJECT",
    help="Project directory (default: the current one; env TERRANE_PROJECT).",
)
@click.option(
    "--program",
    envvar=PROGRAM_ENV_VAR,
    default=DEFAULT_PROGRAM,
    show_default=True,
    metavar="MODULE:FACTORY",
    help=f"The program factory each stack runs (env {PROGRAM_ENV_VAR}); see docs/python-api.md.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(package_name="terrane", prog_name="terrane")
@click.pass_context
def cli(ctx: click.Context, project: Path | None, program: str, verbose: bool) -> None:
    """Provision and check cloud environments described in YAML, on Pulumi.

    Exit codes: 0 ok, 1 failure, 2 drift or pending changes, 3 invalid input.
    """
    ctx.obj = Globals(project_dir=project, verbose=verbose, program=check_program(program))


cli.add_command(init.command)
cli.add_command(accounts.group)
cli.add_command(envs.group)
cli.add_command(plan.command)
cli.add_command(audit.command)
for command in (operations.preview, operations.up, operations.refresh, operations.destroy, operations.outputs,
                cancel.command, drift.drift, drift.status, report.report, adopt.adopt, state.group, doctor.doctor,
                doctor.install_cli):
    cli.add_command(command)
