"""An environment on Google Cloud: one explicit provider for the project, then the components.

This is the only place that maps spec fields to GCP component args.
"""

from __future__ import annotations

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
from terrane.stacks import layout, names
from terrane.stacks.kubernetes import SECRETS_READER, bootstrap, secret_readers
from terrane.stacks.program import stack_incarnation, standard_labels
from terrane.stacks.spec.accounts import GcpAccount
from terrane.stacks.spec.environments import DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR, Environment
from terrane.stacks.spec.registries import ArtifactRegistry


def compose(env: Environment, account: GcpAccount) -> None:
    region = env.resolved_region(account)
    provider = account_provider(env, account, region)
    opts = pulumi.ResourceOptions(provider=provider)
    spec = env.cluster
    incarnation = stack_incarnation()

    network = Network(
        env.name,
        NetworkArgs(
            network_name=env.name,
            region=region,
            cidr=str(env.cloud_network.cidr),
            pod_cidr=str(spec.pod_cidr if spec else DEFAULT_POD_CIDR),
            service_cidr=str(spec.service_cidr if spec else DEFAULT_SERVICE_CIDR),
            nat=env.cloud_network.nat,
            flow_logs=env.cloud_network.flow_logs,
        ),
        opts,
    )
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
            pulumi.ResourceOptions(provider=provider, depends_on=[network]),
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
