"""``terrane audit [ENV...|--all]``: elevated privileges and weakened defaults, worked out offline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from terrane.engine.cli import context, output

if TYPE_CHECKING:
    from rich.console import Console

    from terrane.engine.errors import ExitCode
    from terrane.engine.results import AuditReport, EnvironmentAudit, Severity

SEVERITY_CHOICES = ("low", "medium", "high")
"""The audit's ``SEVERITIES``, spelled out so that ``terrane`` starts without loading the audit."""
NO_ENVIRONMENTS = "no environments (add environments/<name>.yaml)"


@click.command("audit")
@click.argument("names", nargs=-1, metavar="[ENV]...")
@click.option("--all", "all_", is_flag=True, help="Every environment (the default when none is named).")
@click.option("--json", "as_json", is_flag=True, help="Print the schema_version 1 report as JSON on stdout.")
@click.option("--markdown", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also write the report as Markdown, the document a team hands its auditors.")
@click.option("--fail-on", type=click.Choice(SEVERITY_CHOICES), default="high", show_default=True,
              help="Exit 2 when a finding is at or above this severity.")
@click.pass_context
def command(ctx: click.Context, names: tuple[str, ...], all_: bool, as_json: bool, markdown: Path | None,
            fail_on: Severity) -> ExitCode:
    """List each ENV's elevated identities and resources, and where its spec weakens a secure default.

    Worked out offline from the environment's plan and its account: no credentials, no Pulumi CLI.
    For each identity or resource with elevated privileges, it says what it may do, why terrane
    needs it and what limits it. Exit 0 when no finding reaches --fail-on, 2 when one does.
    """
    from terrane.engine.results import OFFLINE_NOTE

    report = context.engine(ctx).audit(*names, all=all_ or not names, markdown=markdown)
    if as_json:
        output.print_json(report.to_dict())
    elif report.environments:
        _show(output.stdout(), report)
    err = output.stderr()
    if not report.environments:
        err.print(NO_ENVIRONMENTS, markup=False)
    err.print(OFFLINE_NOTE, markup=False)
    failing = report.failing(fail_on)
    if failing:
        err.print(f"{output.count(len(failing), 'finding')} at or above {fail_on} (--fail-on {fail_on})", markup=False)
    return report.exit_code(fail_on)


def _show(console: Console, report: AuditReport) -> None:
    for index, env in enumerate(report.environments):
        if index:
            console.print()
        _environment(console, env)


def _environment(console: Console, env: EnvironmentAudit) -> None:
    from terrane.engine.results import summary

    protect = ", protect: true" if env.protect else ""
    console.print(f"{env.environment} ({env.cloud}, account {env.account}, region {env.region or '-'}{protect}): "
                  f"{summary(env)}", markup=False)
    for item in env.elevated:
        console.print(f"  [{item.kind}] {item.name}  ({item.type})", markup=False)
        _field(console, "grants", item.grants or ("none",))
        _field(console, "why", (item.why,))
        _field(console, "limits", item.limits or ("none",))
    if not env.findings:
        return
    console.print("  findings:", markup=False)
    for finding in env.findings:
        console.print(f"    {finding.severity.upper()} {finding.field}: {finding.message}", markup=False)
        _field(console, "in the plan", finding.evidence, indent=6)
        _field(console, "fix", (finding.fix,), indent=6)


def _field(console: Console, label: str, lines: tuple[str, ...], *, indent: int = 4) -> None:
    pad = " " * indent
    console.print(f"{pad}{label}: {lines[0]}", markup=False)
    for line in lines[1:]:
        console.print(f"{pad}{' ' * (len(label) + 2)}{line}", markup=False)
