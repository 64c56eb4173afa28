"""What the Engine's verbs return: typed, frozen results that the CLI renders as text or JSON.

The results the Engine makes itself are defined here; those other packages make
(``OperationResult``, ``DriftReport``, ``Plan``, ``AuditReport``...) are exposed
here too, with the few renderings that belong to them (``review`` of a plan,
``summary`` of an audit) and the program setting every Engine takes
(``PROGRAM_ENV_VAR``, ``DEFAULT_PROGRAM``, ``check_program``), so that a caller
of the Engine never reaches into the packages behind it. Those are loaded when first used: importing this module,
as the CLI does, loads neither Pulumi nor a cloud SDK.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from terrane.engine.errors import ExitCode

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from terrane.engine.accounts.registry import AccountSummary, RegistrySummary
    from terrane.engine.adopt.mapping import Unmatched
    from terrane.engine.audit import OFFLINE_NOTE, AuditReport, EnvironmentAudit, Severity, summary
    from terrane.engine.clouds.results import NotVerified, Verification
    from terrane.engine.doctor import Check
    from terrane.engine.drift.report import DriftReport
    from terrane.engine.offline.render import Plan
    from terrane.engine.offline.review import Review, ReviewedResource, flow, review
    from terrane.engine.operations.cancel import CancelResult
    from terrane.engine.operations.driver import OperationResult, Progress, StackOutput
    from terrane.engine.operations.programs import DEFAULT as DEFAULT_PROGRAM
    from terrane.engine.operations.programs import ENV_VAR as PROGRAM_ENV_VAR
    from terrane.engine.operations.programs import check as check_program
    from terrane.engine.operations.pulumi_cli import UpdateRecord
    from terrane.engine.project import Project
    from terrane.engine.store.imports import Import

__all__ = [
    "DEFAULT_PROGRAM", "OFFLINE_NOTE", "PROGRAM_ENV_VAR", "AccountList", "AccountSummary",
    "Adopted", "AuditReport", "Bootstrapped", "CancelResult", "Check", "Diagnosis", "DriftOutcome", "DriftReport",
    "EnvironmentAudit", "EnvironmentCheck", "EnvironmentRow", "EnvironmentStatus", "Linked", "NotVerified",
    "OperationResult", "PageWritten", "Plan", "Progress", "RegistrySummary", "Remediation", "Removed", "Review",
    "ReviewedResource", "Severity", "StackOutput", "StatusSource", "Verification", "Verified", "check_program", "flow", "review", "summary",
]


_LAZY = {
    "AccountSummary": "terrane.engine.accounts.registry", "RegistrySummary": "terrane.engine.accounts.registry",
    "NotVerified": "terrane.engine.clouds.results", "Verification": "terrane.engine.clouds.results",
    "OFFLINE_NOTE": "terrane.engine.audit", "AuditReport": "terrane.engine.audit",
    "EnvironmentAudit": "terrane.engine.audit", "Severity": "terrane.engine.audit", "summary": "terrane.engine.audit",
    "Check": "terrane.engine.doctor", "DriftReport": "terrane.engine.drift.report",
    "Plan": "terrane.engine.offline.render", "Review": "terrane.engine.offline.review",
    "ReviewedResource": "terrane.engine.offline.review", "flow": "terrane.engine.offline.review",
    "review": "terrane.engine.offline.review", "CancelResult": "terrane.engine.operations.cancel",
    "OperationResult": "terrane.engine.operations.driver", "Progress": "terrane.engine.operations.driver",
    "StackOutput": "terrane.engine.operations.driver",
}
_RENAMED = {"DEFAULT_PROGRAM": ("terrane.engine.operations.programs", "DEFAULT"),
            "PROGRAM_ENV_VAR": ("terrane.engine.operations.programs", "ENV_VAR"),
            "check_program": ("terrane.engine.operations.programs", "check")}


def __getattr__(name: str) -> Any:
    module, attribute = _RENAMED.get(name) or (_LAZY.get(name), name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), attribute)


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


class StatusSource(Protocol):
    """What the environments page reads: the project, every environment's status and its stack's newest update."""

    @property
    def project(self) -> Project: ...

    def status(self) -> list[EnvironmentStatus]: ...

    def last_updates(self, names: Sequence[str], *,
                     listed: Mapping[str, str] | None = None) -> dict[str, UpdateRecord]: ...


@dataclass(frozen=True)
class Remediation:
    mode: Literal["up", "refresh"]
    results: tuple[OperationResult, ...]
    protected: tuple[str, ...]
    """Drifted environments left alone because they are protected."""

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)


@dataclass(frozen=True)
class PageWritten:
    """The environments page, written to ``path``: how many environments it shows, and those it could not read."""

    path: Path
    environments: int
    unreadable: tuple[tuple[str, str], ...] = ()
    """(environment, error) of each environment whose file or state does not read: an error row of the page."""

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.FAILURE if self.unreadable else ExitCode.OK


@dataclass(frozen=True)
class DriftOutcome:
    """The scheduled drift job: the check, what remediation did, and the page it wrote.

    The report's ``notification_error`` says whether the notification failed.
    """

    report: DriftReport
    remediation: Remediation | None = None
    page: PageWritten | None = None

    @property
    def found(self) -> ExitCode:
        """What the check and the remediation found: OK in sync, CHANGES drift, FAILURE a check or remediation
        failed."""
        if self.remediation is not None and not self.remediation.ok:
            return ExitCode.FAILURE
        return self.report.exit_code

    @property
    def exit_code(self) -> ExitCode:
        """``found``, unless the notification failed: then FAILURE, so the job is seen to fail (it is sent again
        on the next run)."""
        return ExitCode.FAILURE if self.report.notification_error else self.found


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
class EnvironmentRow:
    """One environment of ``envs list``: its account, cloud and region, or why its file is invalid."""

    name: str
    account: str | None
    cloud: str | None
    region: str | None
    valid: bool
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EnvironmentCheck:
    """One environment of ``envs validate``: every problem of its file, one a line."""

    name: str
    valid: bool
    problems: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "valid": self.valid, "problems": list(self.problems)}


@dataclass(frozen=True)
class Diagnosis:
    """What ``doctor`` checked, in order; a check that fails makes it fail."""

    checks: tuple[Check, ...]

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.FAILURE if any(check.status == "fail" for check in self.checks) else ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": 1, "checks": [asdict(check) for check in self.checks]}


@dataclass(frozen=True)
class AccountList:
    """The linked accounts and registries, each with the environments that use it."""

    accounts: tuple[AccountSummary, ...]
    registries: tuple[RegistrySummary, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": 1, "accounts": [row.to_dict() for row in self.accounts],
                "registries": [row.to_dict() for row in self.registries]}


@dataclass(frozen=True)
class Linked:
    """An account or registry written to accounts.yaml; ``verification`` is None when it was not verified."""

    name: str
    what: str
    """What was linked, in a few words: "aws account", "ECR registry"."""
    scope: str
    """Where: the account id, subscription or project; a registry's repositories."""
    verification: Verification | None


@dataclass(frozen=True)
class Verified:
    """What verifying an account or registry found; ``refusal``: why the cloud refused its identity, when it did."""

    verification: Verification
    refusal: str | None = None

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.verification.verified else ExitCode.FAILURE


@dataclass(frozen=True)
class Removed:
    name: str
    kind: Literal["account", "registry"]


@dataclass(frozen=True)
class Bootstrapped:
    """What to create in a cloud account before linking it: a ``document`` (a template or a script) to save and
    run, and ``notes`` on how."""

    document: str
    notes: tuple[str, ...]
