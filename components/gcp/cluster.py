"""A regional GKE cluster with private nodes: secrets encrypted with a rotating
KMS key, workload identity, shielded nodes, Dataplane V2 (which enforces
NetworkPolicies) and node pools that run as a dedicated, minimally privileged
service account behind the GKE metadata server."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_gcp as gcp

from terrane.components.gcp._kms import ServiceKey, service_key
from terrane.components.kubeconfig import exec_kubeconfig
from terrane.components.outputs import present

_CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
# Pulling from the project's repositories; granted on each named repository instead when there are some.
REGISTRY_READER = "roles/artifactregistry.reader"
# What a node needs to ship logs and metrics and to pull images; nothing more.
_NODE_ROLES = [
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    REGISTRY_READER,
]
_INSTALL_HINT = (
    "Install gke-gcloud-auth-plugin for use with kubectl by following "
    "https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin"
)


@dataclass(frozen=True)
class NodePoolArgs:
    name: str
    """Physical name of the pool, ``^[a-z][a-z0-9]{0,11}$``."""
    machine_type: str
    min_count: int
    """Nodes across all zones, not per zone."""
    max_count: int
    disk_size_gb: int = 100

    def __post_init__(self) -> None:
        if not 0 <= self.min_count <= self.max_count:
            raise ValueError(f"node pool {self.name}: need 0 <= min_count <= max_count")


@dataclass(frozen=True)
class ArtifactRepository:
    """An Artifact Registry repository the nodes may pull from."""

    project: str
    location: str
    repository: str


@dataclass(frozen=True)
class ClusterArgs:
    cluster_name: str
    """Physical name: at most 40 characters, RFC 1035."""
    project: str
    """The project id; the workload pool is ``<project>.svc.id.goog``."""
    region: str
    zone_count: int
    """Nodes run in the region's first ``zone_count`` zones."""
    network_self_link: pulumi.Input[str]
    subnet_self_link: pulumi.Input[str]
    pods_range_name: pulumi.Input[str]
    services_range_name: pulumi.Input[str]
    endpoint_public: bool
    authorized_cidrs: Sequence[str]
    """Who may reach the control plane besides the VPC's node and pod ranges."""
    control_plane_cidr: str
    """A /28 for the control plane's private endpoint, outside every other range."""
    kubernetes_version: str
    """The minimum control-plane version; the REGULAR release channel upgrades from there."""
    node_pools: Sequence[NodePoolArgs]
    node_service_account_id: str
    """``account_id`` (6-30 characters) of the nodes' service account."""
    key_ring_name: str
    """Physical name of the KMS key ring for secrets encryption. Key rings cannot be deleted."""
    deletion_protection: bool
    pull_repositories: Sequence[ArtifactRepository] = ()
    """When set, the nodes may pull from these repositories only, instead of from every repository of the project."""
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Without authorized networks a public endpoint would answer the whole internet.
        if self.endpoint_public and not self.authorized_cidrs:
            raise ValueError("a public cluster endpoint needs at least one authorized CIDR")
        if not 1 <= self.zone_count <= 3:
            raise ValueError("a regional cluster spans 1 to 3 zones")
        if not self.node_pools:
            raise ValueError("a cluster needs at least one node pool: its default pool is removed")


