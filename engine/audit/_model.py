"""The audit's results: each environment's elevated items and findings, and the report of them all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from terrane.engine.errors import ExitCode
from terrane.engine.project import ENVIRONMENTS_DIR

SCHEMA_VERSION = 1

Severity = Literal["low", "medium", "high"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high")
"""In rising order."""

Kind = Literal["provisioner", "cluster-admin", "control-plane", "node", "workload", "service", "key", "kubernetes",
               "other"]
KINDS: dict[Kind, str] = {
    "provisioner": "the identity terrane deploys as",
    "cluster-admin": "cluster administrator",
    "control-plane": "the cluster control plane's identity",
    "node": "the nodes' identity",
    "workload": "a workload identity and the secrets it reads",
    "service": "a cloud service's identity",
    "key": "an encryption key or secret store, and who may use it",
    "kubernetes": "a privileged Kubernetes object",
    "other": "a grant the audit has no description for",
}
"""Each kind of elevated item, in the order a report lists them."""

OFFLINE_NOTE = ("Worked out offline from each environment's plan and its account: nothing was read from a cloud, "
                "and identifiers are placeholders until terrane up creates them.")


@dataclass(frozen=True)
class ElevatedItem:
    """An identity or resource with elevated privileges: what it may do, why terrane needs it, what limits it."""

    kind: Kind
    name: str
    type: str
    """The resource type of the plan it comes from; ``account`` for the provisioner, from ``accounts.yaml``."""
    grants: tuple[str, ...]
    why: str
    limits: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "type": self.type, "grants": list(self.grants),
                "why": self.why, "limits": list(self.limits)}


@dataclass(frozen=True)
class Finding:
    """A secure default the environment's spec weakens, and where the plan shows it."""

    severity: Severity
    rule: str
    field: str
    """The field of ``environments/<name>.yaml`` that decides it."""
    message: str
    fix: str
    evidence: tuple[str, ...]
    """One line per resource of the plan: its name, type, and the input that shows the weakened default."""

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "rule": self.rule, "field": self.field, "message": self.message,
                "fix": self.fix, "evidence": list(self.evidence)}


@dataclass(frozen=True)
class EnvironmentAudit:
    environment: str
    cloud: str
    account: str
    region: str | None
    protect: bool
    elevated: tuple[ElevatedItem, ...]
    findings: tuple[Finding, ...]
    """Highest severity first."""

    @property
    def file(self) -> str:
        return f"{ENVIRONMENTS_DIR}/{self.environment}.yaml"

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "cloud": self.cloud, "account": self.account,
                "region": self.region, "protect": self.protect,
                "elevated": [item.to_dict() for item in self.elevated],
                "findings": [finding.to_dict() for finding in self.findings]}


@dataclass(frozen=True)
class AuditReport:
    environments: tuple[EnvironmentAudit, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "environments": [env.to_dict() for env in self.environments]}

    def failing(self, fail_on: Severity) -> list[Finding]:
        """The findings at or above ``fail_on``."""
        floor = SEVERITIES.index(fail_on)
        return [finding for env in self.environments for finding in env.findings
                if SEVERITIES.index(finding.severity) >= floor]

    def exit_code(self, fail_on: Severity) -> ExitCode:
        return ExitCode.CHANGES if self.failing(fail_on) else ExitCode.OK
