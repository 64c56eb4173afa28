"""What every command gets from the global options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from terrane.engine.results import DEFAULT_PROGRAM, PROGRAM_ENV_VAR

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


def offline_program_note(ctx: click.Context) -> str | None:
    """What an offline command, which renders terrane's own program, says when ``--program`` names another one."""
    options = ctx.find_object(Globals)
    if options is None or options.program == DEFAULT_PROGRAM:
        return None
    return (f"note: {ctx.command_path} renders terrane's own program, not {options.program} (--program or "
            f"{PROGRAM_ENV_VAR}), which only the stack commands run: 'preview' shows what it would change")