class Cluster(pulumi.ComponentResource):
    name: pulumi.Output[str]
    id: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    """The control plane's IP address: private when the endpoint is private."""
    workload_pool: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("terrane:gcp:Cluster", name, None, opts)
        labels = dict(args.labels)

        zones = self._zones(args)
        secrets_key = self._secrets_key(name, args, labels)
        node_account, node_roles = self._node_identity(name, args)
        cluster = self._control_plane(name, args, zones, secrets_key, node_account, labels)
        self._node_pools(name, args, cluster, node_account, node_roles, labels)

        self.name = cluster.name
        self.id = cluster.id
        self.endpoint = cluster.endpoint
        self.workload_pool = cluster.workload_identity_config.apply(lambda config: present(config.workload_pool))
        ca_certificate = cluster.master_auth.apply(lambda auth: auth.cluster_ca_certificate)
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(cluster.name, cluster.endpoint, ca_certificate).apply(
                lambda values: _kubeconfig_json(args, values)
            )
        )
        self.register_outputs(
            {
                "name": self.name,
                "id": self.id,
                "endpoint": self.endpoint,
                "workload_pool": self.workload_pool,
                "kubeconfig": self.kubeconfig,
            }
        )

    def _zones(self, args: ClusterArgs) -> pulumi.Output[list[str]]:
        return gcp.compute.get_zones_output(
            project=args.project, region=args.region, status="UP", opts=pulumi.InvokeOutputOptions(parent=self)
        ).names.apply(lambda names: first_zones(names, args.zone_count))

    def _secrets_key(self, name: str, args: ClusterArgs, labels: Mapping[str, str]) -> ServiceKey:
        project_number = gcp.organizations.get_project_output(
            project_id=args.project, opts=pulumi.InvokeOutputOptions(parent=self)
        ).number
        # GKE encrypts with its service agent's identity; the cluster fails to create without the grant.
        return service_key(
            self,
            f"{name}-gke",
            project=args.project,
            location=args.region,
            key_ring_name=args.key_ring_name,
            key_name="gke-secrets",
            service_member=pulumi.Output.concat(
                "serviceAccount:service-", project_number, "@container-engine-robot.iam.gserviceaccount.com"
            ),
            labels=labels,
        )

    def _node_identity(
        self, name: str, args: ClusterArgs
    ) -> tuple[gcp.serviceaccount.Account, list[pulumi.Resource]]:
        """The nodes' service account and its roles, which the node pools must wait for."""
        child = pulumi.ResourceOptions(parent=self)
        account = gcp.serviceaccount.Account(
            f"{name}-nodes",
            account_id=args.node_service_account_id,
            display_name=f"GKE nodes of {args.cluster_name}",
            project=args.project,
            opts=child,
        )
        scoped = bool(args.pull_repositories)
        roles: list[pulumi.Resource] = [
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.removeprefix('roles/').replace('.', '-')}",
                project=args.project,
                role=role,
                member=account.member,
                opts=child,
            )
            for role in _NODE_ROLES
            if not (scoped and role == REGISTRY_READER)
        ]
        roles += [
            gcp.artifactregistry.RepositoryIamMember(
                f"{name}-nodes-pull-{repo.project}-{repo.location}-{repo.repository}",
                project=repo.project,
                location=repo.location,
                repository=repo.repository,
                role=REGISTRY_READER,
                member=account.member,
                opts=child,
            )
            for repo in args.pull_repositories
        ]
        return account, roles

    def _control_plane(
        self,
        name: str,
        args: ClusterArgs,
        zones: pulumi.Output[list[str]],
        secrets_key: ServiceKey,
        node_account: gcp.serviceaccount.Account,
        labels: Mapping[str, str],
    ) -> gcp.container.Cluster:
        return gcp.container.Cluster(
            f"{name}-gke",
            name=args.cluster_name,
            project=args.project,
            location=args.region,
            node_locations=zones,
            network=args.network_self_link,
            subnetwork=args.subnet_self_link,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=_ip_allocation_policy(args),
            private_cluster_config=_private_cluster_config(args),
            master_authorized_networks_config=_authorized_networks(args.authorized_cidrs),
            master_auth=gcp.container.ClusterMasterAuthArgs(
                client_certificate_config=gcp.container.ClusterMasterAuthClientCertificateConfigArgs(
                    issue_client_certificate=False,
                ),
            ),
            min_master_version=args.kubernetes_version,
            release_channel=gcp.container.ClusterReleaseChannelArgs(channel="REGULAR"),
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=f"{args.project}.svc.id.goog",
            ),
            database_encryption=gcp.container.ClusterDatabaseEncryptionArgs(
                state="ENCRYPTED", key_name=secrets_key.key.id
            ),
            enable_shielded_nodes=True,
            datapath_provider="ADVANCED_DATAPATH",
            logging_config=gcp.container.ClusterLoggingConfigArgs(
                enable_components=["SYSTEM_COMPONENTS", "WORKLOADS"],
            ),
            monitoring_config=gcp.container.ClusterMonitoringConfigArgs(
                enable_components=["SYSTEM_COMPONENTS"]
            ),
            # GKE cannot create a cluster without a node pool: it makes a one-node-per-zone default
            # pool, removed at once. Even that runs as the dedicated account, since hardened
            # projects disable the default compute service account it would otherwise use.
            remove_default_node_pool=True,
            initial_node_count=1,
            node_config=_default_pool_node_config(node_account.email, labels),
            deletion_protection=args.deletion_protection,
            resource_labels=labels,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[secrets_key.grant],
                # Both describe only the removed default pool; GKE reports the first remaining
                # pool's config as the cluster's, and a diff there would replace the cluster.
                ignore_changes=["nodeConfig", "initialNodeCount"],
            ),
        )

    def _node_pools(
        self,
        name: str,
        args: ClusterArgs,
        cluster: gcp.container.Cluster,
        node_account: gcp.serviceaccount.Account,
        node_roles: Sequence[pulumi.Resource],
        labels: Mapping[str, str],
    ) -> None:
        for pool in args.node_pools:
            gcp.container.NodePool(
                f"{name}-{pool.name}",
                name=pool.name,
                project=args.project,
                cluster=cluster.name,
                location=args.region,
                initial_node_count=initial_nodes_per_zone(pool.min_count, args.zone_count),
                autoscaling=gcp.container.NodePoolAutoscalingArgs(
                    total_min_node_count=pool.min_count,
                    total_max_node_count=pool.max_count,
                    location_policy="BALANCED",
                ),
                management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
                node_config=_pool_node_config(pool, node_account.email, labels),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    # Nodes pull images and write logs as soon as they boot.
                    depends_on=node_roles,
                    # The cluster autoscaler owns the size once the pool exists.
                    ignore_changes=["nodeCount", "initialNodeCount"],
                    # The name is fixed, so a replacement must delete the old pool first.
                    delete_before_replace=True,
                ),
            )


