"""``terrane envs list|validate``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from terrane.engine.cli import context, output
from terrane.engine.errors import ExitCode, TerraneError

if TYPE_CHECKING:
    from terrane.engine.project import Project


@click.group("envs")
def group() -> None:
    """List and validate environments (environments/*.yaml)."""


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List every environment with its account, cloud and region."""
    project = context.project(ctx)
    rows = [_describe(project, name) for name in project.environment_names()]
    if as_json:
        output.print_json({"schema_version": 1, "environments": rows})
        return
    from rich.table import Table

    table = Table("ENVIRONMENT", "ACCOUNT", "CLOUD", "REGION", "STATUS", box=None, pad_edge=False)
    for row in rows:
        status = "valid" if row["valid"] else f"invalid: {row['error']}"
        table.add_row(row["name"], row["account"] or "-", row["cloud"] or "-", row["region"] or "-", status)
    output.stdout().print(table if rows else "no environments (add environments/<name>.yaml)")


@group.command("validate")
@click.argument("names", nargs=-1, metavar="[ENV]...")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@click.pass_context
def validate(ctx: click.Context, names: tuple[str, ...], as_json: bool) -> int:
    """Validate environments (all of them by default) and accounts.yaml; nothing is run."""
    project = context.project(ctx)
    project.accounts  # noqa: B018 - accounts.yaml is checked even with no environment
    results = [_check(project, name) for name in names or project.environment_names()]
    if as_json:
        output.print_json({"schema_version": 1, "environments": results})
    else:
        err = output.stderr()
        for result in results:
            if result["valid"]:
                output.stdout().print(f"{result['name']}: valid")
            for problem in result["problems"]:
                err.print(f"error: {problem}", markup=False)
    return ExitCode.OK if all(r["valid"] for r in results) else ExitCode.INVALID_INPUT


def _check(project: Project, name: str) -> dict[str, Any]:
    try:
        project.environment(name)
    except TerraneError as exc:
        return {"name": name, "valid": False, "problems": str(exc).splitlines()}
    return {"name": name, "valid": True, "problems": []}


def _describe(project: Project, name: str) -> dict[str, Any]:
    try:
        env = project.environment(name)
    except TerraneError as exc:
        return {"name": name, "account": None, "cloud": None, "region": None, "valid": False,
                "error": str(exc).splitlines()[0]}
    account = project.account_for(env)
    return {"name": name, "account": env.account, "cloud": account.cloud,
            "region": env.resolved_region(account), "valid": True, "error": None}
