"""What every command gets from the global options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from terrane.engine.api import Engine
    from terrane.engine.project import Project


@dataclass(frozen=True)
class Globals:
    project_dir: Path | None
    verbose: bool
    program: str


def project(ctx: click.Context) -> Project:
    from terrane.engine.project import open_project

    return open_project(_globals(ctx).project_dir)


def engine(ctx: click.Context) -> Engine:
    from terrane.engine.api import Engine

    options = _globals(ctx)
    return Engine(options.project_dir, program=options.program)


def _globals(ctx: click.Context) -> Globals:
    options = ctx.find_object(Globals)
    assert options is not None, "the terrane group sets its global options before any command runs"
    return options
