"""An environment on Azure: one explicit provider for the subscription, then the components.

This is the only place that maps spec fields to Azure component args. The network is a new one (the
Network component, which makes the environment's resource group), or an existing one whose ids a Terraform
state's outputs hold (``stacks.terraform``): then terrane makes its own resource group, ``rg-<env>``, and puts
nothing in anyone else's.
"""

from __future__ import annotations

from dataclasses import dataclass

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
from terrane.stacks import layout, names, terraform
from terrane.stacks.kubernetes import SECRETS_READER, bootstrap, secret_readers
from terrane.stacks.spec.accounts import AzureAccount
from terrane.stacks.spec.environments import Environment, NetworkSpec
from terrane.stacks.spec.registries import AcrRegistry
from terrane.stacks.standard import standard_tags

# How the kubeconfig's kubelogin signs in, per auth method of the account.
_KUBELOGIN: dict[str, KubeloginMode] = {"service_principal": "spn", "oidc": "workloadidentity", "cli": "azurecli"}


@dataclass(frozen=True)
class _Network:
    """The environment's resource group, and the ids of its network, new or existing."""

    resource_group_name: pulumi.Output[str]
    vnet_id: pulumi.Input[str]
    node_subnet_id: pulumi.Input[str]
    endpoint_subnet_id: pulumi.Input[str] | None
    """None for an existing network whose state maps no endpoint subnet (then the environment has no secrets)."""
    made: Network | None
    """The network terrane makes, whose NAT gateway the nodes' egress goes through; None for an existing one."""

    def endpoint_subnet(self, env: Environment) -> pulumi.Input[str]:
        """The subnet of the Key Vault's private endpoint, which ``stacks.rules`` requires with secrets."""
        if self.endpoint_subnet_id is None:
            raise ValueError(f"{env.file}: network.terraform_state.outputs.endpoint_subnet_id is required with secrets")
        return self.endpoint_subnet_id


def compose(env: Environment, account: AzureAccount) -> None:
    location = env.resolved_region(account)
    provider = account_provider(env, account, location)
    opts = pulumi.ResourceOptions(provider=provider)
    tags = standard_tags(env)
    zones = list(layout.AZURE_ZONES[: env.cloud_network.zones])

    new = env.new_network
    network = (_new_network(env, new, account, location, opts) if new
               else _existing_network(env, location, opts))
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
            pulumi.ResourceOptions(provider=provider, depends_on=[network.made] if network.made else None),
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
                endpoint_subnet_id=network.endpoint_subnet(env),
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


def _new_network(env: Environment, spec: NetworkSpec, account: AzureAccount, location: str,
                 opts: pulumi.ResourceOptions) -> _Network:
    subnets = layout.vnet_subnets(spec.cidr)
    network = Network(
        env.name,
        NetworkArgs(
            resource_group_name=_resource_group(env),
            location=location,
            cidr=str(spec.cidr),
            node_subnet_cidr=str(subnets.nodes),
            endpoint_subnet_cidr=str(subnets.endpoints),
            nat=spec.nat,
            flow_logs=spec.flow_logs,
            flow_log_storage_account_name=names.storage_account(env.name, "flowlogs", account.subscription_id),
            tags=standard_tags(env),
        ),
        opts,
    )
    return _Network(network.resource_group_name, network.vnet_id, network.node_subnet_id, network.endpoint_subnet_id,
                    made=network)


def _existing_network(env: Environment, location: str, opts: pulumi.ResourceOptions) -> _Network:
    """A VNet made elsewhere: the cluster and the vault go in terrane's own resource group, attached to its subnets."""
    ids = terraform.network_ids(env, "azure")
    group = azure_native.resources.ResourceGroup(
        f"{env.name}-rg",
        resource_group_name=_resource_group(env),
        location=location,
        tags=standard_tags(env),
        opts=opts,
    )
    return _Network(group.name, ids["vnet_id"], ids["node_subnet_id"], ids.get("endpoint_subnet_id"), made=None)


def _resource_group(env: Environment) -> str:
    return f"rg-{env.name}"


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
