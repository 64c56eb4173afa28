"""``terrane plan``: the sample environment, rendered offline, as a user sees it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from terrane.engine.offline.render import plan
from terrane.engine.project import open_project
from tests.helpers.project import REPO, SampleProject

COMPONENTS = {"terrane:aws:Network", "terrane:aws:Cluster", "terrane:aws:SecretStore", "terrane:kubernetes:Bootstrap"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return plan(open_project(REPO), "aws-dev").to_dict()


def _of_type(document: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r for r in document["resources"] if r["type"] == type_]


def _one(document: dict[str, Any], type_: str) -> dict[str, Any]:
    (found,) = _of_type(document, type_)
    return found


def test_json_output_is_the_schema_version_1_document(cli, document: dict[str, Any]) -> None:
    result = cli("--project", REPO, "plan", "aws-dev", "--json")
    assert result.code == 0
    assert json.loads(result.stdout) == document
    assert list(document) == ["schema_version", "environment", "cloud", "account", "region", "resources", "outputs"]
    assert (document["schema_version"], document["environment"], document["cloud"]) == (1, "aws-dev", "aws")
    assert (document["account"], document["region"]) == ("aws-sandbox", "us-east-1")
    for resource in document["resources"]:
        assert list(resource) == ["urn", "type", "name", "parent", "provider", "custom", "inputs", "depends_on"]


def test_references_point_at_resources_of_the_plan(document: dict[str, Any]) -> None:
    urns = {r["urn"] for r in document["resources"]}
    for resource in document["resources"]:
        assert resource["parent"] is None or resource["parent"] in urns
        assert resource["provider"] is None or resource["provider"] in urns
        assert set(resource["depends_on"]) <= urns


def test_lists_the_components_and_their_resources(document: dict[str, Any]) -> None:
    components = {r["type"] for r in document["resources"] if not r["custom"]} - {"pulumi:pulumi:Stack"}
    assert components == COMPONENTS
    vpc = _one(document, "aws:ec2/vpc:Vpc")
    assert (vpc["name"], vpc["inputs"]["cidrBlock"]) == ("aws-dev-vpc", "10.20.0.0/16")
    subnets = _of_type(document, "aws:ec2/subnet:Subnet")
    assert len(subnets) == 6
    assert len({s["inputs"]["availabilityZone"] for s in subnets}) == 3
    assert len(_of_type(document, "aws:ec2/natGateway:NatGateway")) == 3
    flow_log = _one(document, "aws:ec2/flowLog:FlowLog")
    assert flow_log["inputs"]["trafficType"] == "ALL"


def test_cluster_is_private_and_encrypted(document: dict[str, Any]) -> None:
    eks = _one(document, "aws:eks/cluster:Cluster")["inputs"]
    assert eks["vpcConfig"]["endpointPrivateAccess"] is True
    assert eks["vpcConfig"]["endpointPublicAccess"] is False
    assert eks["encryptionConfig"]["resources"] == ["secrets"]
    key_arns = {k["urn"]: k for k in _of_type(document, "aws:kms/key:Key")}
    assert all(k["inputs"]["enableKeyRotation"] is True for k in key_arns.values())
    assert eks["encryptionConfig"]["provider"]["keyArn"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    groups = _of_type(document, "aws:eks/nodeGroup:NodeGroup")
    assert sorted(g["name"] for g in groups) == ["aws-dev-batch", "aws-dev-system"]
    system = next(g for g in groups if g["name"] == "aws-dev-system")["inputs"]
    assert system["instanceTypes"] == ["m6i.xlarge"]
    assert (system["scalingConfig"]["minSize"], system["scalingConfig"]["maxSize"]) == (2, 4)


def test_secrets_are_encrypted_with_the_store_key(document: dict[str, Any]) -> None:
    secrets = _of_type(document, "aws:secretsmanager/secret:Secret")
    assert sorted(s["inputs"]["name"] for s in secrets) == ["aws-dev/api-token", "aws-dev/db-password"]
    store_keys = [k for k in _of_type(document, "aws:kms/key:Key") if "SecretStore" in k["urn"]]
    assert len(store_keys) == 1
    assert {s["inputs"]["kmsKeyId"] for s in secrets} == {document["outputs"]["secrets_key_arn"]}
    assert all(s["inputs"]["recoveryWindowInDays"] == 7 for s in secrets)


def test_namespaces_and_secret_outputs(document: dict[str, Any]) -> None:
    namespaces = _of_type(document, "kubernetes:core/v1:Namespace")
    assert sorted(n["inputs"]["metadata"]["name"] for n in namespaces) == ["apps", "observability"]
    assert document["outputs"]["kubeconfig"] == "[secret]"
    assert document["outputs"]["namespaces"] == ["apps", "observability"]
    k8s = _one(document, "pulumi:providers:kubernetes")
    assert k8s["inputs"]["kubeconfig"] == "[secret]"
    assert k8s["inputs"]["clusterIdentifier"].startswith("arn:aws:eks:us-east-1:123456789012:cluster/")


def test_the_account_provider_is_explicit(document: dict[str, Any]) -> None:
    provider = _one(document, "pulumi:providers:aws")
    assert provider["name"] == "aws-sandbox"
    assert provider["inputs"]["region"] == "us-east-1"
    # The engine receives a provider's structured settings JSON-encoded.
    assert json.loads(provider["inputs"]["allowedAccountIds"]) == ["123456789012"]
    assert json.loads(provider["inputs"]["assumeRoles"]) == [
        {"roleArn": "arn:aws:iam::123456789012:role/terrane-provisioner", "sessionName": "terrane"}
    ]
    custom_aws = [r for r in document["resources"] if r["custom"] and r["type"].startswith("aws:")]
    assert {r["provider"] for r in custom_aws} == {provider["urn"]}


def test_human_output_is_a_tree_with_counts(cli) -> None:
    result = cli("--project", REPO, "plan", "aws-dev")
    assert result.code == 0
    assert "aws-dev terrane:aws:Network (component)" in result.stdout
    assert "aws-dev-vpc aws:ec2/vpc:Vpc" in result.stdout
    assert re.search(r"^aws:ec2/subnet:Subnet +6 *$", result.stdout, re.MULTILINE)
    assert "kubeconfig: [secret]" in result.stdout
    # ARNs hold ":secret:", which a terminal renderer must not turn into an emoji.
    assert ":secret:aws-dev/db-password-" in result.stdout
    assert "nothing was read from or sent to a cloud" in result.stderr


def test_plan_needs_no_credentials_and_shows_none(sample: SampleProject, cli, monkeypatch) -> None:
    monkeypatch.delenv("TERRANE_AWS_EXTERNAL_ID", raising=False)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-print-this-value")
    result = cli("--project", sample.root, "plan", "aws-dev", "--json")
    assert result.code == 0
    assert "do-not-print-this-value" not in result.stdout + result.stderr


def test_plans_are_deterministic(document: dict[str, Any]) -> None:
    assert plan(open_project(REPO), "aws-dev").to_dict() == document


@pytest.mark.parametrize(("env", "cloud"), [("aws-dev", "aws"), ("azure-dev", "azure"), ("gcp-dev", "gcp")])
def test_every_sample_environment_plans_completely(cli, env: str, cloud: str) -> None:
    result = cli("--project", REPO, "plan", env, "--json")
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["environment"], document["cloud"]) == (env, cloud)
    tokens = {r["type"] for r in document["resources"] if not r["custom"]}
    assert {f"terrane:{cloud}:Network", f"terrane:{cloud}:Cluster", f"terrane:{cloud}:SecretStore"} <= tokens
    assert "terrane:kubernetes:Bootstrap" in tokens
    assert document["outputs"]["kubeconfig"] == "[secret]"


def test_cloud_wide_names_are_scoped_to_the_environment() -> None:
    project = open_project(REPO)
    gcp = plan(project, "gcp-dev").to_dict()
    assert sorted(s["inputs"]["secretId"] for s in _of_type(gcp, "gcp:secretmanager/secret:Secret")) == [
        "gcp-dev-api-token",
        "gcp-dev-db-password",
    ]
    azure = plan(project, "azure-dev").to_dict()
    vault = _one(azure, "azure-native:keyvault:Vault")["inputs"]["vaultName"]
    assert vault.startswith("kv-azure-dev-") and len(vault) <= 24


# --- the plan follows the spec ---------------------------------------------------------------


def _plan(sample: SampleProject, edit) -> dict[str, Any]:
    sample.edit_env("aws-dev", edit)
    return plan(open_project(sample.root), "aws-dev").to_dict()


def _count(document: dict[str, Any], type_: str) -> int:
    return len(_of_type(document, type_))


def test_zones_change_subnets_and_nat(sample: SampleProject) -> None:
    document = _plan(sample, lambda d: d["network"].update(zones=2))
    subnets = _of_type(document, "aws:ec2/subnet:Subnet")
    assert len(subnets) == 4
    assert len({s["inputs"]["availabilityZone"] for s in subnets}) == 2
    assert _count(document, "aws:ec2/natGateway:NatGateway") == 2


@pytest.mark.parametrize(("nat", "gateways"), [("none", 0), ("single", 1), ("per_zone", 3)])
def test_nat_mode(sample: SampleProject, nat: str, gateways: int) -> None:
    document = _plan(sample, lambda d: d["network"].update(nat=nat))
    assert _count(document, "aws:ec2/natGateway:NatGateway") == gateways
    assert _count(document, "aws:ec2/eip:Eip") == gateways


def test_public_endpoint_with_authorized_cidrs(sample: SampleProject) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["cluster"].update(endpoint="public", authorized_cidrs=["203.0.113.0/24"])

    vpc_config = _one(_plan(sample, edit), "aws:eks/cluster:Cluster")["inputs"]["vpcConfig"]
    assert vpc_config["endpointPublicAccess"] is True
    assert vpc_config["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_node_pools_become_node_groups(sample: SampleProject) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["cluster"]["node_pools"] = [{"name": "general", "size": "xlarge", "min": 1, "max": 6}]

    (group,) = _of_type(_plan(sample, edit), "aws:eks/nodeGroup:NodeGroup")
    assert group["name"] == "aws-dev-general"
    assert group["inputs"]["instanceTypes"] == ["m6i.4xlarge"]
    assert (group["inputs"]["scalingConfig"]["minSize"], group["inputs"]["scalingConfig"]["maxSize"]) == (1, 6)


def test_secret_names_become_secrets(sample: SampleProject) -> None:
    document = _plan(sample, lambda d: d["secrets"].update(names=["stripe-key"], recovery_days=30))
    (secret,) = _of_type(document, "aws:secretsmanager/secret:Secret")
    assert secret["inputs"]["name"] == "aws-dev/stripe-key"
    assert secret["inputs"]["recoveryWindowInDays"] == 30


def test_optional_sections_can_be_left_out(sample: SampleProject) -> None:
    def edit(data: dict[str, Any]) -> None:
        for key in ("cluster", "secrets", "kubernetes"):
            data.pop(key)

    document = _plan(sample, edit)
    components = {r["type"] for r in document["resources"] if not r["custom"]}
    assert components == {"pulumi:pulumi:Stack", "terrane:aws:Network"}
    assert "kubeconfig" not in document["outputs"]


def test_gcp_secrets_deletion_protection_can_be_turned_off_for_a_destroy(sample: SampleProject) -> None:
    sample.edit_env("gcp-dev", lambda env: env["secrets"].update(deletion_protection=False))
    secrets = _of_type(plan(open_project(sample.root), "gcp-dev").to_dict(), "gcp:secretmanager/secret:Secret")
    assert secrets and all(secret["inputs"]["deletionProtection"] is False for secret in secrets)


def test_deletion_protection_is_refused_where_secrets_have_none(sample: SampleProject, cli) -> None:
    sample.edit_env("aws-dev", lambda env: env["secrets"].update(deletion_protection=False))
    result = cli("--project", sample.root, "plan", "aws-dev")
    assert result.code == 3
    assert "environments/aws-dev.yaml: secrets.deletion_protection: only GCP secrets have deletion protection" in (
        result.stderr)
