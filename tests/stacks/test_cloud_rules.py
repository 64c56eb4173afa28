"""What each cloud refuses when the resources are made, refused before anything runs (stacks.rules and its modules).

Each test edits a sample environment of the repository and checks the problems ``rules.check`` finds on its
account's cloud: the limit itself, and the value just inside it.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pytest
import yaml

from terrane.engine.project import open_project
from terrane.stacks import rules
from terrane.stacks.problem import Problem
from terrane.stacks.spec.accounts import Account
from terrane.stacks.spec.environments import Environment
from tests.helpers.project import REPO

SAMPLES = {"aws": "aws-dev", "azure": "azure-dev", "gcp": "gcp-dev"}


@cache
def _sample(name: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / "environments" / f"{name}.yaml").read_text())


@cache
def _account(name: str) -> Account:
    return open_project(REPO).accounts[name]


def _problems(cloud: str, **fields: Any) -> list[Problem]:
    """The problems of the cloud's sample environment with ``fields`` set (``cluster__pod_cidr`` is cluster.pod_cidr)."""
    data = copy.deepcopy(_sample(SAMPLES[cloud]))
    for path, value in fields.items():
        *parents, last = path.split("__")
        node = data
        for key in parents:
            node = node[key]
        node[last] = value
    env = Environment.model_validate(data)
    return rules.check(env, _account(env.account))


def _pools(*maxima: int, least: int = 1) -> list[dict[str, Any]]:
    return [{"name": f"pool{index}", "min": least, "max": most} for index, most in enumerate(maxima)]


@pytest.mark.parametrize("cloud", SAMPLES)
def test_the_samples_break_no_rule(cloud: str) -> None:
    assert _problems(cloud) == []


def test_eks_needs_two_zones() -> None:
    assert _problems("aws", network__zones=1) == [
        Problem("network.zones", "EKS needs control-plane subnets in at least 2 availability zones, got 1")]
    assert _problems("aws", network__zones=2) == []


@pytest.mark.parametrize("cloud", ["azure", "gcp"])
def test_one_zone_is_enough_elsewhere(cloud: str) -> None:
    assert _problems(cloud, network__zones=1) == []


def test_one_zone_is_enough_for_a_network_without_a_cluster() -> None:
    data = copy.deepcopy(_sample("aws-dev"))
    for section in ("cluster", "kubernetes"):
        del data[section]
    data["network"]["zones"] = 1
    assert rules.check(Environment.model_validate(data), _account("aws-sandbox")) == []


def test_an_existing_aws_network_needs_two_subnets_for_eks() -> None:
    data = {**copy.deepcopy(_sample("aws-dev")), "network": {"terraform_state": {
        "backend": "s3", "config": {"bucket": "b", "key": "k", "region": "us-east-1"},
        "outputs": {"vpc_id": "vpc", "private_subnet_ids": "private"}}}}
    env = Environment.model_validate(data)
    outputs = {"vpc": "vpc-1", "private": ["subnet-1", "subnet-1"]}
    [problem] = rules.terraform_output_problems(env, "aws", outputs)
    assert problem.path == "network.terraform_state.outputs.private_subnet_ids"
    assert problem.message.endswith("names 1 subnet(s): EKS needs control-plane subnets in at least 2 availability zones")
    assert rules.terraform_output_problems(env, "aws", {**outputs, "private": ["subnet-1", "subnet-2"]}) == []


@pytest.mark.parametrize(("cloud", "too_large", "largest", "smallest", "too_small"), [
    ("aws", "10.64.0.0/11", "10.96.0.0/12", "172.20.0.0/24", "172.20.0.0/25"),
    ("azure", "10.64.0.0/11", "10.96.0.0/12", "172.20.0.0/28", "172.20.0.0/29"),
    ("gcp", "10.64.0.0/15", "10.64.0.0/16", "172.20.0.0/27", "172.20.0.0/28"),
])
def test_each_cloud_takes_its_own_service_range_sizes(
    cloud: str, too_large: str, largest: str, smallest: str, too_small: str
) -> None:
    for cidr in (too_large, too_small):
        [problem] = _problems(cloud, cluster__service_cidr=cidr)
        assert (problem.path, problem.message.split(":")[0]) == ("cluster.service_cidr", cidr)
    for cidr in (largest, smallest):
        assert _problems(cloud, cluster__service_cidr=cidr) == []


