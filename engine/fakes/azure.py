"""Fake Azure (azure-native): ARM resource ids under the account's subscription."""

from __future__ import annotations

from typing import Any

from engine.fakes.base import InvokeFaker, Request

_NAMESPACES = {
    "resources": "Microsoft.Resources",
    "network": "Microsoft.Network",
    "containerservice": "Microsoft.ContainerService",
    "keyvault": "Microsoft.KeyVault",
    "managedidentity": "Microsoft.ManagedIdentity",
    "authorization": "Microsoft.Authorization",
    "operationalinsights": "Microsoft.OperationalInsights",
    "storage": "Microsoft.Storage",
}


def resource(request: Request) -> dict[str, Any]:
    kind, subscription = request.kind, request.account_id
    # azure-native auto-names "<logical name><8 hex>"; explicit names are "<kind>Name" or "resourceName".
    name = request.physical_name(f"{kind}Name", "resourceName", separator="")
    if kind == "resourceGroup":
        return {"id": f"/subscriptions/{subscription}/resourceGroups/{name}", "name": name}
    group = request.inputs.get("resourceGroupName", "resource-group")
    namespace = _NAMESPACES.get(request.module, f"Microsoft.{request.module.capitalize()}")
    collection = kind + ("es" if kind.endswith("s") else "s")
    arm_id = f"/subscriptions/{subscription}/resourceGroups/{group}/providers/{namespace}/{collection}/{name}"
    return {"id": arm_id, "name": name}


INVOKES: dict[str, InvokeFaker] = {}
