"""GCP in the audit: the GKE cluster's administrators, the nodes' service account, KMS keys, workload identity
principals, and how each IAM member reads."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from terrane.engine.audit._identity import _OTHER, _cluster_access, _identity_name, _Purpose
from terrane.engine.audit._model import ElevatedItem
from terrane.engine.audit._plan import _get, _listed

if TYPE_CHECKING:
    from terrane.engine.audit._index import _Index
    from terrane.engine.offline.render import RenderedResource

_ROLES: dict[str, _Purpose] = {
    "roles/secretmanager.secretAccessor": _Purpose(
        "workload", "Pods running as this Kubernetes service account read the environment's secrets "
                    "(workload identity federation)."),
    "roles/cloudkms.cryptoKeyEncrypterDecrypter": _Purpose(
        "service", "A Google service agent encrypts and decrypts with the key."),
}
_WORKLOAD_PRINCIPAL = re.compile(r"principal://.+/workloadIdentityPools/(?P<pool>[^/]+)/subject/ns/(?P<ns>[^/]+)"
                                 r"/sa/(?P<sa>[^/]+)")

_RESOURCES: dict[str, _Purpose] = {
    "gcp:container/cluster:Cluster": _Purpose(
        "cluster-admin", "terrane's Kubernetes provider bootstraps the cluster as the provisioner: GKE maps its "
                         "IAM roles on the project (roles/container.admin or equal) to Kubernetes RBAC.",
        ("terrane creates no ClusterRoleBinding: IAM alone decides",)),
    "gcp:kms/cryptoKey:CryptoKey": _Purpose("key", "An encryption key of the environment (CMEK)."),
    "gcp:serviceaccount/account:Account": _Purpose(
        "node", "GKE nodes write logs and metrics and pull images with it.",
        ("a dedicated service account, not the Compute Engine default one (which has Editor)",)),
}


def _gke_admin(cluster: RenderedResource, index: _Index) -> ElevatedItem:
    purpose = _RESOURCES[cluster.type]
    return ElevatedItem(purpose.kind, "the provisioner (through its IAM roles on the project)", cluster.type,
                        (f"Kubernetes API of cluster {cluster.inputs.get('name')}",), purpose.why,
                        (*purpose.limits, *_cluster_access(cluster)))


def _service_account(account: RenderedResource, index: _Index) -> ElevatedItem | None:
    email = _identity_name(account)
    pools = [pool for pool in (*index.of_type("gcp:container/nodePool:NodePool"),
                               *index.of_type("gcp:container/cluster:Cluster"))
             if _get(pool.inputs, ("nodeConfig", "serviceAccount")) == email]
    grants = index.granted(account)
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


def _key(key: RenderedResource, index: _Index) -> ElevatedItem:
    purpose = _RESOURCES[key.type]
    key_id = f"{key.inputs.get('keyRing')}/cryptoKeys/{key.inputs.get('name')}"
    users = [f"{user.name} ({user.type})" for user in index.plan.resources
             if user.urn != key.urn and key_id in json.dumps(user.inputs) and not index.is_grant(user)]
    grants = index.granted(key)
    limits = ["its members are bound on the key itself, not on its key ring or the project"] if grants else []
    period = key.inputs.get("rotationPeriod")
    if isinstance(period, str) and period.endswith("s") and period[:-1].isdigit():
        limits.append(f"rotation every {int(period[:-1]) // 86_400} days")
    why = f"It encrypts {', '.join(users)}." if users else purpose.why
    return ElevatedItem(purpose.kind, key_id, key.type, tuple(grants), why, tuple(limits))


def _workload_subject(member: str) -> tuple[str, str] | None:
    """The Kubernetes namespace and service account a GCP workload identity principal stands for."""
    match = _WORKLOAD_PRINCIPAL.fullmatch(member)
    return (match["ns"], match["sa"]) if match else None


def _members(index: _Index) -> list[str]:
    """The principals the plan's GCP grants name."""
    return [str(grant.inputs.get("member")) for grant in index.plan.resources
            if index.is_grant(grant) and grant.type.startswith("gcp:") and grant.inputs.get("member")]


_DESCRIBE: dict[str, Callable[[RenderedResource, _Index], ElevatedItem | None]] = {
    "gcp:container/cluster:Cluster": _gke_admin,
    "gcp:serviceaccount/account:Account": _service_account,
    "gcp:kms/cryptoKey:CryptoKey": _key,
}
"""How each GCP resource type that carries privileges becomes an item of the report (None: it carries none)."""


# --- grants: what one resource gives one identity -------------------------------------------------------------------


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


def _unowned(member: RenderedResource, index: _Index, provisioner: str) -> ElevatedItem:
    principal = str(member.inputs.get("member") or member.name)
    purpose = _ROLES.get(str(member.inputs.get("role")), _OTHER)
    limits = list(purpose.limits)
    workload = _WORKLOAD_PRINCIPAL.fullmatch(principal)
    if workload:
        limits.append(f"only Kubernetes service account {workload['ns']}/{workload['sa']} of workload pool "
                      f"{workload['pool']}")
    if member.type == "gcp:secretmanager/secretIamMember:SecretIamMember":
        limits.append("bound secret by secret: no project-wide access to Secret Manager")
    return ElevatedItem(purpose.kind, principal, member.type, tuple(index.grant_texts(member)), purpose.why,
                        tuple(limits))


_GRANTS: dict[str, Callable[[RenderedResource], list[str]]] = {
    "gcp:projects/iAMMember:IAMMember": _project_member,
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": _key_member,
    "gcp:secretmanager/secretIamMember:SecretIamMember": _secret_member,
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": _repository_member,
}
"""GCP resources that give an identity a permission, and how each reads."""

_UNOWNED: dict[str, Callable[[RenderedResource, _Index, str], ElevatedItem]] = {
    "gcp:projects/iAMMember:IAMMember": _unowned,
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": _unowned,
    "gcp:secretmanager/secretIamMember:SecretIamMember": _unowned,
}
"""How a GCP grant to a principal the plan does not create becomes an item of the report."""
