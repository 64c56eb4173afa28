"""``terrane adopt ENV --from-tfstate FILE|--ids FILE``: take over existing objects instead of creating them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from terrane.engine.cli import context, output
from terrane.engine.cli.output import count
from terrane.engine.errors import ExitCode

if TYPE_CHECKING:
    from terrane.engine.results import Adopted


@click.command("adopt")
@click.argument("name", metavar="ENV")
@click.option("--from-tfstate", "tfstate", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="A Terraform state (format v4, as `terraform state pull` prints it).")
@click.option("--ids", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="A YAML list of {type, name, id}: a resource of `terrane plan ENV` and the object it becomes.")
@click.option("--json", "as_json", is_flag=True, help="Print what was mapped as JSON on stdout.")
@click.pass_context
def adopt(ctx: click.Context, name: str, tfstate: Path | None, ids: Path | None, as_json: bool) -> int:
    """Map existing objects onto ENV's resources; the next up imports them instead of creating them.

    A Terraform state maps by type and identifying attributes (a VPC by CIDR, a subnet by CIDR and
    zone, a cluster, key or secret by name); what maps to nothing, or ambiguously, is listed and left
    alone. The mapping is then checked with a preview that imports it: an object the engine would
    replace (it differs from the spec in a property that cannot change in place) is refused, and
    nothing is written. Otherwise the import plan goes to imports/ENV.json, for review; plan and
    preview show it, and a successful up adopts the objects and removes it.
    """
    from terrane.engine.cli.progress import ProgressView

    engine = context.engine(ctx, runs_stacks=True)
    with ProgressView("preview") as view:
        adopted = engine.adopt(name, tfstate=tfstate, ids=ids, on_progress=view)
    if as_json:
        output.print_json(adopted.to_dict())
    else:
        _show(adopted)
    err = output.stderr()
    if not adopted.written:
        err.print(f"error: {name}: nothing maps onto a resource of its program; nothing was written", markup=False)
        return ExitCode.FAILURE
    adopting = count(len(adopted.imports), "object")
    err.print(f"{name}: wrote {adopted.written} ({adopting} to adopt, checked with a preview); "
              f"terrane up {name} imports them", markup=False)
    return ExitCode.OK


def _show(adopted: Adopted) -> None:
    from terrane.engine.cli.tables import PlainTable

    console = output.stdout()
    if adopted.imports:
        table = PlainTable("RESOURCE", "TYPE", "ADOPTS", "FROM")
        for item in adopted.imports:
            table.add_row(item.name, item.type, item.id, item.source)
        console.print(table)
    if adopted.unmatched:
        table = PlainTable("LEFT ALONE", "TYPE", "ID", "WHY", title_justify="left")
        for unmatched in adopted.unmatched:
            table.add_row(unmatched.source, unmatched.type, unmatched.id, unmatched.reason)
        console.print(table)
