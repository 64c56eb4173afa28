"""An environment on an existing network, whose ids a Terraform state's outputs hold: spec, rules and program.

The aws, azure-native and gcp providers cannot run here, so the programs are rendered under the mock runtime,
as ``terrane plan`` renders them: a local state is read for real, and a state in a bucket, a storage account
or a remote workspace gives unknown outputs.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi_terraform import state as tfstate

from terrane.engine.errors import EngineError, SpecError
from terrane.engine.offline import fakes
from terrane.engine.offline.fakes import terraform as fake_terraform
from terrane.engine.offline.render import UNKNOWN, Plan, plan, render
from terrane.engine.project import open_project
from terrane.stacks import existing_network_rules, rules
from terrane.stacks.problem import Problem
from terrane.stacks.program import build_program
from terrane.stacks.spec.environments import Environment, ExistingNetworkSpec
from terrane.stacks.spec.terraform_state import (
    AzurermStateConfig,
    LocalState,
    LocalStateConfig,
    RemoteStateConfig,
    S3StateConfig,
)
from tests.helpers.existing_network import FIXTURES, OUTPUTS, environment, state_outputs, with_states
from tests.helpers.project import REPO, SampleProject

# What these tests add to each backend's settings: the identity the state is read with.
SIGN_IN = {"s3": {"role_arn": "arn:aws:iam::123456789012:role/state-reader"}, "azurerm": {"use_azuread_auth": True}}
# The output AWS maps only if asked: these tests map it, and one takes it away.
PUBLIC_SUBNETS = {"public_subnet_ids": "public_subnets"}
NETWORK_TYPES = {
    "terrane:aws:Network", "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway",
    "terrane:azure:Network", "azure-native:network:VirtualNetwork", "azure-native:network:Subnet",
    "azure-native:network:NatGateway", "terrane:gcp:Network", "gcp:compute/network:Network",
    "gcp:compute/subnetwork:Subnetwork", "gcp:compute/router:Router",
}


def existing_env(name: str, cloud: str, backend: str = "local", **network: Any) -> dict[str, Any]:
    """An environment on the sample states that maps every output its cloud has, read with ``SIGN_IN``'s identity."""
    env = environment(name, cloud, backend, **network)
    state = env["network"]["terraform_state"]
    state["config"].update(SIGN_IN.get(backend, {}))
    if cloud == "aws":
        state["outputs"].update(PUBLIC_SUBNETS)
    return env


@pytest.fixture
def project(sample: SampleProject) -> SampleProject:
    """The sample project, with the network team's states under network/."""
    return with_states(sample)


def planned(sample: SampleProject, env: dict[str, Any]) -> Plan:
    sample.write_env(env["name"], env)
    return plan(open_project(sample.root), env["name"])


def one(result: Plan, type_: str) -> dict[str, Any]:
    (found,) = [resource.inputs for resource in result.resources if resource.type == type_]
    return found


def components(result: Plan) -> set[str]:
    return {resource.type for resource in result.resources if not resource.custom}


# --- a local state: the plan holds its ids ------------------------------------------------------------------------


def test_eks_goes_in_the_private_subnets_of_a_local_state(project: SampleProject) -> None:
    ids = state_outputs("aws")
    result = planned(project, existing_env("aws-shared", "aws"))
    assert one(result, "aws:eks/cluster:Cluster")["vpcConfig"]["subnetIds"] == ids["private_subnets"]
    assert one(result, "aws:eks/nodeGroup:NodeGroup")["subnetIds"] == ids["private_subnets"]
    assert {key: result.outputs[key] for key in ("vpc_id", "private_subnet_ids", "public_subnet_ids")} == {
        "vpc_id": ids["vpc_id"], "private_subnet_ids": ids["private_subnets"], "public_subnet_ids": ids["public_subnets"],
    }
    assert not {resource.type for resource in result.resources} & NETWORK_TYPES
    assert {"terrane:aws:Cluster", "terrane:aws:SecretStore", "terrane:kubernetes:Bootstrap"} <= components(result)


