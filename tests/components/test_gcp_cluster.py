from __future__ import annotations

import ipaddress

import pulumi
import pulumi_gcp as gcp
import pytest

from terrane.components.gcp import Cluster, ClusterArgs, NodePoolArgs
from terrane.components.gcp.cluster import first_zones, initial_nodes_per_zone, kubeconfig
from terrane.engine.clouds.gcp.fake import project_number
from terrane.engine.offline.render import Rendered, RenderedResource, render
from tests.helpers.rendered import assert_owned

PROJECT = "sandbox-project-123"
REGION = "europe-west1"
NETWORK = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/networks/gcp-dev"
SUBNET = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/regions/{REGION}/subnetworks/gcp-dev"
POOLS = [
    NodePoolArgs(name="system", machine_type="e2-standard-4", min_count=2, max_count=4),
    NodePoolArgs(name="batch", machine_type="e2-standard-8", min_count=0, max_count=6, disk_size_gb=200),
]
NODE_ROLES = {
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
}
NODE_EMAIL = f"gcp-dev-nodes@{PROJECT}.iam.gserviceaccount.com"
LABELS = {"team": "platform"}
OUTPUTS = ("name", "id", "endpoint", "workload_pool", "kubeconfig")


def _args(**overrides: object) -> ClusterArgs:
    values: dict[str, object] = {
        "cluster_name": "gcp-dev",
        "project": PROJECT,
        "region": REGION,
        "zone_count": 3,
        "network_self_link": NETWORK,
        "subnet_self_link": SUBNET,
        "pods_range_name": "gcp-dev-pods",
        "services_range_name": "gcp-dev-services",
        "endpoint_public": False,
        "authorized_cidrs": [],
        "control_plane_cidr": "172.16.0.0/28",
        "kubernetes_version": "1.31",
        "node_pools": POOLS,
        "node_service_account_id": "gcp-dev-nodes",
        "key_ring_name": "gcp-dev-gke",
        "deletion_protection": True,
        "labels": LABELS,
    }
    return ClusterArgs(**{**values, **overrides})  # type: ignore[arg-type]


def _render(args: ClusterArgs) -> Rendered:
    def program() -> None:
        provider = gcp.Provider("gcp", project=PROJECT, region=REGION)
        cluster = Cluster("gke", args, pulumi.ResourceOptions(provider=provider))
        for output in OUTPUTS:
            pulumi.export(output, getattr(cluster, output))

    return render(program, project="terrane", stack="test", account_id=PROJECT, region=REGION)


@pytest.fixture(scope="module")
def private() -> Rendered:
    return _render(_args())


@pytest.fixture(scope="module")
def public() -> Rendered:
    return _render(
        _args(
            endpoint_public=True,
            authorized_cidrs=["203.0.113.0/24", "198.51.100.7/32"],
            zone_count=2,
            deletion_protection=False,
        )
    )


def _gke(rendered: Rendered) -> RenderedResource:
    return rendered.one("gcp:container/cluster:Cluster")


@pytest.mark.parametrize("fixture", ["private", "public"])
def test_every_resource_belongs_to_the_component_and_uses_its_provider(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    assert_owned(rendered, rendered.one("terrane:gcp:Cluster"), rendered.one("pulumi:providers:gcp"))


@pytest.mark.parametrize(("fixture", "zones"), [("private", 3), ("public", 2)])
def test_regional_cluster_in_the_first_zones(
    fixture: str, zones: int, request: pytest.FixtureRequest
) -> None:
    inputs = _gke(request.getfixturevalue(fixture)).inputs
    assert inputs["location"] == REGION
    assert inputs["nodeLocations"] == [f"{REGION}-{letter}" for letter in "bcd"][:zones]
    assert inputs["name"] == "gcp-dev"
    assert inputs["project"] == PROJECT


def test_vpc_native_in_the_given_subnet_and_ranges(private: Rendered) -> None:
    inputs = _gke(private).inputs
    assert inputs["network"] == NETWORK
    assert inputs["subnetwork"] == SUBNET
    assert inputs["networkingMode"] == "VPC_NATIVE"
    assert inputs["ipAllocationPolicy"] == {
        "clusterSecondaryRangeName": "gcp-dev-pods",
        "servicesSecondaryRangeName": "gcp-dev-services",
    }
    # Dataplane V2 enforces NetworkPolicies; Calico must not be switched on beside it.
    assert inputs["datapathProvider"] == "ADVANCED_DATAPATH"
    assert "networkPolicy" not in inputs


def test_default_pool_is_removed_and_hardened_while_it_exists(private: Rendered) -> None:
    gke = _gke(private)
    assert gke.inputs["removeDefaultNodePool"] is True
    assert gke.inputs["initialNodeCount"] == 1
    assert gke.inputs["nodeConfig"] == {
        "serviceAccount": NODE_EMAIL,
        "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"],
        "workloadMetadataConfig": {"mode": "GKE_METADATA"},
        "shieldedInstanceConfig": {"enableSecureBoot": True, "enableIntegrityMonitoring": True},
        "metadata": {"disable-legacy-endpoints": "true"},
        "resourceLabels": LABELS,
    }
    assert set(gke.ignore_changes) == {"nodeConfig", "initialNodeCount"}
    assert "nodePools" not in gke.inputs


