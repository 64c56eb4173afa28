"""An environment on Google Cloud: its steps of ``stacks.compose``, with one explicit provider for the project.

This is the only place that maps spec fields to GCP component args. The network is a new one (the
Network component), or an existing one whose ids a Terraform state's outputs hold (``stacks.terraform``):
a network and a subnetwork (self links or ids) and the names of the subnetwork's secondary ranges for pods and
services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from terrane.components.gcp import (
    ArtifactRepository,
    Cluster,
    ClusterArgs,
    Network,
    NetworkArgs,
    NodePoolArgs,
    SecretReaderArgs,
    SecretStore,
    SecretStoreArgs,
)
from terrane.components.kubernetes import ServiceAccountArgs
from terrane.stacks import layout, names, terraform
from terrane.stacks.compose import ClusterAccess, Readers, Site, Steps
from terrane.stacks.spec.accounts import GcpAccount
from terrane.stacks.spec.environments import (
    DEFAULT_POD_CIDR,
    DEFAULT_SERVICE_CIDR,
    ClusterSpec,
    Environment,
    NetworkSpec,
    SecretsSpec,
)
from terrane.stacks.spec.registries import ArtifactRegistry
from terrane.stacks.standard import SECRETS_READER, stack_incarnation, standard_labels


@dataclass(frozen=True)
class _Network:
    """The ids of the environment's network, new or existing, as GKE takes them."""

    network_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    network_self_link: pulumi.Input[str]
    subnet_self_link: pulumi.Input[str]
    pods_range_name: pulumi.Input[str]
    services_range_name: pulumi.Input[str]
    made: Network | None
    """The network terrane makes, which the cluster waits for; None for an existing one."""

    def outputs(self) -> dict[str, pulumi.Input[Any]]:
        return {"network_id": self.network_id, "subnet_id": self.subnet_id}


def _new_network(site: Site[GcpAccount], spec: NetworkSpec) -> _Network:
    env = site.env
    cluster = env.cluster
    network = Network(
        env.name,
        NetworkArgs(
            network_name=env.name,
            region=site.region,
            cidr=str(spec.cidr),
            pod_cidr=str(cluster.pod_cidr if cluster else DEFAULT_POD_CIDR),
            service_cidr=str(cluster.service_cidr if cluster else DEFAULT_SERVICE_CIDR),
            nat=spec.nat,
            flow_logs=spec.flow_logs,
        ),
        site.opts,
    )
    return _Network(network.network_id, network.subnet_id, network.network_self_link, network.subnet_self_link,
                    network.pods_range_name, network.services_range_name, made=network)


def _existing_network(site: Site[GcpAccount]) -> _Network:
    """A VPC network made elsewhere: GKE takes its self links or ids alike, and its secondary ranges by name."""
    ids = terraform.network_ids(site.env, "gcp")
    return _Network(ids["network"], ids["subnetwork"], ids["network"], ids["subnetwork"],
                    ids["pods_range_name"], ids["services_range_name"], made=None)


def _cluster(site: Site[GcpAccount], spec: ClusterSpec, network: _Network, opts: pulumi.ResourceOptions) -> Cluster:
    env = site.env
    cluster = Cluster(
        env.name,
        ClusterArgs(
            cluster_name=names.gke_cluster(env.name),
            project=site.account.project,
            region=site.region,
            zone_count=env.cloud_network.zones,
            network_self_link=network.network_self_link,
            subnet_self_link=network.subnet_self_link,
            pods_range_name=network.pods_range_name,
            services_range_name=network.services_range_name,
            endpoint_public=spec.endpoint == "public",
            authorized_cidrs=[str(cidr) for cidr in spec.authorized_cidrs],
            control_plane_cidr=str(spec.control_plane_cidr),
            kubernetes_version=spec.kubernetes_version,
            node_pools=[
                NodePoolArgs(
                    name=pool.name,
                    machine_type=layout.machine_type("gcp", pool),
                    min_count=pool.min,
                    max_count=pool.max,
                )
                for pool in spec.node_pools
            ],
            node_service_account_id=names.gcp_service_account(env.name, "nodes"),
            key_ring_name=names.gcp_key_ring(env.name, "gke", stack_incarnation()),
            deletion_protection=spec.deletion_protection,
            pull_repositories=[
                ArtifactRepository(project=registry.project, location=registry.location,
                                   repository=registry.repository)
                for registry in env.registries.values()
                if isinstance(registry, ArtifactRegistry)
            ],
        ),
        opts,
    )
    pulumi.export("cluster_name", cluster.name)
    pulumi.export("cluster_endpoint", cluster.endpoint)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    return cluster


def _secret_store(site: Site[GcpAccount], spec: SecretsSpec, network: _Network,
                  readers: Readers[Cluster] | None) -> ServiceAccountArgs | None:
    """Secret Manager secrets with their own key; with readers, access for their service accounts."""
    env = site.env
    store = SecretStore(
        env.name,
        SecretStoreArgs(
            project=site.account.project,
            region=site.region,
            key_ring_name=names.gcp_key_ring(env.name, "secrets", stack_incarnation()),
            secret_names=spec.names,
            secret_id_prefix=f"{env.name}-",
            deletion_protection=spec.deletion_protection is not False,
            reader=SecretReaderArgs(workload_pool=readers.cluster.workload_pool,
                                    service_accounts=readers.service_accounts) if readers else None,
        ),
        site.opts,
    )
    pulumi.export("secrets_key_id", store.key_id)
    pulumi.export("secret_ids", store.secret_ids)
    # GKE workload identity federation grants the Kubernetes service
    # account itself, so the secrets reader needs no annotation.
    return ServiceAccountArgs(name=SECRETS_READER) if readers else None


def _access(cluster: Cluster) -> ClusterAccess:
    return ClusterAccess(kubeconfig=cluster.kubeconfig, identifier=cluster.id)


def account_provider(env: Environment, account: GcpAccount, region: str) -> gcp.Provider:
    """The one GCP provider of the environment, bound to the linked project.

    A service-account key reaches it only from the stack's secret config,
    which the engine sets from the account before every operation.
    """
    config = pulumi.Config("gcp")
    auth = account.auth
    return gcp.Provider(
        env.account,
        project=account.project,
        region=region,
        credentials=config.get_secret("credentials") if auth.service_account_key else None,
        impersonate_service_account=auth.impersonate.service_account if auth.impersonate else None,
        default_labels=standard_labels(env),
    )


STEPS = Steps(provider=account_provider, new_network=_new_network, existing_network=_existing_network,
              cluster=_cluster, secret_store=_secret_store, access=_access)
compose = STEPS.compose
"""The program's entry (``stacks.program``): an environment on Google Cloud, in the order every cloud shares."""