def test_aks_and_the_vault_go_in_the_subnets_of_a_local_state(project: SampleProject) -> None:
    ids = state_outputs("azure")
    result = planned(project, existing_env("azure-shared", "azure"))
    aks = one(result, "azure-native:containerservice:ManagedCluster")
    assert aks["agentPoolProfiles"][0]["vnetSubnetID"] == ids["aks_subnet_id"]
    assert aks["resourceGroupName"] == "rg-azure-shared"
    assert one(result, "azure-native:network:PrivateEndpoint")["subnet"] == {"id": ids["private_endpoints_subnet_id"]}
    assert one(result, "azure-native:privatedns:VirtualNetworkLink")["virtualNetwork"] == {"id": ids["vnet_id"]}
    scopes = [r.inputs["scope"] for r in result.resources if r.type == "azure-native:authorization:RoleAssignment"]
    assert ids["aks_subnet_id"] in scopes  # the cluster's identity joins nodes to the other team's subnet
    assert {key: result.outputs[key] for key in ("vnet_id", "node_subnet_id", "resource_group_name")} == {
        "vnet_id": ids["vnet_id"], "node_subnet_id": ids["aks_subnet_id"], "resource_group_name": "rg-azure-shared",
    }
    assert not {resource.type for resource in result.resources} & NETWORK_TYPES
    assert {"terrane:azure:Cluster", "terrane:azure:SecretStore", "terrane:kubernetes:Bootstrap"} <= components(result)


def test_terrane_makes_its_own_resource_group_beside_an_existing_vnet(project: SampleProject) -> None:
    result = planned(project, existing_env("azure-shared", "azure"))
    (group,) = [resource for resource in result.resources if resource.type == "azure-native:resources:ResourceGroup"]
    assert group.inputs["resourceGroupName"] == "rg-azure-shared"
    assert group.inputs["tags"] == {"managed-by": "terrane", "terrane:environment": "azure-shared"}
    groups = {r.inputs["resourceGroupName"] for r in result.resources if "resourceGroupName" in r.inputs}
    assert groups == {"rg-azure-shared"}  # nothing goes in the network team's rg-network-prod


def test_on_azure_zones_and_nat_say_how_aks_uses_an_existing_vnet(project: SampleProject) -> None:
    default = one(planned(project, existing_env("azure-shared", "azure")),
                  "azure-native:containerservice:ManagedCluster")
    assert default["networkProfile"]["outboundType"] == "loadBalancer"
    assert default["agentPoolProfiles"][0]["availabilityZones"] == ["1", "2", "3"]
    spread = one(planned(project, existing_env("azure-shared", "azure", zones=2, nat="single")),
                 "azure-native:containerservice:ManagedCluster")
    assert spread["networkProfile"]["outboundType"] == "userAssignedNATGateway"
    assert spread["agentPoolProfiles"][0]["availabilityZones"] == ["1", "2"]


def test_gke_goes_in_the_subnetwork_and_ranges_of_a_local_state(project: SampleProject) -> None:
    ids = state_outputs("gcp")
    result = planned(project, existing_env("gcp-shared", "gcp", zones=2))
    gke = one(result, "gcp:container/cluster:Cluster")
    assert (gke["network"], gke["subnetwork"]) == (ids["network_self_link"], ids["subnetwork_self_link"])
    assert gke["ipAllocationPolicy"] == {"clusterSecondaryRangeName": "gke-pods",
                                         "servicesSecondaryRangeName": "gke-services"}
    assert len(gke["nodeLocations"]) == 2
    assert (result.outputs["network_id"], result.outputs["subnet_id"]) == (
        ids["network_self_link"], ids["subnetwork_self_link"])
    assert not {resource.type for resource in result.resources} & NETWORK_TYPES
    assert {"terrane:gcp:Cluster", "terrane:gcp:SecretStore", "terrane:kubernetes:Bootstrap"} <= components(result)