def kubeconfig(
    *, project: str, location: str, cluster_name: str, endpoint: str, cluster_ca_certificate: str
) -> dict[str, Any]:
    """A kubeconfig that authenticates with ``gke-gcloud-auth-plugin``, so it holds no credential.

    Names follow ``gcloud container clusters get-credentials``: ``gke_<project>_<location>_<cluster>``.
    """
    context = f"gke_{project}_{location}_{cluster_name}"
    return exec_kubeconfig(
        name=context,
        server=f"https://{endpoint}",
        certificate_authority=cluster_ca_certificate,
        exec_plugin={"command": "gke-gcloud-auth-plugin", "installHint": _INSTALL_HINT, "provideClusterInfo": True},
    )


def _kubeconfig_json(args: ClusterArgs, values: Sequence[str]) -> str:
    cluster_name, endpoint, cluster_ca_certificate = values
    return json.dumps(
        kubeconfig(
            project=args.project,
            location=args.region,
            cluster_name=cluster_name,
            endpoint=endpoint,
            cluster_ca_certificate=cluster_ca_certificate,
        )
    )


def _ip_allocation_policy(args: ClusterArgs) -> gcp.container.ClusterIpAllocationPolicyArgs:
    """Pods and services take the subnetwork's secondary ranges, by name."""
    return gcp.container.ClusterIpAllocationPolicyArgs(
        cluster_secondary_range_name=args.pods_range_name,
        services_secondary_range_name=args.services_range_name,
    )


def _private_cluster_config(args: ClusterArgs) -> gcp.container.ClusterPrivateClusterConfigArgs:
    """Nodes without public addresses; the endpoint private too, unless the spec makes it public."""
    return gcp.container.ClusterPrivateClusterConfigArgs(
        enable_private_nodes=True,
        enable_private_endpoint=not args.endpoint_public,
        master_ipv4_cidr_block=args.control_plane_cidr,
    )


def _authorized_networks(cidrs: Sequence[str]) -> gcp.container.ClusterMasterAuthorizedNetworksConfigArgs:
    # Always on: besides the listed ranges only the VPC's node and pod ranges reach the
    # control plane, and Google Cloud's public IPs (any customer's VM) do not.
    return gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
        cidr_blocks=[
            gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                cidr_block=cidr, display_name=f"authorized-{index}"
            )
            for index, cidr in enumerate(cidrs)
        ],
        gcp_public_cidrs_access_enabled=False,
    )


def first_zones(names: Sequence[str], count: int) -> list[str]:
    """The region's first ``count`` zones, in name order so the choice is stable."""
    if len(names) < count:
        raise ValueError(f"the region has {len(names)} zones up, the cluster needs {count}")
    return sorted(names)[:count]


def initial_nodes_per_zone(min_count: int, zone_count: int) -> int:
    """Nodes per zone at creation: enough for the pool's total minimum from the start."""
    return math.ceil(min_count / zone_count)


def _default_pool_node_config(
    service_account: pulumi.Input[str], labels: Mapping[str, str]
) -> gcp.container.ClusterNodeConfigArgs:
    # The same hardening as the pools: the default pool's nodes run, briefly, before it is removed.
    return gcp.container.ClusterNodeConfigArgs(
        service_account=service_account,
        oauth_scopes=[_CLOUD_PLATFORM],
        workload_metadata_config=gcp.container.ClusterNodeConfigWorkloadMetadataConfigArgs(
            mode="GKE_METADATA"
        ),
        shielded_instance_config=gcp.container.ClusterNodeConfigShieldedInstanceConfigArgs(
            enable_secure_boot=True, enable_integrity_monitoring=True
        ),
        metadata={"disable-legacy-endpoints": "true"},
        resource_labels=dict(labels),
    )


def _pool_node_config(
    pool: NodePoolArgs, service_account: pulumi.Input[str], labels: Mapping[str, str]
) -> gcp.container.NodePoolNodeConfigArgs:
    return gcp.container.NodePoolNodeConfigArgs(
        machine_type=pool.machine_type,
        disk_size_gb=pool.disk_size_gb,
        service_account=service_account,
        # Access is decided by the account's IAM roles; this scope only keeps scopes from narrowing it.
        oauth_scopes=[_CLOUD_PLATFORM],
        # Pods see the GKE metadata server: their own workload identity, never the node's account.
        workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
            mode="GKE_METADATA"
        ),
        shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
            enable_secure_boot=True, enable_integrity_monitoring=True
        ),
        metadata={"disable-legacy-endpoints": "true"},
        resource_labels=dict(labels),
    )
