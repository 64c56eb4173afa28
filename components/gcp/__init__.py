"""Google Cloud components: the network, GKE cluster and secret store of an environment."""

from terrane.components.gcp.cluster import Cluster, ClusterArgs, NodePoolArgs
from terrane.components.gcp.network import Network, NetworkArgs
from terrane.components.gcp.secret_store import SecretReaderArgs, SecretStore, SecretStoreArgs

__all__ = [
    "Cluster",
    "ClusterArgs",
    "Network",
    "NetworkArgs",
    "NodePoolArgs",
    "SecretReaderArgs",
    "SecretStore",
    "SecretStoreArgs",
]