def test_without_public_subnets_mapped_none_are_exported(project: SampleProject) -> None:
    env = existing_env("aws-shared", "aws")
    del env["network"]["terraform_state"]["outputs"]["public_subnet_ids"]
    result = planned(project, env)
    assert "public_subnet_ids" not in result.outputs
    assert result.outputs["private_subnet_ids"] == state_outputs("aws")["private_subnets"]


# --- a state elsewhere: unknown offline ---------------------------------------------------------------------------


@pytest.mark.parametrize(("cloud", "backend", "subnets"), [
    ("aws", "s3", lambda result: one(result, "aws:eks/cluster:Cluster")["vpcConfig"]["subnetIds"]),
    ("aws", "remote", lambda result: one(result, "aws:eks/nodeGroup:NodeGroup")["subnetIds"]),
    ("azure", "azurerm", lambda result: one(result, "azure-native:containerservice:ManagedCluster")
     ["agentPoolProfiles"][0]["vnetSubnetID"]),
    ("gcp", "remote", lambda result: one(result, "gcp:container/cluster:Cluster")["subnetwork"]),
    ("gcp", "s3", lambda result: one(result, "gcp:container/cluster:Cluster")["ipAllocationPolicy"]
     ["clusterSecondaryRangeName"]),
])
def test_a_state_that_is_not_read_offline_gives_unknown_ids(project: SampleProject, cloud: str, backend: str,
                                                            subnets: Any) -> None:
    result = planned(project, existing_env(f"{cloud}-{backend}", cloud, backend))
    assert subnets(result) == UNKNOWN
    exported = {"aws": "private_subnet_ids", "azure": "node_subnet_id", "gcp": "subnet_id"}[cloud]
    assert result.outputs[exported] == UNKNOWN
    assert not {resource.type for resource in result.resources} & NETWORK_TYPES


