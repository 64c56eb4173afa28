"""The rules of an environment's address ranges: the range each cloud takes for a new network and the zones EKS
needs, a cluster's service and pod ranges, the blocks each cloud keeps for itself, and room for every node the pools
may grow to.

Part of ``stacks.rules``, which runs them with the others. docs/components.md lists each limit with its source.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Network

from terrane.stacks import layout
from terrane.stacks.problem import CLOUD_NAMES, KUBERNETES_SERVICES, Problem
from terrane.stacks.spec import Cloud
from terrane.stacks.spec.environments import Environment

# A VPC takes a range from /16 to /28 (Amazon VPC, "VPC CIDR blocks"); a GCP subnet's primary range from /8 to /29
# (VPC, "Subnets"). An Azure VNet has no such bound of its own: terrane's node and private-endpoint subnets need a /24.
NETWORK_PREFIXES: Mapping[Cloud, range] = {"aws": range(16, 29), "azure": range(25), "gcp": range(8, 30)}

EKS_MIN_ZONES = 2
"""EKS puts its control plane's network interfaces in subnets of at least two availability zones."""


def network_range(env: Environment, cloud: Cloud) -> list[Problem]:
    network = env.new_network
    if network is None:
        return []
    cidr, zones = network.cidr, network.zones
    prefixes = NETWORK_PREFIXES[cloud]
    if cloud == "aws":
        if cidr.prefixlen not in prefixes:
            return [Problem("network.cidr", f"{cidr}: an AWS VPC takes a range from /{prefixes[0]} to /{prefixes[-1]}")]
        if not layout.fits(cidr, zones):
            largest = layout.SMALLEST_SUBNET_PREFIX - 2 * zones.bit_length()
            return [
                Problem(
                    "network.cidr",
                    f"{cidr} is too small for {zones} zone(s): each zone needs a private and a public "
                    f"subnet of at least /{layout.SMALLEST_SUBNET_PREFIX}; use a /{largest} or larger",
                )
            ]
    if cloud == "azure" and cidr.prefixlen not in prefixes:
        return [
            Problem(
                "network.cidr",
                f"{cidr} is too small for Azure: the node and private-endpoint subnets need a /{prefixes[-1]} or larger",
            )
        ]
    if cloud == "gcp" and cidr.prefixlen not in prefixes:
        return [Problem("network.cidr", f"{cidr}: a GCP subnet takes a range from /{prefixes[0]} to /{prefixes[-1]}")]
    return []


def eks_zones(env: Environment, cloud: Cloud) -> list[Problem]:
    """EKS refuses a cluster whose subnets are all in one zone: the first ``up`` would stop after the VPC is made."""
    network = env.new_network
    if cloud != "aws" or env.cluster is None or network is None or network.zones >= EKS_MIN_ZONES:
        return []
    return [Problem("network.zones", f"EKS needs control-plane subnets in at least {EKS_MIN_ZONES} availability "
                                     f"zones, got {network.zones}")]


# The service range, as prefix lengths: EKS /12 to /24 (CreateCluster's serviceIpv4Cidr); AKS up to a /12, and room
# for the DNS service's address, the tenth of the range; GKE's secondary range for services /16 to /27.
SERVICE_PREFIXES: Mapping[Cloud, range] = {"aws": range(12, 25), "azure": range(12, 29), "gcp": range(16, 28)}

# GKE's secondary range for pods: /9 to /21 with the default of 110 pods per node (the API refuses a /22).
POD_PREFIXES: Mapping[Cloud, range] = {"gcp": range(9, 22)}

# EKS takes its service range from the private blocks of RFC 1918 only.
EKS_SERVICE_BLOCKS = tuple(IPv4Network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))

# Each node takes a /24 of the pod range: AKS with Azure CNI Overlay, GKE for its 110 pods per node.
NODE_POD_PREFIX: Mapping[Cloud, int] = {"azure": 24, "gcp": 24}

# Addresses each subnet keeps for the cloud: Azure the first four and the last, GCP the first two and the last two.
SUBNET_RESERVED_ADDRESSES: Mapping[Cloud, int] = {"azure": 5, "gcp": 4}

_VNET = "Azure keeps for the platform"
_AKS = "AKS keeps for itself"
_GCP = "GCP refuses in a subnet"
RESERVED: Mapping[Cloud, tuple[tuple[str, IPv4Network, str], ...]] = {
    "azure": (
        # Azure Virtual Network FAQ: what a VNet's address space may not hold.
        *(("network.cidr", IPv4Network(block), _VNET)
          for block in ("224.0.0.0/4", "255.255.255.255/32", "127.0.0.0/8", "169.254.0.0/16", "168.63.129.16/32")),
        # AKS (Azure CNI): what the Kubernetes service address range may not use.
        *(("cluster.service_cidr", IPv4Network(block), _AKS)
          for block in ("169.254.0.0/16", "172.30.0.0/16", "172.31.0.0/16", "192.0.2.0/24")),
    ),
    # VPC "Subnets", prohibited IPv4 subnet ranges: for the subnet's primary and secondary ranges, and GKE's control
    # plane range, which must be a valid internal range of a VPC too.
    "gcp": tuple((field, IPv4Network(block), _GCP)
                 for field in ("network.cidr", "cluster.pod_cidr", "cluster.service_cidr", "cluster.control_plane_cidr")
                 for block in ("0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4",
                               "255.255.255.255/32")),
}
"""Per cloud, the blocks a field's range may not overlap: (field, block, who keeps it)."""


