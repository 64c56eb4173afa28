"""The identity terrane deploys as, from the environment's account: how it signs in, what it may do, what limits it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from terrane.engine import clouds
from terrane.engine.audit._model import ElevatedItem
from terrane.engine.audit._plan import _allows, _get, _listed, _listed_statements, _statement

if TYPE_CHECKING:
    from terrane.engine.audit._index import _Index
    from terrane.stacks.spec.accounts import Account


# --- the provisioner ------------------------------------------------------------------------------------------------

_PROVISIONER_WHY = "terrane deploys, updates, refreshes and destroys the environment as this identity."


def _provisioner(account: Account, index: _Index) -> ElevatedItem:
    """The identity as the account's cloud names it (``Cloud.provisioner``), a policy it is known to have in words."""
    provisioner = clouds.of(account).provisioner(account)
    grants, limits = provisioner.grants, list(provisioner.limits)
    if provisioner.policy is not None:
        statements = _listed_statements(provisioner.policy)
        grants = tuple(_statement(statement) for statement in statements)
        limits += _policy_limits(statements)
    limits += _provider_limits(index)
    return ElevatedItem("provisioner", provisioner.name, "account", grants, _PROVISIONER_WHY, tuple(limits))


def _policy_limits(statements: Sequence[Mapping[str, Any]]) -> list[str]:
    limits = []
    roles = [resource for statement in statements if any(a.startswith("iam:") for a in _listed(statement["Action"]))
             for resource in _listed(statement.get("Resource")) if ":role/" in resource]
    if roles:
        limits.append(f"IAM roles it may touch: {', '.join(dict.fromkeys(roles))}")
    unreadable = [action for action in ("secretsmanager:GetSecretValue", "kms:Decrypt")
                  if not _allows(statements, action)]
    if len(unreadable) == 2:
        limits.append(f"cannot read secret values: no {' and no '.join(unreadable)}")
    return limits


def _provider_limits(index: _Index) -> list[str]:
    limits = []
    for provider in index.plan.resources:
        for path, words in _PROVIDER_BINDINGS.get(provider.type, ()):
            value = _get(provider.inputs, path)
            if value:
                limits.append(words.format(", ".join(_listed(value))))
    return limits


_PROVIDER_BINDINGS: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "pulumi:providers:aws": ((("allowedAccountIds",), "its provider works only in account {} (allowedAccountIds)"),),
    "pulumi:providers:azure-native": ((("subscriptionId",), "its provider works only in subscription {}"),),
    "pulumi:providers:gcp": ((("project",), "its provider works in project {}"),),
}
