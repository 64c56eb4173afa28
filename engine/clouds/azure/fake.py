"""Fake Azure (azure-native): ARM resource ids under the account's subscription,
child resources under their parents, and the computed properties terrane reads
(AKS FQDNs and OIDC issuer, identity client and principal ids, vault URI)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

import yaml

from terrane.engine.clouds.base import InvokeFaker, Request

_NAMESPACES = {
    "resources": "Microsoft.Resources",
    "network": "Microsoft.Network",
    "privatedns": "Microsoft.Network",
    "containerservice": "Microsoft.ContainerService",
    "keyvault": "Microsoft.KeyVault",
    "managedidentity": "Microsoft.ManagedIdentity",
    "authorization": "Microsoft.Authorization",
    "operationalinsights": "Microsoft.OperationalInsights",
    "storage": "Microsoft.Storage",
}
# ARM collection names that are not simply the kind plus "s".
_COLLECTIONS = {
    "userAssignedIdentity": "userAssignedIdentities",
    "privateZone": "privateDnsZones",
    "publicIPAddress": "publicIPAddresses",
    "storageAccount": "storageAccounts",
}
# Input holding the physical name where it is not "<kind>Name".
_NAME_KEYS = {
    "managedCluster": "resourceName",
    "userAssignedIdentity": "resourceName",
    "storageAccount": "accountName",
    "publicIPAddress": "publicIpAddressName",
    "federatedIdentityCredential": "federatedIdentityCredentialResourceName",
    "managementLockByScope": "lockName",
}
# Child resources: kind -> (input naming the parent, parent collection, own collection).
_CHILDREN = {
    "subnet": ("virtualNetworkName", "virtualNetworks", "subnets"),
    "agentPool": ("resourceName", "managedClusters", "agentPools"),
    "federatedIdentityCredential": ("resourceName", "userAssignedIdentities", "federatedIdentityCredentials"),
    "virtualNetworkLink": ("privateZoneName", "privateDnsZones", "virtualNetworkLinks"),
    "privateDnsZoneGroup": ("privateEndpointName", "privateEndpoints", "privateDnsZoneGroups"),
    "flowLog": ("networkWatcherName", "networkWatchers", "flowLogs"),
    "secret": ("vaultName", "vaults", "secrets"),
}
# The AKS Entra ID server application, the audience of AKS tokens.
_AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
# A certificate-shaped placeholder: kubeconfigs need some CA data.
_CA_DATA = (
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcwQkFRc0ZBREFWTVJNd0VRWURWUVFERXdwcmRXSmwKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
)


def resource(request: Request) -> dict[str, Any]:
    kind, subscription = request.kind, request.account_id
    # azure-native auto-names "<logical name><8 hex>"; explicit names are "<kind>Name" or "resourceName".
    name = request.physical_name(_NAME_KEYS.get(kind, f"{kind}Name"), "resourceName", separator="")
    if kind == "resourceGroup":
        location = request.inputs.get("location") or request.region
        return {"id": f"/subscriptions/{subscription}/resourceGroups/{name}", "name": name, "location": location}
    if kind == "roleAssignment":
        # Role assignments are named by a GUID and live under their scope.
        given = request.inputs.get("roleAssignmentName")
        name = given if isinstance(given, str) and given else request.uuid()
        scope = request.inputs.get("scope", f"/subscriptions/{subscription}")
        return {
            "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
            "name": name,
            "type": "Microsoft.Authorization/roleAssignments",
        }
    if kind == "managementLockByScope":
        scope = request.inputs.get("scope", f"/subscriptions/{subscription}")
        return {"id": f"{scope}/providers/Microsoft.Authorization/locks/{name}", "name": name}

    group = request.inputs.get("resourceGroupName", "resource-group")
    namespace = _NAMESPACES.get(request.module, f"Microsoft.{request.module.capitalize()}")
    collection = _COLLECTIONS.get(kind, kind + ("es" if kind.endswith("s") else "s"))
    base = f"/subscriptions/{subscription}/resourceGroups/{group}/providers/{namespace}"
    if kind in _CHILDREN:
        parent_key, parent_collection, collection = _CHILDREN[kind]
        parent = request.inputs.get(parent_key, "parent")
        arm_id = f"{base}/{parent_collection}/{parent}/{collection}/{name}"
    else:
        arm_id = f"{base}/{collection}/{name}"
    state: dict[str, Any] = {"id": arm_id, "name": name}
    extra = _COMPUTED.get(kind)
    if extra is not None:
        state.update(extra(request, name, group))
    identity = request.inputs.get("identity")
    if isinstance(identity, dict):
        state["identity"] = _managed_identity(request, identity)
    return state


def _managed_identity(request: Request, identity: dict[str, Any]) -> dict[str, Any]:
    # ARM takes user-assigned identities as a list of ids and answers with a map
    # of id to the identity's client and principal ids.
    answer: dict[str, Any] = {**identity, "tenantId": _uuid("tenant", request.account_id)}
    if "SystemAssigned" in str(identity.get("type", "")):
        answer["principalId"] = _uuid("system-principal", request.digest)
    assigned = identity.get("userAssignedIdentities")
    if isinstance(assigned, list):
        answer["userAssignedIdentities"] = {
            identity_id: {"clientId": _uuid("client", identity_id), "principalId": _uuid("principal", identity_id)}
            for identity_id in assigned
        }
    return answer


def _managed_cluster(request: Request, name: str, group: str) -> dict[str, Any]:
    location = request.inputs.get("location") or request.region
    prefix = request.inputs.get("dnsPrefix") or name
    label = _cluster_label(group, name)
    access = request.inputs.get("apiServerAccessProfile") or {}
    private = bool(access.get("enablePrivateCluster"))
    state: dict[str, Any] = {
        "fqdn": f"{prefix}-{label}.hcp.{location}.azmk8s.io",
        "azurePortalFQDN": f"{prefix}-{label}.portal.hcp.{location}.azmk8s.io",
        "nodeResourceGroup": f"MC_{group}_{name}_{location}",
        "currentKubernetesVersion": f"{request.inputs.get('kubernetesVersion', '1.31')}.2",
        "provisioningState": "Succeeded",
        "powerState": {"code": "Running"},
        "oidcIssuerProfile": {
            **(request.inputs.get("oidcIssuerProfile") or {}),
            "issuerURL": (
                f"https://{location}.oic.prod-aks.azure.com/{_uuid('tenant', request.account_id)}/{request.uuid()}/"
            ),
        },
        "identityProfile": {
            "kubeletidentity": {
                "clientId": _uuid("kubelet-client", request.digest),
                "objectId": _uuid("kubelet-object", request.digest),
                "resourceId": (
                    f"/subscriptions/{request.account_id}/resourceGroups/MC_{group}_{name}_{location}"
                    f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}-agentpool"
                ),
            }
        },
    }
    if private:
        zone = _uuid("private-zone", request.digest)
        state["privateFQDN"] = f"{prefix}-{label}.{zone}.privatelink.{location}.azmk8s.io"
    return state


def _identity(request: Request, name: str, group: str) -> dict[str, Any]:
    return {
        "clientId": _uuid("client", request.digest),
        "principalId": _uuid("principal", request.digest),
        "tenantId": _uuid("tenant", request.account_id),
    }


def _vault(request: Request, name: str, group: str) -> dict[str, Any]:
    properties = dict(request.inputs.get("properties") or {})
    return {
        "properties": {**properties, "vaultUri": f"https://{name}.vault.azure.net/", "provisioningState": "Succeeded"}
    }


def _storage_account(request: Request, name: str, group: str) -> dict[str, Any]:
    return {
        "primaryEndpoints": {
            service: f"https://{name}.{service}.core.windows.net/"
            for service in ("blob", "dfs", "file", "queue", "table")
        },
        "provisioningState": "Succeeded",
    }


def _public_ip(request: Request, name: str, group: str) -> dict[str, Any]:
    octets = bytes.fromhex(request.hex(6))
    return {"ipAddress": f"20.{octets[0]}.{octets[1]}.{octets[2] % 254 + 1}"}


def _private_endpoint(request: Request, name: str, group: str) -> dict[str, Any]:
    subscription = request.account_id
    return {
        "networkInterfaces": [
            {
                "id": f"/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Network"
                f"/networkInterfaces/{name}.nic.{request.uuid()}"
            }
        ],
        "provisioningState": "Succeeded",
    }


def _guid_resource(request: Request, name: str, group: str) -> dict[str, Any]:
    return {"resourceGuid": request.uuid(), "provisioningState": "Succeeded"}


_COMPUTED = {
    "managedCluster": _managed_cluster,
    "userAssignedIdentity": _identity,
    "vault": _vault,
    "storageAccount": _storage_account,
    "publicIPAddress": _public_ip,
    "privateEndpoint": _private_endpoint,
    "virtualNetwork": _guid_resource,
    "networkSecurityGroup": _guid_resource,
    "natGateway": _guid_resource,
    "privateZone": lambda request, name, group: {"numberOfRecordSets": 1, "provisioningState": "Succeeded"},
    "virtualNetworkLink": lambda request, name, group: {
        "virtualNetworkLinkState": "Completed",
        "provisioningState": "Succeeded",
    },
}


def _uuid(*parts: str) -> str:
    return str(uuid.UUID(hashlib.sha256("::".join(parts).encode()).hexdigest()[:32]))


def _cluster_label(group: str, name: str) -> str:
    # AKS adds a random label to the cluster's FQDN; the fake derives it from
    # what both the resource and the credentials call know.
    return hashlib.sha256(f"{group}/{name}".encode()).hexdigest()[:8]


def _client_config(request: Request) -> dict[str, Any]:
    return {
        "clientId": _uuid("client", request.account_id),
        "objectId": _uuid("object", request.account_id),
        "subscriptionId": request.account_id,
        "tenantId": _uuid("tenant", request.account_id),
    }


def _cluster_user_credentials(request: Request) -> dict[str, Any]:
    group = request.inputs.get("resourceGroupName", "resource-group")
    name = request.inputs.get("resourceName", "cluster")
    server = f"https://{name}-{_cluster_label(group, name)}.hcp.{request.region}.azmk8s.io:443"
    user = f"clusterUser_{group}_{name}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": _CA_DATA}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user}}],
        "current-context": name,
        "users": [
            {
                "name": user,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "kubelogin",
                        "args": ["get-token", "--login", "devicecode", "--server-id", _AKS_SERVER_ID],
                    }
                },
            }
        ],
    }
    encoded = base64.b64encode(yaml.safe_dump(config).encode()).decode()
    return {"kubeconfigs": [{"name": "clusterUser", "value": encoded}]}


INVOKES: dict[str, InvokeFaker] = {
    "azure-native:authorization:getClientConfig": _client_config,
    "azure-native:containerservice:listManagedClusterUserCredentials": _cluster_user_credentials,
}
