"""``terrane report --html FILE``: every environment's status, drift and drift history as one HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from terrane.engine.cli import context, output

if TYPE_CHECKING:
    from terrane.engine.results import PageWritten


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
    page = context.engine(ctx).report(*names, all=all_, html=html)
    wrote(page)
    for name, error in page.unreadable:
        output.stderr().print(f"error: {name}: {error}", markup=False)
    return page.exit_code


def wrote(page: PageWritten) -> None:
    output.stderr().print(f"wrote {page.path} ({output.count(page.environments, 'environment')})", markup=False)
