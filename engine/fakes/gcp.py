"""Fake Google Cloud (pulumi-gcp): resource paths and self links under the account's project."""

from __future__ import annotations

from typing import Any

from engine.fakes.base import InvokeFaker, Request

# Compute resources that are global rather than regional.
_GLOBAL = {"network", "firewall", "route"}


def resource(request: Request) -> dict[str, Any]:
    kind, project = request.kind, request.account_id
    name = request.physical_name()
    location = "global" if kind in _GLOBAL else f"regions/{request.inputs.get('region') or request.region}"
    path = f"projects/{project}/{location}/{kind}s/{name}"
    state: dict[str, Any] = {"id": path, "name": name}
    if request.module == "compute":
        state["selfLink"] = f"https://www.googleapis.com/compute/v1/{path}"
    return state


INVOKES: dict[str, InvokeFaker] = {}
