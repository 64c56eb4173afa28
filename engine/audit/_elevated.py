"""Each identity or resource of a plan that carries privileges, and each grant, as an item of the report."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING, Any

from terrane.engine.audit._model import ElevatedItem, Kind
from terrane.engine.audit._plan import _document, _flow, _get, _listed, _listed_statements, _statement, _trusts

if TYPE_CHECKING:
    from terrane.engine.audit._audit import _Index
    from terrane.engine.offline.render import RenderedResource


# --- elevated identities and resources ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Purpose:
    """Why terrane needs an identity or resource, and what always limits it, in the report's words."""

    kind: Kind
    why: str
    limits: tuple[str, ...] = ()


# An IAM role's purpose, by whom its trust policy names: a service, or a web identity (IRSA).
_FEDERATED = "federated"
_AWS_TRUSTS: dict[str, _Purpose] = {
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
_AWS_MANAGED_POLICY = re.compile(r"arn:aws[a-z-]*:iam::aws:policy/(?P<name>.+)")

_GCP_ROLES: dict[str, _Purpose] = {
    "roles/secretmanager.secretAccessor": _Purpose(
        "workload", "Pods running as this Kubernetes service account read the environment's secrets "
                    "(workload identity federation)."),
    "roles/cloudkms.cryptoKeyEncrypterDecrypter": _Purpose(
        "service", "A Google service agent encrypts and decrypts with the key."),
}
_GCP_WORKLOAD_PRINCIPAL = re.compile(r"principal://.+/workloadIdentityPools/(?P<pool>[^/]+)/subject/ns/(?P<ns>[^/]+)"
                                     r"/sa/(?P<sa>[^/]+)")


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
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": _Purpose(
        "cluster-admin", "terrane's Kubernetes provider bootstraps the cluster as this principal: namespaces, "
                         "network policies, service accounts."),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _Purpose(
        "workload", "IAM trusts the cluster's service account tokens through it, which IAM roles for service "
                    "accounts need."),
    "aws:kms/key:Key": _Purpose("key", "An encryption key of the environment."),
    "azure-native:keyvault:Vault": _Purpose("key", "It holds the environment's secrets."),
    "azure-native:containerservice:ManagedCluster": _Purpose(
        "node", "AKS gives the nodes an identity of their own (the kubelet identity): they pull images and call "
                "Azure with it.", ("AKS creates it in the cluster's node resource group",)),
    "gcp:container/cluster:Cluster": _Purpose(
        "cluster-admin", "terrane's Kubernetes provider bootstraps the cluster as the provisioner: GKE maps its "
                         "IAM roles on the project (roles/container.admin or equal) to Kubernetes RBAC.",
        ("terrane creates no ClusterRoleBinding: IAM alone decides",)),
    "gcp:kms/cryptoKey:CryptoKey": _Purpose("key", "An encryption key of the environment (CMEK)."),
    "gcp:serviceaccount/account:Account": _Purpose(
        "node", "GKE nodes write logs and metrics and pull images with it.",
        ("a dedicated service account, not the Compute Engine default one (which has Editor)",)),
    "kubernetes:core/v1:ServiceAccount": _Purpose(
        "kubernetes", "Pods that run as it get the cloud identity it maps to, to read the environment's secrets."),
    "kubernetes:core/v1:Namespace": _Purpose(
        "kubernetes", "The environment's workloads run here (kubernetes.namespaces); its labels set the pod "
                      "security they must meet."),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": _Purpose(
        "kubernetes", "The environment's program binds this role across the whole cluster."),
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": _Purpose(
        "kubernetes", "The environment's program binds this role in one namespace."),
}
_OTHER = _Purpose("other", "The environment's program grants it; the audit has no description of this role yet.")

_WORKLOAD_ANNOTATIONS = {
    "eks.amazonaws.com/role-arn": "assumes IAM role {}",
    "azure.workload.identity/client-id": "signs in as managed identity (client id) {}",
    "iam.gke.io/gcp-service-account": "acts as service account {}",
}
_POD_SECURITY = "pod-security.kubernetes.io/"

_HOLDERS = ("aws:iam/role:Role", "azure-native:managedidentity:UserAssignedIdentity",
            "gcp:serviceaccount/account:Account", "aws:kms/key:Key", "gcp:kms/cryptoKey:CryptoKey")
"""What a grant belongs to, first match: the identity it names, else the key it opens."""


