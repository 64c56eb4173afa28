"""Google Cloud components: the network, GKE cluster and secret store of an environment."""

from components.gcp.cluster import Cluster, ClusterArgs, NodePoolArgs
from components.gcp.network import Network, NetworkArgs
from components.gcp.secret_store import SecretReaderArgs, SecretStore, SecretStoreArgs

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
