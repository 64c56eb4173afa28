"""``terrane envs list|validate``."""

from __future__ import annotations

import click

from terrane.engine.cli import context, output
from terrane.engine.errors import ExitCode


@click.group("envs")
def group() -> None:
    """List and validate environments (environments/*.yaml)."""


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List every environment with its account, cloud and region."""
    rows = context.engine(ctx).environment_rows()
    if as_json:
        output.print_json({"schema_version": 1, "environments": [row.to_dict() for row in rows]})
        return
    from terrane.engine.cli.tables import PlainTable

    table = PlainTable("ENVIRONMENT", "ACCOUNT", "CLOUD", "REGION", "STATUS")
    for row in rows:
        status = "valid" if row.valid else f"invalid: {row.error}"
        table.add_row(row.name, row.account or "-", row.cloud or "-", row.region or "-", status)
    output.stdout().print(table if rows else "no environments (add environments/<name>.yaml)")


@group.command("validate")
@click.argument("names", nargs=-1, metavar="[ENV]...")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@click.pass_context
def validate(ctx: click.Context, names: tuple[str, ...], as_json: bool) -> int:
    """Validate environments (all of them by default) and accounts.yaml; nothing is run."""
    results = context.engine(ctx).validate(*names)
    if as_json:
        output.print_json({"schema_version": 1, "environments": [result.to_dict() for result in results]})
    else:
        err = output.stderr()
        for result in results:
            if result.valid:
                output.stdout().print(f"{result.name}: valid")
            for problem in result.problems:
                err.print(f"error: {problem}", markup=False)
    return ExitCode.OK if all(result.valid for result in results) else ExitCode.INVALID_INPUT
