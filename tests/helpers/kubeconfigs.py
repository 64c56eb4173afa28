"""Kubeconfigs for tests of ``cloud: kubernetes`` accounts, and service-account tokens of a real API server."""

from __future__ import annotations

import base64
import socket
from pathlib import Path
from typing import Any

import yaml

from tests.helpers.real_kubernetes import ApiError, ApiServer


def kubeconfig_text(server: str, user: dict[str, Any] | None, *, ca: Path | None = None,
                    cluster: dict[str, Any] | None = None, context: str = "test") -> str:
    """A kubeconfig with one context, ``context``: ``server`` (trusting ``ca``) and ``user`` (None: no user)."""
    body: dict[str, Any] = {"server": server, **(cluster or {})}
    if ca is not None:
        body["certificate-authority-data"] = base64.b64encode(ca.read_bytes()).decode()
    document: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "cluster", "cluster": body}],
        "users": [] if user is None else [{"name": "user", "user": user}],
        "contexts": [{"name": context, "context": {"cluster": "cluster", **({} if user is None else {"user": "user"})}}],
        "current-context": context,
    }
    return yaml.safe_dump(document, sort_keys=False)


def service_account_token(apiserver: ApiServer, namespace: str, name: str) -> str:
    """A token of service account ``name`` in ``namespace`` (both made if missing): an identity with no rights."""
    for path, body in (("/api/v1/namespaces", {"metadata": {"name": namespace}}),
                       (f"/api/v1/namespaces/{namespace}/serviceaccounts", {"metadata": {"name": name}})):
        try:
            apiserver.request("POST", path, body)
        except ApiError as error:
            if error.status != 409:
                raise
    answer = apiserver.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token", {
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}})
    return str(answer["status"]["token"])


def closed_port() -> int:
    """A loopback port nothing listens on (free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
