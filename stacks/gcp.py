"""An environment on Google Cloud: one explicit provider for the project, then the components.

This is the only place that maps spec fields to GCP component args. The network is a new one (the
Network component), or an existing one whose ids a Terraform state's outputs hold (``stacks.terraform``):
a network and a subnetwork (self links or ids) and the names of the subnetwork's secondary ranges for pods and
services.
"""

from __future__ import annotations

from dataclasses import dataclass

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
from terrane.stacks.kubernetes import SECRETS_READER, bootstrap, secret_readers
from terrane.stacks.spec.accounts import GcpAccount
from terrane.stacks.spec.environments import DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR, Environment, NetworkSpec
from terrane.stacks.spec.registries import ArtifactRegistry
from terrane.stacks.standard import stack_incarnation, standard_labels


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


def compose(env: Environment, account: GcpAccount) -> None:
    region = env.resolved_region(account)
    provider = account_provider(env, account, region)
    opts = pulumi.ResourceOptions(provider=provider)
    spec = env.cluster
    incarnation = stack_incarnation()

    new = env.new_network
    network = _new_network(env, new, region, opts) if new else _existing_network(env)
    pulumi.export("region", region)
    pulumi.export("network_id", network.network_id)
    pulumi.export("subnet_id", network.subnet_id)

    cluster = None
    if spec:
        cluster = Cluster(
            env.name,
            ClusterArgs(
                cluster_name=names.gke_cluster(env.name),
                project=account.project,
                region=region,
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
                key_ring_name=names.gcp_key_ring(env.name, "gke", incarnation),
                deletion_protection=spec.deletion_protection,
                pull_repositories=[
                    ArtifactRepository(project=registry.project, location=registry.location,
                                       repository=registry.repository)
                    for registry in env.registries.values()
                    if isinstance(registry, ArtifactRegistry)
                ],
                ),
            pulumi.ResourceOptions(provider=provider, depends_on=[network.made] if network.made else None),
        )
        pulumi.export("cluster_name", cluster.name)
        pulumi.export("cluster_endpoint", cluster.endpoint)
        pulumi.export("kubeconfig", cluster.kubeconfig)

    readers = secret_readers(env)
    if env.secrets:
        store = SecretStore(
            env.name,
            SecretStoreArgs(
                project=account.project,
                region=region,
                key_ring_name=names.gcp_key_ring(env.name, "secrets", incarnation),
                secret_names=env.secrets.names,
                secret_id_prefix=f"{env.name}-",
                deletion_protection=env.secrets.deletion_protection is not False,
                reader=SecretReaderArgs(workload_pool=cluster.workload_pool, service_accounts=readers)
                if cluster and readers
                else None,
                ),
            opts,
        )
        pulumi.export("secrets_key_id", store.key_id)
        pulumi.export("secret_ids", store.secret_ids)

    if cluster:
        # GKE workload identity federation grants the Kubernetes service
        # account itself, so the secrets reader needs no annotation.
        bootstrap(
            env,
            kubeconfig=cluster.kubeconfig,
            cluster_identifier=cluster.id,
            secrets_reader=ServiceAccountArgs(name=SECRETS_READER) if env.secrets and readers else None,
        )


def _new_network(env: Environment, spec: NetworkSpec, region: str, opts: pulumi.ResourceOptions) -> _Network:
    cluster = env.cluster
    network = Network(
        env.name,
        NetworkArgs(
            network_name=env.name,
            region=region,
            cidr=str(spec.cidr),
            pod_cidr=str(cluster.pod_cidr if cluster else DEFAULT_POD_CIDR),
            service_cidr=str(cluster.service_cidr if cluster else DEFAULT_SERVICE_CIDR),
            nat=spec.nat,
            flow_logs=spec.flow_logs,
        ),
        opts,
    )
    return _Network(network.network_id, network.subnet_id, network.network_self_link, network.subnet_self_link,
                    network.pods_range_name, network.services_range_name, made=network)


def _existing_network(env: Environment) -> _Network:
    """A VPC network made elsewhere: GKE takes its self links or ids alike, and its secondary ranges by name."""
    ids = terraform.network_ids(env, "gcp")
    return _Network(ids["network"], ids["subnetwork"], ids["network"], ids["subnetwork"],
                    ids["pods_range_name"], ids["services_range_name"], made=None)


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
