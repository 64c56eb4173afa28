"""Azure components: the network, AKS cluster and Key Vault secret store of an environment."""

from terrane.components.azure.cluster import Cluster, ClusterArgs, NodePoolArgs, ServicePrincipalLogin
from terrane.components.azure.kubelogin import KubeloginMode
from terrane.components.azure.network import Network, NetworkArgs
from terrane.components.azure.secret_store import SecretReaderArgs, SecretStore, SecretStoreArgs

__all__ = [
    "Cluster",
    "ClusterArgs",
    "KubeloginMode",
    "Network",
    "NetworkArgs",
    "NodePoolArgs",
    "SecretReaderArgs",
    "SecretStore",
    "SecretStoreArgs",
    "ServicePrincipalLogin",
]
