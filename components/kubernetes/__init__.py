"""Cloud-neutral Kubernetes components, applied through a cluster's provider."""

from terrane.components.kubernetes.bootstrap import Bootstrap, BootstrapArgs, NamespaceArgs, ServiceAccountArgs

__all__ = ["Bootstrap", "BootstrapArgs", "NamespaceArgs", "ServiceAccountArgs"]
