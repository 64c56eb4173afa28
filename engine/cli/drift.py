"""``terrane drift`` (the scheduled job) and ``terrane status`` (one view of every environment)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from terrane.engine.cli import context, output
from terrane.engine.cli.report import wrote
from terrane.engine.errors import ExitCode

if TYPE_CHECKING:
    from terrane.engine.results import DriftOutcome, DriftReport, Remediation

_FOUND = {ExitCode.OK: "in sync", ExitCode.CHANGES: "drift found"}


@click.command("drift")
@click.argument("names", nargs=-1, metavar="[ENV]...")
@click.option("--all", "all_", is_flag=True, help="Every environment (the default when none is named).")
@click.option("--json", "as_json", is_flag=True, help="Print the schema_version 1 report as JSON on stdout.")
@click.option("--markdown", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also write a Markdown report (for a CI step summary).")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also write a JUnit XML report: one test case per environment.")
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also write the environments page (as terrane report --html) for this run, with its values.")
@click.option("--notify", metavar="URL", help="POST a JSON notification when an environment's drift state changes.")
@click.option("--remediate", type=click.Choice(["up", "refresh"]),
              help="up: reconcile drifted environments to the code; refresh: accept the cloud's state.")
@click.option("--shard", metavar="I/N", help="Check only shard I (0-based) of N, a stable split by name.")
@click.option("--parallel", default=1, show_default=True, type=click.IntRange(min=1),
              help="How many environments are checked at once, each in its own process.")
@click.pass_context
def drift(ctx: click.Context, names: tuple[str, ...], all_: bool, as_json: bool, markdown: Path | None,
          junit: Path | None, html: Path | None, notify: str | None, remediate: Literal["up", "refresh"] | None,
          shard: str | None,
          parallel: int) -> int:
    """Check environments for drift; exit 0 in sync, 2 drift, 1 a check failed."""
    from terrane.engine.cli.progress import ProgressView

    with ProgressView("drift") as view:

        def checked(outcome: DriftOutcome) -> None:
            """The check is done: show it, then the remediation's progress."""
            view.stop()
            if outcome.page:
                wrote(outcome.page)
            if as_json:
                output.print_json(outcome.report.to_dict())
            else:
                _print_report(outcome.report)
            if remediate:
                view.start(remediate)

        outcome = context.engine(ctx, runs_stacks=True).drift_job(
            *names, all=all_, parallel=parallel, shard=shard, notify=notify, remediate=remediate,
            markdown=markdown, junit=junit, html=html, on_progress=view, on_checked=checked)
    if outcome.remediation:
        _print_remediation(outcome.remediation)
    if outcome.report.notification_error:
        found = _FOUND.get(outcome.found, "a check or remediation failed")
        output.stderr().print(f"error: {found}, but the notification failed: {outcome.report.notification_error}; "
                              "it will be sent again on the next run", markup=False)
    return outcome.exit_code


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> int:
    """One view of every environment: cloud, account, region, last update, resources, drift."""
    from terrane.engine.cli.tables import PlainTable

    rows = context.engine(ctx).status()
    if as_json:
        output.print_json({"schema_version": 1, "environments": [row.to_dict() for row in rows]})
    else:
        table = PlainTable("ENVIRONMENT", "CLOUD", "ACCOUNT", "REGION", "LAST UPDATE", "RESOURCES", "DRIFT")
        for row in rows:
            update = row.last_update or {}
            when = "error (below)" if row.error else _local_time(update.get("time")) or "never deployed"
            drift = row.last_drift
            checked = (f"{drift['status']} ({_local_time(drift['checked_at'])})" if drift
                       else "-" if not update.get("resources") else "never checked")
            table.add_row(row.environment, row.cloud, row.account, row.region, when,
                          "-" if update.get("resources") is None else str(update["resources"]), checked)
        output.stdout().print(table)
    for row in rows:
        if row.error:  # an invalid file, or a state that does not read or is missing: what and how to fix it
            output.stderr().print(f"error: {row.environment}: {row.error}", markup=False)
    return ExitCode.FAILURE if any(row.error for row in rows) else ExitCode.OK


def _local_time(stamp: str | None) -> str | None:
    """An ISO 8601 time as a reader scans it, to the minute, in the machine's time zone."""
    return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M %Z") if stamp else None


def _print_report(report: DriftReport) -> None:
    console = output.stdout()
    for env in report.environments:
        ignored = f", {env.ignored} ignored" if env.ignored else ""
        if env.status == "error":
            console.print(f"{env.environment}: could not be checked: {env.error}", markup=False)
            continue
        if env.status == "not_deployed":
            console.print(f"{env.environment}: not deployed (no stack; nothing to check)", markup=False)
            continue
        console.print(f"{env.environment}: {env.status.replace('_', ' ')} "
                      f"({output.count(len(env.resources), 'resource')} drifted{ignored})", markup=False)
        for resource in env.resources:
            reason = f" ({resource.reason})" if resource.reason else ""
            console.print(f"  {resource.change} {resource.type} {resource.name}{reason}", markup=False)
            for prop in resource.properties:
                console.print(f"    {prop.path} ({prop.kind}): expected {prop.expected!r}, actual {prop.actual!r}",
                              markup=False)
    console.print(_summary(report), markup=False)


def _summary(report: DriftReport) -> str:
    """What the run found, counting only what is true: an environment with no stack was not checked."""
    states = Counter(env.status for env in report.environments)
    absent = states["not_deployed"]
    if not report.environments:
        return "no environment was checked."
    if absent == len(report.environments):
        return f"no environment is deployed: {absent} not deployed, nothing was checked."
    checked = output.count(len(report.environments) - absent, "deployed environment")
    found = f"{states['in_sync']} in sync, {states['drifted']} drifted, {states['error']} could not be checked"
    return f"{checked} checked: {found}" + (f"; {absent} not deployed." if absent else ".")


def _print_remediation(remediation: Remediation) -> None:
    err = output.stderr()
    for name in remediation.protected:
        err.print(f"{name}: drifted but protected (protect: true); not remediated", markup=False)
    for result in remediation.results:
        outcome = "done" if result.ok else f"failed: {result.error}"
        err.print(f"{result.environment}: remediation by {remediation.mode} {outcome}", markup=False)
