"""What every command gets from the global options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from terrane.engine.api import Engine


@dataclass(frozen=True)
class Globals:
    project_dir: Path | None
    verbose: bool
    program: str


def engine(ctx: click.Context, *, runs_stacks: bool = False) -> Engine:
    """The engine of the project the options name; ``runs_stacks``: the command runs workers, start them now."""
    from terrane.engine.api import Engine

    options = ctx.find_object(Globals)
    assert options is not None, "the terrane group sets its global options before any command runs"
    return Engine(options.project_dir, program=options.program, start_workers=runs_stacks)
