"""``terrane doctor`` and ``terrane install-cli``."""

from __future__ import annotations

from pathlib import Path

import click

from terrane.engine.cli import context, output

_MARKS = {"ok": "[green]ok[/]  ", "warn": "[yellow]warn[/]", "fail": "[red]fail[/]"}


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON on stdout.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> int:
    """Check the Pulumi CLI, backend, secrets provider, accounts and registries, state region and plugins."""
    from rich.markup import escape

    diagnosis = context.engine(ctx).doctor()
    if as_json:
        output.print_json(diagnosis.to_dict())
    else:
        console = output.stdout()
        for check in diagnosis.checks:
            console.print(f"{_MARKS[check.status]} {escape(check.name)}: {escape(check.detail)}")
    return diagnosis.exit_code


@click.command("install-cli")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path),
              help="Install under this directory (default: ~/.pulumi/versions/<version>).")
def install_cli(root: Path | None) -> None:
    """Install the Pulumi CLI version matching the Pulumi SDK terrane is pinned to."""
    from terrane.engine.api import Engine

    installed = Engine.install_cli(root)
    output.stderr().print(f"installed the Pulumi CLI at {installed}/bin/pulumi; terrane finds it there", markup=False)
