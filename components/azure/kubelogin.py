"""The kubeconfig of an AKS cluster with Entra ID authentication: ``kubelogin`` gets its tokens.

It holds no credential unless one is handed to kubelogin through ``env``, which only the
program's own Kubernetes provider does (``Cluster.provider_kubeconfig``).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Literal

import yaml

from terrane.components.kubeconfig import exec_kubeconfig

KUBELOGIN_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
"""The AKS Entra ID server application, the audience of every AKS token in every tenant."""

KubeloginMode = Literal["spn", "workloadidentity", "azurecli"]
"""Where kubelogin finds the identity it signs in as: a service principal, a workload identity, or ``az login``."""


def kubeconfig(
    *,
    cluster_name: str,
    server: str,
    certificate_authority: str,
    tenant_id: str,
    login: KubeloginMode,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A kubeconfig that gets Entra ID tokens from ``kubelogin``; without ``env`` it holds no credential.

    ``login`` picks where kubelogin finds the identity: ``spn`` and
    ``workloadidentity`` read ``AZURE_CLIENT_ID`` with ``AZURE_CLIENT_SECRET``
    or ``AZURE_FEDERATED_TOKEN_FILE``; ``azurecli`` uses ``az login``. ``env``
    sets such variables for kubelogin alone: client-go adds them to the
    environment of the kubelogin it starts, after the inherited ones.
    """
    get_token = [
        "get-token",
        "--login",
        login,
        "--server-id",
        KUBELOGIN_SERVER_ID,
        "--environment",
        "AzurePublicCloud",
        "--tenant-id",
        tenant_id,
    ]
    return exec_kubeconfig(
        name=cluster_name,
        server=server,
        certificate_authority=certificate_authority,
        exec_plugin={
            "command": "kubelogin",
            "args": get_token,
            "interactiveMode": "Never",
            "provideClusterInfo": False,
            **({"env": [{"name": name, "value": value} for name, value in env.items()]} if env else {}),
        },
    )


def certificate_authority_data(encoded_kubeconfig: str) -> str:
    """The cluster CA of a base64-encoded kubeconfig, as ``listClusterUserCredential`` returns it."""
    config = yaml.safe_load(base64.b64decode(encoded_kubeconfig))
    return str(config["clusters"][0]["cluster"]["certificate-authority-data"])
