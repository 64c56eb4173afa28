"""``terrane report --html FILE``: every environment's status, drift and drift history as one HTML page."""

from __future__ import annotations

from pathlib import Path

import click

from terrane.engine.cli import context, output
from terrane.engine.errors import ExitCode


@click.command("report")
@click.argument("names", nargs=-1, metavar="[ENV]...")
@click.option("--all", "all_", is_flag=True, help="Every environment (the default when none is named).")
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE", required=True,
              help="Write the page to FILE: one self-contained HTML file (inline CSS and script).")
@click.pass_context
def report(ctx: click.Context, names: tuple[str, ...], all_: bool, html: Path) -> int:
    """One page of environments: cloud, account, region, last update, resources, drift and its history.

    Reads the backend once, as status does, and the drift history. Drift shows each environment's
    last check: drifted resources and properties with expected and actual values (secrets masked).
    Exits 1 when an environment cannot be read (an invalid file, a state that does not read or is
    missing): it is on the page as an error, and the others are there all the same.
    """
    from terrane.engine.errors import InvalidInputError
    from terrane.engine.files import write_atomically
    from terrane.engine.report import build_page, render_html

    if names and all_:
        raise InvalidInputError("name environments or use --all, not both")
    check_html_target(html)
    page = build_page(context.engine(ctx), names)
    write_atomically(html, render_html(page))
    wrote(html, len(page.environments))
    for name, error in page.unreadable:
        output.stderr().print(f"error: {name}: {error}", markup=False)
    return ExitCode.FAILURE if page.unreadable else ExitCode.OK


def check_html_target(path: Path) -> None:
    """Refuse, before anything runs, a FILE whose directory does not exist."""
    from terrane.engine.errors import InvalidInputError

    if not path.parent.is_dir():
        raise InvalidInputError(f"--html: directory {path.parent} does not exist (for {path})")


def wrote(path: Path, count: int) -> None:
    output.stderr().print(f"wrote {path} ({count} environment{'' if count == 1 else 's'})", markup=False)
