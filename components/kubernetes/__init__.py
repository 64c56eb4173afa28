"""Cloud-neutral Kubernetes components, applied through a cluster's provider."""

from terrane.components.kubernetes.bootstrap import Bootstrap, BootstrapArgs, ServiceAccountArgs

__all__ = ["Bootstrap", "BootstrapArgs", "ServiceAccountArgs"]
