"""``drift``: check environments for drift, notify and record the run; remediate what drifted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from terrane.engine.drift.history import project_history
from terrane.engine.drift.notify import check_webhook_url, heard, notify_changes
from terrane.engine.drift.reconcile import Reconcile
from terrane.engine.drift.report import DriftReport, EnvironmentDrift
from terrane.engine.drift.rules import apply_ignore_rules, in_shard, parse_shard
from terrane.engine.errors import EngineError
from terrane.engine.operations.driver import Driver, OperationResult
from terrane.engine.project import Project
from terrane.engine.results import Remediation
from terrane.engine.verbs.select import select
from terrane.stacks.spec.environments import Environment


def shard_of(shard: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``shard`` as (I, N): given so, or as the text ``I/N``."""
    return parse_shard(shard) if isinstance(shard, str) else shard


def check(driver: Driver, names: tuple[str, ...], *, parallel: int, shard: tuple[int, int] | None,
          today: date | None, notify: str | None) -> DriftReport:
    """Check the environments (all when none is named), notify, and append the run to the history."""
    project = driver.project
    if notify:
        check_webhook_url(notify)
    environments, invalid = select(project, names, all=not names)
    if shard:
        environments = [env for env in environments if in_shard(env.name, shard)]
        invalid = {name: reason for name, reason in invalid.items() if in_shard(name, shard)}
    started = _now()
    results = driver.run("drift", environments, parallel=parallel, keep_going=not names)
    finished = _now()
    today = today or datetime.now(UTC).date()
    checked = {env.name: _environment_drift(env, result, today)
               for env, result in zip(environments, results, strict=True)}
    checked.update({name: EnvironmentDrift(name, "error", error=reason) for name, reason in invalid.items()})
    report = DriftReport(started_at=started, finished_at=finished,
                         environments=tuple(checked[name] for name in sorted(checked)))
    history = project_history(project.root)
    told = None
    if notify:
        previous = history.told()
        try:
            notify_changes(notify, report, previous)
        except EngineError as exc:
            report = replace(report, notification_error=str(exc))
        told = heard(report, previous, delivered=report.notification_error is None)
    history.record(report, told=told)
    return report


def write_reports(report: DriftReport, *, markdown: Path | None, junit: Path | None) -> None:
    """The run as Markdown (a CI step summary) and as JUnit XML (a test case per environment), where asked."""
    from terrane.engine.drift import report as reports
    from terrane.engine.files import write_atomically

    if markdown:
        write_atomically(markdown, reports.markdown(report))
    if junit:
        write_atomically(junit, reports.junit(report))


def remediate(driver: Driver, report: DriftReport, mode: Literal["up", "refresh"], *, parallel: int) -> Remediation:
    """Reconcile drifted environments: ``up`` back to the code, or ``refresh`` to accept the cloud.

    Protected environments are never touched, only reported.
    """
    project: Project = driver.project
    drifted = [project.environment(env.environment) for env in report.environments if env.status == "drifted"]
    protected = tuple(env.name for env in drifted if env.protect)
    chosen = [env for env in drifted if not env.protect]
    if not chosen:
        return Remediation(mode=mode, results=(), protected=protected)
    if mode == "refresh":
        return Remediation(mode=mode, results=tuple(driver.run(mode, chosen, parallel=parallel)), protected=protected)
    # A drift check changes no state, so the state still holds what the code last applied: ``up`` must
    # read the cloud first to see what to put back. Kubernetes objects are marked to be applied whatever
    # their provider's diff says; a second ``up`` takes the mark away (``engine.drift.reconcile``).
    marked = {env.environment: Reconcile.of(env.resources) for env in report.environments if env.status == "drifted"}
    results = {result.environment: result for result in driver.run(
        mode, chosen, parallel=parallel, options={"refresh": True}, reconcile=marked)}
    again = [env for env in chosen if marked[env.name].marks and results[env.name].ok]
    if again:
        results.update((result.environment, result) for result in driver.run(mode, again, parallel=parallel))
    return Remediation(mode=mode, results=tuple(results[env.name] for env in chosen), protected=protected)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _environment_drift(env: Environment, result: OperationResult, today: date) -> EnvironmentDrift:
    if not result.ok:
        return EnvironmentDrift(env.name, "error", error=result.error or result.status)
    if not result.deployed:
        return EnvironmentDrift(env.name, "not_deployed")
    kept, ignored = apply_ignore_rules(result.drift, env.drift.ignore, today)
    return EnvironmentDrift(env.name, "drifted" if kept else "in_sync", resources=tuple(kept), ignored=ignored)
