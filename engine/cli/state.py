"""``terrane state ENV list``: what an environment's stack holds. Changing it by hand stays Pulumi's (``pulumi state``)."""

from __future__ import annotations

import click

from terrane.engine.cli import context, output
from terrane.engine.errors import ExitCode


class _EnvironmentFirst(click.Group):
    """A group whose first argument is the environment: ``terrane state list ENV`` is told the order."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] in self.commands and (len(args) < 2 or args[1] not in self.commands):
            raise click.UsageError(f"name the environment first: terrane state ENV {args[0]}", ctx)
        return super().parse_args(ctx, args)


@click.group("state", cls=_EnvironmentFirst)
@click.argument("name", metavar="ENV")
def group(name: str) -> None:
    """What ENV's stack holds.

    To change the state by hand (pulumi state delete, unprotect, rename...), run Pulumi's own commands against
    terrane's backend: see "The state by hand" in docs/operations.md.
    """


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the resources as JSON on stdout.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> int:
    """Each resource of ENV's stack: type, name, id, protected."""
    name = ctx.parent.params["name"] if ctx.parent else ""
    state = context.engine(ctx).state(name)
    if as_json:
        output.print_json(state.to_dict())
        return ExitCode.OK
    if not state.deployed:
        output.stderr().print(f"{name} has no stack yet: nothing is deployed (terrane up {name} makes it)",
                              markup=False)
        return ExitCode.OK
    from rich.text import Text

    from terrane.engine.cli.tables import PlainTable

    table = PlainTable("TYPE", "NAME", "ID", "PROTECTED")
    for resource in state.resources:  # as text: a name is never read as markup
        pending = " (pending delete)" if resource.pending_delete else ""
        table.add_row(*map(Text, (resource.type, f"{resource.name}{pending}", resource.id or "-",
                                  "yes" if resource.protected else "no")))
    output.stdout().print(table)
    return ExitCode.OK
