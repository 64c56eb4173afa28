"""``terrane plan`` of environments on an existing network (``network.terraform_state``), as a user and a script see
them: a local state's ids in the plan, unknown ids for a state read elsewhere, and every invalid spec refused with
exit 3, one line naming the file and field, and nothing written.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.existing_network import FIXTURES, environment, state_outputs, with_states
from tests.helpers.project import Result, SampleProject

STATE_PULL = "Terraform 0.12 and later write version 4: save one with `terraform state pull > FILE`"
A_SECRET = "sentinel-state-secret-5d1c"
AN_ACCESS_KEY = "sentinel-access-key-9e2f"
# Where the plan's JSON holds the subnet the cluster's nodes go in.
NODE_SUBNETS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "aws": lambda plan: _inputs(plan, "aws:eks/cluster:Cluster")["vpcConfig"]["subnetIds"],
    "azure": lambda plan: _inputs(plan, "azure-native:containerservice:ManagedCluster")["agentPoolProfiles"][0]
    ["vnetSubnetID"],
    "gcp": lambda plan: _inputs(plan, "gcp:container/cluster:Cluster")["subnetwork"],
}
STATE_IDS = {"aws": "private_subnets", "azure": "aks_subnet_id", "gcp": "subnetwork_self_link"}
NEW_NETWORK_TYPES = {"aws": "aws:ec2/vpc:Vpc", "azure": "azure-native:network:VirtualNetwork",
                     "gcp": "gcp:compute/network:Network"}


def _inputs(plan: dict[str, Any], type_: str) -> dict[str, Any]:
    (found,) = [resource["inputs"] for resource in plan["resources"] if resource["type"] == type_]
    return found


def _env(name: str, cloud: str, backend: str = "local") -> dict[str, Any]:
    """An environment on the sample states; a state in a storage account is read with a managed identity."""
    env = environment(name, cloud, backend)
    if backend == "azurerm":
        env["network"]["terraform_state"]["config"]["use_msi"] = True
    return env


@pytest.fixture
def project(sample: SampleProject) -> SampleProject:
    return with_states(sample)


def _files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_the_plan_puts_the_cluster_in_the_subnets_of_a_local_state(project: SampleProject, cli, cloud: str) -> None:
    name = f"{cloud}-shared"
    project.write_env(name, _env(name, cloud))
    result = cli("--project", project.root, "plan", name, "--json")
    assert result.code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert NODE_SUBNETS[cloud](plan) == state_outputs(cloud)[STATE_IDS[cloud]]
    types = {resource["type"] for resource in plan["resources"]}
    assert f"terrane:{cloud}:Network" not in types and NEW_NETWORK_TYPES[cloud] not in types
    assert {f"terrane:{cloud}:Cluster", f"terrane:{cloud}:SecretStore", "terrane:kubernetes:Bootstrap"} <= types


@pytest.mark.parametrize(("cloud", "backend"), [("aws", "s3"), ("azure", "azurerm"), ("gcp", "remote")])
def test_a_state_read_elsewhere_shows_unknown_ids(project: SampleProject, cli, cloud: str, backend: str) -> None:
    name = f"{cloud}-{backend}"
    project.write_env(name, _env(name, cloud, backend))
    result = cli("--project", project.root, "plan", name, "--json")
    assert result.code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert NODE_SUBNETS[cloud](plan) == "[unknown]"
    types = {resource["type"] for resource in plan["resources"]}
    assert f"terrane:{cloud}:Network" not in types and f"terrane:{cloud}:SecretStore" in types


def test_the_human_plan_shows_the_ids_it_read(project: SampleProject, cli) -> None:
    project.write_env("aws-shared", _env("aws-shared", "aws"))
    result = cli("--project", project.root, "plan", "aws-shared")
    assert result.code == 0, result.stderr
    ids = state_outputs("aws")
    assert f"  vpc_id: {ids['vpc_id']}" in result.stdout.splitlines()
    assert f"  private_subnet_ids: [{', '.join(ids['private_subnets'])}]" in result.stdout.splitlines()


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(env: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = env
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value

    return edit


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def edit(env: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = env
        for key in parents:
            node = node[key]
        del node[last]

    return edit


STATE = "network.terraform_state"
AWS_KEYS = "vpc_id, private_subnet_ids and public_subnet_ids"
AWS_NOT_SAVED = ("credentials never go in an environment file (the value was not saved or shown): the state is read "
                 "with the AWS credentials terrane's run has; choose the identity with role_arn (and external_id) or "
                 "profile")
AZURE_NOT_SAVED = ("credentials never go in an environment file (the value was not saved or shown): the state is read "
                   "with Microsoft Entra ID: use_azuread_auth with the Azure CLI's login, use_msi (a managed identity) "
                   "or use_oidc with oidc_token_file_path")

# case: (cloud, backend, edit, the one line expected after "error: environments/<env>.yaml: ")
CASES: dict[str, tuple[str, str, Callable[[dict[str, Any]], None], str]] = {
    "missing output": (
        "aws", "local", _delete(f"{STATE}.outputs.private_subnet_ids"),
        (f"{STATE}.outputs.private_subnet_ids: is required: the Terraform output that holds the ids of the private "
        "subnets EKS puts its interfaces and nodes in"),
    ),
    "missing output with secrets": (
        "azure", "azurerm", _delete(f"{STATE}.outputs.endpoint_subnet_id"),
        (f"{STATE}.outputs.endpoint_subnet_id: is required with secrets: the Terraform output that holds the resource "
        "id of the subnet the Key Vault's private endpoint goes in"),
    ),
    "unknown output": (
        "aws", "s3", _set(f"{STATE}.outputs.subnet_ids", "private_subnets"),
        f"{STATE}.outputs.subnet_ids: an existing network on AWS maps only {AWS_KEYS}",
    ),
    "output of another cloud": (
        "gcp", "remote", _set(f"{STATE}.outputs.vpc_id", "vpc_id"),
        (f"{STATE}.outputs.vpc_id: an existing network on GCP maps only network, subnetwork, pods_range_name and "
        "services_range_name"),
    ),
    "not an output name": (
        "aws", "local", _set(f"{STATE}.outputs.vpc_id", "module.vpc.vpc_id"),
        (f"{STATE}.outputs.vpc_id: must be a Terraform output's name: letters, digits, '_' and '-', starting with a "
        "letter or '_'"),
    ),
    "gcs": (
        "gcp", "remote", _set(f"{STATE}.backend", "gcs"),
        (f"{STATE}.backend: pulumi-terraform cannot read gcs state yet (pulumi/pulumi-terraform#784): save it with "
        "`terraform state pull > FILE` and use backend: local, or keep it in an HCP Terraform workspace and use "
        "backend: remote"),
    ),
    "unknown backend": (
        "aws", "s3", _set(f"{STATE}.backend", "consul"), f"{STATE}.backend: must be one of s3, azurerm, remote, local",
    ),
    "no backend": ("aws", "s3", _delete(f"{STATE}.backend"), f"{STATE}.backend: is required"),
    "not a mapping": (
        "aws", "s3", _set(STATE, "s3://tf-state/network.tfstate"),
        f"{STATE}: must be a mapping of backend, config and outputs",
    ),
    "s3 secret key": ("aws", "s3", _set(f"{STATE}.config.secret_key", A_SECRET),
                      f"{STATE}.config.secret_key: {AWS_NOT_SAVED}"),
    "s3 access key": ("aws", "s3", _set(f"{STATE}.config.access_key", AN_ACCESS_KEY),
                      f"{STATE}.config.access_key: {AWS_NOT_SAVED}"),
    "s3 session token": ("aws", "s3", _set(f"{STATE}.config.token", A_SECRET),
                         f"{STATE}.config.token: {AWS_NOT_SAVED}"),
    "s3 sse key": ("aws", "s3", _set(f"{STATE}.config.sse_customer_key", A_SECRET),
                   f"{STATE}.config.sse_customer_key: {AWS_NOT_SAVED}"),
    "azurerm sas token": ("azure", "azurerm", _set(f"{STATE}.config.sas_token", A_SECRET),
                          f"{STATE}.config.sas_token: {AZURE_NOT_SAVED}"),
    "azurerm client secret": ("azure", "azurerm", _set(f"{STATE}.config.client_secret", A_SECRET),
                              f"{STATE}.config.client_secret: {AZURE_NOT_SAVED}"),
    "azurerm access key": ("azure", "azurerm", _set(f"{STATE}.config.access_key", A_SECRET),
                           f"{STATE}.config.access_key: {AZURE_NOT_SAVED}"),
    "remote token": (
        "gcp", "remote", _set(f"{STATE}.config.token", A_SECRET),
        (f"{STATE}.config.token: credentials never go in an environment file (the value was not saved or shown): the "
        "token is read from the Terraform CLI's credentials file, which `terraform login` writes "
        "(~/.terraform.d/credentials.tfrc.json)"),
    ),
    "remote prefix": (
        "gcp", "remote", _set(f"{STATE}.config.workspaces", {"name": "network-prod", "prefix": "network-"}),
        f"{STATE}.config.workspaces.prefix: pulumi-terraform reads one workspace, by its full name: set name instead",
    ),
    "unknown setting": ("aws", "s3", _set(f"{STATE}.config.bucket_name", "tf-state"),
                        f"{STATE}.config.bucket_name: unknown field"),
    "missing setting": ("aws", "s3", _delete(f"{STATE}.config.region"), f"{STATE}.config.region: is required"),
    "local workspace dir": (
        "aws", "local", _set(f"{STATE}.config.workspace_dir", "terraform.tfstate.d"),
        (f"{STATE}.config.workspace_dir: pulumi-terraform reads the default workspace, which is path itself: name that "
        "workspace's state file in path instead"),
    ),
    "cidr": ("aws", "s3", _set("network.cidr", "10.20.0.0/16"),
             "network.cidr: an existing network has its own ranges: remove cidr, or terraform_state for a new network"),
    "flow logs": ("azure", "azurerm", _set("network.flow_logs", True),
                  ("network.flow_logs: an existing network's flow logs are its owner's: remove flow_logs, or "
                  "terraform_state for a new network")),
    "zones on aws": ("aws", "s3", _set("network.zones", 2),
                     ("network.zones: an existing network on AWS has its own zones (EKS uses the subnets' zones): "
                     "remove zones")),
    "nat on gcp": ("gcp", "remote", _set("network.nat", "single"),
                   "network.nat: an existing network on GCP has its own Cloud NAT, or none: remove nat"),
    "pod range on gcp": (
        "gcp", "remote", _set("cluster.pod_cidr", "100.64.0.0/14"),
        ("cluster.pod_cidr: on an existing GCP network, pods get the subnetwork's secondary range that "
        f"{STATE}.outputs.pods_range_name names: remove pod_cidr"),
    ),
}


def _assert_refused(result: Result, expected: str) -> None:
    assert result.code == 3, result
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"error: {expected}"]


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_an_invalid_existing_network_is_refused_before_anything_runs(project: SampleProject, cli, case: str) -> None:
    cloud, backend, edit, expected = CASES[case]
    name = f"{cloud}-shared"
    env = _env(name, cloud, backend)
    edit(env)
    project.write_env(name, env)
    before = _files(project.root)
    result = cli("--project", project.root, "plan", name, "--json")
    _assert_refused(result, f"environments/{name}.yaml: {expected}")
    assert A_SECRET not in result.stderr and AN_ACCESS_KEY not in result.stderr
    assert _files(project.root) == before


def _planned_with(project: SampleProject, cli, setting: str, value: str, *flags: str) -> Result:
    """``terrane plan`` of aws-shared on its local state with one setting changed; it writes nothing."""
    env = _env("aws-shared", "aws")
    _set(f"{STATE}.{setting}", value)(env)
    project.write_env("aws-shared", env)
    before = _files(project.root)
    result = cli("--project", project.root, "plan", "aws-shared", *flags)
    assert _files(project.root) == before
    return result


def test_a_missing_local_state_is_refused_at_plan_time(project: SampleProject, cli) -> None:
    result = _planned_with(project, cli, "config.path", "network/gone.tfstate", "--json")
    missing = project.root / "network" / "gone.tfstate"
    _assert_refused(result, f"environments/aws-shared.yaml: {STATE}.config.path: {missing}: no such file; {STATE_PULL}")


def test_a_local_state_without_a_mapped_output_is_refused_at_plan_time(project: SampleProject, cli) -> None:
    result = _planned_with(project, cli, "outputs.vpc_id", "vpc", "--json")
    state = project.root / "network" / "aws-network.tfstate"
    _assert_refused(result, f"environments/aws-shared.yaml: {STATE}.outputs.vpc_id: {state} has no output 'vpc' "
                            "(it has: azs, private_subnets, public_subnets, vpc_cidr_block, vpc_id)")


def test_a_local_output_of_the_wrong_shape_is_refused(project: SampleProject, cli) -> None:
    result = _planned_with(project, cli, "outputs.private_subnet_ids", "vpc_id")
    state = project.root / "network" / "aws-network.tfstate"
    _assert_refused(result, f"environments/aws-shared.yaml: {STATE}.outputs.private_subnet_ids: output 'vpc_id' of "
                            f"{state} must be a non-empty list of strings (the ids of the private subnets EKS puts "
                            "its interfaces and nodes in)")
    assert "vpc-0f3c9a7d2b1e48a56" not in result.stderr  # the value itself is never shown


def test_a_local_state_that_is_not_a_file_is_never_read(project: SampleProject, cli) -> None:
    result = _planned_with(project, cli, "config.path", "network")
    _assert_refused(result, f"environments/aws-shared.yaml: {STATE}.config.path: {project.root / 'network'} is not "
                            "a file; a Terraform state is one (`terraform state pull > FILE`)")


def test_a_local_state_that_is_not_a_state_is_refused(project: SampleProject, cli) -> None:
    result = _planned_with(project, cli, "config.path", "accounts.yaml")
    assert result.code == 3
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: environments/aws-shared.yaml: {STATE}.config.path: {project.root / 'accounts.yaml'}: "
                           "line 1, column 1: not JSON")


def test_an_absolute_local_path_is_read_where_it_is(project: SampleProject, cli, tmp_path: Path) -> None:
    elsewhere = tmp_path / "states" / "prod.tfstate"
    elsewhere.parent.mkdir()
    shutil.copy(FIXTURES / "gcp-network.tfstate", elsewhere)
    env = _env("gcp-shared", "gcp")
    env["network"]["terraform_state"]["config"]["path"] = str(elsewhere)
    project.write_env("gcp-shared", env)
    result = cli("--project", project.root, "plan", "gcp-shared", "--json")
    assert result.code == 0, result.stderr
    assert NODE_SUBNETS["gcp"](json.loads(result.stdout)) == state_outputs("gcp")["subnetwork_self_link"]


def test_validate_reports_the_same_problems(project: SampleProject, cli) -> None:
    env = _env("aws-shared", "aws")
    env["network"]["terraform_state"]["outputs"]["vpc_id"] = "vpc"
    project.write_env("aws-shared", env)
    result = cli("--project", project.root, "envs", "validate", "aws-shared")
    state = project.root / "network" / "aws-network.tfstate"
    assert result.code == 3
    assert f"environments/aws-shared.yaml: {STATE}.outputs.vpc_id: {state} has no output 'vpc'" in result.stderr


def test_every_problem_of_an_existing_network_is_reported_at_once(project: SampleProject, cli) -> None:
    env = _env("aws-shared", "aws", "s3")
    env["network"]["terraform_state"]["outputs"] = {"vpc": "vpc_id"}
    env["network"]["zones"] = 2
    project.write_env("aws-shared", env)
    result = cli("--project", project.root, "plan", "aws-shared")
    assert result.code == 3
    prefix = "error: environments/aws-shared.yaml: "
    assert sorted(result.stderr.splitlines()) == sorted([
        f"{prefix}{STATE}.outputs.vpc: an existing network on AWS maps only {AWS_KEYS}",
        f"{prefix}{STATE}.outputs.vpc_id: is required: the Terraform output that holds the VPC's id",
        (f"{prefix}{STATE}.outputs.private_subnet_ids: is required: the Terraform output that holds the ids of the "
        "private subnets EKS puts its interfaces and nodes in"),
        (f"{prefix}network.zones: an existing network on AWS has its own zones (EKS uses the subnets' zones): remove "
        "zones"),
    ])
