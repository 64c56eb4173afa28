"""Fake Kubernetes: objects keep their metadata and get a uid; ids are "namespace/name"."""

from __future__ import annotations

from typing import Any

from terrane.engine.clouds.base import InvokeFaker, Request


def resource(request: Request) -> dict[str, Any]:
    metadata = dict(request.inputs.get("metadata") or {})
    name = metadata.get("name") or f"{request.name}-{request.hex(8)}"
    namespace = metadata.get("namespace")
    return {
        "id": f"{namespace}/{name}" if namespace else name,
        "metadata": {**metadata, "name": name, "uid": request.uuid()},
    }


INVOKES: dict[str, InvokeFaker] = {}
