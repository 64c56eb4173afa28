"""terrane from Python: the engine behind the CLI, every verb of it, with typed results.

    from terrane import Engine

    engine = Engine("path/to/project")          # or Engine() for $TERRANE_PROJECT / the current directory
    engine = Engine(".", program="acme.program:build")   # each stack runs acme's program factory
    [result] = engine.preview("aws-dev")
    result.changes                              # {"create": 71}
    engine.up("aws-dev", "gcp-dev", parallel=2, on_progress=print)
    engine.outputs("aws-dev")["vpc_id"].value
    report = engine.drift()                     # DriftReport of every environment, recorded in the history
    engine.status()                             # EnvironmentStatus per environment
    engine.cancel("aws-dev").outcome            # "cancelled", "nothing", "refused"...: what held it, what was done

Every method validates first (environments, accounts, secret references, the
Pulumi CLI) and raises ``InvalidInputError`` or ``EngineError`` before anything
runs; once running, each environment's outcome is an ``OperationResult``. What
each verb does is in ``terrane.engine.verbs``, one module per verb; what it
returns is in ``terrane.engine.results``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from terrane.engine.errors import EngineError, InvalidInputError
from terrane.engine.operations import programs
from terrane.engine.results import (
    AccountList,
    Adopted,
    Bootstrapped,
    Diagnosis,
    DriftOutcome,
    EnvironmentCheck,
    EnvironmentRow,
    EnvironmentStatus,
    Linked,
    PageWritten,
    Remediation,
    Removed,
    Verified,
)
from terrane.engine.verbs.link import (
    AcrLink,
    ArtifactRegistryLink,
    AwsAuth,
    AwsLink,
    AzureAuth,
    AzureLink,
    EcrLink,
    GcpAuth,
    GcpLink,
    KubernetesLink,
    LinkRequest,
)

# The spec loads when an Engine is made, what runs stacks when a verb first needs it: the verbs that need
# no project (init_project, install_cli, bootstrap_*) stay as quick as the CLI's --help, an offline plan
# loads nothing that runs stacks.
if TYPE_CHECKING:
    from terrane.engine.audit import AuditReport
    from terrane.engine.drift.report import DriftReport
    from terrane.engine.offline.render import Plan
    from terrane.engine.operations.cancel import CancelResult
    from terrane.engine.operations.driver import Driver, OnProgress, OperationResult
    from terrane.engine.operations.protocol import Operation, StackOutput
    from terrane.engine.operations.pulumi_cli import UpdateRecord
    from terrane.engine.operations.stack_state import StackState
    from terrane.stacks.spec.environments import Environment

__all__ = [
    "AcrLink", "Adopted", "ArtifactRegistryLink", "AwsAuth", "AwsLink", "AzureAuth", "AzureLink", "EcrLink", "Engine",
    "EnvironmentStatus", "GcpAuth", "GcpLink", "KubernetesLink", "LinkRequest", "Remediation",
]


class Engine:
    def __init__(self, project_dir: str | os.PathLike[str] | None = None, *, on_progress: OnProgress | None = None,
                 program: str = programs.DEFAULT, start_workers: bool = False):
        """``program`` names the factory of each environment's program (``package.module:factory``);
        ``on_progress`` receives the progress of every call that is given none of its own. ``start_workers``
        starts, before anything else, the process the next run forks its workers from, so that its imports
        overlap this process's own: for a caller about to run stacks, as the CLI is."""
        if start_workers:
            from terrane.engine.operations import forkserver
            from terrane.engine.store.environ import base_environment

            forkserver.start_early(base_environment())
        from terrane.engine.project import open_project

        self.project = open_project(project_dir)
        self._on_progress = on_progress
        self._program = programs.check(program)

    @functools.cached_property
    def _driver(self) -> Driver:
        """What runs stacks, loaded when a verb first needs it: an offline plan never does."""
        from terrane.engine.operations.driver import Driver

        return Driver(self.project, self._on_progress, program=self._program)

    def environments(self, names: Sequence[str] = (), *, all: bool = False) -> list[Environment]:
        """The named environments, each fully validated; or all of them that are valid."""
        from terrane.engine.verbs.select import select

        return select(self.project, names, all)[0]

    # Offline: no credentials, no Pulumi CLI.

    def plan(self, name: str) -> Plan:
        # Rendering offline loads Pulumi's SDK and a cloud's; an engine that only drives stacks never needs them.
        from terrane.engine.offline.render import plan

        return plan(self.project, name)

    def plans(self, *names: str, all: bool = False) -> list[Plan]:
        """Each environment rendered offline, in name order, once every one of them is known to be valid.

        An invalid environment, named or found with ``all``, raises ``InvalidInputError`` and nothing renders.
        """
        from terrane.engine.offline.render import plan_environment
        from terrane.engine.verbs.select import all_valid

        return [plan_environment(self.project, env) for env in all_valid(self.project, names, all)]

    def audit(self, *names: str, all: bool = False, markdown: Path | None = None) -> AuditReport:
        """Each environment's elevated privileges and weakened defaults, worked out offline from its plan.

        Environments are chosen, and refused when invalid, as by ``plans``. With ``markdown``, the report is
        also written there, the document a team hands its auditors.
        """
        from terrane.engine.audit import AuditReport, audit
        from terrane.engine.audit import markdown as render_markdown
        from terrane.engine.files import write_atomically
        from terrane.engine.offline.render import plan_environment
        from terrane.engine.verbs.select import all_valid

        audits = [audit(env, self.project.account_for(env), plan_environment(self.project, env))
                  for env in all_valid(self.project, names, all)]
        report = AuditReport(tuple(audits))
        if markdown:
            write_atomically(markdown, render_markdown(report))
        return report

    # Stacks: each call may pass ``on_progress``, which receives each ``Progress`` while its stacks run.

    # ``targets``, URNs or names of resources of the one environment named, limit a verb to them (``verbs.target``).

    def preview(self, *names: str, all: bool = False, parallel: int = 1, wait: float = 0, destroy: bool = False,
                targets: Sequence[str] = (), target_dependents: bool = False,
                on_progress: OnProgress | None = None) -> list[OperationResult]:
        """What ``up`` (or with ``destroy``, what ``destroy``) would change; each result lists it in ``planned``."""
        return self._run("preview", names, all, parallel, wait, {"destroy": True} if destroy else None,
                         destroying=destroy, targets=(targets, target_dependents), on_progress=on_progress)

    def up(self, *names: str, all: bool = False, parallel: int = 1, wait: float = 0, accept_pending: bool = False,
           targets: Sequence[str] = (), target_dependents: bool = False,
           on_progress: OnProgress | None = None) -> list[OperationResult]:
        """Bring each environment to its program. Creates a killed run left pending stop it (the result says which
        and how to clear them) unless ``accept_pending``: they may exist in the cloud, and up would make them again.
        """
        return self._run("up", names, all, parallel, wait, {"accept_pending": True} if accept_pending else None,
                         targets=(targets, target_dependents), on_progress=on_progress)

    def refresh(self, *names: str, all: bool = False, parallel: int = 1, wait: float = 0,
                clear_pending_creates: bool = False, targets: Sequence[str] = (), target_dependents: bool = False,
                on_progress: OnProgress | None = None) -> list[OperationResult]:
        """Read the cloud into the state; ``clear_pending_creates`` drops creates an interrupted run left pending."""
        options = {"clear_pending_creates": True} if clear_pending_creates else {}
        return self._run("refresh", names, all, parallel, wait, options, targets=(targets, target_dependents),
                         on_progress=on_progress)

    def destroy(self, *names: str, all: bool = False, parallel: int = 1, wait: float = 0, targets: Sequence[str] = (),
                target_dependents: bool = False, on_progress: OnProgress | None = None) -> list[OperationResult]:
        return self._run("destroy", names, all, parallel, wait, destroying=True,
                         targets=(targets, target_dependents), on_progress=on_progress)

    def state(self, name: str) -> StackState:
        """What ``name``'s stack holds, resource by resource (none when it has no stack yet), read from the backend
        without credentials; a state that does not read, or is missing, raises ``EngineError``."""
        from terrane.engine.operations import stack_state

        self.project.environment_file(name)  # an unknown environment is invalid input
        return stack_state.read(self.project, name)

    def outputs(self, name: str) -> dict[str, StackOutput]:
        [result] = self._driver.run("outputs", self.environments([name]))
        if not result.ok:
            raise EngineError(f"{name}: {result.error}")
        return result.outputs

    def cancel(self, name: str, *, force: bool = False, timeout: float | None = None) -> CancelResult:
        """Cancel the run holding ``name`` if it runs on this host (as its Ctrl-C would), or clear the locks of one
        that is gone; a holder elsewhere is refused, named, unless ``force``, which breaks its locks.

        A cancelled run is waited for, up to ``timeout`` seconds (None: as long as it takes), and the result says how
        it ended; ``result.ok`` is true only when what was asked is done.
        """
        from terrane.engine.operations.cancel import cancel as cancel_run

        self.project.environment_file(name)  # an unknown environment is invalid input
        return cancel_run(self.project, name, force=force, timeout=timeout)

    def adopt(self, name: str, *, tfstate: str | os.PathLike[str] | None = None,
              ids: str | os.PathLike[str] | None = None, on_progress: OnProgress | None = None) -> Adopted:
        """Map existing objects (a Terraform v4 state, or an ids file) onto ``name``'s program, for ``up`` to import.

        What maps is checked with the engine first: a preview that imports it. An object the engine would
        then replace (it differs from the spec in a property that cannot change in place) is refused, and
        nothing is written: ``EngineError``, one line per refused object. Otherwise the import plan is
        written (``imports/<env>.json``), replacing any earlier one. Nothing that maps: nothing written.
        """
        from terrane.engine.verbs.adopt import adopt

        return adopt(self._with(on_progress), name, tfstate=tfstate, ids=ids)

    # Drift: the scheduled job, and its parts.

    def drift(
        self, *names: str, parallel: int = 1, shard: tuple[int, int] | None = None, today: date | None = None,
        notify: str | None = None, on_progress: OnProgress | None = None,
    ) -> DriftReport:
        """Check environments (all when none is named) for drift, then notify and record the run.

        Nothing in the cloud or the stacks changes. ``shard`` = (I, N) keeps the
        stable 1/N of the environments that is shard I. With ``notify`` (a
        webhook URL), what changed since the last notification is POSTed; a
        delivery that fails is in ``report.notification_error`` and is sent
        again next run. Last, the run is appended to the drift history, which
        ``status`` and the next notification read.
        """
        from terrane.engine.verbs import drift as drifts

        return drifts.check(self._with(on_progress), names, parallel=parallel, shard=shard, today=today, notify=notify)

    def remediate(self, report: DriftReport, mode: Literal["up", "refresh"], *, parallel: int = 1,
                  on_progress: OnProgress | None = None) -> Remediation:
        """Reconcile drifted environments: ``up`` back to the code, or ``refresh`` to accept the cloud.

        Protected environments are never touched, only reported.
        """
        from terrane.engine.verbs import drift as drifts

        return drifts.remediate(self._with(on_progress), report, mode, parallel=parallel)

    def drift_job(
        self, *names: str, all: bool = False, parallel: int = 1, shard: str | tuple[int, int] | None = None,
        notify: str | None = None, remediate: Literal["up", "refresh"] | None = None, markdown: Path | None = None,
        junit: Path | None = None, html: Path | None = None, on_progress: OnProgress | None = None,
        on_checked: Callable[[DriftOutcome], None] | None = None,
    ) -> DriftOutcome:
        """``terrane drift``: ``drift``, the reports it writes, then ``remediate`` what drifted.

        ``all`` is the default when no environment is named; ``shard`` may be the text ``I/N``. ``markdown``,
        ``junit`` and ``html`` are written once the check is recorded; ``on_checked`` then gets the outcome so far,
        before any remediation runs. ``outcome.exit_code`` is the job's.
        """
        from terrane.engine.verbs import drift as drifts
        from terrane.engine.verbs import report as pages
        from terrane.engine.verbs.select import refuse_both

        refuse_both(names, all)
        chosen_shard = drifts.shard_of(shard)
        if html:
            pages.check_target(html)
        report = self.drift(*names, parallel=parallel, shard=chosen_shard, notify=notify, on_progress=on_progress)
        drifts.write_reports(report, markdown=markdown, junit=junit)
        outcome = DriftOutcome(report, page=pages.write_page(self, html, run=report) if html else None)
        if on_checked:
            on_checked(outcome)
        if remediate is None:
            return outcome
        return replace(outcome, remediation=self.remediate(report, remediate, parallel=parallel,
                                                            on_progress=on_progress))

    # What there is: every environment, its stack and its last drift check.

    def status(self) -> list[EnvironmentStatus]:
        """Every environment: cloud, account, region, last update, resources and last drift check.

        One call to the backend lists every stack, however many environments there are. An environment
        whose state does not read, or is missing, has an ``error`` (naming the state file and Pulumi's
        backups); the others are listed all the same.
        """
        from terrane.engine.verbs.status import status

        return status(self._driver)

    def last_updates(self, names: Sequence[str], *,
                     listed: Mapping[str, str] | None = None) -> dict[str, UpdateRecord]:
        """The newest update of each deployed environment of ``names``: its kind, result and who ran it, from
        terrane's record of it in the shared store where that is the update that last wrote the state (``listed``:
        when each state was last written, as ``status`` has it), else from the stack's history (one Pulumi CLI
        call per environment, a few at a time)."""
        return self._driver.last_updates(names, listed=listed)

    def report(self, *names: str, all: bool = False, html: Path) -> PageWritten:
        """Write the environments page of ``names`` (every environment when none is named) to ``html``.

        Reads the backend once, as ``status`` does, and the drift history. An environment that cannot be read
        is on the page as an error, and in ``unreadable``.
        """
        from terrane.engine.verbs import report as pages
        from terrane.engine.verbs.select import refuse_both

        refuse_both(names, all)
        pages.check_target(html)
        return pages.write_page(self, html, names)

    def environment_rows(self) -> list[EnvironmentRow]:
        """Every environment file with its account, cloud and region, or why it is invalid."""
        from terrane.engine.verbs.status import rows

        return rows(self.project)

    def validate(self, *names: str) -> list[EnvironmentCheck]:
        """accounts.yaml, then each environment named (every one when none is): nothing runs."""
        from terrane.engine.verbs.status import validate

        return validate(self.project, names)

    def doctor(self) -> Diagnosis:
        """The Pulumi CLI, backend, secrets provider, accounts and registries, state region and plugins."""
        from terrane.engine.doctor import run_checks

        return Diagnosis(tuple(run_checks(self.project)))

    # Accounts and registries of accounts.yaml.

    def link(self, name: str, request: LinkRequest, *, verify: bool = True, replace: bool = False) -> Linked:
        """Link an account or registry as ``name``, checked with the cloud first unless ``verify`` is False.

        A registry whose checks fail is not written: ``NotVerified`` holds the verification that says why.
        """
        from terrane.engine.verbs.accounts import link

        return link(self.project, name, request, verify=verify, replace=replace)

    def accounts(self) -> AccountList:
        """The linked accounts and registries, each with the environments using it."""
        from terrane.engine.verbs.accounts import listed

        return listed(self.project)

    def remove_account(self, name: str) -> Removed:
        """Unlink account or registry ``name`` (refused while an environment uses it)."""
        from terrane.engine.verbs.accounts import remove

        return remove(self.project, name)

    def verify(self, name: str, *, keep_refusal: bool = False) -> Verified:
        """Whether account or registry ``name``'s identity works and belongs to it (a registry's: pulls, cannot
        push). A cloud that refuses the identity raises ``EngineError``, or with ``keep_refusal`` is in the result."""
        from terrane.engine.verbs.accounts import verify

        return verify(self.project, name, keep_refusal=keep_refusal)

    # Without a project.

    @staticmethod
    def init_project(directory: Path) -> list[Path]:
        """Scaffold a project in ``directory``: the files created (an existing file is never overwritten)."""
        from terrane.engine.scaffold import init

        return init(directory)

    @staticmethod
    def install_cli(root: Path | None = None) -> Path:
        """Install the Pulumi CLI matching terrane's Pulumi SDK under ``root``; where it went."""
        from terrane.engine.operations import pulumi_cli

        return pulumi_cli.install(root)

    @staticmethod
    def bootstrap_aws(trusted_principal: str, *, external_id: str | None = None, region: str | None = None,
                      repositories: Sequence[str] = (), fmt: Literal["yaml", "json"] = "yaml") -> Bootstrapped:
        """A CloudFormation template: terrane's roles, their permissions boundary and its state store."""
        from terrane.engine.verbs.accounts import bootstrap_aws

        return bootstrap_aws(trusted_principal, external_id, region, repositories, fmt)

    @staticmethod
    def bootstrap_azure(principal_id: str, *, region: str | None = None, drift_principal_id: str | None = None,
                        acr: str | None = None, acr_resource_group: str | None = None,
                        registry_reader_principal_id: str | None = None) -> Bootstrapped:
        """An ARM template: terrane's state store, and its provisioner, drift and registry-reader roles."""
        from terrane.engine.verbs.accounts import bootstrap_azure

        return bootstrap_azure(region, principal_id, drift_principal_id, acr, acr_resource_group,
                               registry_reader_principal_id)

    @staticmethod
    def bootstrap_gcp(project: str, *, region: str | None = None, repositories: Sequence[str] = (),
                      member: str | None = None) -> Bootstrapped:
        """A gcloud script: terrane's service accounts and their roles, its state bucket and KMS key."""
        from terrane.engine.verbs.accounts import bootstrap_gcp

        return bootstrap_gcp(project, region, repositories, member)

    def _with(self, on_progress: OnProgress | None) -> Driver:
        """The driver that reports to ``on_progress``; without one, to the engine's own callback."""
        from terrane.engine.operations.driver import Driver

        if on_progress is None:
            return self._driver
        return Driver(self.project, on_progress, program=self._program)

    def _run(
        self, operation: Operation, names: Sequence[str], all: bool, parallel: int, wait: float,
        options: Mapping[str, bool] | None = None, *, destroying: bool = False,
        targets: tuple[Sequence[str], bool] = ((), False), on_progress: OnProgress | None = None,
    ) -> list[OperationResult]:
        """``destroying``: refuse, before anything runs, when a chosen environment is protected; ``targets`` and
        whether their dependents go too: looked up in the stack first (``verbs.target``)."""
        from terrane.engine.verbs.select import select
        from terrane.engine.verbs.target import targeting

        environments, invalid = select(self.project, names, all)
        if destroying:
            self._refuse_protected(environments)
        chosen = {**(options or {}), **targeting(self.project, operation, environments, all, *targets)}
        results = self._with(on_progress).run(operation, environments, parallel=parallel, wait_seconds=wait,
                                              options=chosen, keep_going=all)
        return _with_invalid(operation, results, invalid)

    def _refuse_protected(self, environments: Sequence[Environment]) -> None:
        protected = [self.project.environment_file(env.name) for env in environments if env.protect]
        if protected:
            raise InvalidInputError(f"refusing to destroy protected environment(s): set protect: false in "
                                    f"{', '.join(protected)} first")


def _with_invalid(operation: Operation, results: list[OperationResult],
                  invalid: Mapping[str, str]) -> list[OperationResult]:
    """``results`` and, in name order among them, a failed result for each environment that could not run."""
    from terrane.engine.operations.driver import OperationResult

    if not invalid:
        return results
    every = {result.environment: result for result in results}
    every.update({name: OperationResult(name, operation, "failed", error=reason) for name, reason in invalid.items()})
    return [every[name] for name in sorted(every)]
