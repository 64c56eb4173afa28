"""``terrane plan``: the sample environments, rendered offline, as a user and a script see them."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

import pytest
import yaml

from terrane.engine.api import Engine
from terrane.engine.cli import main
from terrane.engine.offline.render import SECRET, Plan, plan, render
from terrane.engine.project import open_project
from terrane.stacks.layout import MACHINE_TYPES
from tests.helpers.project import REPO, Result, SampleProject

COMPONENTS = {"terrane:aws:Network", "terrane:aws:Cluster", "terrane:aws:SecretStore", "terrane:kubernetes:Bootstrap"}
ENVIRONMENTS = ("aws-dev", "azure-dev", "gcp-dev")


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    project = open_project(REPO)
    return {name: plan(project, name).to_dict() for name in ENVIRONMENTS}


@pytest.fixture(scope="module")
def document(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return documents["aws-dev"]


@pytest.fixture(scope="module")
def human() -> Result:
    """``terrane plan --all``, as a user reads it."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--project", str(REPO), "plan", "--all"])
    return Result(code, out.getvalue(), err.getvalue())


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
        assert list(resource) == ["urn", "type", "name", "parent", "provider", "custom", "inputs", "depends_on",
                                 "import_id"]
        assert resource["import_id"] is None  # nothing to adopt: no imports/aws-dev.json


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
    custom_aws = [r for r in document["resources"] if r["custom"] and r["type"].startswith("aws:")]
    assert {r["provider"] for r in custom_aws} == {provider["urn"]}


def test_provider_settings_are_values_not_json_strings(documents: dict[str, dict[str, Any]]) -> None:
    # The SDK hands the engine a provider's structured settings JSON-encoded; the plan shows them decoded.
    aws = _one(documents["aws-dev"], "pulumi:providers:aws")["inputs"]
    assert aws["allowedAccountIds"] == ["123456789012"]
    assert aws["assumeRoles"] == [
        {"roleArn": "arn:aws:iam::123456789012:role/terrane-provisioner", "sessionName": "terrane"}
    ]
    tags = _spec("aws-dev")["tags"]
    assert aws["defaultTags"] == {"tags": {**tags, "terrane:environment": "aws-dev", "managed-by": "terrane"}}
    assert aws["skipCredentialsValidation"] == "false", "only JSON objects and arrays are decoded"
    gcp = _one(documents["gcp-dev"], "pulumi:providers:gcp")["inputs"]
    assert gcp["defaultLabels"]["team"] == _spec("gcp-dev")["tags"]["team"]
    azure = _one(documents["azure-dev"], "pulumi:providers:azure-native")["inputs"]
    assert azure["clientId"] == SECRET
    for name in ENVIRONMENTS:
        k8s = _one(documents[name], "pulumi:providers:kubernetes")["inputs"]
        assert k8s["kubeconfig"] == SECRET


# --- the human plan ----------------------------------------------------------------------------


def _spec(name: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / "environments" / f"{name}.yaml").read_text())


def _section(stdout: str, env: str) -> str:
    """One environment's part of a plan of several: from its header to the next one."""
    (part,) = re.findall(rf"^{env}: .*?(?=^\S+: \w+, account |\Z)", stdout, re.MULTILINE | re.DOTALL)
    return part


