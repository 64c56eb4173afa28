"""An AKS cluster on the environment's node subnet: a user-assigned control-plane
identity, Entra ID authentication with Azure RBAC and no local accounts (the
deploying principal is made cluster admin), a private API server (or one
limited to authorized ranges), the OIDC issuer and workload identity, Azure
CNI overlay with Cilium network policy, and autoscaled node pools across zones.

The exported kubeconfig holds no credential. A deploying service principal's
secret goes only into ``provider_kubeconfig``, a secret output from which the
program builds its own Kubernetes provider."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_azure_native as azure_native

from terrane.components.azure import roles
from terrane.components.azure.kubelogin import KubeloginMode, certificate_authority_data, kubeconfig
from terrane.components.outputs import present

# What kind of principal deploys, by how it signs in; the CLI may hold a user or
# a service principal, and ARM looks it up when the type is not given.
_DEPLOYER_PRINCIPAL_TYPES: dict[str, str | None] = {
    "spn": "ServicePrincipal",
    "workloadidentity": "ServicePrincipal",
    "azurecli": None,
}

_POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")


@dataclass(frozen=True)
class NodePoolArgs:
    name: str
    """``^[a-z][a-z0-9]{0,11}$``: AKS's rule for Linux pools."""
    vm_size: str
    min_count: int
    """At least 1 for the system pool; user pools may scale to zero."""
    max_count: int
    disk_size_gb: int = 128

    def __post_init__(self) -> None:
        if not _POOL_NAME.match(self.name):
            raise ValueError(f"node pool name {self.name!r} must match {_POOL_NAME.pattern}")
        if not 0 <= self.min_count <= self.max_count or self.max_count < 1:
            raise ValueError(f"node pool {self.name}: need 0 <= min_count <= max_count and max_count >= 1")


@dataclass(frozen=True)
class ServicePrincipalLogin:
    """The deploying service principal, as the program's own kubelogin signs in with it."""

    client_id: str
    client_secret: pulumi.Input[str]


@dataclass(frozen=True)
class ClusterArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    cluster_name: str
    kubernetes_version: str
    node_subnet_id: pulumi.Input[str]
    tenant_id: str
    endpoint_public: bool
    authorized_cidrs: Sequence[str]
    """Who may reach a public API server; ignored when it is private."""
    pod_cidr: str
    service_cidr: str
    node_pools: Sequence[NodePoolArgs]
    """The first is the system pool, inside the cluster; the others are user pools."""
    zones: Sequence[str]
    outbound_nat: bool
    """Egress through the node subnet's NAT gateway; otherwise through a load balancer AKS creates."""
    deletion_protection: bool
    kubelogin_mode: KubeloginMode
    """How the kubeconfig's ``kubelogin`` signs in: the deploying account's auth method."""
    service_principal: ServicePrincipalLogin | None = None
    """With ``spn``: who ``provider_kubeconfig`` signs in as. None offline, where no secret exists."""
    admin_group_object_ids: Sequence[str] = ()
    pull_registries: Sequence[str] = ()
    """Resource ids of container registries the nodes' kubelet identity may pull from (AcrPull on each)."""
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Without authorized ranges a public API server is open to the internet.
        if self.endpoint_public and not self.authorized_cidrs:
            raise ValueError("a public cluster endpoint needs at least one authorized CIDR")
        if self.kubelogin_mode not in _DEPLOYER_PRINCIPAL_TYPES:
            raise ValueError(f"kubelogin_mode must be one of {sorted(_DEPLOYER_PRINCIPAL_TYPES)}")
        if self.service_principal and self.kubelogin_mode != "spn":
            raise ValueError("a service principal login needs kubelogin_mode spn")
        if not self.node_pools:
            raise ValueError("a cluster needs at least its system node pool")
        if self.node_pools[0].min_count < 1:
            raise ValueError(f"the system node pool {self.node_pools[0].name} needs min_count >= 1")
        names = [pool.name for pool in self.node_pools]
        if len(set(names)) != len(names):
            raise ValueError(f"node pool names must be unique: {names}")
        dns_service_ip(self.service_cidr)


