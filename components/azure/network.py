"""The Azure network an environment runs in: its resource group, a VNet with a
node subnet and a private-endpoint subnet behind one network security group,
a Standard NAT gateway for the nodes' egress and, optionally, VNet flow logs
to a locked-down storage account."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_azure_native as azure_native

from terrane.components.azure import roles

# Azure creates one Network Watcher per subscription and region, under these names.
NETWORK_WATCHER_GROUP = "NetworkWatcherRG"

_STORAGE_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")


@dataclass(frozen=True)
class NetworkArgs:
    resource_group_name: str
    """Physical; the component creates the group, and names what it holds after it."""
    location: str
    cidr: str
    node_subnet_cidr: str
    endpoint_subnet_cidr: str
    """For private endpoints (the Key Vault's)."""
    nat: Literal["none", "single", "per_zone"]
    """A subnet takes one NAT gateway, so ``per_zone`` is ``single``: one Standard
    gateway with a zone-redundant public IP."""
    flow_logs: bool
    flow_log_storage_account_name: str
    """Physical, 3-24 lowercase letters and digits; only used with ``flow_logs``."""
    flow_log_retention_days: int = 365
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.nat not in ("none", "single", "per_zone"):
            raise ValueError(f"nat must be none, single or per_zone, not {self.nat!r}")
        if self.flow_logs and not _STORAGE_ACCOUNT.match(self.flow_log_storage_account_name):
            raise ValueError(
                f"storage account name {self.flow_log_storage_account_name!r} must be 3-24 lowercase letters and digits"
            )
        vnet = ipaddress.ip_network(self.cidr)
        nodes = ipaddress.ip_network(self.node_subnet_cidr)
        endpoints = ipaddress.ip_network(self.endpoint_subnet_cidr)
        for subnet in (nodes, endpoints):
            if not subnet.subnet_of(vnet):  # type: ignore[arg-type]
                raise ValueError(f"subnet {subnet} lies outside the VNet's {vnet}")
        if nodes.overlaps(endpoints):
            raise ValueError(f"the node subnet {nodes} overlaps the endpoint subnet {endpoints}")
        if not 1 <= self.flow_log_retention_days <= 365:
            raise ValueError("flow logs are kept for 1 to 365 days")


class Network(pulumi.ComponentResource):
    resource_group_name: pulumi.Output[str]
    vnet_id: pulumi.Output[str]
    node_subnet_id: pulumi.Output[str]
    endpoint_subnet_id: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("terrane:azure:Network", name, None, opts)
        group = self._resource_group(name, args)
        common: dict[str, Any] = {"resource_group_name": group.name, "location": args.location, "tags": dict(args.tags)}
        nsg = self._security_group(name, args, common)
        vnet = self._vnet(name, args, common)
        nat = self._nat(name, args, common) if args.nat != "none" else None
        node_subnet, endpoint_subnet = self._subnets(name, args, group, vnet, nsg, nat)
        if args.flow_logs:
            self._flow_logs(name, args, vnet, common)

        self.resource_group_name = group.name
        self.vnet_id = vnet.id
        self.node_subnet_id = node_subnet.id
        self.endpoint_subnet_id = endpoint_subnet.id
        self.register_outputs(
            {
                "resource_group_name": self.resource_group_name,
                "vnet_id": self.vnet_id,
                "node_subnet_id": self.node_subnet_id,
                "endpoint_subnet_id": self.endpoint_subnet_id,
            }
        )

    def _resource_group(self, name: str, args: NetworkArgs) -> azure_native.resources.ResourceGroup:
        return azure_native.resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _security_group(
        self, name: str, args: NetworkArgs, common: Mapping[str, Any]
    ) -> azure_native.network.NetworkSecurityGroup:
        # No rules of its own: Azure's defaults admit only VNet and load-balancer
        # probe traffic inbound, so nothing is reachable from the internet.
        return azure_native.network.NetworkSecurityGroup(
            f"{name}-nsg",
            network_security_group_name=_name(args.resource_group_name, "nsg"),
            **common,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _vnet(self, name: str, args: NetworkArgs, common: Mapping[str, Any]) -> azure_native.network.VirtualNetwork:
        return azure_native.network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=_name(args.resource_group_name, "vnet"),
            address_space=azure_native.network.AddressSpaceArgs(address_prefixes=[args.cidr]),
            # Subnets are resources of their own: inline ones would be rewritten
            # (or deleted) whenever the VNet changes.
            **common,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _subnets(
        self,
        name: str,
        args: NetworkArgs,
        group: azure_native.resources.ResourceGroup,
        vnet: azure_native.network.VirtualNetwork,
        nsg: azure_native.network.NetworkSecurityGroup,
        nat: azure_native.network.NatGateway | None,
    ) -> tuple[azure_native.network.Subnet, azure_native.network.Subnet]:
        """The (node, endpoint) subnets, both behind ``nsg``."""
        node_subnet = azure_native.network.Subnet(
            f"{name}-nodes",
            subnet_name="nodes",
            virtual_network_name=vnet.name,
            resource_group_name=group.name,
            address_prefix=args.node_subnet_cidr,
            network_security_group=azure_native.network.NetworkSecurityGroupArgs(id=nsg.id),
            nat_gateway=azure_native.network.SubResourceArgs(id=nat.id) if nat is not None else None,
            # Egress only through the NAT gateway (or the cluster's load balancer), never Azure's implicit SNAT.
            default_outbound_access=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        endpoint_subnet = azure_native.network.Subnet(
            f"{name}-endpoints",
            subnet_name="endpoints",
            virtual_network_name=vnet.name,
            resource_group_name=group.name,
            address_prefix=args.endpoint_subnet_cidr,
            network_security_group=azure_native.network.NetworkSecurityGroupArgs(id=nsg.id),
            default_outbound_access=False,
            # Lets the NSG apply to the private endpoints in this subnet too.
            private_endpoint_network_policies="Enabled",
            # A VNet takes one subnet operation at a time; concurrent ones fail.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[node_subnet]),
        )
        return node_subnet, endpoint_subnet

    def _nat(self, name: str, args: NetworkArgs, common: Mapping[str, Any]) -> azure_native.network.NatGateway:
        child = pulumi.ResourceOptions(parent=self)
        address = azure_native.network.PublicIPAddress(
            f"{name}-nat-ip",
            public_ip_address_name=_name(args.resource_group_name, "nat-ip"),
            sku=azure_native.network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
            # Zone-redundant, so the egress address survives the loss of a zone.
            zones=["1", "2", "3"],
            **common,
            opts=child,
        )
        # A Standard NAT gateway is zonal or regional, never zone-redundant; left
        # regional, Azure places it and it serves the subnet in every zone.
        return azure_native.network.NatGateway(
            f"{name}-nat",
            nat_gateway_name=_name(args.resource_group_name, "nat"),
            sku=azure_native.network.NatGatewaySkuArgs(name="Standard"),
            public_ip_addresses=[azure_native.network.SubResourceArgs(id=address.id)],
            idle_timeout_in_minutes=4,
            **common,
            opts=child,
        )

    def _flow_logs(
        self,
        name: str,
        args: NetworkArgs,
        vnet: azure_native.network.VirtualNetwork,
        common: Mapping[str, Any],
    ) -> None:
        child = pulumi.ResourceOptions(parent=self)
        account = self._flow_log_storage(name, args, common)
        # Without shared keys the flow log writes with an identity of its own.
        identity = azure_native.managedidentity.UserAssignedIdentity(
            f"{name}-flow-logs",
            resource_name_=_name(args.resource_group_name, "flow-logs"),
            **common,
            opts=child,
        )
        writer = azure_native.authorization.RoleAssignment(
            f"{name}-flow-logs",
            scope=account.id,
            role_definition_id=roles.role(roles.client_config(self), roles.STORAGE_BLOB_DATA_CONTRIBUTOR),
            principal_id=identity.principal_id,
            # Skips the directory lookup that fails while a new identity replicates.
            principal_type="ServicePrincipal",
            opts=child,
        )
        azure_native.network.FlowLog(
            f"{name}-flow-logs",
            # VNet flow logs supersede NSG flow logs and also see traffic no NSG governs.
            target_resource_id=vnet.id,
            # The watcher's group is shared by every network in the region: the
            # flow log is named after this network's own resource group.
            flow_log_name=_name(args.resource_group_name, "vnet", limit=80),
            network_watcher_name=f"NetworkWatcher_{args.location}",
            resource_group_name=NETWORK_WATCHER_GROUP,
            location=args.location,
            storage_id=account.id,
            enabled=True,
            format=azure_native.network.FlowLogFormatParametersArgs(type="JSON", version=2),
            retention_policy=azure_native.network.RetentionPolicyParametersArgs(
                enabled=True, days=args.flow_log_retention_days
            ),
            identity=azure_native.network.ManagedServiceIdentityArgs(
                type=azure_native.network.ResourceIdentityType.USER_ASSIGNED, user_assigned_identities=[identity.id]
            ),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[writer]),
        )

    def _flow_log_storage(
        self, name: str, args: NetworkArgs, common: Mapping[str, Any]
    ) -> azure_native.storage.StorageAccount:
        """The storage account the flow logs go to, which only Entra ID identities and Azure's services reach."""
        return azure_native.storage.StorageAccount(
            f"{name}-flow-logs",
            account_name=args.flow_log_storage_account_name,
            kind=azure_native.storage.Kind.STORAGE_V2,
            sku=azure_native.storage.SkuArgs(name=azure_native.storage.SkuName.STANDARD_LRS),
            access_tier=azure_native.storage.AccessTier.HOT,
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
            # Entra ID only: no account keys or SAS tokens to leak.
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            # The public endpoint stays on but admits only trusted Azure services,
            # which is how Network Watcher delivers the logs.
            public_network_access="Enabled",
            network_rule_set=azure_native.storage.NetworkRuleSetArgs(
                default_action=azure_native.storage.DefaultAction.DENY, bypass="AzureServices"
            ),
            **common,
            opts=pulumi.ResourceOptions(parent=self),
        )


def _name(base: str, suffix: str, *, limit: int = 64) -> str:
    """``<base>-<suffix>``, with ``base`` shortened to keep within Azure's ``limit``."""
    head = base[: limit - len(suffix) - 1].rstrip("-._")
    return f"{head}-{suffix}"
