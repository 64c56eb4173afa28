"""Fake Google Cloud (pulumi-gcp): resource paths and self links under the
account's project, the computed outputs terrane's components read (GKE
endpoint and CA, service account emails, KMS key ids, secret names), and the
data sources they call."""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any

from terrane.engine.clouds.base import InvokeFaker, Request

_COMPUTE = "https://www.googleapis.com/compute/v1"
_CONTAINER = "https://container.googleapis.com/v1"
# Compute resources that are global rather than regional.
_GLOBAL = {"network", "firewall", "route"}
# A certificate-shaped placeholder: kubeconfigs need some CA data.
_CA_DATA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUVMRENDQXBTZ0F3SUJBZ0lRR0tFT0ZGTElORVRFUlJBTkVDQTBBTkJna3Foa2lHOXcwQkFRc0ZBREF2TVMwd0t3WURWUVFEClRFUlJBTkUKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="


def project_number(project: str) -> str:
    """A stable 12-digit project number for a project id."""
    return str(100_000_000_000 + int(hashlib.sha256(project.encode()).hexdigest()[:12], 16) % 900_000_000_000)


def resource(request: Request) -> dict[str, Any]:
    module, kind = request.module, request.kind
    project = str(request.inputs.get("project") or request.account_id)
    handler = _HANDLERS.get((module, kind))
    if handler is not None:
        return handler(request, project)
    name = request.physical_name()
    if module == "compute":
        location = "global" if kind in _GLOBAL else f"regions/{_region(request)}"
        path = f"projects/{project}/{location}/{kind}s/{name}"
        return {"id": path, "name": name, "selfLink": f"{_COMPUTE}/{path}"}
    return {"id": f"projects/{project}/{kind}s/{name}", "name": name}


def _region(request: Request) -> str:
    return str(request.inputs.get("region") or request.region)


def _network(request: Request, project: str) -> dict[str, Any]:
    name = request.physical_name()
    path = f"projects/{project}/global/networks/{name}"
    return {
        "id": path,
        "name": name,
        "selfLink": f"{_COMPUTE}/{path}",
        "numericId": str(int(request.hex(15), 16)),
    }


def _subnetwork(request: Request, project: str) -> dict[str, Any]:
    name = request.physical_name()
    path = f"projects/{project}/regions/{_region(request)}/subnetworks/{name}"
    state: dict[str, Any] = {
        "id": path,
        "name": name,
        "selfLink": f"{_COMPUTE}/{path}",
        "subnetworkId": int(request.hex(12), 16),
        "fingerprint": request.hex(16),
    }
    cidr = request.inputs.get("ipCidrRange")
    if isinstance(cidr, str):
        state["gatewayAddress"] = str(ipaddress.ip_network(cidr, strict=False)[1])
    return state


def _router(request: Request, project: str) -> dict[str, Any]:
    name = request.physical_name()
    path = f"projects/{project}/regions/{_region(request)}/routers/{name}"
    return {"id": path, "name": name, "selfLink": f"{_COMPUTE}/{path}"}


def _router_nat(request: Request, project: str) -> dict[str, Any]:
    name = request.physical_name()
    router = request.inputs.get("router", "router")
    # The provider's id for a NAT is "{project}/{region}/{router}/{name}".
    return {"id": f"{project}/{_region(request)}/{router}/{name}", "name": name}


def _cluster(request: Request, project: str) -> dict[str, Any]:
    name = request.physical_name()
    location = request.inputs.get("location") or request.region
    path = f"projects/{project}/locations/{location}/clusters/{name}"
    private = dict(request.inputs.get("privateClusterConfig") or {})
    # The control plane's private endpoint is the second address of its /28.
    control_plane = private.get("masterIpv4CidrBlock") or "172.16.0.0/28"
    private_ip = str(ipaddress.ip_network(control_plane, strict=False)[2])
    octets = bytes.fromhex(request.hex(6))
    public_ip = f"34.{octets[0] % 128 + 64}.{octets[1]}.{octets[2] % 254 + 1}"
    endpoint = private_ip if private.get("enablePrivateEndpoint") else public_ip
    master_auth = dict(request.inputs.get("masterAuth") or {})
    minor = str(request.inputs.get("minMasterVersion") or "1.31")
    return {
        "id": path,
        "name": name,
        "selfLink": f"{_CONTAINER}/{path}",
        "endpoint": endpoint,
        "masterAuth": {**master_auth, "clusterCaCertificate": _CA_DATA},
        "privateClusterConfig": {
            **private,
            "privateEndpoint": private_ip,
            "publicEndpoint": "" if private.get("enablePrivateEndpoint") else public_ip,
            "peeringName": f"gke-n{request.hex(17)}-{request.hex(4)}-{request.hex(8)[4:]}-peer",
        },
        "masterVersion": f"{minor}.5-gke.1014001",
        "labelFingerprint": request.hex(8),
    }


