"""The Google Cloud network an environment runs in: a custom-mode VPC with one
regional subnet for the nodes, secondary ranges for GKE pods and services,
Private Google Access, optional flow logs and, for egress without public IPs,
a Cloud Router with Cloud NAT.

GCP denies all ingress by default (an implied rule below every other) and GKE
creates the firewall rules its own control plane, load balancers and health
checks need, so no firewall rule is added here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_gcp as gcp

# Secondary range names are "<network name>-services" and, like every GCP name, at most 63 characters.
_MAX_NAME = 63 - len("-services")


@dataclass(frozen=True)
class NetworkArgs:
    network_name: str
    """Physical name of the VPC and of its subnet; also prefixes the secondary ranges, router and NAT."""
    region: str
    cidr: str
    """The subnet's primary range, for the nodes."""
    pod_cidr: str
    service_cidr: str
    nat: Literal["none", "single", "per_zone"]
    """Cloud NAT is regional: ``single`` and ``per_zone`` both give one router and one NAT."""
    flow_logs: bool
    labels: Mapping[str, str] = field(default_factory=dict)
    """No network resource takes labels; accepted so every component gets the same arguments."""

    def __post_init__(self) -> None:
        if len(self.network_name) > _MAX_NAME:
            raise ValueError(f"a GCP network name is at most {_MAX_NAME} characters, so its ranges fit in 63")


class Network(pulumi.ComponentResource):
    network_id: pulumi.Output[str]
    network_self_link: pulumi.Output[str]
    subnet_id: pulumi.Output[str]
    subnet_self_link: pulumi.Output[str]
    pods_range_name: pulumi.Output[str]
    services_range_name: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("terrane:gcp:Network", name, None, opts)
        pods_range, services_range = secondary_range_names(args.network_name)
        network = self._vpc(name, args)
        subnet = self._subnet(name, args, network, pods_range, services_range)
        if args.nat != "none":
            self._nat(name, args, network, subnet)

        self.network_id = network.id
        self.network_self_link = network.self_link
        self.subnet_id = subnet.id
        self.subnet_self_link = subnet.self_link
        # Read back from the subnet, so a cluster using a range waits until the range exists.
        self.pods_range_name = subnet.secondary_ip_ranges.apply(
            lambda ranges: _range_name(ranges, pods_range)
        )
        self.services_range_name = subnet.secondary_ip_ranges.apply(
            lambda ranges: _range_name(ranges, services_range)
        )
        self.register_outputs(
            {
                "network_id": self.network_id,
                "network_self_link": self.network_self_link,
                "subnet_id": self.subnet_id,
                "subnet_self_link": self.subnet_self_link,
                "pods_range_name": self.pods_range_name,
                "services_range_name": self.services_range_name,
            }
        )

    def _vpc(self, name: str, args: NetworkArgs) -> gcp.compute.Network:
        return gcp.compute.Network(
            f"{name}-vpc",
            name=args.network_name,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            # The default internet route carries both Cloud NAT egress and Private Google Access.
            delete_default_routes_on_create=False,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _subnet(
        self, name: str, args: NetworkArgs, network: gcp.compute.Network, pods_range: str, services_range: str
    ) -> gcp.compute.Subnetwork:
        return gcp.compute.Subnetwork(
            f"{name}-subnet",
            name=args.network_name,
            network=network.id,
            region=args.region,
            ip_cidr_range=args.cidr,
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=pods_range, ip_cidr_range=args.pod_cidr
                ),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=services_range, ip_cidr_range=args.service_cidr
                ),
            ],
            # Nodes have no public IPs; this lets them reach Google APIs and Artifact Registry.
            private_ip_google_access=True,
            log_config=flow_log_config() if args.flow_logs else None,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _nat(
        self, name: str, args: NetworkArgs, network: gcp.compute.Network, subnet: gcp.compute.Subnetwork
    ) -> None:
        child = pulumi.ResourceOptions(parent=self)
        router = gcp.compute.Router(
            f"{name}-router",
            name=f"{args.network_name}-router",
            network=network.id,
            region=args.region,
            opts=child,
        )
        gcp.compute.RouterNat(
            f"{name}-nat",
            name=f"{args.network_name}-nat",
            router=router.name,
            region=args.region,
            nat_ip_allocate_option="AUTO_ONLY",
            # Only this subnet, but all its ranges: pod traffic is translated even when not masqueraded.
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetworks=[
                gcp.compute.RouterNatSubnetworkArgs(
                    name=subnet.id, source_ip_ranges_to_nats=["ALL_IP_RANGES"]
                )
            ],
            log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
            opts=child,
        )


def secondary_range_names(network_name: str) -> tuple[str, str]:
    """The (pods, services) secondary range names of the network's subnet."""
    return f"{network_name}-pods", f"{network_name}-services"


def flow_log_config() -> gcp.compute.SubnetworkLogConfigArgs:
    # Every flow at half sampling, aggregated over 5 seconds: enough for forensics at half the cost.
    return gcp.compute.SubnetworkLogConfigArgs(
        aggregation_interval="INTERVAL_5_SEC",
        flow_sampling=0.5,
        metadata="INCLUDE_ALL_METADATA",
    )


def _range_name(ranges: object, wanted: str) -> str:
    names = [r.range_name for r in ranges or []]  # type: ignore[attr-defined]
    if wanted not in names:
        raise ValueError(f"the subnet has no secondary range {wanted} (it has {names})")
    return wanted
