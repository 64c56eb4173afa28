"""Google Cloud components: the network, GKE cluster and secret store of an environment."""

from terrane.components.gcp.cluster import ArtifactRepository, Cluster, ClusterArgs, NodePoolArgs
from terrane.components.gcp.network import Network, NetworkArgs
from terrane.components.gcp.secret_store import SecretReaderArgs, SecretStore, SecretStoreArgs

__all__ = [
    "ArtifactRepository",
    "Cluster",
    "ClusterArgs",
    "Network",
    "NetworkArgs",
    "NodePoolArgs",
    "SecretReaderArgs",
    "SecretStore",
    "SecretStoreArgs",
]