def _node_pool(request: Request, project: str) -> dict[str, Any]:
    name = request.physical_name()
    cluster = str(request.inputs.get("cluster", "cluster")).rsplit("/", 1)[-1]
    location = request.inputs.get("location") or request.region
    group = f"gke-{cluster[:15]}-{name[:15]}-{request.hex(8)}-grp"
    return {
        "id": f"projects/{project}/locations/{location}/clusters/{cluster}/nodePools/{name}",
        "name": name,
        "version": "1.31.5-gke.1014001",
        "instanceGroupUrls": [
            f"{_COMPUTE}/projects/{project}/zones/{location}-b/instanceGroupManagers/{group}"
        ],
        "managedInstanceGroupUrls": [
            f"{_COMPUTE}/projects/{project}/zones/{location}-b/instanceGroups/{group}"
        ],
    }


def _key_ring(request: Request, project: str) -> dict[str, Any]:
    name = request.physical_name()
    location = request.inputs.get("location") or request.region
    return {"id": f"projects/{project}/locations/{location}/keyRings/{name}", "name": name}


def _crypto_key(request: Request, project: str) -> dict[str, Any]:
    name = request.physical_name()
    key_ring = request.inputs.get("keyRing") or f"projects/{project}/locations/{request.region}/keyRings/ring"
    key_id = f"{key_ring}/cryptoKeys/{name}"
    return {
        "id": key_id,
        "name": name,
        "primaries": [{"name": f"{key_id}/cryptoKeyVersions/1", "state": "ENABLED"}],
        "purpose": request.inputs.get("purpose") or "ENCRYPT_DECRYPT",
    }


def _iam_member(scope_key: str) -> Any:
    def fake(request: Request, project: str) -> dict[str, Any]:
        scope = request.inputs.get(scope_key) or project
        role, member = request.inputs.get("role", ""), str(request.inputs.get("member", ""))
        # The provider's id for a member binding is "<resource>/<role>/<member, lower-cased>".
        return {"id": f"{scope}/{role}/{member.lower()}", "etag": f"BwY{request.hex(9)}="}

    return fake


def _service_account(request: Request, project: str) -> dict[str, Any]:
    account_id = request.inputs.get("accountId") or f"{request.name[:22]}-{request.hex(7)}"
    email = f"{account_id}@{project}.iam.gserviceaccount.com"
    return {
        "id": f"projects/{project}/serviceAccounts/{email}",
        "name": f"projects/{project}/serviceAccounts/{email}",
        "email": email,
        "member": f"serviceAccount:{email}",
        "uniqueId": str(100_000_000_000_000_000_000 + int(request.hex(16), 16) % 10**20),
    }


def _service_identity(request: Request, project: str) -> dict[str, Any]:
    service = str(request.inputs.get("service", "service.googleapis.com"))
    # Service agents are "service-<project number>@gcp-sa-<service>.iam.gserviceaccount.com".
    email = f"service-{project_number(project)}@gcp-sa-{service.split('.', 1)[0]}.iam.gserviceaccount.com"
    return {
        "id": f"projects/{project}/services/{service}",
        "email": email,
        "member": f"serviceAccount:{email}",
    }


def _secret(request: Request, project: str) -> dict[str, Any]:
    secret_id = request.inputs.get("secretId") or request.physical_name()
    return {
        "id": f"projects/{project}/secrets/{secret_id}",
        # Secret Manager names secrets by project number, not id.
        "name": f"projects/{project_number(project)}/secrets/{secret_id}",
        "createTime": "2025-01-01T00:00:00.000000Z",
    }


_HANDLERS = {
    ("compute", "network"): _network,
    ("compute", "subnetwork"): _subnetwork,
    ("compute", "router"): _router,
    ("compute", "routerNat"): _router_nat,
    ("container", "cluster"): _cluster,
    ("container", "nodePool"): _node_pool,
    ("kms", "keyRing"): _key_ring,
    ("kms", "cryptoKey"): _crypto_key,
    ("kms", "cryptoKeyIAMMember"): _iam_member("cryptoKeyId"),
    ("projects", "iAMMember"): _iam_member("project"),
    ("projects", "serviceIdentity"): _service_identity,
    ("serviceaccount", "account"): _service_account,
    ("secretmanager", "secret"): _secret,
    ("secretmanager", "secretIamMember"): _iam_member("secretId"),
}


def _zones(request: Request) -> dict[str, Any]:
    region = request.inputs.get("region") or request.region
    project = request.inputs.get("project") or request.account_id
    return {
        "id": f"projects/{project}/regions/{region}",
        "names": [f"{region}-{letter}" for letter in "bcd"],
        "project": project,
        "region": region,
        "status": request.inputs.get("status"),
    }


def _project(request: Request) -> dict[str, Any]:
    project = request.inputs.get("projectId") or request.account_id
    return {
        "id": f"projects/{project}",
        "projectId": project,
        "name": project,
        "number": project_number(project),
        "orgId": "123456789012",
        "labels": {},
        "effectiveLabels": {},
        "pulumiLabels": {},
        "autoCreateNetwork": True,
        "deletionPolicy": "PREVENT",
    }


INVOKES: dict[str, InvokeFaker] = {
    "gcp:compute/getZones:getZones": _zones,
    "gcp:organizations/getProject:getProject": _project,
}
