"""``terrane init [DIR]``: scaffold a new project."""

from __future__ import annotations

from pathlib import Path

import click

from terrane.engine.cli import output


@click.command("init")
@click.argument("directory", required=False, default=".", metavar="[DIR]", type=click.Path(path_type=Path))
def command(directory: Path) -> None:
    """Scaffold a new project in DIR (default: the current directory); never overwrites a file."""
    from terrane.engine.api import Engine

    console = output.stdout()
    for path in Engine.init_project(directory):
        console.print(f"created {path}", markup=False)
    console.print(f"next: cd {directory} && terrane plan example   (offline: no credentials, no Pulumi CLI)",
                  markup=False)
