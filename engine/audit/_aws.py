"""AWS in the audit: IAM roles by whom they trust, the cluster's access entries, OIDC providers, KMS keys, and how
each AWS grant reads."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from terrane.engine.audit._identity import _OTHER, _clusters_of, _Purpose
from terrane.engine.audit._model import ElevatedItem
from terrane.engine.audit._plan import _document, _get, _listed, _listed_statements, _statement, _trusts

if TYPE_CHECKING:
    from terrane.engine.audit._index import _Index
    from terrane.engine.offline.render import RenderedResource

# An IAM role's purpose, by whom its trust policy names: a service, or a web identity (IRSA).
_FEDERATED = "federated"
_TRUSTS: dict[str, _Purpose] = {
    "eks.amazonaws.com": _Purpose(
        "control-plane", "EKS runs the cluster's control plane with it: network interfaces, load balancers."),
    "ec2.amazonaws.com": _Purpose(
        "node", "The nodes join the cluster, the VPC CNI gives pods addresses, and nodes pull images with it."),
    "vpc-flow-logs.amazonaws.com": _Purpose(
        "service", "VPC flow logs write the network's traffic records to their log group with it."),
    _FEDERATED: _Purpose(
        "workload", "Pods running as the trusted Kubernetes service accounts read the environment's secrets with "
                    "it (IAM roles for service accounts)."),
}
_MANAGED_POLICY = re.compile(r"arn:aws[a-z-]*:iam::aws:policy/(?P<name>.+)")

_RESOURCES: dict[str, _Purpose] = {
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": _Purpose(
        "cluster-admin", "terrane's Kubernetes provider bootstraps the cluster as this principal: namespaces, "
                         "network policies, service accounts."),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _Purpose(
        "workload", "IAM trusts the cluster's service account tokens through it, which IAM roles for service "
                    "accounts need."),
    "aws:kms/key:Key": _Purpose("key", "An encryption key of the environment."),
}


def _role(role: RenderedResource, index: _Index) -> ElevatedItem:
    trust = _document(role.inputs.get("assumeRolePolicy"))
    trusted = [principal for statement in _listed_statements(trust)
               for principal in _trusted_keys(statement.get("Principal"))]
    purpose = next((_TRUSTS[key] for key in trusted if key in _TRUSTS), _OTHER)
    limits = [*_trusts(trust)]
    if role.inputs.get("path"):
        limits.append(f"path {role.inputs['path']}")
    if role.inputs.get("permissionsBoundary"):
        limits.append(f"permissions boundary {role.inputs['permissionsBoundary']}: it can never do more")
    if purpose.kind == "node":
        limits += _node_metadata_limits(index)
    return ElevatedItem(purpose.kind, role.name, role.type, tuple(index.granted(role)), purpose.why,
                        (*purpose.limits, *limits))


def _trusted_keys(principal: Any) -> list[str]:
    if not isinstance(principal, Mapping):
        return []
    return [_FEDERATED if key == "Federated" else value for key, values in principal.items()
            for value in _listed(values)]


def _node_metadata_limits(index: _Index) -> list[str]:
    templates = index.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    options = [template.inputs.get("metadataOptions") or {} for template in templates]
    if options and all(o.get("httpTokens") == "required" and o.get("httpPutResponseHopLimit") == 1 for o in options):
        return ["IMDSv2 only, hop limit 1 (launch templates): pods off the host network cannot reach its credentials"]
    return []


def _access_policy(association: RenderedResource, index: _Index, provisioner: str) -> ElevatedItem:
    purpose = _RESOURCES[association.type]
    scope = _get(association.inputs, ("accessScope", "type"))
    limits = [f"access scope {scope}: cluster {association.inputs.get('clusterName')} only",
              *_clusters_of(association, index)]
    return ElevatedItem(purpose.kind, str(association.inputs.get("principalArn")), association.type,
                        tuple(index.grant_texts(association)), purpose.why, tuple(limits))


def _oidc_provider(provider: RenderedResource, index: _Index) -> ElevatedItem:
    purpose = _RESOURCES[provider.type]
    trusting = [role.name for role in index.of_type("aws:iam/role:Role")
                if provider.urn in role.depends_on]
    limits = [f"audiences: {', '.join(_listed(provider.inputs.get('clientIdLists')))}",
              f"only roles whose trust policy names it: {', '.join(trusting) or 'none'}"]
    return ElevatedItem(purpose.kind, str(provider.inputs.get("url", provider.name)), provider.type,
                        ("exchanges the cluster's service account tokens for sessions of the roles that trust it",),
                        purpose.why, tuple(limits))


def _key(key: RenderedResource, index: _Index) -> ElevatedItem:
    purpose = _RESOURCES[key.type]
    policy = _document(key.inputs.get("policy"))
    grants = [_statement(statement, principal=True) for statement in _listed_statements(policy)] or [
        "the default key policy: the account's IAM policies decide who may use it"]
    grants += index.granted(key)
    limits = []
    if key.inputs.get("enableKeyRotation"):
        limits.append("automatic yearly rotation")
    if key.inputs.get("deletionWindowInDays"):
        limits.append(f"deletion waits {key.inputs['deletionWindowInDays']} days")
    return ElevatedItem(purpose.kind, key.name, key.type, tuple(grants),
                        f"{str(key.inputs['description']).rstrip('.')}." if key.inputs.get("description")
                        else purpose.why, tuple(limits))


_DESCRIBE: dict[str, Callable[[RenderedResource, _Index], ElevatedItem | None]] = {
    "aws:iam/role:Role": _role,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:kms/key:Key": _key,
}
"""How each AWS resource type that carries privileges becomes an item of the report."""


# --- grants: what one resource gives one identity -------------------------------------------------------------------


def _managed_policy(attachment: RenderedResource) -> list[str]:
    arn = str(attachment.inputs.get("policyArn"))
    managed = _MANAGED_POLICY.fullmatch(arn)
    return [f"{managed['name']} (AWS managed)" if managed else arn]


def _inline_policy(policy: RenderedResource) -> list[str]:
    return [_statement(statement) for statement in _listed_statements(_document(policy.inputs.get("policy")))]


def _access_policy_grant(association: RenderedResource) -> list[str]:
    arn = str(association.inputs.get("policyArn"))
    return [f"{arn.rsplit('/', 1)[-1]} on EKS cluster {association.inputs.get('clusterName')}"]


_GRANTS: dict[str, Callable[[RenderedResource], list[str]]] = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _managed_policy,
    "aws:iam/rolePolicy:RolePolicy": _inline_policy,
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": _access_policy_grant,
}
"""AWS resources that give an identity a permission, and how each reads."""

_UNOWNED: dict[str, Callable[[RenderedResource, _Index, str], ElevatedItem]] = {
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": _access_policy,
}
"""How an AWS grant to a principal the plan does not create becomes an item of the report."""