def test_a_reference_gets_only_the_settings_the_spec_gives(project: SampleProject,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    answer = fakes._INVOKES[fake_terraform.S3]
    monkeypatch.setitem(fakes._INVOKES, fake_terraform.S3, lambda request: calls.append(dict(request.inputs))
                        or answer(request))
    planned(project, existing_env("aws-s3", "aws", "s3"))
    assert calls == [{"bucket": "tf-state", "key": "network/prod.tfstate", "region": "eu-west-1",
                      "roleArn": "arn:aws:iam::123456789012:role/state-reader"}]


@pytest.mark.parametrize(("config", "function"), [
    (S3StateConfig, tfstate.get_s3_reference_output),
    (AzurermStateConfig, tfstate.get_azure_rm_reference_output),
    (RemoteStateConfig, tfstate.get_remote_reference_output),
    (LocalStateConfig, tfstate.get_local_reference_output),
])
def test_each_backend_knows_every_setting_of_its_pulumi_terraform_function(config: Any, function: Any) -> None:
    settings = set(inspect.signature(function).parameters) - {"opts"}
    assert set(config.model_fields) == settings


def test_the_fake_answers_every_function_of_pulumi_terraform() -> None:
    functions = [function for name, function in vars(tfstate).items() if name.endswith("_reference_output")]
    tokens = {_invoked_token(function) for function in functions}
    assert len(functions) == 4
    assert tokens == set(fake_terraform.INVOKES) and tokens <= set(fakes._INVOKES)


def _invoked_token(function: Any) -> str:
    source = inspect.getsource(function)
    return source.split("invoke_output('", 1)[1].split("'", 1)[0]


# --- the program's own check, on the real engine ------------------------------------------------------------------


def test_the_program_fails_with_the_words_of_validation(project: SampleProject) -> None:
    """A state that changes after validation: the program, reading it itself, says what validation would."""
    sample = project
    sample.write_env("aws-shared", existing_env("aws-shared", "aws"))
    loaded = open_project(sample.root)
    env = loaded.environment("aws-shared")
    account = loaded.account_for(env)
    state_file = sample.root / "network" / "aws-network.tfstate"
    document = json.loads(state_file.read_text())
    del document["outputs"]["vpc_id"]
    document["outputs"]["private_subnets"]["value"] = []
    state_file.write_text(json.dumps(document))

    with pytest.raises(SpecError) as validation:
        open_project(sample.root).environment("aws-shared")
    with pytest.raises(EngineError) as program:
        render(build_program(env, account), project=loaded.pulumi_project, stack=env.name,
               account_id=account.scope_id, region=env.resolved_region(account))
    names = "azs, private_subnets, public_subnets, vpc_cidr_block"
    expected = [
        (f"environments/aws-shared.yaml: network.terraform_state.outputs.vpc_id: {state_file} has no output 'vpc_id' "
        f"(it has: {names})"),
        (f"environments/aws-shared.yaml: network.terraform_state.outputs.private_subnet_ids: output 'private_subnets' "
        f"of {state_file} must be a non-empty list of strings (the ids of the private subnets EKS puts its "
        "interfaces and nodes in)"),
    ]
    assert validation.value.problems == expected
    assert all(line in str(program.value) for line in expected)


# --- the spec ------------------------------------------------------------------------------------------------------


def test_a_local_path_is_relative_to_the_project(tmp_path: Path) -> None:
    env = Environment.model_validate(existing_env("aws-shared", "aws"))
    resolved = env.in_project(tmp_path, "environments/aws-shared.yaml")
    assert isinstance(resolved.network, ExistingNetworkSpec)
    assert isinstance(resolved.network.terraform_state, LocalState)
    assert resolved.network.terraform_state.config.path == str(tmp_path / "network" / "aws-network.tfstate")
    assert resolved.file == "environments/aws-shared.yaml"
    absolute = resolved.in_project(tmp_path / "elsewhere", "environments/aws-shared.yaml")
    assert absolute.network == resolved.network


def test_an_existing_network_survives_a_round_trip_through_json() -> None:
    env = Environment.model_validate(existing_env("azure-shared", "azure", zones=2, nat="single"))
    again = Environment.model_validate(json.loads(env.model_dump_json()))
    assert again == env
    assert again.existing_network is not None and again.new_network is None


def test_each_cloud_needs_its_own_outputs() -> None:
    for cloud in OUTPUTS:
        outputs = existing_env(f"{cloud}-shared", cloud)["network"]["terraform_state"]["outputs"]
        assert set(rules.NETWORK_OUTPUTS[cloud]) == set(outputs)
    document = existing_env("azure-plain", "azure")
    del document["network"]["terraform_state"]["outputs"]["endpoint_subnet_id"]
    problem = Problem("network.terraform_state.outputs.endpoint_subnet_id",
                      "is required with secrets: the Terraform output that holds the resource id of the subnet "
                      "the Key Vault's private endpoint goes in")
    assert existing_network_rules.network_outputs(Environment.model_validate(document), "azure") == [problem]
    document["secrets"] = None  # no vault: no private endpoint to place
    assert existing_network_rules.network_outputs(Environment.model_validate(document), "azure") == []


def test_the_sample_environments_still_make_their_networks() -> None:
    loaded = open_project(REPO)
    for name, component in (("aws-dev", "terrane:aws:Network"), ("azure-dev", "terrane:azure:Network"),
                            ("gcp-dev", "terrane:gcp:Network")):
        env = loaded.environment(name)
        assert env.new_network is not None and env.existing_network is None
        assert component in components(plan(loaded, name))


def test_fixture_states_hold_no_secret_material() -> None:
    for path in FIXTURES.glob("*-network.tfstate"):
        text = path.read_text()
        assert "AKIA" not in text and "PRIVATE KEY" not in text
        assert yaml.safe_load(text)["version"] == 4