def test_gke_service_range_is_checked_only_on_a_network_terrane_makes() -> None:
    [problem] = _problems("gcp", cluster__service_cidr="172.20.0.0/28")
    assert problem.message == "172.20.0.0/28: GCP takes a service range from /16 to /27"


def test_eks_takes_a_service_range_of_rfc_1918_only() -> None:
    assert _problems("aws", cluster__service_cidr="100.96.0.0/16") == [Problem(
        "cluster.service_cidr",
        "100.96.0.0/16: EKS takes a service range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")]
    assert _problems("aws", cluster__service_cidr="192.168.0.0/16") == []


@pytest.mark.parametrize(("cidr", "block"), [
    ("172.31.0.0/16", "172.31.0.0/16"), ("172.30.128.0/20", "172.30.0.0/16"), ("169.254.0.0/24", "169.254.0.0/16"),
    ("192.0.2.0/28", "192.0.2.0/24"),
])
def test_aks_service_range_keeps_off_what_aks_reserves(cidr: str, block: str) -> None:
    assert _problems("azure", cluster__service_cidr=cidr) == [
        Problem("cluster.service_cidr", f"{cidr} overlaps {block}, which AKS keeps for itself")]


def test_aks_service_range_keeps_off_the_vnet() -> None:
    [problem] = _problems("azure", cluster__service_cidr="10.20.128.0/20")
    assert problem == Problem("cluster.service_cidr", "10.20.128.0/20 overlaps network.cidr (10.20.0.0/16)")


def test_aks_dns_service_address_fits_the_smallest_service_range() -> None:
    """The DNS service takes the tenth address of the range: a /28 holds it, a /29 does not."""
    assert _problems("azure", cluster__service_cidr="172.20.0.0/28") == []
    assert _problems("azure", cluster__service_cidr="172.20.0.0/29") == [
        Problem("cluster.service_cidr", "172.20.0.0/29: Azure takes a service range from /12 to /28")]


@pytest.mark.parametrize(("cidr", "block"), [("169.254.0.0/16", "169.254.0.0/16"), ("168.63.0.0/16", "168.63.129.16/32"),
                                             ("127.0.0.0/16", "127.0.0.0/8")])
def test_a_vnet_keeps_off_what_azure_reserves(cidr: str, block: str) -> None:
    assert Problem("network.cidr", f"{cidr} overlaps {block}, which Azure keeps for the platform") in _problems(
        "azure", network__cidr=cidr)


@pytest.mark.parametrize("field", ["network__cidr", "cluster__pod_cidr", "cluster__service_cidr"])
def test_gcp_subnet_ranges_keep_off_the_prohibited_blocks(field: str) -> None:
    problems = _problems("gcp", **{field: "127.0.0.0/16"})
    assert Problem(field.replace("__", "."), "127.0.0.0/16 overlaps 127.0.0.0/8, which GCP refuses in a subnet") in problems


def test_gke_control_plane_range_keeps_off_the_prohibited_blocks() -> None:
    assert _problems("gcp", cluster__control_plane_cidr="169.254.0.16/28") == [
        Problem("cluster.control_plane_cidr", "169.254.0.16/28 overlaps 169.254.0.0/16, which GCP refuses in a subnet")]


def test_gke_pod_range_sizes() -> None:
    assert _problems("gcp", cluster__pod_cidr="100.64.0.0/22") == [
        Problem("cluster.pod_cidr", "100.64.0.0/22: GKE takes a pod range from /9 to /21")]
    assert _problems("gcp", cluster__pod_cidr="100.0.0.0/8") == [
        Problem("cluster.pod_cidr", "100.0.0.0/8: GKE takes a pod range from /9 to /21")]