def test_private_cluster_has_a_private_endpoint_only(private: Rendered) -> None:
    inputs = _gke(private).inputs
    assert inputs["privateClusterConfig"] == {
        "enablePrivateNodes": True,
        "enablePrivateEndpoint": True,
        "masterIpv4CidrBlock": "172.16.0.0/28",
    }
    assert inputs["masterAuthorizedNetworksConfig"] == {
        "cidrBlocks": [],
        "gcpPublicCidrsAccessEnabled": False,
    }
    assert ipaddress.ip_address(private.outputs["endpoint"]) in ipaddress.ip_network("172.16.0.0/28")


def test_public_endpoint_is_limited_to_authorized_cidrs(public: Rendered) -> None:
    inputs = _gke(public).inputs
    assert inputs["privateClusterConfig"] == {
        "enablePrivateNodes": True,
        "enablePrivateEndpoint": False,
        "masterIpv4CidrBlock": "172.16.0.0/28",
    }
    assert inputs["masterAuthorizedNetworksConfig"] == {
        "cidrBlocks": [
            {"cidrBlock": "203.0.113.0/24", "displayName": "authorized-0"},
            {"cidrBlock": "198.51.100.7/32", "displayName": "authorized-1"},
        ],
        "gcpPublicCidrsAccessEnabled": False,
    }
    assert ipaddress.ip_address(public.outputs["endpoint"]).is_global


def test_public_endpoint_without_authorized_cidrs_is_refused() -> None:
    with pytest.raises(ValueError, match="authorized CIDR"):
        _args(endpoint_public=True, authorized_cidrs=[])


def test_workload_identity(private: Rendered) -> None:
    assert _gke(private).inputs["workloadIdentityConfig"] == {"workloadPool": f"{PROJECT}.svc.id.goog"}
    assert private.outputs["workload_pool"] == f"{PROJECT}.svc.id.goog"


def test_secrets_are_encrypted_with_a_rotating_key_gke_may_use(private: Rendered) -> None:
    ring = private.one("gcp:kms/keyRing:KeyRing")
    key = private.one("gcp:kms/cryptoKey:CryptoKey")
    binding = private.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    gke = _gke(private)
    assert ring.inputs == {"name": "gcp-dev-gke", "location": REGION, "project": PROJECT}
    key_id = f"projects/{PROJECT}/locations/{REGION}/keyRings/gcp-dev-gke/cryptoKeys/gke-secrets"
    assert key.inputs["keyRing"] == key_id.rsplit("/cryptoKeys/", 1)[0]
    assert key.inputs["rotationPeriod"] == "7776000s"
    assert key.inputs["labels"] == LABELS
    assert gke.inputs["databaseEncryption"] == {"state": "ENCRYPTED", "keyName": key_id}
    assert binding.inputs == {
        "cryptoKeyId": key_id,
        "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        "member": f"serviceAccount:service-{project_number(PROJECT)}@container-engine-robot.iam.gserviceaccount.com",
    }
    assert {key.urn, binding.urn} <= set(gke.depends_on)


def test_cluster_settings(private: Rendered, public: Rendered) -> None:
    inputs = _gke(private).inputs
    assert inputs["enableShieldedNodes"] is True
    assert inputs["releaseChannel"] == {"channel": "REGULAR"}
    assert inputs["minMasterVersion"] == "1.31"
    assert inputs["masterAuth"] == {"clientCertificateConfig": {"issueClientCertificate": False}}
    assert inputs["loggingConfig"] == {"enableComponents": ["SYSTEM_COMPONENTS", "WORKLOADS"]}
    assert inputs["monitoringConfig"] == {"enableComponents": ["SYSTEM_COMPONENTS"]}
    assert inputs["resourceLabels"] == LABELS
    assert inputs["deletionProtection"] is True
    assert _gke(public).inputs["deletionProtection"] is False


