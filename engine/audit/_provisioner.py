"""The identity terrane deploys as, from the environment's account: how it signs in, what it may do, what limits it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from terrane.engine.accounts.aws_bootstrap import ROLE_NAMES, new_external_id, template
from terrane.engine.audit._model import ElevatedItem
from terrane.engine.audit._plan import _allows, _get, _listed, _listed_statements, _statement
from terrane.stacks.spec.accounts import AwsAuth, KubernetesAccount

if TYPE_CHECKING:
    from terrane.engine.audit._index import _Index
    from terrane.stacks.spec.accounts import Account


# --- the provisioner ------------------------------------------------------------------------------------------------

_SIGN_IN: dict[tuple[str, str], Callable[[Any], str]] = {
    ("aws", "assume_role"): lambda auth: auth.assume_role.role_arn,
    ("aws", "profile"): lambda auth: f"the identity of AWS profile {auth.profile}",
    ("aws", "static"): lambda auth: "the IAM user of a static access key",
    ("azure", "service_principal"): lambda auth: f"service principal {auth.service_principal.client_id}",
    ("azure", "oidc"): lambda auth: f"service principal {auth.oidc.client_id} (workload identity federation)",
    ("azure", "cli"): lambda auth: "the Azure CLI's signed-in identity",
    ("gcp", "service_account_key"): lambda auth: "the service account of a key file",
    ("gcp", "impersonate"): lambda auth: auth.impersonate.service_account,
    ("gcp", "application_default"): lambda auth: "the application default credentials' identity",
}
"""How the provisioner is named, by cloud and sign-in method: never by a secret, which stays a reference."""

_SIGN_IN_LIMITS: dict[tuple[str, str], str] = {
    ("aws", "assume_role"): "short-lived sessions of an assumed role",
    ("aws", "static"): "long-lived keys: rotate them, or link a role (assume_role) instead",
    ("azure", "service_principal"): "a client secret: rotate it, or use workload identity federation (oidc)",
    ("azure", "oidc"): "no secret: a federated token",
    ("gcp", "service_account_key"): "a long-lived key: rotate it, or impersonate the service account instead",
    ("gcp", "impersonate"): "short-lived tokens of an impersonated service account",
}

_PROVISIONER_GRANTS = {
    "aws": "its own IAM policies, which terrane cannot see offline; the bootstrap's provisioner policy "
           "(terrane accounts bootstrap aws) is what terrane needs",
    "azure": "its role assignments in subscription {scope}, which terrane cannot see offline: it creates the "
             "resources and role assignments listed here",
    "gcp": "its IAM roles in project {scope}, which terrane cannot see offline: it creates the resources and IAM "
           "bindings listed here",
}
_PROVISIONER_WHY = "terrane deploys, updates, refreshes and destroys the environment as this identity."
_KUBECONFIG_GRANTS = "cluster-admin, or what the kubeconfig grants: terrane cannot see a cluster's RBAC offline"


def _provisioner(account: Account, index: _Index) -> ElevatedItem:
    if isinstance(account, KubernetesAccount):
        # Named by the reference and the context, never by what the kubeconfig holds.
        name = f"the user of kubeconfig {account.kubeconfig} (context {account.scope_id})"
        return ElevatedItem("provisioner", name, "account", (_KUBECONFIG_GRANTS,), _PROVISIONER_WHY,
                            tuple(_provider_limits(index)))
    auth = account.auth
    key = (account.cloud, auth.method)
    name = _SIGN_IN[key](auth)
    grants: tuple[str, ...] = (_PROVISIONER_GRANTS[account.cloud].format(scope=account.scope_id),)
    limits = [_SIGN_IN_LIMITS[key]] if key in _SIGN_IN_LIMITS else []
    assumed = auth.assume_role if isinstance(auth, AwsAuth) else None
    if assumed:
        if assumed.external_id is not None:
            limits.append("assumed only with the account's external id (sts:ExternalId)")
        if assumed.role_arn.rsplit("/", 1)[-1] == ROLE_NAMES["provisioner"]:
            statements = _bootstrap_statements(account.scope_id)
            grants = tuple(_statement(statement) for statement in statements)
            limits += _bootstrap_limits(statements)
    limits += _provider_limits(index)
    return ElevatedItem("provisioner", name, "account", grants, _PROVISIONER_WHY, tuple(limits))


@cache
def _bootstrap_statements(account_id: str) -> tuple[Mapping[str, Any], ...]:
    """The policy ``terrane accounts bootstrap aws`` gives its provisioner role, for ``account_id``."""
    resources = template(account_id, new_external_id())["Resources"]
    document = resources["ProvisionerPolicy"]["Properties"]["PolicyDocument"]
    text = json.dumps(document)
    for variable, value in (("${AWS::Partition}", "aws"), ("${AWS::AccountId}", account_id)):
        text = text.replace(variable, value)
    return tuple(_listed_statements(_without_sub(json.loads(text))))


def _without_sub(value: Any) -> Any:
    """A CloudFormation value with each ``{"Fn::Sub": text}`` as its text."""
    if isinstance(value, dict):
        return value["Fn::Sub"] if set(value) == {"Fn::Sub"} else {k: _without_sub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_sub(item) for item in value]
    return value


def _bootstrap_limits(statements: Sequence[Mapping[str, Any]]) -> list[str]:
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
