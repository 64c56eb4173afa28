"""Azure in the audit: managed identities by the roles they are given, the kubelet identity, key vaults, and how a
role assignment reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from terrane.engine.audit._identity import _OTHER, _clusters_of, _identity_name, _Purpose
from terrane.engine.audit._model import ElevatedItem
from terrane.engine.audit._plan import _flow, _get

if TYPE_CHECKING:
    from terrane.engine.audit._index import _Index
    from terrane.engine.offline.render import RenderedResource


@dataclass(frozen=True)
class _AzureRole:
    name: str
    purpose: _Purpose
    deployer: bool = False
    """terrane's components give this role only to whoever deploys (the provisioner)."""


@cache
def _azure_roles() -> dict[str, _AzureRole]:
    """Azure built-in roles terrane grants, by role definition id; an Azure plan has loaded the Azure SDK already."""
    from terrane.components.azure import roles

    return {
        roles.AKS_RBAC_CLUSTER_ADMIN: _AzureRole("Azure Kubernetes Service RBAC Cluster Admin", _Purpose(
            "cluster-admin", "Local accounts are off, so the identity that deploys needs an Entra ID role to "
                             "bootstrap the cluster: namespaces, network policies, service accounts."), deployer=True),
        roles.NETWORK_CONTRIBUTOR: _AzureRole("Network Contributor", _Purpose(
            "control-plane", "AKS joins nodes and internal load balancers to the node subnet, and checks its NAT "
                             "gateway, as the cluster's identity.")),
        roles.STORAGE_BLOB_DATA_CONTRIBUTOR: _AzureRole("Storage Blob Data Contributor", _Purpose(
            "service", "VNet flow logs write their records to the storage account as this identity.")),
        roles.KEY_VAULT_SECRETS_USER: _AzureRole("Key Vault Secrets User", _Purpose(
            "workload", "Pods running as the federated Kubernetes service accounts read the vault's secrets.")),
        roles.ACR_PULL: _AzureRole("AcrPull", _Purpose(
            "node", "The nodes' kubelet identity pulls images from this registry, linked in accounts.yaml and "
                    "named by cluster.registries.", ("pull only, on that one registry",))),
    }


def _azure_role(assignment: RenderedResource) -> tuple[str, _AzureRole | None]:
    role_id = str(assignment.inputs.get("roleDefinitionId", "")).rsplit("/", 1)[-1]
    found = _azure_roles().get(role_id)
    return (found.name if found else f"role {role_id}"), found


_RESOURCES: dict[str, _Purpose] = {
    "azure-native:keyvault:Vault": _Purpose("key", "It holds the environment's secrets."),
    "azure-native:containerservice:ManagedCluster": _Purpose(
        "node", "AKS gives the nodes an identity of their own (the kubelet identity): they pull images and call "
                "Azure with it.", ("AKS creates it in the cluster's node resource group",)),
}


def _identity(identity: RenderedResource, index: _Index) -> ElevatedItem | None:
    assignments = index.grants_of(identity)
    credentials = index.dependents(identity, "azure-native:managedidentity:FederatedIdentityCredential")
    if not assignments and not credentials:
        return None
    roles = [_azure_role(assignment)[1] for assignment in assignments]
    purpose = next((role.purpose for role in roles if role), _OTHER)
    limits = [f"each role on {_SCOPE_WORDS[_scope_kind(a.inputs.get('scope'))]}" for a in assignments]
    subjects = [str(credential.inputs.get("subject")) for credential in credentials]
    if subjects:
        issuers = ", ".join(dict.fromkeys(str(credential.inputs.get("issuer")) for credential in credentials))
        limits.append(f"only these Kubernetes service accounts may sign in as it: {', '.join(subjects)} "
                      f"(federated credentials, issuer {issuers})")
    name = _identity_name(identity)
    return ElevatedItem(purpose.kind, name, identity.type, tuple(index.granted(identity)), purpose.why,
                        tuple(dict.fromkeys((*purpose.limits, *limits))))


def _scope(scope: Any) -> str:
    """An Azure resource id as a reader names it: its last type and name."""
    parts = str(scope).strip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else str(scope)