@pytest.mark.parametrize(("cloud", "service"), [("azure", "AKS"), ("gcp", "GKE")])
def test_every_node_takes_a_slash_24_of_the_pod_range(cloud: str, service: str) -> None:
    """A /21 holds eight nodes' ranges: pools that may grow to nine do not fit."""
    assert _problems(cloud, cluster__pod_cidr="100.64.0.0/21", cluster__node_pools=_pools(4, 4)) == []
    assert _problems(cloud, cluster__pod_cidr="100.64.0.0/21", cluster__node_pools=_pools(4, 5)) == [Problem(
        "cluster.pod_cidr",
        f"100.64.0.0/21 has room for 8 node(s), as {service} gives each node a /24 of it, and the node pools may "
        "grow to 9")]


def test_eks_pods_take_vpc_addresses_not_the_pod_range() -> None:
    assert _problems("aws", cluster__pod_cidr="100.64.0.0/24", cluster__node_pools=_pools(400)) == []


@pytest.mark.parametrize(("cloud", "cidr", "room"), [("azure", "10.20.0.0/24", 123), ("gcp", "10.20.0.0/25", 124)])
def test_the_node_subnet_has_an_address_for_every_node(cloud: str, cidr: str, room: int) -> None:
    subnet = "10.20.0.0/25"
    assert _problems(cloud, network__cidr=cidr, cluster__node_pools=_pools(room)) == []
    assert _problems(cloud, network__cidr=cidr, cluster__node_pools=_pools(room, 1)) == [Problem(
        "network.cidr", f"{cidr} leaves {room} addresses for nodes in {subnet}, and the node pools may grow to "
                        f"{room + 1}")]


# A VPC takes at most a /16; a VNet or VPC network room for the node addresses of 1,003 nodes.
@pytest.mark.parametrize(("cloud", "cidr"), [("aws", "10.0.0.0/16"), ("azure", "10.0.0.0/12"), ("gcp", "10.0.0.0/12")])
def test_every_clouds_pools_take_the_specs_1000_nodes(cloud: str, cidr: str) -> None:
    """EKS's 450 nodes per managed node group is a quota raised on request, so plan leaves it to the cloud."""
    pools = [{"name": "system", "min": 1, "max": 3}, {"name": "big", "min": 0, "max": 1000}]
    assert _problems(cloud, network__cidr=cidr, cluster__node_pools=pools) == []


def test_aks_takes_100_pools_and_5000_nodes() -> None:
    wide = {"network__cidr": "10.0.0.0/12", "cluster__pod_cidr": "100.64.0.0/10"}
    assert _problems("azure", **wide, cluster__node_pools=_pools(*[50] * 100)) == []
    assert _problems("azure", **wide, cluster__node_pools=_pools(*[1] * 101)) == [
        Problem("cluster.node_pools", "AKS allows at most 100 node pools in a cluster, got 101")]
    assert _problems("azure", **wide, cluster__node_pools=_pools(*[1000] * 5, 1)) == [
        Problem("cluster.node_pools", "AKS allows at most 5000 nodes in a cluster, and the pools' max add up to 5001")]


def test_gke_takes_15000_nodes() -> None:
    wide = {"network__cidr": "10.0.0.0/12", "cluster__pod_cidr": "100.0.0.0/9"}
    assert _problems("gcp", **wide, cluster__node_pools=_pools(*[1000] * 15)) == []
    assert _problems("gcp", **wide, cluster__node_pools=_pools(*[1000] * 15, 1)) == [
        Problem("cluster.node_pools", "GKE allows at most 15000 nodes in a cluster, and the pools' max add up to 15001")]


@pytest.mark.parametrize(("cloud", "most"), [("aws", 40), ("azure", 200), ("gcp", 100)])
def test_each_cloud_takes_its_own_number_of_authorized_cidrs(cloud: str, most: int) -> None:
    """GKE takes 100 on a cluster with private nodes, as terrane's are; 50 only with public nodes."""
    def cidrs(count: int) -> list[str]:
        return [f"198.51.{index // 256}.{index % 256}/32" for index in range(count)]

    assert _problems(cloud, cluster__endpoint="public", cluster__authorized_cidrs=cidrs(most)) == []
    assert [problem.path for problem in _problems(cloud, cluster__endpoint="public",
                                                  cluster__authorized_cidrs=cidrs(most + 1))] == ["cluster.authorized_cidrs"]
