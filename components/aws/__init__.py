"""AWS components: the network, EKS cluster and secret store of an environment."""

from components.aws.cluster import Cluster, ClusterArgs, NodePoolArgs
from components.aws.network import Network, NetworkArgs
from components.aws.secret_store import SecretReaderArgs, SecretStore, SecretStoreArgs

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
