"""What verifying an account or a registry of accounts.yaml found ("terrane accounts verify"): a ``Verification``
and its ``Evidence``; ``NotVerified`` when a registry to be linked failed its checks.

A result never holds a secret: messages name references, and whatever a cloud
answered is masked (``verification.Check``) before it gets here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from terrane.engine.errors import EngineError
from terrane.stacks.spec.accounts import Account
from terrane.stacks.spec.registries import REGISTRY_KINDS, AcrRegistry, ArtifactRegistry, EcrRegistry, Registry

__all__ = ["Evidence", "NotVerified", "Verification", "kind_of"]


@dataclass(frozen=True)
class Evidence:
    """One check of a registry's verification: what was asked of the cloud, and what it answered."""

    check: str
    """The call or the reading, e.g. "ecr:ListImages web" or "push"."""
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "passed": self.passed, "detail": self.detail}


@dataclass(frozen=True)
class Verification:
    """What verifying one account, or one registry, found."""

    account: str
    """The account's (or registry's) name in accounts.yaml."""
    cloud: str
    verified: bool
    """True only when the cloud confirmed the identity (a registry's: and showed it can pull and cannot push)."""
    identity: str | None
    """The assumed-role or caller ARN, the service principal's client id, the service account's email."""
    account_id: str
    """AWS account id, Azure subscription id or GCP project id: as the cloud reported it, else as configured."""
    note: str | None = None
    """One line for humans, e.g. why the identity was not confirmed with the cloud."""
    kind: str | None = None
    """A registry's kind (ECR, ACR, Artifact Registry); None for an account, whose fields stop at ``note``."""
    can_pull: bool | None = None
    """A registry's identity got a pull token and listed images; None: not asked (no SDK, or refused sign-in)."""
    can_push: bool | None = None
    """A registry's identity has a permission to push; None: its permissions could not be read."""
    evidence: tuple[Evidence, ...] = field(default=())
    """A registry's checks, or a Kubernetes cluster's permission checks, in the order they ran."""

    @property
    def failed(self) -> bool:
        """Not verified because a check failed, rather than because nothing could be asked."""
        return not self.verified and any(not item.passed for item in self.evidence)

    @classmethod
    def refused(cls, name: str, account: Account | Registry, error: EngineError) -> Verification:
        """The result of a verification that the cloud refused (``verify`` raised ``error``)."""
        return cls(account=name, cloud=account.cloud, verified=False, identity=None, account_id=account.scope_id,
                   note=error.one_line(), kind=kind_of(account))

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "account": self.account,
            "cloud": self.cloud,
            "verified": self.verified,
            "identity": self.identity,
            "account_id": self.account_id,
            "note": self.note,
        }
        if self.kind is not None:
            document |= {"kind": self.kind, "can_pull": self.can_pull, "can_push": self.can_push}
        if self.kind is not None or self.evidence:
            document["evidence"] = [item.to_dict() for item in self.evidence]
        return document


class NotVerified(EngineError):
    """A registry's checks ran and one failed: the verification says which."""

    def __init__(self, message: str, verification: Verification) -> None:
        super().__init__(message)
        self.verification = verification


def kind_of(linked: Account | Registry) -> str | None:
    return REGISTRY_KINDS[linked.cloud] if isinstance(linked, (EcrRegistry, AcrRegistry, ArtifactRegistry)) else None

