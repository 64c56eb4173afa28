"""AWS components: the network, EKS cluster and secret store of an environment."""

from terrane.components.aws.cluster import Cluster, ClusterArgs, EcrRepository, NodePoolArgs
from terrane.components.aws.network import Network, NetworkArgs
from terrane.components.aws.secret_store import SecretReaderArgs, SecretStore, SecretStoreArgs

__all__ = [
    "Cluster",
    "ClusterArgs",
    "EcrRepository",
    "Network",
    "NetworkArgs",
    "NodePoolArgs",
    "SecretReaderArgs",
    "SecretStore",
    "SecretStoreArgs",
]