class Cluster(pulumi.ComponentResource):
    name: pulumi.Output[str]
    id: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider_kubeconfig: pulumi.Output[str]
    """The exported kubeconfig, plus the service principal's sign-in for kubelogin: for the program's provider only."""

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("terrane:azure:Cluster", name, None, opts)
        deployer = roles.client_config(self)
        system, *user_pools = args.node_pools

        identity, subnet_access = self._control_plane_identity(name, args, deployer)
        cluster = self._managed_cluster(name, args, system, identity, subnet_access)
        self._user_pools(name, args, user_pools, cluster)
        self._deployer_admin(name, args, cluster, deployer)
        self._registry_pull(name, args, cluster)
        if args.deletion_protection:
            self._deletion_lock(name, cluster)

        certificate_authority = self._certificate_authority(args, cluster)
        # A private API server is reached by its name in the privatelink zone.
        fqdn = cluster.fqdn if args.endpoint_public else cluster.private_fqdn

        endpoint = pulumi.Output.all(cluster.name, fqdn, certificate_authority)
        self.name = cluster.name
        self.id = cluster.id
        self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(lambda profile: present(present(profile).issuer_url))
        self.kubeconfig = pulumi.Output.secret(endpoint.apply(lambda values: _kubeconfig_json(args, values)))
        self.provider_kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(endpoint, _kubelogin_env(args)).apply(
                lambda values: _kubeconfig_json(args, values[0], env=values[1])
            )
        )
        self.register_outputs(
            {
                "name": self.name,
                "id": self.id,
                "oidc_issuer_url": self.oidc_issuer_url,
                "kubeconfig": self.kubeconfig,
            }
        )

    def _control_plane_identity(
        self,
        name: str,
        args: ClusterArgs,
        deployer: pulumi.Output[azure_native.authorization.GetClientConfigResult],
    ) -> tuple[azure_native.managedidentity.UserAssignedIdentity, azure_native.authorization.RoleAssignment]:
        """The cluster's identity and its grant on the node subnet, which the cluster must wait for."""
        child = pulumi.ResourceOptions(parent=self)
        identity = azure_native.managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=f"{args.cluster_name}-identity",
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=dict(args.tags),
            opts=child,
        )
        # AKS joins nodes and internal load balancers to the subnet, and checks
        # its NAT gateway, as this identity.
        subnet_access = azure_native.authorization.RoleAssignment(
            f"{name}-subnet",
            scope=args.node_subnet_id,
            role_definition_id=roles.role(deployer, roles.NETWORK_CONTRIBUTOR),
            principal_id=identity.principal_id,
            principal_type="ServicePrincipal",
            opts=child,
        )
        return identity, subnet_access

    def _managed_cluster(
        self,
        name: str,
        args: ClusterArgs,
        system: NodePoolArgs,
        identity: azure_native.managedidentity.UserAssignedIdentity,
        subnet_access: azure_native.authorization.RoleAssignment,
    ) -> azure_native.containerservice.ManagedCluster:
        return azure_native.containerservice.ManagedCluster(
            f"{name}-aks",
            resource_name_=args.cluster_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            dns_prefix=_dns_prefix(args.cluster_name),
            kubernetes_version=args.kubernetes_version,
            sku=azure_native.containerservice.ManagedClusterSKUArgs(name="Base", tier="Standard"),
            identity=azure_native.containerservice.ManagedClusterIdentityArgs(
                type=azure_native.containerservice.ResourceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[identity.id],
            ),
            aad_profile=azure_native.containerservice.ManagedClusterAADProfileArgs(
                managed=True,
                enable_azure_rbac=True,
                tenant_id=args.tenant_id,
                admin_group_object_ids=list(args.admin_group_object_ids) or None,
            ),
            enable_rbac=True,
            # Every sign-in goes through Entra ID; no certificate that cannot be revoked.
            disable_local_accounts=True,
            api_server_access_profile=_api_server_access(args),
            oidc_issuer_profile=azure_native.containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=azure_native.containerservice.ManagedClusterSecurityProfileArgs(
                workload_identity=azure_native.containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(
                    enabled=True
                ),
            ),
            network_profile=_network_profile(args),
            agent_pool_profiles=[
                azure_native.containerservice.ManagedClusterAgentPoolProfileArgs(
                    name=system.name, mode="System", **_pool(system, args)
                )
            ],
            auto_upgrade_profile=azure_native.containerservice.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel="patch",
                node_os_upgrade_channel="NodeImage",
            ),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[subnet_access],
                # The cluster autoscaler owns the node count once the pool exists.
                ignore_changes=["agentPoolProfiles[0].count"],
            ),
        )

    def _user_pools(
        self,
        name: str,
        args: ClusterArgs,
        pools: Sequence[NodePoolArgs],
        cluster: azure_native.containerservice.ManagedCluster,
    ) -> None:
        for pool in pools:
            azure_native.containerservice.AgentPool(
                f"{name}-{pool.name}",
                agent_pool_name=pool.name,
                resource_name_=cluster.name,
                resource_group_name=args.resource_group_name,
                mode="User",
                **_pool(pool, args),
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["count"]),
            )

    def _deployer_admin(
        self,
        name: str,
        args: ClusterArgs,
        cluster: azure_native.containerservice.ManagedCluster,
        deployer: pulumi.Output[azure_native.authorization.GetClientConfigResult],
    ) -> None:
        # Local accounts are off, so whoever deploys needs an Entra ID role to
        # bootstrap the cluster (as EKS makes its creator admin).
        azure_native.authorization.RoleAssignment(
            f"{name}-deployer-admin",
            scope=cluster.id,
            role_definition_id=roles.role(deployer, roles.AKS_RBAC_CLUSTER_ADMIN),
            principal_id=deployer.object_id,
            principal_type=_DEPLOYER_PRINCIPAL_TYPES[args.kubelogin_mode],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _registry_pull(
        self, name: str, args: ClusterArgs, cluster: azure_native.containerservice.ManagedCluster
    ) -> None:
        # The kubelet identity (which AKS creates in the node resource group) pulls images:
        # AcrPull on exactly each named registry, nothing at a wider scope.
        kubelet = cluster.identity_profile.apply(lambda profile: present(present(profile)["kubeletidentity"].object_id))
        for registry_id in args.pull_registries:
            registry_name = registry_id.rsplit("/", 1)[-1].lower()
            azure_native.authorization.RoleAssignment(
                f"{name}-pull-{registry_name}",
                scope=registry_id,
                role_definition_id=roles.role_definition_id(registry_id.split("/")[2], roles.ACR_PULL),
                principal_id=kubelet,
                principal_type="ServicePrincipal",
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _deletion_lock(self, name: str, cluster: azure_native.containerservice.ManagedCluster) -> None:
        # A scope lock names the cluster by id; the resource-level lock needs
        # the API version of the locked type as well. Agent pools are the
        # cluster's children, so they are protected too.
        azure_native.authorization.ManagementLockByScope(
            f"{name}-lock",
            scope=cluster.id,
            lock_name="terrane-deletion-protection",
            level="CanNotDelete",
            notes="deletion_protection is on for this environment; turn it off to delete the cluster",
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _certificate_authority(
        self, args: ClusterArgs, cluster: azure_native.containerservice.ManagedCluster
    ) -> pulumi.Output[str]:
        credentials = azure_native.containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=args.resource_group_name,
            resource_name=cluster.name,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        return credentials.kubeconfigs.apply(lambda configs: certificate_authority_data(configs[0].value))


def _kubeconfig_json(args: ClusterArgs, endpoint: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    cluster_name, fqdn, certificate_authority = endpoint
    return json.dumps(
        kubeconfig(
            cluster_name=cluster_name,
            server=f"https://{fqdn}:443",
            certificate_authority=certificate_authority,
            tenant_id=args.tenant_id,
            login=args.kubelogin_mode,
            env=env,
        )
    )


def _kubelogin_env(args: ClusterArgs) -> pulumi.Output[dict[str, str]]:
    """The service principal's sign-in, as kubelogin reads it from its environment.

    Variables win over kubelogin's flags and over any inherited ``AZURE_*``,
    and, unlike a flag, show in no process listing.
    """
    login = args.service_principal
    if login is None:
        return pulumi.Output.from_input({})
    return pulumi.Output.from_input(login.client_secret).apply(
        lambda secret: {
            "AZURE_CLIENT_ID": login.client_id,
            "AZURE_CLIENT_SECRET": secret,
            "AZURE_TENANT_ID": args.tenant_id,
        }
    )


def dns_service_ip(service_cidr: str) -> str:
    """The cluster DNS service's address: the tenth of the service range, as AKS defaults it."""
    network = ipaddress.ip_network(service_cidr)
    if network.num_addresses < 16:
        raise ValueError(f"the service CIDR {service_cidr} is too small for a cluster")
    return str(network[10])


def _api_server_access(args: ClusterArgs) -> azure_native.containerservice.ManagedClusterAPIServerAccessProfileArgs:
    if args.endpoint_public:
        return azure_native.containerservice.ManagedClusterAPIServerAccessProfileArgs(
            authorized_ip_ranges=list(args.authorized_cidrs),
        )
    return azure_native.containerservice.ManagedClusterAPIServerAccessProfileArgs(
        enable_private_cluster=True,
        # The kubeconfig names the private FQDN; a public DNS record of a private
        # address would only advertise it.
        enable_private_cluster_public_fqdn=False,
    )


def _network_profile(args: ClusterArgs) -> azure_native.containerservice.ContainerServiceNetworkProfileArgs:
    return azure_native.containerservice.ContainerServiceNetworkProfileArgs(
        network_plugin="azure",
        network_plugin_mode="overlay",
        # Cilium enforces NetworkPolicies; without a policy engine they are accepted and ignored.
        network_dataplane="cilium",
        network_policy="cilium",
        pod_cidr=args.pod_cidr,
        service_cidr=args.service_cidr,
        dns_service_ip=dns_service_ip(args.service_cidr),
        load_balancer_sku="standard",
        outbound_type="userAssignedNATGateway" if args.outbound_nat else "loadBalancer",
    )


def _pool(pool: NodePoolArgs, args: ClusterArgs) -> dict[str, Any]:
    """What the system pool and the user pools share."""
    return {
        "vm_size": pool.vm_size,
        "vnet_subnet_id": args.node_subnet_id,
        "availability_zones": list(args.zones) or None,
        "enable_auto_scaling": True,
        "min_count": pool.min_count,
        "max_count": pool.max_count,
        # Only the starting size: the autoscaler takes over (see ignore_changes).
        "count": pool.min_count,
        "os_type": "Linux",
        "os_sku": "AzureLinux",
        "os_disk_size_gb": pool.disk_size_gb,
        "type": "VirtualMachineScaleSets",
        "orchestrator_version": args.kubernetes_version,
        "enable_node_public_ip": False,
        "tags": dict(args.tags),
    }


def _dns_prefix(cluster_name: str) -> str:
    # DNS prefixes allow letters, digits and hyphens, 1-54, alphanumeric at both ends.
    return re.sub(r"[^A-Za-z0-9-]", "-", cluster_name)[:54].strip("-") or "aks"
