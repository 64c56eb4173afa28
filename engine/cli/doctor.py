"""``terrane doctor`` and ``terrane install-cli``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from terrane.engine.cli import context, output
from terrane.engine.errors import ExitCode

_MARKS = {"ok": "[green]ok[/]  ", "warn": "[yellow]warn[/]", "fail": "[red]fail[/]"}


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON on stdout.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> int:
    """Check the Pulumi CLI, backend, secrets provider, accounts and registries, state region and plugins."""
    from rich.markup import escape

    from terrane.engine.doctor import run_checks

    checks = run_checks(context.project(ctx))
    if as_json:
        output.print_json({"schema_version": 1, "checks": [asdict(check) for check in checks]})
    else:
        console = output.stdout()
        for check in checks:
            console.print(f"{_MARKS[check.status]} {escape(check.name)}: {escape(check.detail)}")
    return ExitCode.FAILURE if any(check.status == "fail" for check in checks) else ExitCode.OK


@click.command("install-cli")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path),
              help="Install under this directory (default: ~/.pulumi/versions/<version>).")
def install_cli(root: Path | None) -> None:
    """Install the Pulumi CLI version matching the Pulumi SDK terrane is pinned to."""
    from terrane.engine.operations import pulumi_cli

    installed = pulumi_cli.install(root)
    output.stderr().print(f"installed the Pulumi CLI at {installed}/bin/pulumi; terrane finds it there", markup=False)
