"""How an environment's neutral spec lays out on a cloud: subnets and machine types.

Both validation (``stacks.rules``) and composition (``stacks.program``) read
the layout from here, so what is checked is exactly what is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

from terrane.stacks.spec import Cloud
from terrane.stacks.spec.environments import NodePool

# The smallest subnet every cloud accepts (AWS and Azure reserve 5 addresses).
SMALLEST_SUBNET_PREFIX = 28

MACHINE_TYPES: dict[Cloud, dict[str, str]] = {
    "aws": {"small": "m6i.large", "medium": "m6i.xlarge", "large": "m6i.2xlarge", "xlarge": "m6i.4xlarge"},
    "azure": {
        "small": "Standard_D2s_v5",
        "medium": "Standard_D4s_v5",
        "large": "Standard_D8s_v5",
        "xlarge": "Standard_D16s_v5",
    },
    "gcp": {"small": "e2-standard-2", "medium": "e2-standard-4", "large": "e2-standard-8", "xlarge": "e2-standard-16"},
}


@dataclass(frozen=True)
class SubnetLayout:
    """Private and public subnets, one of each per zone, in zone order."""

    private: tuple[IPv4Network, ...]
    public: tuple[IPv4Network, ...]

    @property
    def smallest_prefix(self) -> int:
        return max(subnet.prefixlen for subnet in (*self.private, *self.public))


def zonal_subnets(cidr: IPv4Network, zones: int) -> SubnetLayout:
    """Split ``cidr`` into a large private subnet per zone and a small public one.

    The range is cut in 2 (one zone) or 4 (two or three zones) equal blocks:
    private subnets take the first blocks, and the last block is cut the same
    way again for the public subnets, which only hold load balancers and NAT.
    A /16 over three zones gives private /18s and public /20s.
    """
    bits = zones.bit_length()
    blocks = list(cidr.subnets(prefixlen_diff=bits))
    public_blocks = list(blocks[-1].subnets(prefixlen_diff=bits))
    return SubnetLayout(private=tuple(blocks[:zones]), public=tuple(public_blocks[:zones]))


@dataclass(frozen=True)
class VnetLayout:
    """An Azure VNet: one large node subnet, and a smaller one for private endpoints."""

    nodes: IPv4Network
    endpoints: IPv4Network


def vnet_subnets(cidr: IPv4Network) -> VnetLayout:
    """The first half of ``cidr`` for nodes; private endpoints get a /24 (or less) of the second.

    AKS pods live in ``cluster.pod_cidr`` (CNI overlay), so nodes need one address each.
    """
    nodes, rest = cidr.subnets(prefixlen_diff=1)
    endpoints = next(rest.subnets(new_prefix=max(rest.prefixlen, 24)))
    return VnetLayout(nodes=nodes, endpoints=endpoints)


AZURE_ZONES = ("1", "2", "3")


def fits(cidr: IPv4Network, zones: int) -> bool:
    return cidr.prefixlen + 2 * zones.bit_length() <= SMALLEST_SUBNET_PREFIX


def machine_type(cloud: Cloud, pool: NodePool) -> str:
    return MACHINE_TYPES[cloud].get(pool.size, pool.size)
