"""Account verification ("terrane accounts verify"): prove that an account in accounts.yaml works.

``verify`` asks the account's cloud (``engine.clouds``); what every cloud's
verification shares is here: a check in progress (``Check``), which resolves
references and masks every secret out of its messages, and the gathering of a
registry's evidence (``Findings``). The result is ``results.Verification``.

A registry of accounts.yaml is verified too, by its cloud: its identity signs
in the way an account's does, then must get a pull token and list images, and
must be shown unable to push. A check that fails is evidence, not an exception:
the result says what was proven (``can_pull``, ``can_push``) and is verified
only when the identity was shown to pull and shown unable to push. Sign-in
failures raise, as for accounts.

AWS is always checked with the cloud. Azure and GCP are checked with the cloud
when their optional SDK is installed (``terrane[azure]``, ``terrane[gcp]``);
without it, the references are resolved and the identifiers checked, and the
result says that nothing was confirmed. A Kubernetes cluster is asked who the
kubeconfig's user is and whether it may create what terrane's bootstrap creates.

Secret references are resolved here, only while verifying. The values never
reach a result, a message or an exception: messages name the reference
(``env:NAME``), and any text that comes back from a cloud is redacted as well.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from terrane.engine import clouds
from terrane.engine.accounts.secrets import MASK, Secret, resolve
from terrane.engine.clouds.results import Evidence, NotVerified, Verification, kind_of
from terrane.engine.errors import TerraneError
from terrane.stacks.spec.accounts import Account
from terrane.stacks.spec.references import Reference
from terrane.stacks.spec.registries import REGISTRY_KINDS, Registry

__all__ = ["Check", "Findings", "for_link", "verify"]

# How many images or repositories one listing asks for: enough to show some, never a long walk.
PAGE = 10


def verify(name: str, account: Account | Registry) -> Verification:
    """Check ``account`` (called ``name`` in accounts.yaml) and report who it acts as.

    Raises ``InvalidInputError`` when a reference cannot be resolved or holds
    something unusable, and ``EngineError`` when the cloud refuses the identity
    or reports another account than the one configured. A registry's result
    says what its identity was shown to do (``can_pull``, ``can_push``, ``evidence``):
    a failed check makes it unverified, and raises nothing.
    """
    return clouds.of(account).verify(name, account)


def for_link(name: str, linked: Account | Registry) -> Verification:
    """``verify``, for ``accounts link``: a registry whose checks fail (it cannot pull, or can push) raises
    ``NotVerified``, which holds the verification that says why."""
    verification = verify(name, linked)
    if verification.failed:
        noun = "account" if verification.kind is None else "registry"
        raise NotVerified(f"{noun} {name} was not linked: {verification.note}; fix its identity's permissions, "
                          "or pass --no-verify to link it anyway", verification)
    return verification


def installed(module: str) -> bool:
    """Whether an optional SDK can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        # find_spec imports the parent package, which may be missing too.
        return False


class Check:
    """One verification in progress: the account's name and the secrets resolved (or tokens issued) for it."""

    def __init__(self, name: str, linked: Account | Registry) -> None:
        self.name = name
        self.region = clouds.of(linked).secrets_region(linked)
        self.what = "account" if kind_of(linked) is None else "registry"
        self._secrets: list[Secret] = []

    def resolve(self, reference: Reference) -> Secret:
        # Errors propagate as engine.accounts.secrets words them: they name the reference, which is enough to act on.
        return self.keep(resolve(reference, region=self.region))

    def keep(self, secret: Secret) -> Secret:
        """Mask ``secret`` (a resolved reference, or a token a cloud issued) in every message of this check."""
        self._secrets.append(secret)
        return secret

    def masked(self, message: str) -> str:
        for secret in self._secrets:
            value = secret.reveal()
            # Very short values would mask ordinary words; they are not echoed by the clouds either.
            if len(value) >= 4:
                message = message.replace(value, MASK)
        return message

    def error(self, kind: type[TerraneError], message: str) -> TerraneError:
        """An error naming the account, with every resolved secret masked out of ``message``."""
        return kind(f"{self.what} {self.name}: {self.masked(message)}")


def first_line(text: object) -> str:
    lines = str(text).strip().splitlines()
    return lines[0] if lines else ""


def unconfirmed(
    check: Check, account: Account | Registry, identity: str | None, cloud_name: str, *, extra: str
) -> Verification:
    """What can be said without the cloud's SDK: references resolve and identifiers are well-formed."""
    return Verification(
        account=check.name,
        cloud=account.cloud,
        verified=False,
        identity=identity,
        account_id=account.scope_id,
        note="references resolve and identifiers are well-formed; the identity was not confirmed "
        f"with {cloud_name} (install terrane[{extra}] to confirm)",
        kind=kind_of(account),
    )


@dataclass
class Findings:
    """The evidence of one registry's verification, as it is gathered."""

    evidence: list[Evidence]

    def add(self, check: str, passed: bool, detail: str) -> bool:
        self.evidence.append(Evidence(check, passed, detail))
        return passed

    def result(self, check: Check, registry: Registry, identity: str | None, can_pull: bool,
               can_push: bool | None) -> Verification:
        verified = can_pull and can_push is False
        failures = [item.detail for item in self.evidence if not item.passed]
        return Verification(
            account=check.name, cloud=registry.cloud, verified=verified, identity=identity,
            account_id=registry.scope_id, note="; ".join(failures) if failures else "can pull, cannot push",
            kind=REGISTRY_KINDS[registry.cloud], can_pull=can_pull, can_push=can_push, evidence=tuple(self.evidence),
        )


def images(count: int, more: bool) -> str:
    if count == 0:
        return "lists its images (none yet)"
    return f"lists its images ({count}{' or more' if more else ''})"
