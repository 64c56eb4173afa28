"""What every cloud's part of the audit shares: an item's purpose, an identity's name, what limits a cluster."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from terrane.engine.audit._model import Kind
from terrane.engine.audit._plan import _get

if TYPE_CHECKING:
    from terrane.engine.audit._index import _Index
    from terrane.engine.offline.render import RenderedResource


@dataclass(frozen=True)
class _Purpose:
    """Why terrane needs an identity or resource, and what always limits it, in the report's words."""

    kind: Kind
    why: str
    limits: tuple[str, ...] = ()


_OTHER = _Purpose("other", "The environment's program grants it; the audit has no description of this role yet.")

def _identity_name(identity: RenderedResource) -> str:
    """The name an identity's item has in the report."""
    if identity.type == "gcp:serviceaccount/account:Account":
        return f"{identity.inputs.get('accountId')}@{identity.inputs.get('project')}.iam.gserviceaccount.com"
    return str(identity.inputs.get("resourceName") or identity.name)


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