def _elevated(index: _Index, provisioner: str) -> list[ElevatedItem]:
    """An item per resource that carries privileges, then one per grant to an identity the plan does not create."""
    items = []
    for resource in index.plan.resources:
        describe = _DESCRIBE.get(resource.type)
        item = describe(resource, index) if describe else None
        if item:
            items.append(item)
    return items + [_unowned_grant(grant, index, provisioner) for grant in index.unowned_grants()]


def _merged(items: Iterable[ElevatedItem]) -> list[ElevatedItem]:
    """One item per kind and name: the grants of a principal bound once per secret, say, become one list."""
    merged: dict[tuple[str, str], ElevatedItem] = {}
    for item in items:
        key = (item.kind, item.name)
        if key in merged:
            first = merged[key]
            item = replace(first, grants=tuple(dict.fromkeys(first.grants + item.grants)),
                           limits=tuple(dict.fromkeys(first.limits + item.limits)))
        merged[key] = item
    return list(merged.values())


def _aws_role(role: RenderedResource, index: _Index) -> ElevatedItem:
    trust = _document(role.inputs.get("assumeRolePolicy"))
    trusted = [principal for statement in _listed_statements(trust)
               for principal in _trusted_keys(statement.get("Principal"))]
    purpose = next((_AWS_TRUSTS[key] for key in trusted if key in _AWS_TRUSTS), _OTHER)
    limits = [*_trusts(trust)]
    if role.inputs.get("path"):
        limits.append(f"path {role.inputs['path']}")
    if role.inputs.get("permissionsBoundary"):
        limits.append(f"permissions boundary {role.inputs['permissionsBoundary']}: it can never do more")
    if purpose.kind == "node":
        limits += _node_metadata_limits(index)
    grants = [text for grant in index.grants_of(role) for text in _grant_texts(grant)]
    return ElevatedItem(purpose.kind, role.name, role.type, tuple(grants), purpose.why,
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


_CLUSTER_ACCESS: dict[str, tuple[tuple[tuple[str, ...], Any, str], ...]] = {
    "aws:eks/cluster:Cluster": (
        (("accessConfig", "authenticationMode"), "API", "authentication mode API: access entries, no aws-auth"),
        (("accessConfig", "bootstrapClusterCreatorAdminPermissions"), False,
         "the cluster's creator gets no implicit admin (bootstrapClusterCreatorAdminPermissions: false)"),
    ),
    "azure-native:containerservice:ManagedCluster": (
        (("disableLocalAccounts",), True, "local accounts disabled: every sign-in goes through Entra ID"),
        (("aadProfile", "enableAzureRBAC"), True, "Kubernetes authorization by Azure RBAC role assignments"),
    ),
    "gcp:container/cluster:Cluster": (
        (("masterAuth", "clientCertificateConfig", "issueClientCertificate"), False,
         "no client certificate: every sign-in goes through Google IAM"),
    ),
}
"""How each cluster type shows that access to it takes the cloud's identities only, and in which words."""


def _cluster_access(cluster: RenderedResource) -> list[str]:
    return [words for path, value, words in _CLUSTER_ACCESS.get(cluster.type, ())
            if _get(cluster.inputs, path) == value]


def _clusters_of(resource: RenderedResource, index: _Index) -> list[str]:
    """What limits access to the clusters ``resource`` grants access to."""
    return [limit for cluster_type in _CLUSTER_ACCESS for cluster in index.dependencies(resource, cluster_type)
            for limit in _cluster_access(cluster)]


def _access_policy(association: RenderedResource, index: _Index, provisioner: str) -> ElevatedItem:
    purpose = _RESOURCES[association.type]
    scope = _get(association.inputs, ("accessScope", "type"))
    limits = [f"access scope {scope}: cluster {association.inputs.get('clusterName')} only",
              *_clusters_of(association, index)]
    return ElevatedItem(purpose.kind, str(association.inputs.get("principalArn")), association.type,
                        tuple(_grant_texts(association)), purpose.why, tuple(limits))


def _oidc_provider(provider: RenderedResource, index: _Index) -> ElevatedItem:
    purpose = _RESOURCES[provider.type]
    trusting = [role.name for role in index.of_type("aws:iam/role:Role")
                if provider.urn in role.depends_on]
    limits = [f"audiences: {', '.join(_listed(provider.inputs.get('clientIdLists')))}",
              f"only roles whose trust policy names it: {', '.join(trusting) or 'none'}"]
    return ElevatedItem(purpose.kind, str(provider.inputs.get("url", provider.name)), provider.type,
                        ("exchanges the cluster's service account tokens for sessions of the roles that trust it",),
                        purpose.why, tuple(limits))


def _aws_key(key: RenderedResource, index: _Index) -> ElevatedItem:
    purpose = _RESOURCES[key.type]
    policy = _document(key.inputs.get("policy"))
    grants = [_statement(statement, principal=True) for statement in _listed_statements(policy)] or [
        "the default key policy: the account's IAM policies decide who may use it"]
    grants += [text for grant in index.grants_of(key) for text in _grant_texts(grant)]
    limits = []
    if key.inputs.get("enableKeyRotation"):
        limits.append("automatic yearly rotation")
    if key.inputs.get("deletionWindowInDays"):
        limits.append(f"deletion waits {key.inputs['deletionWindowInDays']} days")
    return ElevatedItem(purpose.kind, key.name, key.type, tuple(grants),
                        f"{str(key.inputs['description']).rstrip('.')}." if key.inputs.get("description")
                        else purpose.why, tuple(limits))


def _azure_identity(identity: RenderedResource, index: _Index) -> ElevatedItem | None:
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
    grants = [text for grant in assignments for text in _grant_texts(grant)]
    return ElevatedItem(purpose.kind, name, identity.type, tuple(grants), purpose.why,
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


def _gke_admin(cluster: RenderedResource, index: _Index) -> ElevatedItem:
    purpose = _RESOURCES[cluster.type]
    return ElevatedItem(purpose.kind, "the provisioner (through its IAM roles on the project)", cluster.type,
                        (f"Kubernetes API of cluster {cluster.inputs.get('name')}",), purpose.why,
                        (*purpose.limits, *_cluster_access(cluster)))


def _gcp_service_account(account: RenderedResource, index: _Index) -> ElevatedItem | None:
    email = _identity_name(account)
    pools = [pool for pool in (*index.of_type("gcp:container/nodePool:NodePool"),
                               *index.of_type("gcp:container/cluster:Cluster"))
             if _get(pool.inputs, ("nodeConfig", "serviceAccount")) == email]
    grants = [text for grant in index.grants_of(account) for text in _grant_texts(grant)]
    if not pools:
        return ElevatedItem("other", email, account.type, tuple(grants), _OTHER.why, ()) if grants else None
    purpose = _RESOURCES[account.type]
    limits = list(purpose.limits)
    modes = {_get(pool.inputs, ("nodeConfig", "workloadMetadataConfig", "mode")) for pool in pools}
    if modes == {"GKE_METADATA"}:
        limits.append("workload metadata GKE_METADATA: pods see workload identity's metadata server, not the "
                      "node's service account")
    scopes = {scope for pool in pools for scope in _listed(_get(pool.inputs, ("nodeConfig", "oauthScopes")))}
    if scopes:
        limits.append(f"OAuth scopes {', '.join(sorted(scopes))}: its IAM roles are what limit it")
    return ElevatedItem(purpose.kind, email, account.type, tuple(grants), purpose.why, tuple(limits))


def _gcp_key(key: RenderedResource, index: _Index) -> ElevatedItem:
    purpose = _RESOURCES[key.type]
    key_id = f"{key.inputs.get('keyRing')}/cryptoKeys/{key.inputs.get('name')}"
    users = [f"{user.name} ({user.type})" for user in index.plan.resources
             if user.urn != key.urn and key_id in json.dumps(user.inputs) and user.type not in _GRANTS]
    grants = [text for grant in index.grants_of(key) for text in _grant_texts(grant)]
    limits = ["its members are bound on the key itself, not on its key ring or the project"] if grants else []
    period = key.inputs.get("rotationPeriod")
    if isinstance(period, str) and period.endswith("s") and period[:-1].isdigit():
        limits.append(f"rotation every {int(period[:-1]) // 86_400} days")
    why = f"It encrypts {', '.join(users)}." if users else purpose.why
    return ElevatedItem(purpose.kind, key_id, key.type, tuple(grants), why, tuple(limits))


def _service_account(account: RenderedResource, index: _Index) -> ElevatedItem | None:
    purpose = _RESOURCES[account.type]
    metadata = account.inputs.get("metadata") or {}
    namespace, name = metadata.get("namespace", "default"), metadata.get("name", account.name)
    annotations = metadata.get("annotations") or {}
    identities = [_identity_name(holder) for holder_type in _HOLDERS
                  for holder in index.dependencies(account, holder_type)]
    grants = [words.format(annotations[key]) + (f" ({', '.join(identities)})" if identities else "")
              for key, words in _WORKLOAD_ANNOTATIONS.items() if key in annotations]
    grants += [f"is the workload identity principal {member}" for member in _gcp_members(index)
               if _workload_subject(member) == (namespace, name)]
    if not grants:
        return None
    limits = []
    if account.inputs.get("automountServiceAccountToken") is False:
        limits.append("its token is mounted only into pods that ask for it (automountServiceAccountToken: false)")
    enforce = _namespace_labels(index, namespace).get(f"{_POD_SECURITY}enforce")
    if enforce:
        limits.append(f"its namespace enforces {enforce} pod security")
    return ElevatedItem(purpose.kind, f"{namespace}/{name}", account.type, tuple(dict.fromkeys(grants)),
                        purpose.why, tuple(limits))


def _identity_name(identity: RenderedResource) -> str:
    """The name an identity's item has in the report."""
    if identity.type == "gcp:serviceaccount/account:Account":
        return f"{identity.inputs.get('accountId')}@{identity.inputs.get('project')}.iam.gserviceaccount.com"
    return str(identity.inputs.get("resourceName") or identity.name)


def _workload_subject(member: str) -> tuple[str, str] | None:
    """The Kubernetes namespace and service account a GCP workload identity principal stands for."""
    match = _GCP_WORKLOAD_PRINCIPAL.fullmatch(member)
    return (match["ns"], match["sa"]) if match else None


def _gcp_members(index: _Index) -> list[str]:
    return [str(grant.inputs.get("member")) for grant in index.plan.resources
            if grant.type in _GRANTS and grant.type.startswith("gcp:") and grant.inputs.get("member")]


def _namespace_labels(index: _Index, namespace: str) -> dict[str, str]:
    for resource in index.of_type("kubernetes:core/v1:Namespace"):
        if _get(resource.inputs, ("metadata", "name")) == namespace:
            return dict(_get(resource.inputs, ("metadata", "labels")) or {})
    return {}


def _namespace(namespace: RenderedResource, index: _Index) -> ElevatedItem:
    purpose = _RESOURCES[namespace.type]
    name = str(_get(namespace.inputs, ("metadata", "name")) or namespace.name)
    labels = _namespace_labels(index, name)
    grants = [f"pod security {key.removeprefix(_POD_SECURITY)}: {value}" for key, value in sorted(labels.items())
              if key.startswith(_POD_SECURITY)] or ["no pod security labels: the cluster's default applies"]
    policies = [f"{_get(policy.inputs, ('metadata', 'name'))} "
                f"({', '.join(_listed(_get(policy.inputs, ('spec', 'policyTypes'))))})"
                for policy in index.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                if _get(policy.inputs, ("metadata", "namespace")) == name]
    limits = [f"network policies: {', '.join(policies)}"] if policies else ["no network policy"]
    return ElevatedItem(purpose.kind, f"namespace {name}", namespace.type, tuple(grants), purpose.why, tuple(limits))


_SUBJECT = ("namespace", "name")


def _role_binding(binding: RenderedResource, index: _Index) -> ElevatedItem:
    purpose = _RESOURCES[binding.type]
    role = binding.inputs.get("roleRef") or {}
    subjects = ", ".join(f"{subject.get('kind')} {'/'.join(filter(None, (subject.get(key) for key in _SUBJECT)))}"
                         for subject in binding.inputs.get("subjects") or [])
    namespace = _get(binding.inputs, ("metadata", "namespace"))
    limits = (f"namespace {namespace} only",) if namespace else ("every namespace of the cluster",)
    name = str(_get(binding.inputs, ("metadata", "name")) or binding.name)
    return ElevatedItem(purpose.kind, name, binding.type, (f"{role.get('kind')} {role.get('name')} to {subjects}",),
                        purpose.why, limits)


_DESCRIBE: dict[str, Callable[[RenderedResource, _Index], ElevatedItem | None]] = {
    "aws:iam/role:Role": _aws_role,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:kms/key:Key": _aws_key,
    "azure-native:managedidentity:UserAssignedIdentity": _azure_identity,
    "azure-native:containerservice:ManagedCluster": _kubelet_identity,
    "azure-native:keyvault:Vault": _vault,
    "gcp:container/cluster:Cluster": _gke_admin,
    "gcp:serviceaccount/account:Account": _gcp_service_account,
    "gcp:kms/cryptoKey:CryptoKey": _gcp_key,
    "kubernetes:core/v1:ServiceAccount": _service_account,
    "kubernetes:core/v1:Namespace": _namespace,
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": _role_binding,
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": _role_binding,
}
"""How each resource type that carries privileges becomes an item of the report (None: it carries none)."""


# --- grants: what one resource gives one identity -------------------------------------------------------------------


def _managed_policy(attachment: RenderedResource) -> list[str]:
    arn = str(attachment.inputs.get("policyArn"))
    managed = _AWS_MANAGED_POLICY.fullmatch(arn)
    return [f"{managed['name']} (AWS managed)" if managed else arn]


def _inline_policy(policy: RenderedResource) -> list[str]:
    return [_statement(statement) for statement in _listed_statements(_document(policy.inputs.get("policy")))]


def _access_policy_grant(association: RenderedResource) -> list[str]:
    arn = str(association.inputs.get("policyArn"))
    return [f"{arn.rsplit('/', 1)[-1]} on EKS cluster {association.inputs.get('clusterName')}"]


def _role_assignment(assignment: RenderedResource) -> list[str]:
    return [f"{_azure_role(assignment)[0]} on {_scope(assignment.inputs.get('scope'))}"]


def _project_member(member: RenderedResource) -> list[str]:
    return [f"{member.inputs.get('role')} on project {member.inputs.get('project')}"]


def _key_member(member: RenderedResource) -> list[str]:
    return [f"{member.inputs.get('role')} to {member.inputs.get('member')}"]


def _repository_member(member: RenderedResource) -> list[str]:
    inputs = member.inputs
    return [(f"{inputs.get('role')} on repository {inputs.get('project')}/{inputs.get('location')}/"
            f"{inputs.get('repository')} only")]


def _secret_member(member: RenderedResource) -> list[str]:
    return [f"{member.inputs.get('role')} on secret {str(member.inputs.get('secretId')).rsplit('/', 1)[-1]}"]


_GRANTS: dict[str, Callable[[RenderedResource], list[str]]] = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _managed_policy,
    "aws:iam/rolePolicy:RolePolicy": _inline_policy,
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": _access_policy_grant,
    "azure-native:authorization:RoleAssignment": _role_assignment,
    "gcp:projects/iAMMember:IAMMember": _project_member,
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": _key_member,
    "gcp:secretmanager/secretIamMember:SecretIamMember": _secret_member,
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": _repository_member,
}
"""Resources that give an identity a permission, and how each reads."""


def _grant_texts(grant: RenderedResource) -> list[str]:
    return _GRANTS[grant.type](grant)


def _unowned_grant(grant: RenderedResource, index: _Index, provisioner: str) -> ElevatedItem:
    """A grant to an identity the plan does not create: the provisioner, or one that is only a name."""
    describe = _UNOWNED.get(grant.type)
    if describe:
        return describe(grant, index, provisioner)
    return ElevatedItem("other", grant.name, grant.type, tuple(_grant_texts(grant)), _OTHER.why, ())


def _azure_unowned(assignment: RenderedResource, index: _Index, provisioner: str) -> ElevatedItem:
    role = _azure_role(assignment)[1]
    purpose = role.purpose if role else _OTHER
    clusters = index.dependencies(assignment, "azure-native:containerservice:ManagedCluster")
    if role and role.deployer:
        principal = provisioner
    elif purpose.kind == "node" and clusters:  # granted to the kubelet identity the cluster reports
        principal = _kubelet_identity(clusters[0], index).name
    else:
        principal = _azure_principal(assignment, index)
    return ElevatedItem(purpose.kind, principal, assignment.type, tuple(_grant_texts(assignment)), purpose.why,
                        (*purpose.limits, *_clusters_of(assignment, index)))


def _gcp_unowned(member: RenderedResource, index: _Index, provisioner: str) -> ElevatedItem:
    principal = str(member.inputs.get("member") or member.name)
    purpose = _GCP_ROLES.get(str(member.inputs.get("role")), _OTHER)
    limits = list(purpose.limits)
    workload = _GCP_WORKLOAD_PRINCIPAL.fullmatch(principal)
    if workload:
        limits.append(f"only Kubernetes service account {workload['ns']}/{workload['sa']} of workload pool "
                      f"{workload['pool']}")
    if member.type == "gcp:secretmanager/secretIamMember:SecretIamMember":
        limits.append("bound secret by secret: no project-wide access to Secret Manager")
    return ElevatedItem(purpose.kind, principal, member.type, tuple(_grant_texts(member)), purpose.why,
                        tuple(limits))


_UNOWNED: dict[str, Callable[[RenderedResource, _Index, str], ElevatedItem]] = {
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": _access_policy,
    "azure-native:authorization:RoleAssignment": _azure_unowned,
    "gcp:projects/iAMMember:IAMMember": _gcp_unowned,
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": _gcp_unowned,
    "gcp:secretmanager/secretIamMember:SecretIamMember": _gcp_unowned,
}
"""How a grant to a principal the plan does not create becomes an item of the report."""