def _scope_kind(scope: Any) -> str:
    parts = str(scope).strip("/").lower().split("/")
    return "resource" if "providers" in parts else "resourcegroups" if "resourcegroups" in parts else "subscription"


_SCOPE_WORDS = {"resource": "one resource, not a resource group or the subscription",
                "resourcegroups": "a whole resource group", "subscription": "the whole subscription"}


def _azure_principal(assignment: RenderedResource, index: _Index) -> str:
    """Whom a role assignment names: the identity of the plan it takes its principal from, else the principal id."""
    identities = index.dependencies(assignment, "azure-native:managedidentity:UserAssignedIdentity")
    return _identity_name(identities[0]) if identities else f"principal {assignment.inputs.get('principalId')}"


def _kubelet_identity(cluster: RenderedResource, index: _Index) -> ElevatedItem:
    purpose = _RESOURCES[cluster.type]
    given = _get(cluster.inputs, ("identityProfile", "kubeletidentity", "resourceId"))
    name = str(given) if given else f"kubelet identity of AKS cluster {cluster.inputs.get('resourceName')}"
    return ElevatedItem(purpose.kind, name, cluster.type, (), purpose.why, purpose.limits)


def _vault(vault: RenderedResource, index: _Index) -> ElevatedItem:
    purpose = _RESOURCES[vault.type]
    properties = vault.inputs.get("properties") or {}
    grants = ["access by Azure RBAC role assignments only"] if properties.get("enableRbacAuthorization") else [
        "access policies of the vault"]
    readers = [f"{_azure_role(a)[0]} to {_azure_principal(a, index)}"
               for a in index.dependents(vault, "azure-native:authorization:RoleAssignment")]
    limits = [f"{label}: {_flow(properties[key])}" for key, label in _VAULT_SETTINGS if key in properties]
    endpoints = [e.name for e in index.dependents(vault, "azure-native:network:PrivateEndpoint")]
    if endpoints:
        limits.append(f"reached through private endpoint {', '.join(endpoints)}")
    return ElevatedItem(purpose.kind, str(vault.inputs.get("vaultName", vault.name)), vault.type,
                        (*grants, *readers), purpose.why, tuple(limits))


_VAULT_SETTINGS = (("publicNetworkAccess", "public network access"),
                   ("networkAcls", "network ACLs"),
                   ("enablePurgeProtection", "purge protection"),
                   ("softDeleteRetentionInDays", "soft delete, days"))

_DESCRIBE: dict[str, Callable[[RenderedResource, _Index], ElevatedItem | None]] = {
    "azure-native:managedidentity:UserAssignedIdentity": _identity,
    "azure-native:containerservice:ManagedCluster": _kubelet_identity,
    "azure-native:keyvault:Vault": _vault,
}
"""How each Azure resource type that carries privileges becomes an item of the report (None: it carries none)."""


# --- grants: what one resource gives one identity -------------------------------------------------------------------


def _role_assignment(assignment: RenderedResource) -> list[str]:
    return [f"{_azure_role(assignment)[0]} on {_scope(assignment.inputs.get('scope'))}"]


def _unowned(assignment: RenderedResource, index: _Index, provisioner: str) -> ElevatedItem:
    role = _azure_role(assignment)[1]
    purpose = role.purpose if role else _OTHER
    clusters = index.dependencies(assignment, "azure-native:containerservice:ManagedCluster")
    if role and role.deployer:
        principal = provisioner
    elif purpose.kind == "node" and clusters:  # granted to the kubelet identity the cluster reports
        principal = _kubelet_identity(clusters[0], index).name
    else:
        principal = _azure_principal(assignment, index)
    return ElevatedItem(purpose.kind, principal, assignment.type, tuple(index.grant_texts(assignment)), purpose.why,
                        (*purpose.limits, *_clusters_of(assignment, index)))


_GRANTS: dict[str, Callable[[RenderedResource], list[str]]] = {
    "azure-native:authorization:RoleAssignment": _role_assignment,
}
"""Azure resources that give an identity a permission, and how each reads."""

_UNOWNED: dict[str, Callable[[RenderedResource, _Index, str], ElevatedItem]] = {
    "azure-native:authorization:RoleAssignment": _unowned,
}
"""How an Azure grant to a principal the plan does not create becomes an item of the report."""
