"""An environment on Azure: Azure's steps of ``stacks.compose``, with one explicit provider for the subscription.

This is the only place that maps spec fields to Azure component args. The network is a new one (the
Network component, which makes the environment's resource group), or an existing one whose ids a Terraform
state's outputs hold (``stacks.terraform``): then terrane makes its own resource group, ``rg-<env>``, and puts
nothing in anyone else's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
from terrane.stacks.compose import ClusterAccess, Readers, Site, Steps
from terrane.stacks.spec.accounts import AzureAccount
from terrane.stacks.spec.environments import ClusterSpec, Environment, NetworkSpec, SecretsSpec
from terrane.stacks.spec.registries import AcrRegistry
from terrane.stacks.standard import SECRETS_READER, standard_tags

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

    def outputs(self) -> dict[str, pulumi.Input[Any]]:
        return {"resource_group_name": self.resource_group_name, "vnet_id": self.vnet_id,
                "node_subnet_id": self.node_subnet_id}

    def endpoint_subnet(self, env: Environment) -> pulumi.Input[str]:
        """The subnet of the Key Vault's private endpoint, which ``stacks.rules`` requires with secrets."""
        if self.endpoint_subnet_id is None:
            raise ValueError(f"{env.file}: network.terraform_state.outputs.endpoint_subnet_id is required with secrets")
        return self.endpoint_subnet_id


def _new_network(site: Site[AzureAccount], spec: NetworkSpec) -> _Network:
    env = site.env
    subnets = layout.vnet_subnets(spec.cidr)
    network = Network(
        env.name,
        NetworkArgs(
            resource_group_name=_resource_group(env),
            location=site.region,
            cidr=str(spec.cidr),
            node_subnet_cidr=str(subnets.nodes),
            endpoint_subnet_cidr=str(subnets.endpoints),
            nat=spec.nat,
            flow_logs=spec.flow_logs,
            flow_log_storage_account_name=names.storage_account(env.name, "flowlogs", site.account.subscription_id),
            tags=standard_tags(env),
        ),
        site.opts,
    )
    return _Network(network.resource_group_name, network.vnet_id, network.node_subnet_id, network.endpoint_subnet_id,
                    made=network)


def _existing_network(site: Site[AzureAccount]) -> _Network:
    """A VNet made elsewhere: the cluster and the vault go in terrane's own resource group, attached to its subnets."""
    env = site.env
    ids = terraform.network_ids(env, "azure")
    group = azure_native.resources.ResourceGroup(
        f"{env.name}-rg",
        resource_group_name=_resource_group(env),
        location=site.region,
        tags=standard_tags(env),
        opts=site.opts,
    )
    return _Network(group.name, ids["vnet_id"], ids["node_subnet_id"], ids.get("endpoint_subnet_id"), made=None)


def _cluster(site: Site[AzureAccount], spec: ClusterSpec, network: _Network, opts: pulumi.ResourceOptions) -> Cluster:
    env, account = site.env, site.account
    cluster = Cluster(
        env.name,
        ClusterArgs(
            resource_group_name=network.resource_group_name,
            location=site.region,
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
            zones=list(layout.AZURE_ZONES[: env.cloud_network.zones]),
            outbound_nat=env.cloud_network.nat != "none",
            deletion_protection=spec.deletion_protection,
            kubelogin_mode=_KUBELOGIN[account.auth.method],
            service_principal=_service_principal_login(account),
            pull_registries=[registry.resource_id for registry in env.registries.values()
                             if isinstance(registry, AcrRegistry)],
            tags=standard_tags(env),
        ),
        opts,
    )
    pulumi.export("cluster_name", cluster.name)
    pulumi.export("oidc_issuer_url", cluster.oidc_issuer_url)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    return cluster


def _secret_store(site: Site[AzureAccount], spec: SecretsSpec, network: _Network,
                  readers: Readers[Cluster] | None) -> ServiceAccountArgs | None:
    """A Key Vault behind a private endpoint; with readers, a workload identity their service accounts name."""
    env, account = site.env, site.account
    reader = SecretReaderArgs(oidc_issuer_url=readers.cluster.oidc_issuer_url,
                              service_accounts=readers.service_accounts) if readers else None
    store = SecretStore(
        env.name,
        SecretStoreArgs(
            resource_group_name=network.resource_group_name,
            location=site.region,
            tenant_id=account.tenant_id,
            vault_name=names.key_vault(env.name, account.subscription_id),
            secret_names=spec.names,
            recovery_days=spec.recovery_days,
            endpoint_subnet_id=network.endpoint_subnet(env),
            vnet_id=network.vnet_id,
            reader=reader,
            tags=standard_tags(env),
        ),
        site.opts,
    )
    pulumi.export("vault_uri", store.vault_uri)
    if reader is None:
        return None
    client_id = store.reader_client_id.apply(present)
    pulumi.export("secrets_reader_client_id", client_id)
    return ServiceAccountArgs(
        name=SECRETS_READER,
        annotations={"azure.workload.identity/client-id": client_id},
        labels={"azure.workload.identity/use": "true"},
    )


def _access(cluster: Cluster) -> ClusterAccess:
    # The provider's own kubeconfig, which may sign in as the account's service principal.
    return ClusterAccess(kubeconfig=cluster.provider_kubeconfig, identifier=cluster.id)


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


STEPS = Steps(provider=account_provider, new_network=_new_network, existing_network=_existing_network,
              cluster=_cluster, secret_store=_secret_store, access=_access)
compose = STEPS.compose
"""The program's entry (``stacks.program``): an environment on Azure, in the order every cloud shares."""
