"""An environment on Azure: one explicit provider for the subscription, then the components.

This is the only place that maps spec fields to Azure component args.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure_native

from terrane.components.azure import (
    Cluster,
    ClusterArgs,
    KubeloginMode,
    Network,
    NetworkArgs,
    NodePoolArgs,
    SecretReaderArgs,
    SecretStore,
    SecretStoreArgs,
    ServicePrincipalLogin,
)
from terrane.components.kubernetes import ServiceAccountArgs
from terrane.components.outputs import present
from terrane.stacks import layout, names
from terrane.stacks.kubernetes import SECRETS_READER, bootstrap, secret_readers
from terrane.stacks.program import standard_tags
from terrane.stacks.spec.accounts import AzureAccount
from terrane.stacks.spec.environments import Environment
from terrane.stacks.spec.registries import AcrRegistry

# How the kubeconfig's kubelogin signs in, per auth method of the account.
_KUBELOGIN: dict[str, KubeloginMode] = {"service_principal": "spn", "oidc": "workloadidentity", "cli": "azurecli"}


def compose(env: Environment, account: AzureAccount) -> None:
    location = env.resolved_region(account)
    provider = account_provider(env, account, location)
    opts = pulumi.ResourceOptions(provider=provider)
    tags = standard_tags(env)
    subnets = layout.vnet_subnets(env.cloud_network.cidr)
    zones = list(layout.AZURE_ZONES[: env.cloud_network.zones])

    network = Network(
        env.name,
        NetworkArgs(
            resource_group_name=f"rg-{env.name}",
            location=location,
            cidr=str(env.cloud_network.cidr),
            node_subnet_cidr=str(subnets.nodes),
            endpoint_subnet_cidr=str(subnets.endpoints),
            nat=env.cloud_network.nat,
            flow_logs=env.cloud_network.flow_logs,
            flow_log_storage_account_name=names.storage_account(env.name, "flowlogs", account.subscription_id),
            tags=tags,
        ),
        opts,
    )
    pulumi.export("region", location)
    pulumi.export("resource_group_name", network.resource_group_name)
    pulumi.export("vnet_id", network.vnet_id)
    pulumi.export("node_subnet_id", network.node_subnet_id)

    cluster = None
    if env.cluster:
        spec = env.cluster
        cluster = Cluster(
            env.name,
            ClusterArgs(
                resource_group_name=network.resource_group_name,
                location=location,
                cluster_name=env.name,
                kubernetes_version=spec.kubernetes_version,
                node_subnet_id=network.node_subnet_id,
                tenant_id=account.tenant_id,
                endpoint_public=spec.endpoint == "public",
                authorized_cidrs=[str(cidr) for cidr in spec.authorized_cidrs],
                pod_cidr=str(spec.pod_cidr),
                service_cidr=str(spec.service_cidr),
                node_pools=[
                    NodePoolArgs(
                        name=pool.name,
                        vm_size=layout.machine_type("azure", pool),
                        min_count=pool.min,
                        max_count=pool.max,
                    )
                    for pool in spec.node_pools
                ],
                zones=zones,
                outbound_nat=env.cloud_network.nat != "none",
                deletion_protection=spec.deletion_protection,
                kubelogin_mode=_KUBELOGIN[account.auth.method],
                service_principal=_service_principal_login(account),
                pull_registries=[registry.resource_id for registry in env.registries.values()
                                 if isinstance(registry, AcrRegistry)],
                tags=tags,
            ),
            # Nodes reach the internet only through the NAT gateway on their subnet.
            pulumi.ResourceOptions(provider=provider, depends_on=[network]),
        )
        pulumi.export("cluster_name", cluster.name)
        pulumi.export("oidc_issuer_url", cluster.oidc_issuer_url)
        pulumi.export("kubeconfig", cluster.kubeconfig)

    readers = secret_readers(env)
    reader_client_id = None
    if env.secrets:
        reader = SecretReaderArgs(oidc_issuer_url=cluster.oidc_issuer_url, service_accounts=readers) if cluster and readers else None
        store = SecretStore(
            env.name,
            SecretStoreArgs(
                resource_group_name=network.resource_group_name,
                location=location,
                tenant_id=account.tenant_id,
                vault_name=names.key_vault(env.name, account.subscription_id),
                secret_names=env.secrets.names,
                recovery_days=env.secrets.recovery_days,
                endpoint_subnet_id=network.endpoint_subnet_id,
                vnet_id=network.vnet_id,
                reader=reader,
                tags=tags,
            ),
            opts,
        )
        pulumi.export("vault_uri", store.vault_uri)
        if reader:
            reader_client_id = store.reader_client_id.apply(present)
            pulumi.export("secrets_reader_client_id", reader_client_id)

    if cluster:
        bootstrap(
            env,
            kubeconfig=cluster.provider_kubeconfig,
            cluster_identifier=cluster.id,
            secrets_reader=ServiceAccountArgs(
                name=SECRETS_READER,
                annotations={"azure.workload.identity/client-id": reader_client_id},
                labels={"azure.workload.identity/use": "true"},
            )
            if reader_client_id
            else None,
        )


def account_provider(env: Environment, account: AzureAccount, location: str) -> azure_native.Provider:
    """The one azure-native provider of the environment, bound to the linked subscription.

    Identity comes from the typed account; secret material (a client secret or
    an OIDC token) from the stack's secret config, which the engine sets from
    the account before every operation. Offline, none is set.
    """
    config = pulumi.Config("azure-native")
    auth = account.auth
    login = auth.service_principal or auth.oidc
    return azure_native.Provider(
        env.account,
        tenant_id=account.tenant_id,
        subscription_id=account.subscription_id,
        location=location,
        client_id=login.client_id if login else None,
        client_secret=config.get_secret("clientSecret") if auth.service_principal else None,
        use_oidc=True if auth.oidc else None,
        oidc_token=config.get_secret("oidcToken") if auth.oidc else None,
    )


def _service_principal_login(account: AzureAccount) -> ServicePrincipalLogin | None:
    """The account's service principal, with the secret the engine set as the stack's secret config.

    Only the program's own Kubernetes provider signs in with it: the secret
    reaches the environment of the kubelogin that provider starts, and no
    other. Offline, no secret is set.
    """
    login = account.auth.service_principal
    if login is None:
        return None
    secret = pulumi.Config("azure-native").get_secret("clientSecret")
    return ServicePrincipalLogin(client_id=login.client_id, client_secret=secret) if secret else None
