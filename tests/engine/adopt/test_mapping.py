"""Mapping Terraform states and ids files onto the sample environments' programs, rendered under the mock runtime."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from terrane.engine.adopt.mapping import RULES, Adoption, Matches, Unmatched, from_ids, from_tfstate
from terrane.engine.errors import ExitCode, InvalidInputError
from terrane.engine.offline.render import SECRET, UNKNOWN, Plan, plan
from terrane.engine.project import open_project
from terrane.engine.tfstate import StateResource, read_state
from tests.helpers.project import REPO, copy_tracked

FIXTURES = REPO / "tests" / "fixtures" / "tfstate"
SUB = "/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/rg-azure-dev"
GCP = "projects/sandbox-project-123"


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    project = open_project(REPO)
    return {name: plan(project, name) for name in ("aws-dev", "azure-dev", "gcp-dev")}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """examples/local-cluster: environment ``local`` on a linked cluster (``cloud: kubernetes``), no kubeconfig read."""
    root = tmp_path_factory.mktemp("local") / "project"
    copy_tracked(REPO / "examples" / "local-cluster", root)
    return plan(open_project(root), "local")


def _urn(env: str, component: str, type_: str, name: str, project: str = "terrane") -> str:
    return f"urn:pulumi:{env}::{project}::{component}${type_}::{name}"


def _adoptions(matches: Matches) -> list[tuple[str, str, str, str, str]]:
    return [(a.urn, a.type, a.name, a.id, a.source) for a in matches.adoptions]


def _unmatched(matches: Matches) -> list[tuple[str, str, str, str]]:
    return [(u.source, u.type, u.id, u.reason) for u in matches.unmatched]


def _edited_state(tmp_path: Path, fixture: str, edit: Any) -> Path:
    document = json.loads((FIXTURES / fixture).read_text())
    edit(document["resources"])
    path = tmp_path / fixture
    path.write_text(json.dumps(document))
    return path


def _resource(resources: list[dict[str, Any]], type_: str, name: str, module: str | None = None) -> dict[str, Any]:
    (found,) = [r for r in resources if (r["type"], r["name"], r.get("module")) == (type_, name, module)]
    return found


# --- The fixtures against the sample environments ------------------------------------------------------------


def test_aws_state_onto_aws_dev(plans: dict[str, Plan]) -> None:
    matches = from_tfstate(plans["aws-dev"], read_state(FIXTURES / "aws.tfstate"))
    net, cluster, store = "terrane:aws:Network", "terrane:aws:Cluster", "terrane:aws:SecretStore"
    sm = "arn:aws:secretsmanager:us-east-1:123456789012:secret:aws-dev"
    assert _adoptions(matches) == [
        (_urn("aws-dev", cluster, "aws:eks/cluster:Cluster", "aws-dev-eks"), "aws:eks/cluster:Cluster",
         "aws-dev-eks", "aws-dev", "aws_eks_cluster.main"),
        (_urn("aws-dev", cluster, "aws:eks/nodeGroup:NodeGroup", "aws-dev-batch"), "aws:eks/nodeGroup:NodeGroup",
         "aws-dev-batch", "aws-dev:aws-dev-batch-3f9a1c2", 'aws_eks_node_group.pools["batch"]'),
        (_urn("aws-dev", cluster, "aws:eks/nodeGroup:NodeGroup", "aws-dev-system"), "aws:eks/nodeGroup:NodeGroup",
         "aws-dev-system", "aws-dev:aws-dev-system", 'aws_eks_node_group.pools["system"]'),
        (_urn("aws-dev", net, "aws:ec2/subnet:Subnet", "aws-dev-private-0"), "aws:ec2/subnet:Subnet",
         "aws-dev-private-0", "subnet-01a2b3c4d5e6f7081", "module.network.aws_subnet.private[0]"),
        (_urn("aws-dev", net, "aws:ec2/subnet:Subnet", "aws-dev-private-1"), "aws:ec2/subnet:Subnet",
         "aws-dev-private-1", "subnet-02b3c4d5e6f708192", "module.network.aws_subnet.private[1]"),
        (_urn("aws-dev", net, "aws:ec2/subnet:Subnet", "aws-dev-private-2"), "aws:ec2/subnet:Subnet",
         "aws-dev-private-2", "subnet-03c4d5e6f70819203", "module.network.aws_subnet.private[2]"),
        (_urn("aws-dev", net, "aws:ec2/subnet:Subnet", "aws-dev-public-0"), "aws:ec2/subnet:Subnet",
         "aws-dev-public-0", "subnet-04d5e6f7081920314", "module.network.aws_subnet.public[0]"),
        (_urn("aws-dev", net, "aws:ec2/subnet:Subnet", "aws-dev-public-1"), "aws:ec2/subnet:Subnet",
         "aws-dev-public-1", "subnet-05e6f708192031425", "module.network.aws_subnet.public[1]"),
        (_urn("aws-dev", net, "aws:ec2/vpc:Vpc", "aws-dev-vpc"), "aws:ec2/vpc:Vpc",
         "aws-dev-vpc", "vpc-0a1b2c3d4e5f60718", "module.network.aws_vpc.this"),
        (_urn("aws-dev", store, "aws:kms/alias:Alias", "aws-dev-key"), "aws:kms/alias:Alias",
         "aws-dev-key", "alias/terrane/aws-dev", "aws_kms_alias.secrets"),
        (_urn("aws-dev", store, "aws:kms/key:Key", "aws-dev-key"), "aws:kms/key:Key",
         "aws-dev-key", "7b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "aws_kms_key.secrets"),
        (_urn("aws-dev", store, "aws:secretsmanager/secret:Secret", "aws-dev-api-token"),
         "aws:secretsmanager/secret:Secret", "aws-dev-api-token", f"{sm}/api-token-Qm7tZx",
         'aws_secretsmanager_secret.app["api-token"]'),
        (_urn("aws-dev", store, "aws:secretsmanager/secret:Secret", "aws-dev-db-password"),
         "aws:secretsmanager/secret:Secret", "aws-dev-db-password", f"{sm}/db-password-a1B2c3",
         'aws_secretsmanager_secret.app["db-password"]'),
    ]
    assert _unmatched(matches) == [
        ('aws_eks_node_group.pools["gpu"]', "aws_eks_node_group", "aws-dev:aws-dev-gpu",
         "no aws:eks/nodeGroup:NodeGroup in the program has clusterName aws-dev and nodeGroupName aws-dev-gpu"),
        ("aws_kms_key.ebs", "aws_kms_key", "0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b",
         "no aws_kms_alias in the state targets it: terrane adopts keys by alias"),
        ("aws_s3_bucket.artifacts", "aws_s3_bucket", "aws-dev-artifacts-123456789012",
         "terrane does not adopt aws_s3_bucket"),
        ("aws_vpc.shared", "aws_vpc", "vpc-0f9e8d7c6b5a49382",
         "no aws:ec2/vpc:Vpc in the program has cidrBlock 10.9.0.0/16"),
    ]


def test_azure_state_onto_azure_dev(plans: dict[str, Plan]) -> None:
    matches = from_tfstate(plans["azure-dev"], read_state(FIXTURES / "azure.tfstate"))
    net, cluster, store = "terrane:azure:Network", "terrane:azure:Cluster", "terrane:azure:SecretStore"
    aks = f"{SUB}/providers/Microsoft.ContainerService/managedClusters/azure-dev"
    vnet = f"{SUB}/providers/Microsoft.Network/virtualNetworks/rg-azure-dev-vnet"
    assert _adoptions(matches) == [
        (_urn("azure-dev", cluster, "azure-native:containerservice:AgentPool", "azure-dev-batch"),
         "azure-native:containerservice:AgentPool", "azure-dev-batch", f"{aks}/agentPools/batch",
         'module.aks.azurerm_kubernetes_cluster_node_pool.pools["batch"]'),
        (_urn("azure-dev", cluster, "azure-native:containerservice:ManagedCluster", "azure-dev-aks"),
         "azure-native:containerservice:ManagedCluster", "azure-dev-aks", aks,
         "module.aks.azurerm_kubernetes_cluster.this"),
        (_urn("azure-dev", net, "azure-native:network:Subnet", "azure-dev-endpoints"),
         "azure-native:network:Subnet", "azure-dev-endpoints", f"{vnet}/subnets/endpoints", "azurerm_subnet.endpoints"),
        (_urn("azure-dev", net, "azure-native:network:Subnet", "azure-dev-nodes"),
         "azure-native:network:Subnet", "azure-dev-nodes", f"{vnet}/subnets/nodes", "azurerm_subnet.nodes"),
        (_urn("azure-dev", net, "azure-native:network:VirtualNetwork", "azure-dev-vnet"),
         "azure-native:network:VirtualNetwork", "azure-dev-vnet", vnet, "azurerm_virtual_network.main"),
        (_urn("azure-dev", net, "azure-native:resources:ResourceGroup", "azure-dev-rg"),
         "azure-native:resources:ResourceGroup", "azure-dev-rg", SUB, "azurerm_resource_group.main"),
        (_urn("azure-dev", store, "azure-native:keyvault:Vault", "azure-dev-vault"),
         "azure-native:keyvault:Vault", "azure-dev-vault",
         f"{SUB}/providers/Microsoft.KeyVault/vaults/kv-azure-dev-5d6698", "azurerm_key_vault.main"),
    ]
    assert _unmatched(matches) == [
        ("azurerm_key_vault_secret.db_password", "azurerm_key_vault_secret",
         "https://kv-azure-dev-5d6698.vault.azure.net/secrets/db-password/0a1b2c3d4e5f40718293a4b5c6d7e8f9",
         "the program has no azure-native:keyvault:Secret"),
        ("azurerm_storage_account.logs", "azurerm_storage_account",
         f"{SUB}/providers/Microsoft.Storage/storageAccounts/stazuredevlogs01",
         "terrane does not adopt azurerm_storage_account"),
        ("azurerm_subnet.appgw", "azurerm_subnet", f"{vnet}/subnets/appgw",
         "no azure-native:network:Subnet in the program has addressPrefix 10.20.130.0/24"),
    ]
    # The state's secret values are in it, and nowhere in what mapping returns.
    assert "placeholder-db-password-for-tests" in (FIXTURES / "azure.tfstate").read_text()
    assert "placeholder" not in repr(matches)


def test_gcp_state_onto_gcp_dev(plans: dict[str, Plan]) -> None:
    matches = from_tfstate(plans["gcp-dev"], read_state(FIXTURES / "gcp.tfstate"))
    net, cluster, store = "terrane:gcp:Network", "terrane:gcp:Cluster", "terrane:gcp:SecretStore"
    ring = f"{GCP}/locations/europe-west1/keyRings/gcp-dev-gke-5e1f0a9c"
    assert _adoptions(matches) == [
        (_urn("gcp-dev", cluster, "gcp:container/cluster:Cluster", "gcp-dev-gke"), "gcp:container/cluster:Cluster",
         "gcp-dev-gke", f"{GCP}/locations/europe-west1/clusters/gcp-dev", "google_container_cluster.primary"),
        (_urn("gcp-dev", cluster, "gcp:container/nodePool:NodePool", "gcp-dev-batch"),
         "gcp:container/nodePool:NodePool", "gcp-dev-batch", "sandbox-project-123/europe-west1/gcp-dev/batch",
         'google_container_node_pool.pools["batch"]'),
        (_urn("gcp-dev", cluster, "gcp:container/nodePool:NodePool", "gcp-dev-system"),
         "gcp:container/nodePool:NodePool", "gcp-dev-system", "sandbox-project-123/europe-west1/gcp-dev/system",
         'google_container_node_pool.pools["system"]'),
        (_urn("gcp-dev", cluster, "gcp:kms/cryptoKey:CryptoKey", "gcp-dev-gke-key"), "gcp:kms/cryptoKey:CryptoKey",
         "gcp-dev-gke-key", f"{ring}/cryptoKeys/gke-secrets", "google_kms_crypto_key.gke"),
        (_urn("gcp-dev", cluster, "gcp:kms/keyRing:KeyRing", "gcp-dev-gke-keyring"), "gcp:kms/keyRing:KeyRing",
         "gcp-dev-gke-keyring", ring, "google_kms_key_ring.gke"),
        (_urn("gcp-dev", net, "gcp:compute/network:Network", "gcp-dev-vpc"), "gcp:compute/network:Network",
         "gcp-dev-vpc", f"{GCP}/global/networks/gcp-dev", "google_compute_network.vpc"),
        (_urn("gcp-dev", net, "gcp:compute/subnetwork:Subnetwork", "gcp-dev-subnet"),
         "gcp:compute/subnetwork:Subnetwork", "gcp-dev-subnet", f"{GCP}/regions/europe-west1/subnetworks/gcp-dev",
         "google_compute_subnetwork.nodes"),
        (_urn("gcp-dev", store, "gcp:secretmanager/secret:Secret", "gcp-dev-api-token"),
         "gcp:secretmanager/secret:Secret", "gcp-dev-api-token", f"{GCP}/secrets/gcp-dev-api-token",
         'google_secret_manager_secret.app["api-token"]'),
        (_urn("gcp-dev", store, "gcp:secretmanager/secret:Secret", "gcp-dev-db-password"),
         "gcp:secretmanager/secret:Secret", "gcp-dev-db-password", f"{GCP}/secrets/gcp-dev-db-password",
         'google_secret_manager_secret.app["db-password"]'),
    ]
    assert _unmatched(matches) == [
        ("google_kms_key_ring.terraform", "google_kms_key_ring",
         f"{GCP}/locations/europe-west1/keyRings/terraform-state-keys",
         "no gcp:kms/keyRing:KeyRing in the program has name terraform-state-keys"),
        ("module.bootstrap.google_storage_bucket.state", "google_storage_bucket", "sandbox-project-123-tfstate",
         "terrane does not adopt google_storage_bucket"),
    ]


def test_kubernetes_state_onto_a_linked_cluster(local: Plan) -> None:
    matches = from_tfstate(local, read_state(FIXTURES / "kubernetes.tfstate"))
    boot = "terrane:kubernetes:Bootstrap"

    def urn(type_: str, name: str) -> str:
        return _urn("local", boot, type_, name, project="terrane-local-cluster")

    namespace, account = "kubernetes:core/v1:Namespace", "kubernetes:core/v1:ServiceAccount"
    policy = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
    assert _adoptions(matches) == [
        (urn(namespace, "local-jobs"), namespace, "local-jobs", "jobs", "kubernetes_namespace_v1.jobs"),
        (urn(namespace, "local-web"), namespace, "local-web", "web", "kubernetes_namespace.web"),
        (urn(account, "local-web-deployer"), account, "local-web-deployer", "web/deployer",
         "kubernetes_service_account.deployer"),
        (urn(policy, "local-jobs-default-deny"), policy, "local-jobs-default-deny", "jobs/default-deny",
         'kubernetes_network_policy_v1.default_deny["jobs"]'),
        (urn(policy, "local-web-default-deny"), policy, "local-web-default-deny", "web/default-deny",
         'kubernetes_network_policy_v1.default_deny["web"]'),
    ]
    assert _unmatched(matches) == [
        ("kubernetes_config_map.settings", "kubernetes_config_map", "web/settings",
         "terrane does not adopt kubernetes_config_map"),
        ("module.monitoring.kubernetes_namespace.this", "kubernetes_namespace", "monitoring",
         "no kubernetes:core/v1:Namespace in the program has metadata.name monitoring"),
    ]
    assert all(isinstance(a, Adoption) for a in matches.adoptions)
    assert all(isinstance(u, Unmatched) for u in matches.unmatched)


def test_every_terraform_spelling_of_the_kubernetes_types_is_covered() -> None:
    assert {t: RULES[t].pulumi_type for t in RULES if t.startswith("kubernetes_")} == {
        "kubernetes_namespace": "kubernetes:core/v1:Namespace",
        "kubernetes_namespace_v1": "kubernetes:core/v1:Namespace",
        "kubernetes_service_account": "kubernetes:core/v1:ServiceAccount",
        "kubernetes_service_account_v1": "kubernetes:core/v1:ServiceAccount",
        "kubernetes_network_policy": "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "kubernetes_network_policy_v1": "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    }


def test_the_pulumi_types_of_the_table_are_those_the_programs_register(plans: dict[str, Plan], local: Plan) -> None:
    registered = {r.type for p in [*plans.values(), local] for r in p.resources}
    # Key Vault secrets are the one exception: the Azure store names them, their values are set out of band.
    assert {rule.pulumi_type for rule in RULES.values()} - registered == {"azure-native:keyvault:Secret"}


# --- Never guess ---------------------------------------------------------------------------------------------


def test_two_state_resources_matching_one_program_resource_are_both_unmatched(
    plans: dict[str, Plan], tmp_path: Path
) -> None:
    def add_twin(resources: list[dict[str, Any]]) -> None:
        twin = copy.deepcopy(_resource(resources, "aws_vpc", "this", "module.network"))
        twin.pop("module")
        twin["name"] = "legacy"
        twin["instances"][0]["attributes"]["id"] = "vpc-0aaaaaaaaaaaaaaaa"
        resources.append(twin)

    matches = from_tfstate(plans["aws-dev"], read_state(_edited_state(tmp_path, "aws.tfstate", add_twin)))
    assert "aws-dev-vpc" not in [a.name for a in matches.adoptions]
    assert [u for u in _unmatched(matches) if u[1] == "aws_vpc"] == [
        ("aws_vpc.shared", "aws_vpc", "vpc-0f9e8d7c6b5a49382",
         "no aws:ec2/vpc:Vpc in the program has cidrBlock 10.9.0.0/16"),
        ("module.network.aws_vpc.this", "aws_vpc", "vpc-0a1b2c3d4e5f60718",
         "aws_vpc.legacy matches aws-dev-vpc too: terrane does not guess which"),
        ("aws_vpc.legacy", "aws_vpc", "vpc-0aaaaaaaaaaaaaaaa",
         "module.network.aws_vpc.this matches aws-dev-vpc too: terrane does not guess which"),
    ]
    assert len(matches.adoptions) == 12


def test_one_state_resource_matching_two_program_resources_is_unmatched(plans: dict[str, Plan]) -> None:
    aws = plans["aws-dev"]
    (vpc,) = [r for r in aws.resources if r.type == "aws:ec2/vpc:Vpc"]
    twin = replace(vpc, urn=vpc.urn.replace("aws-dev-vpc", "aws-dev-vpc-b"), name="aws-dev-vpc-b")
    matches = from_tfstate(replace(aws, resources=(*aws.resources, twin)), read_state(FIXTURES / "aws.tfstate"))
    assert ("module.network.aws_vpc.this", "aws_vpc", "vpc-0a1b2c3d4e5f60718",
            "it matches 2 resources of the program (aws-dev-vpc, aws-dev-vpc-b): terrane does not guess which",
            ) in _unmatched(matches)
    assert not [a for a in matches.adoptions if a.type == "aws:ec2/vpc:Vpc"]


@pytest.mark.parametrize("unknown", [UNKNOWN, SECRET])
def test_a_program_input_not_known_offline_never_matches(plans: dict[str, Plan], unknown: str) -> None:
    aws = plans["aws-dev"]
    hidden = tuple(replace(r, inputs={**r.inputs, "cidrBlock": unknown}) if r.type == "aws:ec2/vpc:Vpc" else r
                   for r in aws.resources)
    matches = from_tfstate(replace(aws, resources=hidden), read_state(FIXTURES / "aws.tfstate"))
    assert ("module.network.aws_vpc.this", "aws_vpc", "vpc-0a1b2c3d4e5f60718",
            "no aws:ec2/vpc:Vpc in the program has cidrBlock 10.20.0.0/16") in _unmatched(matches)


def test_key_ring_names_match_whatever_incarnation_they_carry(plans: dict[str, Plan], tmp_path: Path) -> None:
    def add_secrets_ring(resources: list[dict[str, Any]]) -> None:
        ring = copy.deepcopy(_resource(resources, "google_kms_key_ring", "gke"))
        ring["name"] = "secrets"
        ring["instances"][0]["attributes"].update(
            name="gcp-dev-secrets-0badf00d", id=f"{GCP}/locations/europe-west1/keyRings/gcp-dev-secrets-0badf00d")
        resources.append(ring)

    matches = from_tfstate(plans["gcp-dev"], read_state(_edited_state(tmp_path, "gcp.tfstate", add_secrets_ring)))
    assert [(a.name, a.source) for a in matches.adoptions if a.type == "gcp:kms/keyRing:KeyRing"] == [
        ("gcp-dev-gke-keyring", "google_kms_key_ring.gke"),
        ("gcp-dev-secrets-keyring", "google_kms_key_ring.secrets"),
    ]
    assert [(u.source, u.reason) for u in matches.unmatched if u.type.startswith("google_kms")] == [
        ("google_kms_key_ring.terraform", "no gcp:kms/keyRing:KeyRing in the program has name terraform-state-keys"),
    ]


def test_a_key_ring_name_without_an_incarnation_matches_no_program_key_ring(
    plans: dict[str, Plan], tmp_path: Path
) -> None:
    def plain(resources: list[dict[str, Any]]) -> None:
        _resource(resources, "google_kms_key_ring", "gke")["instances"][0]["attributes"]["name"] = "gcp-dev-gke"

    matches = from_tfstate(plans["gcp-dev"], read_state(_edited_state(tmp_path, "gcp.tfstate", plain)))
    assert ("google_kms_key_ring.gke", "no gcp:kms/keyRing:KeyRing in the program has name gcp-dev-gke") in [
        (u.source, u.reason) for u in matches.unmatched]


@pytest.mark.parametrize(
    ("name", "adopted"),
    [("aws-dev-system", True), ("aws-dev-system-0a1b2c3", True), ("aws-dev-system-0A1B2C3", False),
     ("aws-dev-system-extra", False), ("system", False)],
)
def test_an_autonamed_node_group_matches_its_resource_name_with_or_without_pulumis_suffix(
    plans: dict[str, Plan], tmp_path: Path, name: str, adopted: bool
) -> None:
    def rename(resources: list[dict[str, Any]]) -> None:
        for instance in _resource(resources, "aws_eks_node_group", "pools")["instances"]:
            if instance["index_key"] == "system":
                instance["attributes"].update(node_group_name=name, id=f"aws-dev:{name}")

    matches = from_tfstate(plans["aws-dev"], read_state(_edited_state(tmp_path, "aws.tfstate", rename)))
    assert (("aws-dev-system", f"aws-dev:{name}") in [(a.name, a.id) for a in matches.adoptions]) is adopted


def test_a_state_resource_without_its_identity_or_id_is_unmatched(plans: dict[str, Plan], tmp_path: Path) -> None:
    def strip(resources: list[dict[str, Any]]) -> None:
        del _resource(resources, "aws_vpc", "this", "module.network")["instances"][0]["attributes"]["cidr_block"]
        private = _resource(resources, "aws_subnet", "private", "module.network")["instances"]
        private[0]["attributes"]["id"] = ""
        private[1]["attributes"]["availability_zone"] = None

    matches = from_tfstate(plans["aws-dev"], read_state(_edited_state(tmp_path, "aws.tfstate", strip)))
    found = {u.source: (u.id, u.reason) for u in matches.unmatched}
    assert found["module.network.aws_vpc.this"] == ("vpc-0a1b2c3d4e5f60718", "the state holds no cidr_block for it")
    assert found["module.network.aws_subnet.private[0]"] == ("", "the state holds no import id for it")
    assert found["module.network.aws_subnet.private[1]"] == (
        "subnet-02b3c4d5e6f708192", "the state holds no availability_zone for it")


def test_a_kms_key_is_known_by_an_alias_targeting_its_arn_too(plans: dict[str, Plan], tmp_path: Path) -> None:
    def by_arn(resources: list[dict[str, Any]]) -> None:
        alias = _resource(resources, "aws_kms_alias", "secrets")["instances"][0]["attributes"]
        alias["target_key_id"] = alias["target_key_arn"]

    matches = from_tfstate(plans["aws-dev"], read_state(_edited_state(tmp_path, "aws.tfstate", by_arn)))
    assert ("aws-dev-key", "7b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "aws_kms_key.secrets") in [
        (a.name, a.id, a.source) for a in matches.adoptions if a.type == "aws:kms/key:Key"]


def test_a_key_vault_secret_imports_by_its_arm_id_not_azurerms_data_plane_url() -> None:
    vault = f"{SUB}/providers/Microsoft.KeyVault/vaults/kv-azure-dev-5d6698"
    secret = StateResource("azurerm_key_vault_secret.db", "azurerm_key_vault_secret", {
        "id": "https://kv-azure-dev-5d6698.vault.azure.net/secrets/db-password/0a1b2c3d",
        "key_vault_id": vault, "name": "db-password"})
    assert RULES["azurerm_key_vault_secret"].import_id(secret) == f"{vault}/secrets/db-password"


# --- From an ids file ----------------------------------------------------------------------------------------


def _ids(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "ids.yaml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_ids_file_onto_aws_dev(plans: dict[str, Plan], tmp_path: Path) -> None:
    path = _ids(tmp_path, """\