def test_nodes_have_a_dedicated_account_with_minimal_roles(private: Rendered) -> None:
    account = private.one("gcp:serviceaccount/account:Account")
    assert account.inputs["accountId"] == "gcp-dev-nodes"
    assert account.inputs["project"] == PROJECT
    members = private.of_type("gcp:projects/iAMMember:IAMMember")
    assert {m.inputs["role"] for m in members} == NODE_ROLES
    assert len(members) == len(NODE_ROLES)
    for member in members:
        assert member.inputs["member"] == f"serviceAccount:{NODE_EMAIL}"
        assert member.inputs["project"] == PROJECT
        assert "condition" not in member.inputs


def test_node_pools_run_hardened_as_the_node_account(private: Rendered) -> None:
    pools = {p.name: p for p in private.of_type("gcp:container/nodePool:NodePool")}
    assert set(pools) == {"gke-system", "gke-batch"}
    role_urns = {m.urn for m in private.of_type("gcp:projects/iAMMember:IAMMember")}
    for spec in POOLS:
        pool = pools[f"gke-{spec.name}"]
        assert pool.inputs["name"] == spec.name
        assert pool.inputs["cluster"] == "gcp-dev"
        assert pool.inputs["location"] == REGION
        assert pool.inputs["management"] == {"autoRepair": True, "autoUpgrade": True}
        assert pool.inputs["nodeConfig"] == {
            "machineType": spec.machine_type,
            "diskSizeGb": spec.disk_size_gb,
            "serviceAccount": NODE_EMAIL,
            "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "workloadMetadataConfig": {"mode": "GKE_METADATA"},
            "shieldedInstanceConfig": {"enableSecureBoot": True, "enableIntegrityMonitoring": True},
            "metadata": {"disable-legacy-endpoints": "true"},
            "resourceLabels": LABELS,
        }
        assert _gke(private).urn in pool.depends_on
        assert role_urns <= set(pool.depends_on)


def test_node_pools_leave_their_size_to_the_autoscaler(private: Rendered) -> None:
    pools = {p.name: p for p in private.of_type("gcp:container/nodePool:NodePool")}
    initial = {"system": 1, "batch": 0}
    for spec in POOLS:
        pool = pools[f"gke-{spec.name}"]
        assert pool.inputs["autoscaling"] == {
            "totalMinNodeCount": spec.min_count,
            "totalMaxNodeCount": spec.max_count,
            "locationPolicy": "BALANCED",
        }
        assert pool.inputs["initialNodeCount"] == initial[spec.name]
        assert "nodeCount" not in pool.inputs
        assert set(pool.ignore_changes) == {"nodeCount", "initialNodeCount"}


def test_outputs(private: Rendered) -> None:
    assert private.outputs["name"] == "gcp-dev"
    assert private.outputs["id"] == f"projects/{PROJECT}/locations/{REGION}/clusters/gcp-dev"
    assert private.outputs["kubeconfig"] == "[secret]"


def test_kubeconfig_authenticates_with_gke_gcloud_auth_plugin() -> None:
    config = kubeconfig(
        project=PROJECT,
        location=REGION,
        cluster_name="gcp-dev",
        endpoint="10.0.0.2",
        cluster_ca_certificate="Q0E=",
    )
    name = f"gke_{PROJECT}_{REGION}_gcp-dev"
    assert config["clusters"] == [
        {"name": name, "cluster": {"server": "https://10.0.0.2", "certificate-authority-data": "Q0E="}}
    ]
    assert config["contexts"] == [{"name": name, "context": {"cluster": name, "user": name}}]
    assert config["current-context"] == name
    (user,) = config["users"]
    assert user["name"] == name
    exec_ = user["user"]["exec"]
    assert exec_["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert exec_["command"] == "gke-gcloud-auth-plugin"
    assert exec_["provideClusterInfo"] is True
    assert "gke-gcloud-auth-plugin" in exec_["installHint"]
    assert set(user["user"]) == {"exec"}


def test_first_zones_are_stable_and_must_exist() -> None:
    assert first_zones(["europe-west1-d", "europe-west1-b", "europe-west1-c"], 2) == [
        "europe-west1-b",
        "europe-west1-c",
    ]
    with pytest.raises(ValueError, match="2 zones up"):
        first_zones(["europe-west1-b", "europe-west1-c"], 3)


@pytest.mark.parametrize(
    ("minimum", "zones", "expected"), [(0, 3, 0), (1, 3, 1), (3, 3, 1), (4, 3, 2), (2, 1, 2)]
)
def test_initial_nodes_per_zone_cover_the_total_minimum(minimum: int, zones: int, expected: int) -> None:
    assert initial_nodes_per_zone(minimum, zones) == expected


def test_pool_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="min_count <= max_count"):
        NodePoolArgs(name="system", machine_type="e2-standard-4", min_count=3, max_count=2)
