from ipaddress import IPv4Network

import pytest

from terrane.stacks import layout
from terrane.stacks.spec.environments import NodePool


@pytest.mark.parametrize("zones", [1, 2, 3])
@pytest.mark.parametrize("cidr", ["10.20.0.0/16", "10.0.0.0/20", "192.168.4.0/24"])
def test_zonal_subnets_are_disjoint_inside_the_network(cidr: str, zones: int) -> None:
    network = IPv4Network(cidr)
    if not layout.fits(network, zones):
        pytest.skip("too small: covered by the rule tests")
    subnets = layout.zonal_subnets(network, zones)
    every = [*subnets.private, *subnets.public]
    assert len(subnets.private) == len(subnets.public) == zones
    assert all(subnet.subnet_of(network) for subnet in every)
    assert not any(a.overlaps(b) for i, a in enumerate(every) for b in every[i + 1 :])
    assert subnets.smallest_prefix <= layout.SMALLEST_SUBNET_PREFIX


def test_a_slash_16_over_three_zones() -> None:
    subnets = layout.zonal_subnets(IPv4Network("10.20.0.0/16"), 3)
    assert [str(s) for s in subnets.private] == ["10.20.0.0/18", "10.20.64.0/18", "10.20.128.0/18"]
    assert [str(s) for s in subnets.public] == ["10.20.192.0/20", "10.20.208.0/20", "10.20.224.0/20"]


def test_fits_is_the_smallest_subnet_rule() -> None:
    assert layout.fits(IPv4Network("10.0.0.0/24"), 3)
    assert not layout.fits(IPv4Network("10.0.0.0/25"), 3)
    assert layout.fits(IPv4Network("10.0.0.0/26"), 1)


@pytest.mark.parametrize(
    ("cloud", "size", "expected"),
    [
        ("aws", "medium", "m6i.xlarge"),
        ("azure", "medium", "Standard_D4s_v5"),
        ("gcp", "medium", "e2-standard-4"),
        ("aws", "small", "m6i.large"),
        ("aws", "c7g.2xlarge", "c7g.2xlarge"),
    ],
)
def test_machine_types(cloud, size: str, expected: str) -> None:
    assert layout.machine_type(cloud, NodePool(name="p", size=size)) == expected


@pytest.mark.parametrize("cidr", ["10.20.0.0/16", "10.1.0.0/24"])
def test_vnet_subnets_are_disjoint_inside_the_network(cidr: str) -> None:
    network = IPv4Network(cidr)
    vnet = layout.vnet_subnets(network)
    assert vnet.nodes.subnet_of(network) and vnet.endpoints.subnet_of(network)
    assert not vnet.nodes.overlaps(vnet.endpoints)
    assert vnet.nodes.prefixlen == network.prefixlen + 1
    assert vnet.endpoints.prefixlen == max(network.prefixlen + 1, 24)