- {type: "aws:secretsmanager/secret:Secret", name: aws-dev-db-password, id: "arn:aws:secretsmanager:us-east-1:123456789012:secret:aws-dev/db-password-a1B2c3"}
- {type: "aws:ec2/vpc:Vpc", name: aws-dev-vpc, id: vpc-0a1b2c3d4e5f60718}
- {type: "aws:ec2/vpc:Vpc", name: aws-dev-network, id: vpc-0f9e8d7c6b5a49382}
- {type: "terrane:aws:Network", name: aws-dev, id: vpc-0a1b2c3d4e5f60718}
- {type: "pulumi:providers:aws", name: aws-sandbox, id: default}
- {type: "kubernetes:core/v1:Namespace", name: aws-dev-apps, id: apps}
""")
    matches = from_ids(plans["aws-dev"], path)
    assert _adoptions(matches) == [
        (_urn("aws-dev", "terrane:aws:Network", "aws:ec2/vpc:Vpc", "aws-dev-vpc"), "aws:ec2/vpc:Vpc", "aws-dev-vpc",
         "vpc-0a1b2c3d4e5f60718", f"{path}: entry 2"),
        (_urn("aws-dev", "terrane:aws:SecretStore", "aws:secretsmanager/secret:Secret", "aws-dev-db-password"),
         "aws:secretsmanager/secret:Secret", "aws-dev-db-password",
         "arn:aws:secretsmanager:us-east-1:123456789012:secret:aws-dev/db-password-a1B2c3", f"{path}: entry 1"),
        (_urn("aws-dev", "terrane:kubernetes:Bootstrap", "kubernetes:core/v1:Namespace", "aws-dev-apps"),
         "kubernetes:core/v1:Namespace", "aws-dev-apps", "apps", f"{path}: entry 6"),
    ]
    assert _unmatched(matches) == [
        (f"{path}: entry 3", "aws:ec2/vpc:Vpc", "vpc-0f9e8d7c6b5a49382",
         "the program has no aws:ec2/vpc:Vpc named aws-dev-network"),
        (f"{path}: entry 4", "terrane:aws:Network", "vpc-0a1b2c3d4e5f60718",
         "aws-dev is a component, which is not imported: name the resources in it"),
        (f"{path}: entry 5", "pulumi:providers:aws", "default", "aws-sandbox is a provider, which is not imported"),
    ]


def test_an_empty_list_maps_nothing(plans: dict[str, Plan], tmp_path: Path) -> None:
    assert from_ids(plans["aws-dev"], _ids(tmp_path, "[]\n")) == Matches((), ())


VPC = '{type: "aws:ec2/vpc:Vpc", name: aws-dev-vpc, id: vpc-1}'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"- {type: x, name: y, id: \xff}\n", "line 1: byte 25 is not UTF-8; save the file as UTF-8"),
        ("- {type: x\n", "line 2, column 1: invalid YAML: expected ',' or '}', but got '<stream end>'"),
        ("", "must be a YAML list of entries, each with type, name and id"),
        ("type: aws:ec2/vpc:Vpc\n", "must be a YAML list of entries, each with type, name and id"),
        (f"- {VPC}\n- aws-dev-vpc\n", "entry 2: must be a mapping with type, name and id"),
        (f"- {VPC}\n- {{type: t, name: n, id: i, region: us-east-1}}\n",
         "entry 2: region: unknown key (an entry has type, name and id)"),
        ("- {type: t, id: i}\n", "entry 1: name: missing"),
        (f"- {VPC}\n- {VPC}\n- {{type: t, name: n, id: ''}}\n", "entry 3: id: must be a non-empty string"),
        ("- {type: t, name: n, id: '  '}\n", "entry 1: id: must be a non-empty string"),
        ("- {type: t, name: n, id: 12345}\n", "entry 1: id: must be a non-empty string"),
        ("- {type: [t], name: n, id: i}\n", "entry 1: type: must be a non-empty string"),
        (f"- {VPC}\n- {{type: t, name: n, id: i}}\n- {VPC}\n",
         "entries 1 and 3 both name aws:ec2/vpc:Vpc aws-dev-vpc: keep one"),
    ],
)
def test_an_invalid_ids_file_is_invalid_input_naming_file_entry_and_field(
    plans: dict[str, Plan], tmp_path: Path, text: str | bytes, message: str
) -> None:
    path = _ids(tmp_path, text)
    with pytest.raises(InvalidInputError) as raised:
        from_ids(plans["aws-dev"], path)
    assert str(raised.value) == f"{path}: {message}"
    assert raised.value.exit_code is ExitCode.INVALID_INPUT


def test_a_missing_ids_file_is_invalid_input(plans: dict[str, Plan], tmp_path: Path) -> None:
    path = tmp_path / "ids.yaml"
    with pytest.raises(InvalidInputError) as raised:
        from_ids(plans["aws-dev"], path)
    assert str(raised.value) == f"{path}: cannot be read: No such file or directory"
