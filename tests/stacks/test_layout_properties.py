"""Properties of the subnet layout, for any network and zone count: subnets fit inside and never overlap."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terrane.stacks import layout
from terrane.stacks.spec.environments import NEUTRAL_SIZES, NodePool

NETWORKS = st.builds(
    lambda address, prefix: IPv4Network((address, prefix), strict=False),
    st.integers(0, 2**32 - 1),
    st.integers(0, 32),
)
ZONES = st.integers(1, 3)
"""What ``network.zones`` admits."""

MANY = settings(max_examples=500)


def _disjoint(subnets: list[IPv4Network]) -> bool:
    return not any(a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1 :])


@MANY
@given(network=NETWORKS, zones=ZONES)
def test_zonal_subnets_fit_inside_the_network_and_never_overlap(network: IPv4Network, zones: int) -> None:
    if not layout.fits(network, zones):
        return
    subnets = layout.zonal_subnets(network, zones)
    every = [*subnets.private, *subnets.public]
    assert len(subnets.private) == len(subnets.public) == zones
    assert all(subnet.subnet_of(network) for subnet in every)
    assert _disjoint(every)
    assert subnets.smallest_prefix <= layout.SMALLEST_SUBNET_PREFIX


@MANY
@given(network=NETWORKS, zones=ZONES)
def test_private_subnets_come_first_in_zone_order_and_are_the_larger(network: IPv4Network, zones: int) -> None:
    if not layout.fits(network, zones):
        return
    subnets = layout.zonal_subnets(network, zones)
    assert list(subnets.private) == sorted(subnets.private)
    assert list(subnets.public) == sorted(subnets.public)
    assert max(subnets.private) < min(subnets.public)
    assert all(private.num_addresses > public.num_addresses
               for private, public in zip(subnets.private, subnets.public, strict=True))
    # Together they take at least half of the network: no zone is left a sliver.
    assert sum(subnet.num_addresses for subnet in (*subnets.private, *subnets.public)) * 2 >= network.num_addresses


@MANY
@given(network=NETWORKS, zones=ZONES)
def test_fits_says_whether_every_subnet_is_at_least_the_smallest_a_cloud_takes(
    network: IPv4Network, zones: int
) -> None:
    try:
        subnets = layout.zonal_subnets(network, zones)
    except ValueError:
        # The network cannot even be cut that many times (a /31 or /32).
        assert not layout.fits(network, zones)
        return
    assert layout.fits(network, zones) == (subnets.smallest_prefix <= layout.SMALLEST_SUBNET_PREFIX)


@MANY
@given(network=NETWORKS.filter(lambda network: network.prefixlen < 32))
def test_vnet_subnets_fit_inside_the_network_and_never_overlap(network: IPv4Network) -> None:
    vnet = layout.vnet_subnets(network)
    assert vnet.nodes.subnet_of(network) and vnet.endpoints.subnet_of(network)
    assert not vnet.nodes.overlaps(vnet.endpoints)
    assert vnet.nodes.num_addresses * 2 == network.num_addresses
    # Private endpoints get a /24, or all that is left when the second half is smaller.
    assert vnet.endpoints.num_addresses == min(network.num_addresses // 2, 256)


@pytest.mark.parametrize("cloud", sorted(layout.MACHINE_TYPES))
@given(size=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True) | st.sampled_from(NEUTRAL_SIZES))
def test_neutral_sizes_map_to_distinct_machine_types_and_others_pass_through(cloud: str, size: str) -> None:
    machine = layout.machine_type(cloud, NodePool(name="pool", size=size))
    if size in NEUTRAL_SIZES:
        assert machine not in NEUTRAL_SIZES
        assert len({layout.machine_type(cloud, NodePool(name="pool", size=s)) for s in NEUTRAL_SIZES}) == len(
            NEUTRAL_SIZES
        )
    else:
        assert machine == size