def used_ranges(env: Environment, cloud: Cloud) -> dict[str, IPv4Network]:
    """The ranges of ``env`` its cloud uses, by field: EKS has no pod range (pods take VPC addresses), only GKE has
    a control plane range, and on an existing GCP network GKE takes the secondary ranges its outputs name instead."""
    ranges = {"network.cidr": env.new_network.cidr} if env.new_network else {}
    cluster = env.cluster
    if cluster is None:
        return ranges
    own_ranges = cloud != "gcp" or env.new_network is not None
    if own_ranges:
        ranges["cluster.service_cidr"] = cluster.service_cidr
    if own_ranges and cloud != "aws":
        ranges["cluster.pod_cidr"] = cluster.pod_cidr
    if cloud == "gcp":
        ranges["cluster.control_plane_cidr"] = cluster.control_plane_cidr
    return ranges


def reserved_ranges(env: Environment, cloud: Cloud) -> list[Problem]:
    used = used_ranges(env, cloud)
    return [
        Problem(field, f"{used[field]} overlaps {block}, which {who}")
        for field, block, who in RESERVED.get(cloud, ())
        if field in used and used[field].overlaps(block)
    ]


def service_range(env: Environment, cloud: Cloud) -> list[Problem]:
    cidr = used_ranges(env, cloud).get("cluster.service_cidr")
    if cidr is None:
        return []
    prefixes = SERVICE_PREFIXES[cloud]
    if cidr.prefixlen not in prefixes:
        return [Problem("cluster.service_cidr", f"{cidr}: {CLOUD_NAMES[cloud]} takes a service range "
                                                f"from /{prefixes[0]} to /{prefixes[-1]}")]
    if cloud == "aws" and not any(cidr.subnet_of(block) for block in EKS_SERVICE_BLOCKS):
        blocks = ", ".join(str(block) for block in EKS_SERVICE_BLOCKS[:-1])
        return [Problem("cluster.service_cidr", f"{cidr}: EKS takes a service range inside {blocks} or "
                                                f"{EKS_SERVICE_BLOCKS[-1]}")]
    return []


def pod_range(env: Environment, cloud: Cloud) -> list[Problem]:
    """A pod range of the size the cloud takes, with a /24 for every node the pools may grow to."""
    cidr = used_ranges(env, cloud).get("cluster.pod_cidr")
    if cidr is None or env.cluster is None:
        return []
    prefixes = POD_PREFIXES.get(cloud)
    if prefixes is not None and cidr.prefixlen not in prefixes:
        return [Problem("cluster.pod_cidr", f"{cidr}: {KUBERNETES_SERVICES[cloud]} takes a pod range from /{prefixes[0]} "
                                            f"to /{prefixes[-1]}")]
    node_prefix = NODE_POD_PREFIX[cloud]
    room = 2 ** (node_prefix - cidr.prefixlen) if cidr.prefixlen <= node_prefix else 0
    nodes = sum(pool.max for pool in env.cluster.node_pools)
    if nodes > room:
        return [Problem("cluster.pod_cidr", f"{cidr} has room for {room} node(s), as {KUBERNETES_SERVICES[cloud]} gives each "
                                            f"node a /{node_prefix} of it, and the node pools may grow to {nodes}")]
    return []


def node_addresses(env: Environment, cloud: Cloud) -> list[Problem]:
    """A new network's node subnet with an address for every node the pools may grow to (Azure and GCP; on AWS pods
    take subnet addresses too, as many as each instance type holds)."""
    network, reserved = env.new_network, SUBNET_RESERVED_ADDRESSES.get(cloud)
    if network is None or env.cluster is None or reserved is None or network.cidr.prefixlen not in NETWORK_PREFIXES[cloud]:
        return []  # a range the cloud does not take at all is network_range's to report
    subnet = layout.vnet_subnets(network.cidr).nodes if cloud == "azure" else network.cidr
    room = max(subnet.num_addresses - reserved, 0)
    nodes = sum(pool.max for pool in env.cluster.node_pools)
    if nodes > room:
        return [Problem("network.cidr", f"{network.cidr} leaves {room} addresses for nodes in {subnet}, and the node "
                                        f"pools may grow to {nodes}")]
    return []