def _settings(stdout: str, name: str, type_: str) -> list[str]:
    """The settings listed under resource ``name`` of ``type_`` in a human plan."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if re.search(rf"── {re.escape(name)} {re.escape(type_)}( \(|$)", line))
    settings = []
    for line in lines[start + 1:]:
        if "── " in line or not line.strip(" │"):
            break
        settings.append(line.strip(" │"))
    return settings


def _pools(name: str) -> list[dict[str, Any]]:
    return _spec(name)["cluster"]["node_pools"]


def test_human_plan_of_aws_shows_the_network_and_node_groups(human: Result) -> None:
    assert human.code == 0, human.stderr
    assert f"cidrBlock: {_spec('aws-dev')['network']['cidr']}" in _settings(human.stdout, "aws-dev-vpc", "aws:ec2/vpc:Vpc")
    subnet = _settings(human.stdout, "aws-dev-private-0", "aws:ec2/subnet:Subnet")
    assert "availabilityZone: us-east-1a" in subnet
    for pool in _pools("aws-dev"):
        group = _settings(human.stdout, f"aws-dev-{pool['name']}", "aws:eks/nodeGroup:NodeGroup")
        assert group[:3] == [
            f"instanceTypes: [{MACHINE_TYPES['aws'][pool['size']]}]",
            f"scalingConfig.minSize: {pool['min']}",
            f"scalingConfig.maxSize: {pool['max']}",
        ]
    eks = _settings(human.stdout, "aws-dev-eks", "aws:eks/cluster:Cluster")
    assert {'version: "1.31"', "vpcConfig.endpointPrivateAccess: true", "vpcConfig.endpointPublicAccess: false",
            "deletionProtection: true"} <= set(eks)
    assert any(line.startswith('encryptionConfig: {provider: {keyArn: "arn:aws:kms:') for line in eks)
    assert "retentionInDays: 365" in _settings(human.stdout, "aws-dev-flow-logs", "aws:cloudwatch/logGroup:LogGroup")


def test_human_plan_of_azure_shows_the_vnet_and_node_pools(human: Result) -> None:
    cidr = _spec("azure-dev")["network"]["cidr"]
    assert f"addressSpace.addressPrefixes: [{cidr}]" in _settings(
        human.stdout, "azure-dev-vnet", "azure-native:network:VirtualNetwork")
    system, batch = _pools("azure-dev")
    # The system pool is part of the cluster; the others are pools of their own.
    aks = _settings(human.stdout, "azure-dev-aks", "azure-native:containerservice:ManagedCluster")
    assert {f"agentPoolProfiles[0].vmSize: {MACHINE_TYPES['azure'][system['size']]}",
            f"agentPoolProfiles[0].minCount: {system['min']}", f"agentPoolProfiles[0].maxCount: {system['max']}",
            'kubernetesVersion: "1.31"', "apiServerAccessProfile.enablePrivateCluster: true"} <= set(aks)
    pool = _settings(human.stdout, f"azure-dev-{batch['name']}", "azure-native:containerservice:AgentPool")
    assert {f"vmSize: {MACHINE_TYPES['azure'][batch['size']]}", f"minCount: {batch['min']}",
            f"maxCount: {batch['max']}", 'availabilityZones: ["1", "2", "3"]'} <= set(pool)
    vault = _settings(human.stdout, "azure-dev-vault", "azure-native:keyvault:Vault")
    assert {"properties.publicNetworkAccess: Disabled", "properties.enablePurgeProtection: true"} <= set(vault)


def test_human_plan_of_gcp_shows_the_subnet_and_node_pools(human: Result) -> None:
    cidr = _spec("gcp-dev")["network"]["cidr"]
    assert f"ipCidrRange: {cidr}" in _settings(human.stdout, "gcp-dev-subnet", "gcp:compute/subnetwork:Subnetwork")
    for pool in _pools("gcp-dev"):
        settings = _settings(human.stdout, f"gcp-dev-{pool['name']}", "gcp:container/nodePool:NodePool")
        assert settings[:3] == [
            f"nodeConfig.machineType: {MACHINE_TYPES['gcp'][pool['size']]}",
            f"autoscaling.totalMinNodeCount: {pool['min']}",
            f"autoscaling.totalMaxNodeCount: {pool['max']}",
        ]
    gke = _settings(human.stdout, "gcp-dev-gke", "gcp:container/cluster:Cluster")
    assert {'minMasterVersion: "1.31"', "privateClusterConfig.enablePrivateEndpoint: true",
            "nodeLocations: [europe-west1-b, europe-west1-c, europe-west1-d]"} <= set(gke)
    # The region is in the header: a location that repeats it is left out.
    assert not any(line.startswith("location:") for line in gke)


def test_human_plan_has_no_python_reprs(human: Result) -> None:
    assert not re.search(r"\b(True|False|None)\b|\{'|\['|'\]|'\}", human.stdout)
    assert "namespaces: [apps, observability]" in human.stdout
    assert "tags: {Name: aws-dev-vpc}" in human.stdout
    # ARNs hold ":secret:", which a terminal renderer must not turn into an emoji.
    assert ":secret:aws-dev/db-password-" in human.stdout


def test_human_plan_groups_resources_by_component_in_build_order(human: Result,
                                                                 documents: dict[str, dict[str, Any]]) -> None:
    for name, document in documents.items():
        section = _section(human.stdout, name)
        cloud = document["cloud"]
        tokens = [f"terrane:{cloud}:Network", f"terrane:{cloud}:Cluster", f"terrane:{cloud}:SecretStore",
                  "terrane:kubernetes:Bootstrap"]
        shown = re.findall(rf"^[├└]── {name} (terrane:\S+) \(component, \d+ resources?\)$", section, re.MULTILINE)
        assert shown == tokens
        # The stack and the providers are named; of a provider's settings, only the tags it puts on everything show.
        assert re.search(rf"^├── terrane-{name} pulumi:pulumi:Stack \(the stack\)$", section, re.MULTILINE)
        assert _settings(section, f"terrane-{name}", "pulumi:pulumi:Stack") == []
        assert _settings(section, f"{name}-k8s", "pulumi:providers:kubernetes") == []
        (account,) = [r for r in document["resources"] if r["name"] == document["account"]]
        for line in _settings(section, account["name"], account["type"]):
            assert re.match(r"default(Tags|Labels): \{", line), line
    assert _settings(human.stdout, "aws-sandbox", "pulumi:providers:aws") == [
        'defaultTags: {tags: {cost-center: "1234", managed-by: terrane, team: platform, "terrane:environment": aws-dev}}'
    ]


def test_counts_say_what_they_count(human: Result, documents: dict[str, dict[str, Any]]) -> None:
    for name, document in documents.items():
        resources = document["resources"]
        providers = [r for r in resources if r["type"].startswith("pulumi:providers:")]
        components = [r for r in resources if not r["custom"] and r["type"] != "pulumi:pulumi:Stack"]
        cloud = [r for r in resources if r["custom"] and r not in providers]
        assert len(resources) == len(cloud) + len(providers) + len(components) + 1
        section = _section(human.stdout, name)
        assert (f"{name}: {len(cloud)} resources in {len(components)} components "
                f"(plus {len(providers)} providers and the stack).") in section
        table = re.findall(r"^(\S+:\S+) +(\d+) *$", section.split("RESOURCE TYPE")[1], re.MULTILINE)
        assert {type_: int(count) for type_, count in table} == Counter(r["type"] for r in cloud)
        in_components = re.findall(r"^[├└]── .* \(component, (\d+) resources?\)$", section, re.MULTILINE)
        assert sum(int(count) for count in in_components) == len(cloud)


def test_human_plan_masks_secrets_and_says_it_is_offline(human: Result) -> None:
    for name in ENVIRONMENTS:
        assert "  kubeconfig: [secret]" in _section(human.stdout, name)
    assert human.stderr.count("nothing was read from or sent to a cloud") == 1


SECRET_VALUE = "plan-secret-value-5a1e"


def _program_with_secrets() -> None:
    import pulumi
    import pulumi_aws as aws

    class Box(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            super().__init__("test:index:Box", name)
            aws.ec2.Vpc(f"{name}-vpc", cidr_block="10.0.0.0/16", tags={"owner": pulumi.Output.secret(SECRET_VALUE)},
                        opts=pulumi.ResourceOptions(parent=self))

    Box("box")
    pulumi.export("token", pulumi.Output.secret(SECRET_VALUE))


def test_a_secret_input_or_output_never_appears(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    rendered = render(_program_with_secrets, project="terrane", stack="box")
    boxed = Plan(environment="box", cloud="aws", account="aws-sandbox", region="us-east-1",
                 resources=rendered.resources, outputs=rendered.outputs)
    monkeypatch.setattr(Engine, "plans", lambda self, *names, all=False: [boxed])

    result = cli("--project", REPO, "plan", "aws-dev")
    assert result.code == 0, result.stderr
    assert SECRET_VALUE not in result.stdout + result.stderr
    assert _settings(result.stdout, "box-vpc", "aws:ec2/vpc:Vpc") == [
        "cidrBlock: 10.0.0.0/16", "tags: {owner: [secret]}"]
    assert "  token: [secret]" in result.stdout
    assert "box: 1 resource in 1 component (plus the stack)." in result.stdout


def test_a_provider_setting_that_holds_a_secret_stays_masked(sample: SampleProject, cli) -> None:
    accounts = sample.load_accounts()
    accounts["accounts"]["aws-sandbox"]["auth"]["assume_role"]["external_id"] = SECRET_VALUE
    sample.write_accounts(accounts)
    human = cli("--project", sample.root, "plan", "aws-dev")
    result = cli("--project", sample.root, "plan", "aws-dev", "--json")
    assert (human.code, result.code) == (0, 0)
    assert SECRET_VALUE not in human.stdout + human.stderr + result.stdout + result.stderr
    provider = _one(json.loads(result.stdout), "pulumi:providers:aws")["inputs"]
    assert provider["assumeRoles"] == SECRET
    assert provider["allowedAccountIds"] == [accounts["accounts"]["aws-sandbox"]["account_id"]]


# --- several environments ---------------------------------------------------------------------


def test_several_environments_print_a_json_array_in_name_order(cli, documents: dict[str, dict[str, Any]]) -> None:
    result = cli("--project", REPO, "plan", "gcp-dev", "aws-dev", "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == [documents["aws-dev"], documents["gcp-dev"]]


def test_all_plans_every_environment(cli, human: Result, documents: dict[str, dict[str, Any]]) -> None:
    result = cli("--project", REPO, "plan", "--all", "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == [documents[name] for name in open_project(REPO).environment_names()]
    headers = re.findall(r"^(\S+): \w+, account \S+, region \S+$", human.stdout, re.MULTILINE)
    assert headers == list(ENVIRONMENTS)


def test_an_invalid_environment_among_several_stops_them_all(sample: SampleProject, cli) -> None:
    sample.edit_env("gcp-dev", lambda env: env["network"].update(zones=5))
    for args in (["aws-dev", "gcp-dev"], ["aws-dev", "gcp-dev", "--json"], ["--all"], ["--all", "--json"]):
        result = cli("--project", sample.root, "plan", *args)
        assert (result.code, result.stdout) == (3, ""), args
        (line,) = result.stderr.splitlines()
        assert line.startswith("error: environments/gcp-dev.yaml: network.zones: "), args


def test_all_with_no_environments(sample: SampleProject, cli) -> None:
    for path in (sample.root / "environments").glob("*.yaml"):
        path.unlink()
    result = cli("--project", sample.root, "plan", "--all")
    assert (result.code, result.stdout) == (0, "")
    assert "no environments" in result.stderr
    result = cli("--project", sample.root, "plan", "--all", "--json")
    assert (result.code, json.loads(result.stdout)) == (0, [])


def test_plan_needs_environments_named_or_all(cli) -> None:
    assert cli("--project", REPO, "plan").code == 3
    assert cli("--project", REPO, "plan", "aws-dev", "--all").code == 3


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


def _objects(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value, *(inner for item in value.values() for inner in _objects(item))]
    if isinstance(value, list):
        return [inner for item in value for inner in _objects(item)]
    return []


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_inputs_are_in_the_order_of_their_names_whatever_resolved_first(
        documents: dict[str, dict[str, Any]], name: str) -> None:
    """Two plans of one spec are the same bytes: a script may diff them (the mocks resolve inputs in any order)."""
    inputs = [resource["inputs"] for resource in documents[name]["resources"]]
    objects = [found for value in inputs for found in _objects(value)]
    assert len(objects) > 50
    assert all(list(found) == sorted(found) for found in objects)
