"""The kubeconfig every cluster component exposes: one cluster, one user, exec-based auth.

The user gets short-lived tokens from a cloud's exec plugin (``aws eks
get-token``, ``kubelogin``, ``gke-gcloud-auth-plugin``), so the kubeconfig
itself holds no credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"


def exec_kubeconfig(
    *, name: str, server: str, certificate_authority: str, exec_plugin: Mapping[str, Any]
) -> dict[str, Any]:
    """A kubeconfig for one cluster named ``name`` whose user runs ``exec_plugin`` (command, args, ...)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": certificate_authority}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
        "users": [{"name": name, "user": {"exec": {"apiVersion": EXEC_API_VERSION, **exec_plugin}}}],
    }
