"""The azure-dev environment written by hand as one flat Pulumi program: a baseline of ``plan_bench``.

It registers the same custom resources, under the same logical names and with
the same inputs, as ``terrane plan azure-dev`` (the components' own
ComponentResources aside), using nothing but ``pulumi_azure_native`` and
``pulumi_kubernetes``: no terrane components, no spec, no YAML. Timing it tells
what the same plan costs a user who writes Pulumi by hand, so terrane's own
overhead is the difference. Values mirror ``environments/azure-dev.yaml`` and
``accounts.yaml`` literally, as a hand-written program would, including the
physical names terrane derives (the Key Vault's and storage account's digests);
inputs are kept equal to terrane's so ``plan_bench`` can check that the two stay
the same plan while the components evolve.

Run as a script, it renders itself once offline and prints its resource count
(``--json``: the registrations and stack outputs, for that check; see ``_baseline``).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi
import pulumi_azure_native as azure_native
import pulumi_kubernetes as k8s
import yaml

ENV = "azure-dev"
ACCOUNT = "azure-sandbox"
TENANT_ID = "11111111-1111-1111-1111-111111111111"
SUBSCRIPTION_ID = "22222222-2222-2222-2222-222222222222"
CLIENT_ID = "33333333-3333-3333-3333-333333333333"
LOCATION = "westeurope"
TAGS = {"team": "platform", "cost-center": "1234", "terrane:environment": ENV, "managed-by": "terrane"}

RESOURCE_GROUP = f"rg-{ENV}"
VNET_CIDR = "10.20.0.0/16"
NODE_SUBNET_CIDR = "10.20.0.0/17"
ENDPOINT_SUBNET_CIDR = "10.20.128.0/24"
FLOW_LOG_STORAGE_ACCOUNT = "flowlogsazuredev3fc08d"
ZONES = ["1", "2", "3"]
KUBERNETES_VERSION = "1.31"
# name, VM size, min, max; the first is the system pool
NODE_POOLS = [("system", "Standard_D4s_v5", 2, 4), ("batch", "Standard_D8s_v5", 0, 10)]
VAULT_NAME = "kv-azure-dev-5d6698"
NAMESPACES = ["apps", "observability"]
SECRETS_READER = "secrets-reader"

# Built-in roles, and the AKS Entra ID server application kubelogin asks tokens for.
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
REGISTRY_ID = (f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/images"
               "/providers/Microsoft.ContainerRegistry/registries/sandboximages")
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693888ce32b"
AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"


def program() -> None:
    """Register the azure-dev environment; run it under the Automation API or ``terrane.engine.offline.render``."""
    provider = azure_native.Provider(
        ACCOUNT,
        tenant_id=TENANT_ID,
        subscription_id=SUBSCRIPTION_ID,
        location=LOCATION,
        client_id=CLIENT_ID,
        client_secret=pulumi.Config("azure-native").get_secret("clientSecret"),
    )
    opts = pulumi.ResourceOptions(provider=provider)
    invoke = pulumi.InvokeOutputOptions(provider=provider)
    deployer = azure_native.authorization.get_client_config_output(opts=invoke)

    # Network
    group = azure_native.resources.ResourceGroup(
        f"{ENV}-rg", resource_group_name=RESOURCE_GROUP, location=LOCATION, tags=TAGS, opts=opts
    )
    common: dict[str, Any] = {"resource_group_name": group.name, "location": LOCATION, "tags": TAGS}
    nsg = azure_native.network.NetworkSecurityGroup(
        f"{ENV}-nsg", network_security_group_name=f"{RESOURCE_GROUP}-nsg", **common, opts=opts
    )
    vnet = azure_native.network.VirtualNetwork(
        f"{ENV}-vnet",
        virtual_network_name=f"{RESOURCE_GROUP}-vnet",
        address_space=azure_native.network.AddressSpaceArgs(address_prefixes=[VNET_CIDR]),
        **common,
        opts=opts,
    )
    nat_ip = azure_native.network.PublicIPAddress(
        f"{ENV}-nat-ip",
        public_ip_address_name=f"{RESOURCE_GROUP}-nat-ip",
        sku=azure_native.network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
        public_ip_allocation_method="Static",
        public_ip_address_version="IPv4",
        zones=ZONES,
        **common,
        opts=opts,
    )
    nat = azure_native.network.NatGateway(
        f"{ENV}-nat",
        nat_gateway_name=f"{RESOURCE_GROUP}-nat",
        sku=azure_native.network.NatGatewaySkuArgs(name="Standard"),
        public_ip_addresses=[azure_native.network.SubResourceArgs(id=nat_ip.id)],
        idle_timeout_in_minutes=4,
        **common,
        opts=opts,
    )
    node_subnet = azure_native.network.Subnet(
        f"{ENV}-nodes",
        subnet_name="nodes",
        virtual_network_name=vnet.name,
        resource_group_name=group.name,
        address_prefix=NODE_SUBNET_CIDR,
        network_security_group=azure_native.network.NetworkSecurityGroupArgs(id=nsg.id),
        nat_gateway=azure_native.network.SubResourceArgs(id=nat.id),
        default_outbound_access=False,
        opts=opts,
    )
    endpoint_subnet = azure_native.network.Subnet(
        f"{ENV}-endpoints",
        subnet_name="endpoints",
        virtual_network_name=vnet.name,
        resource_group_name=group.name,
        address_prefix=ENDPOINT_SUBNET_CIDR,
        network_security_group=azure_native.network.NetworkSecurityGroupArgs(id=nsg.id),
        default_outbound_access=False,
        private_endpoint_network_policies="Enabled",
        # A VNet takes one subnet operation at a time.
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[node_subnet]),
    )
    flow_log_account = azure_native.storage.StorageAccount(
        f"{ENV}-flow-logs",
        account_name=FLOW_LOG_STORAGE_ACCOUNT,
        kind="StorageV2",
        sku=azure_native.storage.SkuArgs(name="Standard_LRS"),
        access_tier="Hot",
        enable_https_traffic_only=True,
        minimum_tls_version="TLS1_2",
        allow_blob_public_access=False,
        allow_shared_key_access=False,
        default_to_o_auth_authentication=True,
        allow_cross_tenant_replication=False,
        public_network_access="Enabled",
        network_rule_set=azure_native.storage.NetworkRuleSetArgs(default_action="Deny", bypass="AzureServices"),
        **common,
        opts=opts,
    )
    flow_log_identity = azure_native.managedidentity.UserAssignedIdentity(
        f"{ENV}-flow-logs", resource_name_=f"{RESOURCE_GROUP}-flow-logs", **common, opts=opts
    )
    flow_log_writer = azure_native.authorization.RoleAssignment(
        f"{ENV}-flow-logs",
        scope=flow_log_account.id,
        role_definition_id=_role(STORAGE_BLOB_DATA_CONTRIBUTOR),
        principal_id=flow_log_identity.principal_id,
        principal_type="ServicePrincipal",
        opts=opts,
    )
    azure_native.network.FlowLog(
        f"{ENV}-flow-logs",
        target_resource_id=vnet.id,
        flow_log_name=f"{RESOURCE_GROUP}-vnet",
        network_watcher_name=f"NetworkWatcher_{LOCATION}",
        resource_group_name="NetworkWatcherRG",
        location=LOCATION,
        storage_id=flow_log_account.id,
        enabled=True,
        format=azure_native.network.FlowLogFormatParametersArgs(type="JSON", version=2),
        retention_policy=azure_native.network.RetentionPolicyParametersArgs(enabled=True, days=365),
        identity=azure_native.network.ManagedServiceIdentityArgs(
            type="UserAssigned", user_assigned_identities=[flow_log_identity.id]
        ),
        tags=TAGS,
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[flow_log_writer]),
    )

    # AKS cluster
    cluster_identity = azure_native.managedidentity.UserAssignedIdentity(
        f"{ENV}-identity", resource_name_=f"{ENV}-identity", **common, opts=opts
    )
    subnet_access = azure_native.authorization.RoleAssignment(
        f"{ENV}-subnet",
        scope=node_subnet.id,
        role_definition_id=_role(NETWORK_CONTRIBUTOR),
        principal_id=cluster_identity.principal_id,
        principal_type="ServicePrincipal",
        opts=opts,
    )
    (system, system_size, system_min, system_max), *user_pools = NODE_POOLS
    cluster = azure_native.containerservice.ManagedCluster(
        f"{ENV}-aks",
        resource_name_=ENV,
        dns_prefix=ENV,
        kubernetes_version=KUBERNETES_VERSION,
        sku=azure_native.containerservice.ManagedClusterSKUArgs(name="Base", tier="Standard"),
        identity=azure_native.containerservice.ManagedClusterIdentityArgs(
            type="UserAssigned", user_assigned_identities=[cluster_identity.id]
        ),
        aad_profile=azure_native.containerservice.ManagedClusterAADProfileArgs(
            managed=True, enable_azure_rbac=True, tenant_id=TENANT_ID
        ),
        enable_rbac=True,
        disable_local_accounts=True,
        api_server_access_profile=azure_native.containerservice.ManagedClusterAPIServerAccessProfileArgs(
            enable_private_cluster=True, enable_private_cluster_public_fqdn=False
        ),
        oidc_issuer_profile=azure_native.containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
        security_profile=azure_native.containerservice.ManagedClusterSecurityProfileArgs(
            workload_identity=azure_native.containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(
                enabled=True
            ),
        ),
        network_profile=azure_native.containerservice.ContainerServiceNetworkProfileArgs(
            network_plugin="azure",
            network_plugin_mode="overlay",
            network_dataplane="cilium",
            network_policy="cilium",
            pod_cidr="100.64.0.0/14",
            service_cidr="172.20.0.0/16",
            dns_service_ip="172.20.0.10",
            load_balancer_sku="standard",
            outbound_type="userAssignedNATGateway",
        ),
        agent_pool_profiles=[
            azure_native.containerservice.ManagedClusterAgentPoolProfileArgs(
                name=system,
                mode="System",
                **_pool(system_size, system_min, system_max, node_subnet.id),
            )
        ],
        auto_upgrade_profile=azure_native.containerservice.ManagedClusterAutoUpgradeProfileArgs(
            upgrade_channel="patch", node_os_upgrade_channel="NodeImage"
        ),
        **common,
        opts=pulumi.ResourceOptions(
            provider=provider, depends_on=[subnet_access], ignore_changes=["agentPoolProfiles[0].count"]
        ),
    )
    for pool, vm_size, min_count, max_count in user_pools:
        azure_native.containerservice.AgentPool(
            f"{ENV}-{pool}",
            agent_pool_name=pool,
            resource_name_=cluster.name,
            resource_group_name=group.name,
            mode="User",
            **_pool(vm_size, min_count, max_count, node_subnet.id),
            opts=pulumi.ResourceOptions(provider=provider, ignore_changes=["count"]),
        )
    azure_native.authorization.RoleAssignment(
        f"{ENV}-deployer-admin",
        scope=cluster.id,
        role_definition_id=_role(AKS_RBAC_CLUSTER_ADMIN),
        principal_id=deployer.object_id,
        principal_type="ServicePrincipal",
        opts=opts,
    )
    # The cluster names the registry azure-images: its kubelet identity may pull from it.
    azure_native.authorization.RoleAssignment(
        f"{ENV}-pull-sandboximages",
        scope=REGISTRY_ID,
        role_definition_id=_role(ACR_PULL),
        principal_id=cluster.identity_profile.apply(lambda profile: profile["kubeletidentity"].object_id),
        principal_type="ServicePrincipal",
        opts=opts,
    )
    azure_native.authorization.ManagementLockByScope(
        f"{ENV}-lock",
        scope=cluster.id,
        lock_name="terrane-deletion-protection",
        level="CanNotDelete",
        notes="deletion_protection is on for this environment; turn it off to delete the cluster",
        opts=opts,
    )
    credentials = azure_native.containerservice.list_managed_cluster_user_credentials_output(
        resource_group_name=group.name, resource_name=cluster.name, opts=invoke
    )
    certificate_authority = credentials.kubeconfigs.apply(lambda configs: _certificate_authority(configs[0].value))
    oidc_issuer_url = cluster.oidc_issuer_profile.apply(lambda profile: profile.issuer_url)
    kubeconfig = pulumi.Output.secret(
        pulumi.Output.all(cluster.name, cluster.private_fqdn, certificate_authority).apply(
            lambda v: json.dumps(_kubeconfig(*v))
        )
    )

    # Secrets
    vault = azure_native.keyvault.Vault(
        f"{ENV}-vault",
        vault_name=VAULT_NAME,
        properties=azure_native.keyvault.VaultPropertiesArgs(
            tenant_id=TENANT_ID,
            sku=azure_native.keyvault.SkuArgs(family="A", name="standard"),
            enable_rbac_authorization=True,
            enable_soft_delete=True,
            soft_delete_retention_in_days=7,
            enable_purge_protection=True,
            public_network_access="Disabled",
            network_acls=azure_native.keyvault.NetworkRuleSetArgs(default_action="Deny", bypass="AzureServices"),
            enabled_for_deployment=False,
            enabled_for_disk_encryption=False,
            enabled_for_template_deployment=False,
        ),
        **common,
        opts=opts,
    )
    endpoint = azure_native.network.PrivateEndpoint(
        f"{ENV}-endpoint",
        private_endpoint_name=f"{VAULT_NAME}-endpoint",
        subnet={"id": endpoint_subnet.id},
        private_link_service_connections=[
            azure_native.network.PrivateLinkServiceConnectionArgs(
                name=f"{VAULT_NAME}-vault", private_link_service_id=vault.id, group_ids=["vault"]
            )
        ],
        **common,
        opts=opts,
    )
    zone = azure_native.privatedns.PrivateZone(
        f"{ENV}-zone",
        private_zone_name="privatelink.vaultcore.azure.net",
        resource_group_name=group.name,
        location="Global",
        tags=TAGS,
        opts=opts,
    )
    azure_native.privatedns.VirtualNetworkLink(
        f"{ENV}-zone-link",
        virtual_network_link_name=f"{VAULT_NAME}-vnet",
        private_zone_name=zone.name,
        resource_group_name=group.name,
        location="Global",
        virtual_network=azure_native.privatedns.SubResourceArgs(id=vnet.id),
        registration_enabled=False,
        tags=TAGS,
        opts=opts,
    )
    azure_native.network.PrivateDnsZoneGroup(
        f"{ENV}-zone-group",
        private_dns_zone_group_name="default",
        private_endpoint_name=endpoint.name,
        resource_group_name=group.name,
        private_dns_zone_configs=[
            azure_native.network.PrivateDnsZoneConfigArgs(name="vaultcore", private_dns_zone_id=zone.id)
        ],
        opts=opts,
    )
    reader = azure_native.managedidentity.UserAssignedIdentity(
        f"{ENV}-reader", resource_name_=f"{VAULT_NAME}-reader", **common, opts=opts
    )
    previous: list[pulumi.Resource] = []
    for namespace in NAMESPACES:
        credential = azure_native.managedidentity.FederatedIdentityCredential(
            f"{ENV}-reader-{namespace}-{SECRETS_READER}",
            federated_identity_credential_resource_name=f"{namespace}-{SECRETS_READER}",
            resource_name_=reader.name,
            resource_group_name=group.name,
            issuer=oidc_issuer_url,
            subject=f"system:serviceaccount:{namespace}:{SECRETS_READER}",
            audiences=["api://AzureADTokenExchange"],
            # An identity accepts one federated credential write at a time.
            opts=pulumi.ResourceOptions(provider=provider, depends_on=previous),
        )
        previous = [credential]
    azure_native.authorization.RoleAssignment(
        f"{ENV}-reader",
        scope=vault.id,
        role_definition_id=_role(KEY_VAULT_SECRETS_USER),
        principal_id=reader.principal_id,
        principal_type="ServicePrincipal",
        opts=opts,
    )

    # Kubernetes bootstrap
    k8s_provider = k8s.Provider(f"{ENV}-k8s", kubeconfig=kubeconfig, cluster_identifier=cluster.id)
    k8s_opts = pulumi.ResourceOptions(provider=k8s_provider)
    restricted = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
    forced = {"pulumi.com/patchForce": "true"}
    namespace_names = []
    for namespace in NAMESPACES:
        created = k8s.core.v1.Namespace(
            f"{ENV}-{namespace}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace, labels=restricted, annotations=forced),
            opts=k8s_opts,
        )
        in_namespace = created.metadata.name
        namespace_names.append(in_namespace)
        k8s.networking.v1.NetworkPolicy(
            f"{ENV}-{namespace}-default-deny",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="default-deny", namespace=in_namespace, labels={}, annotations=forced),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(), policy_types=["Ingress", "Egress"], ingress=[], egress=[]
            ),
            opts=k8s_opts,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{ENV}-{namespace}-allow-dns",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="allow-dns", namespace=in_namespace, labels={}, annotations=forced),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                policy_types=["Egress"],
                egress=[
                    k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                        to=[
                            k8s.networking.v1.NetworkPolicyPeerArgs(
                                namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                                    match_labels={"kubernetes.io/metadata.name": "kube-system"}
                                )
                            )
                        ],
                        ports=[
                            k8s.networking.v1.NetworkPolicyPortArgs(protocol=protocol, port=53)
                            for protocol in ("UDP", "TCP")
                        ],
                    )
                ],
            ),
            opts=k8s_opts,
        )
        k8s.core.v1.ServiceAccount(
            f"{ENV}-{namespace}-{SECRETS_READER}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=SECRETS_READER,
                namespace=in_namespace,
                annotations={"azure.workload.identity/client-id": reader.client_id, **forced},
                labels={"azure.workload.identity/use": "true"},
            ),
            automount_service_account_token=False,
            opts=k8s_opts,
        )

    pulumi.export("region", LOCATION)
    pulumi.export("resource_group_name", group.name)
    pulumi.export("vnet_id", vnet.id)
    pulumi.export("node_subnet_id", node_subnet.id)
    pulumi.export("cluster_name", cluster.name)
    pulumi.export("oidc_issuer_url", oidc_issuer_url)
    pulumi.export("kubeconfig", kubeconfig)
    pulumi.export("vault_uri", vault.properties.apply(lambda properties: properties.vault_uri))
    pulumi.export("secrets_reader_client_id", reader.client_id)
    pulumi.export("namespaces", pulumi.Output.all(*namespace_names))


def _role(role: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def _pool(vm_size: str, min_count: int, max_count: int, subnet_id: pulumi.Input[str]) -> dict[str, Any]:
    return {
        "vm_size": vm_size,
        "vnet_subnet_id": subnet_id,
        "availability_zones": ZONES,
        "enable_auto_scaling": True,
        "min_count": min_count,
        "max_count": max_count,
        "count": min_count,
        "os_type": "Linux",
        "os_sku": "AzureLinux",
        "os_disk_size_gb": 128,
        "type": "VirtualMachineScaleSets",
        "orchestrator_version": KUBERNETES_VERSION,
        "enable_node_public_ip": False,
        "tags": TAGS,
    }


def _certificate_authority(encoded_kubeconfig: str) -> str:
    config = yaml.safe_load(base64.b64decode(encoded_kubeconfig))
    return str(config["clusters"][0]["cluster"]["certificate-authority-data"])


def _kubeconfig(cluster_name: str, fqdn: str, certificate_authority: str) -> dict[str, Any]:
    get_token = [
        "get-token",
        "--login",
        "spn",
        "--server-id",
        AKS_SERVER_ID,
        "--environment",
        "AzurePublicCloud",
        "--tenant-id",
        TENANT_ID,
    ]
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {"server": f"https://{fqdn}:443", "certificate-authority-data": certificate_authority},
            }
        ],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [
            {
                "name": cluster_name,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "kubelogin",
                        "args": get_token,
                        "interactiveMode": "Never",
                        "provideClusterInfo": False,
                    }
                },
            }
        ],
    }


if __name__ == "__main__":
    from _baseline import main

    main(program, stack=ENV, account_id=SUBSCRIPTION_ID, region=LOCATION)
