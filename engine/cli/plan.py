"""``terrane plan ENV``: the environment's resources, rendered offline."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from terrane.engine.cli import context, output

if TYPE_CHECKING:
    from rich.tree import Tree

    from terrane.engine.offline.render import Plan

OFFLINE_NOTE = (
    "Rendered offline under Pulumi's mock runtime: nothing was read from or sent to a cloud, "
    "and identifiers are placeholders."
)


@click.command("plan")
@click.argument("name", metavar="ENV")
@click.option("--json", "as_json", is_flag=True, help="Print the schema_version 1 plan as JSON on stdout.")
@click.pass_context
def command(ctx: click.Context, name: str, as_json: bool) -> None:
    """Show what ENV would create, with no credentials and no Pulumi CLI."""
    from terrane.engine.offline.render import plan

    result = plan(context.project(ctx), name)
    if as_json:
        output.print_json(result.to_dict())
        return
    console = output.stdout()
    console.print(_tree(result))
    console.print()
    from rich.table import Table

    counts = Table("RESOURCE TYPE", "COUNT", box=None, pad_edge=False)
    for type_, count in result.count_by_type().items():
        counts.add_row(type_, str(count))
    console.print(counts)
    console.print(f"\n{len(result.resources)} resources in {result.environment} "
                  f"({result.cloud}, account {result.account}, {result.region}).")
    if result.outputs:
        console.print("\nOutputs:")
        for key, value in result.outputs.items():
            console.print(f"  {key}: {value}", markup=False)
    output.stderr().print(OFFLINE_NOTE)


def _tree(result: Plan) -> Tree:
    from rich.markup import escape
    from rich.tree import Tree

    children: dict[str | None, list] = {}
    for resource in result.resources:
        children.setdefault(resource.parent, []).append(resource)

    def add(node: Tree, parent_urn: str) -> None:
        for child in children.get(parent_urn, []):
            kind = "" if child.custom else " [dim](component)[/]"
            add(node.add(f"{escape(child.name)} [cyan]{escape(child.type)}[/]{kind}"), child.urn)

    roots = children.get(None, [])
    tree = Tree(f"[bold]{escape(result.environment)}[/]")
    for root in roots:
        add(tree.add(f"{escape(root.name)} [cyan]{escape(root.type)}[/]"), root.urn)
    return tree
