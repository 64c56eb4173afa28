"""terrane from Python: the engine behind the CLI, with typed results.

    from terrane import Engine

    engine = Engine("path/to/project")          # or Engine() for $TERRANE_PROJECT / the current directory
    engine = Engine(".", program="acme.program:build")   # each stack runs acme's program factory
    [result] = engine.preview("aws-dev")
    result.changes                              # {"create": 71}
    engine.up("aws-dev", "gcp-dev", parallel=2)
    engine.outputs("aws-dev")["vpc_id"].value
    report = engine.drift()                     # DriftReport of every environment, recorded in the history
    engine.status()                             # EnvironmentStatus per environment
    engine.cancel("aws-dev").outcome            # "cancelled", "nothing", "refused"...: what held it, what was done

Every method validates first (environments, accounts, secret references, the
Pulumi CLI) and raises ``InvalidInputError`` or ``EngineError`` before anything
runs; once running, each environment's outcome is an ``OperationResult``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from terrane.engine.drift.history import append_history, last_states
from terrane.engine.drift.notify import check_webhook_url, notify_changes
from terrane.engine.drift.reconcile import Reconcile
from terrane.engine.drift.report import DriftReport, EnvironmentDrift
from terrane.engine.drift.rules import apply_ignore_rules, in_shard
from terrane.engine.errors import EngineError, InvalidInputError
from terrane.engine.operations import programs
from terrane.engine.operations.cancel import CancelResult
from terrane.engine.operations.cancel import cancel as cancel_run
from terrane.engine.operations.driver import Driver, OnProgress, OperationResult
from terrane.engine.operations.protocol import Operation, StackOutput
from terrane.engine.operations.pulumi_cli import UpdateRecord
from terrane.engine.project import open_project
from terrane.engine.store.paths import STATE_DIR
from terrane.stacks.spec.environments import Environment

if TYPE_CHECKING:
    from terrane.engine.adopt.mapping import Unmatched
    from terrane.engine.audit import AuditReport
    from terrane.engine.offline.render import Plan
    from terrane.engine.store.imports import Import

DRIFT_HISTORY = f"{STATE_DIR}/drift/history.jsonl"
NOTIFIED = "notified.json"
"""Beside the history: what ``--notify`` last delivered, per environment."""


@dataclass(frozen=True)
class Remediation:
    mode: Literal["up", "refresh"]
    results: tuple[OperationResult, ...]
    protected: tuple[str, ...]
    """Drifted environments left alone because they are protected."""


@dataclass(frozen=True)
class Adopted:
    """What ``adopt`` mapped: the imports written to ``written`` (None: nothing mapped), and what it left alone."""

    environment: str
    imports: tuple[Import, ...]
    unmatched: tuple[Unmatched, ...]
    written: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": 1, "environment": self.environment, "written": self.written,
                "imports": [asdict(item) for item in self.imports],
                "unmatched": [asdict(item) for item in self.unmatched]}


@dataclass(frozen=True)
class EnvironmentStatus:
    environment: str
    cloud: str
    account: str
    region: str
    last_update: dict[str, Any] | None
    """When the stack's state was last written (``time``) and how many resources it holds; None: no stack."""
    error: str | None
    last_drift: dict[str, Any] | None
    """The environment's latest entry in the drift history."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Engine:
    def __init__(self, project_dir: str | os.PathLike[str] | None = None, *, on_progress: OnProgress | None = None,
                 program: str = programs.DEFAULT):
        """``program`` names the factory of each environment's program (``package.module:factory``)."""
        self.project = open_project(project_dir)
        self._driver = Driver(self.project, on_progress, program=program)

    @property
    def on_progress(self) -> OnProgress | None:
        return self._driver.on_progress

    @on_progress.setter
    def on_progress(self, callback: OnProgress | None) -> None:
        self._driver.on_progress = callback or (lambda _: None)

    def environments(self, names: Sequence[str] = (), *, all: bool = False) -> list[Environment]:
        """The named environments, each fully validated; or all of them that are valid."""
        return self._select(names, all)[0]

    def _all_valid(self, names: Sequence[str], all: bool) -> list[Environment]:
        """The chosen environments in name order; any invalid one, even with ``all``, stops everything."""
        environments, invalid = self._select(names, all)
        if invalid:
            raise InvalidInputError("\n".join(invalid[name] for name in sorted(invalid)))
        return sorted(environments, key=lambda env: env.name)

    def _select(self, names: Sequence[str], all: bool) -> tuple[list[Environment], dict[str, str]]:
        """The environments to run, and those of ``all`` that are invalid, each with its one-line reason.

        A named environment that is invalid stops everything (``InvalidInputError``);
        with ``all`` it is left out and reported, and the others still run.
        """
        if names and all:
            raise InvalidInputError("name environments or use --all, not both")
        if not names and not all:
            raise InvalidInputError("name at least one environment, or use --all")
        if not all:
            return [self.project.environment(name) for name in dict.fromkeys(names)], {}
        self.project.accounts  # noqa: B018 - an invalid accounts.yaml is everyone's problem: it stops the run
        valid, invalid = [], {}
        for name in self.project.environment_names():
            try:
                valid.append(self.project.environment(name))
            except InvalidInputError as exc:
                invalid[name] = exc.one_line()
        return valid, invalid

    def plan(self, name: str) -> Plan:
        # Rendering offline loads Pulumi's SDK and a cloud's; an engine that only drives stacks never needs them.
        from terrane.engine.offline.render import plan

        return plan(self.project, name)

    def plans(self, *names: str, all: bool = False) -> list[Plan]:
        """Each environment rendered offline, in name order, once every one of them is known to be valid.

        An invalid environment, named or found with ``all``, raises ``InvalidInputError`` and nothing renders.
        """
        from terrane.engine.offline.render import plan_environment

        return [plan_environment(self.project, env) for env in self._all_valid(names, all)]

    def audit(self, *names: str, all: bool = False) -> AuditReport:
        """Each environment's elevated privileges and weakened defaults, worked out offline from its plan.

        Environments are chosen, and refused when invalid, as by ``plans``.
        """
        from terrane.engine.audit import AuditReport, audit
        from terrane.engine.offline.render import plan_environment

        audits = [audit(env, self.project.account_for(env), plan_environment(self.project, env))
                  for env in self._all_valid(names, all)]
        return AuditReport(tuple(audits))

    def preview(self, *names: str, all: bool = False, parallel: int = 1, wait: float = 0,
                destroy: bool = False) -> list[OperationResult]:
        """What ``up`` (or with ``destroy``, what ``destroy``) would change; each result lists it in ``planned``."""
        return self._run("preview", names, all, parallel, wait, {"destroy": True} if destroy else None,
                         destroying=destroy)

    def up(self, *names: str, all: bool = False, parallel: int = 1, wait: float = 0,
           accept_pending: bool = False) -> list[OperationResult]:
        """Bring each environment to its program. Creates a killed run left pending stop it (the result says which
        and how to clear them) unless ``accept_pending``: they may exist in the cloud, and up would make them again.
        """
        return self._run("up", names, all, parallel, wait, {"accept_pending": True} if accept_pending else None)

    def refresh(self, *names: str, all: bool = False, parallel: int = 1, wait: float = 0,
                clear_pending_creates: bool = False) -> list[OperationResult]:
        """Read the cloud into the state; ``clear_pending_creates`` drops creates an interrupted run left pending."""
        options = {"clear_pending_creates": True} if clear_pending_creates else {}
        return self._run("refresh", names, all, parallel, wait, options)

    def destroy(self, *names: str, all: bool = False, parallel: int = 1, wait: float = 0) -> list[OperationResult]:
        return self._run("destroy", names, all, parallel, wait, destroying=True)

    def drift(
        self, *names: str, parallel: int = 1, shard: tuple[int, int] | None = None, today: date | None = None,
        notify: str | None = None,
    ) -> DriftReport:
        """Check environments (all when none is named) for drift, then notify and record the run.

        Nothing in the cloud or the stacks changes. ``shard`` = (I, N) keeps the
        stable 1/N of the environments that is shard I. With ``notify`` (a
        webhook URL), what changed since the last notification is POSTed; a
        delivery that fails is in ``report.notification_error`` and is sent
        again next run. Last, the run is appended to the drift history, which
        ``status`` and the next notification read.
        """
        if notify:
            check_webhook_url(notify)
        environments, invalid = self._select(names, all=not names)
        if shard:
            environments = [env for env in environments if in_shard(env.name, shard)]
            invalid = {name: reason for name, reason in invalid.items() if in_shard(name, shard)}
        started = _now()
        results = self._driver.run("drift", environments, parallel=parallel, keep_going=not names)
        finished = _now()
        today = today or datetime.now(UTC).date()
        checked = {env.name: _environment_drift(env, result, today)
                   for env, result in zip(environments, results, strict=True)}
        checked.update({name: EnvironmentDrift(name, "error", error=reason) for name, reason in invalid.items()})
        report = DriftReport(started_at=started, finished_at=finished,
                             environments=tuple(checked[name] for name in sorted(checked)))
        history = self.project.root / DRIFT_HISTORY
        if notify:
            try:
                notify_changes(notify, report, history.with_name(NOTIFIED))
            except EngineError as exc:
                report = replace(report, notification_error=str(exc))
        append_history(history, report)
        return report

    def remediate(self, report: DriftReport, mode: Literal["up", "refresh"], *, parallel: int = 1) -> Remediation:
        """Reconcile drifted environments: ``up`` back to the code, or ``refresh`` to accept the cloud.

        Protected environments are never touched, only reported.
        """
        drifted = [self.project.environment(env.environment) for env in report.environments if env.status == "drifted"]
        protected = tuple(env.name for env in drifted if env.protect)
        chosen = [env for env in drifted if not env.protect]
        if not chosen:
            return Remediation(mode=mode, results=(), protected=protected)
        if mode == "refresh":
            return Remediation(mode=mode, results=tuple(self._driver.run(mode, chosen, parallel=parallel)),
                               protected=protected)
        # A drift check changes no state, so the state still holds what the code last applied: ``up`` must
        # read the cloud first to see what to put back. Kubernetes objects are marked to be applied whatever
        # their provider's diff says; a second ``up`` takes the mark away (``engine.drift.reconcile``).
        marked = {env.environment: Reconcile.of(env.resources) for env in report.environments
                  if env.status == "drifted"}
        results = {result.environment: result for result in self._driver.run(
            mode, chosen, parallel=parallel, options={"refresh": True}, reconcile=marked)}
        again = [env for env in chosen if marked[env.name].marks and results[env.name].ok]
        if again:
            results.update((result.environment, result) for result in self._driver.run(mode, again, parallel=parallel))
        return Remediation(mode=mode, results=tuple(results[env.name] for env in chosen), protected=protected)

    def status(self) -> list[EnvironmentStatus]:
        """Every environment: cloud, account, region, last update, resources and last drift check.

        One call to the backend lists every stack, however many environments there are. An environment
        whose state does not read, or is missing, has an ``error`` (naming the state file and Pulumi's
        backups); the others are listed all the same.
        """
        environments, invalid = self._select((), all=True)
        stacks = self._driver.stacks([env.name for env in environments])
        drift = last_states(self.project.root / DRIFT_HISTORY)
        statuses = {name: EnvironmentStatus(environment=name, cloud="-", account="-", region="-", last_update=None,
                                            error=reason, last_drift=drift.get(name))
                    for name, reason in invalid.items()}
        for env in environments:
            account = self.project.account_for(env)
            stack = stacks.get(env.name)
            statuses[env.name] = EnvironmentStatus(
                environment=env.name, cloud=account.cloud, account=env.account, region=env.resolved_region(account) or "-",
                last_update={"time": stack.last_update, "resources": stack.resources} if stack and not stack.error
                else None, error=stack.error if stack else None, last_drift=drift.get(env.name),
            )
        return [statuses[name] for name in sorted(statuses)]

    def last_updates(self, names: Sequence[str]) -> dict[str, UpdateRecord]:
        """The newest update of each deployed environment of ``names``: its kind, result and who ran it, where the
        stack's history says (one Pulumi CLI call per environment, a few at a time)."""
        return self._driver.last_updates(names)

    def adopt(self, name: str, *, tfstate: str | os.PathLike[str] | None = None,
              ids: str | os.PathLike[str] | None = None) -> Adopted:
        """Map existing objects (a Terraform v4 state, or an ids file) onto ``name``'s program, for ``up`` to import.

        What maps is checked with the engine first: a preview that imports it. An object the engine would
        then replace (it differs from the spec in a property that cannot change in place) is refused, and
        nothing is written: ``EngineError``, one line per refused object. Otherwise the import plan is
        written (``imports/<env>.json``), replacing any earlier one. Nothing that maps: nothing written.
        """
        from terrane.engine.adopt import mapping
        from terrane.engine.offline.render import plan_environment
        from terrane.engine.store import imports
        from terrane.engine.tfstate import read_state

        if tfstate is not None and ids is not None:
            raise InvalidInputError("adopt: give --from-tfstate FILE or --ids FILE, not both")
        env = self.project.environment(name)
        if tfstate is not None:
            source = os.fspath(tfstate)
            matches = mapping.from_tfstate(plan_environment(self.project, env), read_state(Path(source)))
        elif ids is not None:
            source = os.fspath(ids)
            matches = mapping.from_ids(plan_environment(self.project, env), Path(source))
        else:
            raise InvalidInputError("adopt: give --from-tfstate FILE (a Terraform state) or --ids FILE")
        adopting = tuple(imports.Import(item.type, item.name, item.id, item.source) for item in matches.adoptions)
        if not adopting:
            return Adopted(env.name, adopting, matches.unmatched, written=None)
        [checked] = self._driver.run("preview", [env], imports={env.name: adopting})
        if not checked.ok:
            raise EngineError(f"{name}: {checked.error}")
        refused = imports.refusals(adopting, [step.to_dict() for step in checked.planned])
        if refused:
            raise EngineError("\n".join(refused), hint="make the spec match what exists, or leave those objects out "
                                                       "(adopt the others with --ids FILE)")
        written = imports.write(self.project.root, imports.ImportPlan(env.name, source, adopting))
        return Adopted(env.name, adopting, matches.unmatched, written)

    def outputs(self, name: str) -> dict[str, StackOutput]:
        return self._single("outputs", name).outputs

    def cancel(self, name: str, *, force: bool = False, timeout: float | None = None) -> CancelResult:
        """Cancel the run holding ``name`` if it runs on this host (as its Ctrl-C would), or clear the locks of one
        that is gone; a holder elsewhere is refused, named, unless ``force``, which breaks its locks.

        A cancelled run is waited for, up to ``timeout`` seconds (None: as long as it takes), and the result says how
        it ended; ``result.ok`` is true only when what was asked is done.
        """
        self.project.environment_file(name)  # an unknown environment is invalid input
        return cancel_run(self.project, name, force=force, timeout=timeout)

    def _run(
        self, operation: Operation, names: Sequence[str], all: bool, parallel: int, wait: float,
        options: Mapping[str, bool] | None = None, *, destroying: bool = False,
    ) -> list[OperationResult]:
        """``destroying``: refuse, before anything runs, when a chosen environment is protected."""
        environments, invalid = self._select(names, all)
        if destroying:
            self._refuse_protected(environments)
        results = self._driver.run(operation, environments, parallel=parallel, wait_seconds=wait, options=options,
                                   keep_going=all)
        return _with_invalid(operation, results, invalid)

    def _refuse_protected(self, environments: Sequence[Environment]) -> None:
        protected = [self.project.environment_file(env.name) for env in environments if env.protect]
        if protected:
            raise InvalidInputError(f"refusing to destroy protected environment(s): set protect: false in "
                                    f"{', '.join(protected)} first")

    def _single(self, operation: Operation, name: str) -> OperationResult:
        [result] = self._driver.run(operation, self.environments([name]))
        if not result.ok:
            raise EngineError(f"{name}: {result.error}")
        return result


def _with_invalid(operation: Operation, results: list[OperationResult],
                  invalid: Mapping[str, str]) -> list[OperationResult]:
    """``results`` and, in name order among them, a failed result for each environment that could not run."""
    if not invalid:
        return results
    every = {result.environment: result for result in results}
    every.update({name: OperationResult(name, operation, "failed", error=reason) for name, reason in invalid.items()})
    return [every[name] for name in sorted(every)]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _environment_drift(env: Environment, result: OperationResult, today: date) -> EnvironmentDrift:
    if not result.ok:
        return EnvironmentDrift(env.name, "error", error=result.error or result.status)
    if not result.deployed:
        return EnvironmentDrift(env.name, "not_deployed")
    kept, ignored = apply_ignore_rules(result.drift, env.drift.ignore, today)
    return EnvironmentDrift(env.name, "drifted" if kept else "in_sync", resources=tuple(kept), ignored=ignored)
