from __future__ import annotations

import base64

import pulumi
import pulumi_azure_native as azure_native
import pytest
import yaml

from terrane.components.azure import Cluster, ClusterArgs, NodePoolArgs, ServicePrincipalLogin
from terrane.components.azure.cluster import dns_service_ip
from terrane.components.azure.kubelogin import KUBELOGIN_SERVER_ID, certificate_authority_data, kubeconfig
from terrane.engine.offline.render import Rendered, RenderedResource, render
from tests.helpers.rendered import assert_owned

SUBSCRIPTION = "22222222-2222-2222-2222-222222222222"
TENANT = "11111111-1111-1111-1111-111111111111"
ADMINS = ["44444444-4444-4444-4444-444444444444"]
CLIENT = "33333333-3333-3333-3333-333333333333"
CLIENT_SECRET = "spn-secret-4f1e"
GROUP = "terrane-azure-dev"
VNET = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Network/virtualNetworks/{GROUP}-vnet"
NODE_SUBNET = f"{VNET}/subnets/nodes"
POOLS = [
    NodePoolArgs(name="system", vm_size="Standard_D4s_v5", min_count=2, max_count=4),
    NodePoolArgs(name="batch", vm_size="Standard_D8s_v5", min_count=0, max_count=3, disk_size_gb=256),
    NodePoolArgs(name="gpu", vm_size="Standard_NC4as_T4_v3", min_count=1, max_count=2),
]
MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
LOCK = "azure-native:authorization:ManagementLockByScope"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"


def _args(**overrides: object) -> ClusterArgs:
    values: dict[str, object] = {
        "resource_group_name": GROUP,
        "location": "westeurope",
        "cluster_name": "azure-dev",
        "kubernetes_version": "1.31",
        "node_subnet_id": NODE_SUBNET,
        "tenant_id": TENANT,
        "endpoint_public": False,
        "authorized_cidrs": [],
        "pod_cidr": "192.168.0.0/16",
        "service_cidr": "172.20.0.0/16",
        "node_pools": POOLS,
        "zones": ["1", "2", "3"],
        "outbound_nat": True,
        "deletion_protection": True,
        "kubelogin_mode": "spn",
        "admin_group_object_ids": ADMINS,
        "tags": {"team": "platform"},
    }
    return ClusterArgs(**{**values, **overrides})  # type: ignore[arg-type]


def _render(args: ClusterArgs) -> Rendered:
    def program() -> None:
        provider = azure_native.Provider(
            "azure", location="westeurope", subscription_id=SUBSCRIPTION, tenant_id=TENANT
        )
        cluster = Cluster("aks", args, pulumi.ResourceOptions(provider=provider))
        for output in ("name", "id", "oidc_issuer_url", "kubeconfig", "provider_kubeconfig"):
            pulumi.export(output, getattr(cluster, output))
        # Only to check what the secrets hold; a real program never unwraps them.
        pulumi.export("kubeconfig_plain", pulumi.Output.unsecret(cluster.kubeconfig))
        pulumi.export("provider_kubeconfig_plain", pulumi.Output.unsecret(cluster.provider_kubeconfig))

    return render(program, project="terrane", stack="test", account_id=SUBSCRIPTION, region="westeurope")


@pytest.fixture(scope="module")
def private() -> Rendered:
    return _render(_args(service_principal=ServicePrincipalLogin(client_id=CLIENT, client_secret=CLIENT_SECRET)))


@pytest.fixture(scope="module")
def public() -> Rendered:
    return _render(
        _args(
            endpoint_public=True,
            authorized_cidrs=["203.0.113.0/24", "198.51.100.7/32"],
            node_pools=POOLS[:1],
            zones=[],
            outbound_nat=False,
            deletion_protection=False,
            kubelogin_mode="workloadidentity",
            admin_group_object_ids=(),
        )
    )


@pytest.fixture(scope="module")
def azurecli() -> Rendered:
    return _render(_args(kubelogin_mode="azurecli", node_pools=POOLS[:1]))


def _aks(rendered: Rendered) -> RenderedResource:
    return rendered.one(MANAGED_CLUSTER)


def _named(rendered: Rendered, type_: str, name: str) -> RenderedResource:
    return next(r for r in rendered.of_type(type_) if r.name == name)


@pytest.mark.parametrize("fixture", ["private", "public"])
def test_every_resource_belongs_to_the_component_and_uses_its_provider(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    assert_owned(rendered, rendered.one("terrane:azure:Cluster"), rendered.one("pulumi:providers:azure-native"))


def test_cluster_identity_is_user_assigned_and_may_use_the_node_subnet(private: Rendered) -> None:
    identity = private.one("azure-native:managedidentity:UserAssignedIdentity")
    assert identity.inputs["resourceName"] == "azure-dev-identity"
    assert identity.inputs["resourceGroupName"] == GROUP
    aks = _aks(private)
    (identity_id,) = aks.inputs["identity"]["userAssignedIdentities"]
    assert aks.inputs["identity"]["type"] == "UserAssigned"
    assert identity_id.endswith("/providers/Microsoft.ManagedIdentity/userAssignedIdentities/azure-dev-identity")

    assignment = _named(private, ROLE_ASSIGNMENT, "aks-subnet")
    assert assignment.inputs["scope"] == NODE_SUBNET
    assert assignment.inputs["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/"
        "4d97b98b-1d4f-4787-a291-c67834d212e7"
    )
    assert assignment.inputs["principalType"] == "ServicePrincipal"
    assert identity.urn in assignment.depends_on
    # AKS checks the subnet as this identity while it creates the cluster.
    assert assignment.urn in aks.depends_on


def test_standard_tier_with_entra_id_azure_rbac_and_no_local_accounts(private: Rendered) -> None:
    inputs = _aks(private).inputs
    assert inputs["resourceName"] == "azure-dev"
    assert inputs["dnsPrefix"] == "azure-dev"
    assert inputs["kubernetesVersion"] == "1.31"
    assert inputs["sku"] == {"name": "Base", "tier": "Standard"}
    assert inputs["aadProfile"] == {
        "managed": True,
        "enableAzureRBAC": True,
        "tenantID": TENANT,
        "adminGroupObjectIDs": ADMINS,
    }
    assert inputs["enableRBAC"] is True
    assert inputs["disableLocalAccounts"] is True
    assert inputs["tags"] == {"team": "platform"}


@pytest.mark.parametrize("fixture", ["private", "public"])
def test_the_deploying_principal_is_cluster_admin_through_azure_rbac(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    # Both sign in as service principals (spn, workloadidentity).
    rendered: Rendered = request.getfixturevalue(fixture)
    assignment = _named(rendered, ROLE_ASSIGNMENT, "aks-deployer-admin")
    assert assignment.inputs["scope"] == rendered.outputs["id"]
    assert assignment.inputs["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/"
        "b1ff04bb-8a4e-4dc4-8eb5-8693888ce32b"
    )
    assert len(assignment.inputs["principalId"]) == 36
    assert assignment.inputs["principalType"] == "ServicePrincipal"
    assert {r.name for r in rendered.of_type(ROLE_ASSIGNMENT)} == {"aks-subnet", "aks-deployer-admin"}


def test_without_admin_groups_none_are_sent(public: Rendered) -> None:
    assert "adminGroupObjectIDs" not in _aks(public).inputs["aadProfile"]


def test_private_cluster_has_no_public_fqdn(private: Rendered) -> None:
    assert _aks(private).inputs["apiServerAccessProfile"] == {
        "enablePrivateCluster": True,
        "enablePrivateClusterPublicFQDN": False,
    }


def test_public_cluster_admits_only_authorized_ranges(public: Rendered) -> None:
    assert _aks(public).inputs["apiServerAccessProfile"] == {
        "authorizedIPRanges": ["203.0.113.0/24", "198.51.100.7/32"],
    }


def test_public_endpoint_without_authorized_cidrs_is_refused() -> None:
    with pytest.raises(ValueError, match="authorized CIDR"):
        _args(endpoint_public=True, authorized_cidrs=[])


def test_oidc_issuer_and_workload_identity_are_on(private: Rendered) -> None:
    inputs = _aks(private).inputs
    assert inputs["oidcIssuerProfile"] == {"enabled": True}
    assert inputs["securityProfile"] == {"workloadIdentity": {"enabled": True}}
    assert private.outputs["oidc_issuer_url"].startswith("https://westeurope.oic.prod-aks.azure.com/")


def test_overlay_network_with_enforced_network_policies(private: Rendered) -> None:
    network = _aks(private).inputs["networkProfile"]
    assert network == {
        "networkPlugin": "azure",
        "networkPluginMode": "overlay",
        "networkDataplane": "cilium",
        "networkPolicy": "cilium",
        "podCidr": "192.168.0.0/16",
        "serviceCidr": "172.20.0.0/16",
        "dnsServiceIP": "172.20.0.10",
        "loadBalancerSku": "standard",
        "outboundType": "userAssignedNATGateway",
    }


def test_without_nat_egress_goes_through_the_load_balancer(public: Rendered) -> None:
    assert _aks(public).inputs["networkProfile"]["outboundType"] == "loadBalancer"


def test_upgrades_follow_patches_and_node_images(private: Rendered) -> None:
    assert _aks(private).inputs["autoUpgradeProfile"] == {
        "upgradeChannel": "patch",
        "nodeOSUpgradeChannel": "NodeImage",
    }


def _assert_pool(inputs: dict, pool: NodePoolArgs, zones: list[str] | None) -> None:
    assert inputs["vmSize"] == pool.vm_size
    assert inputs["vnetSubnetID"] == NODE_SUBNET
    assert inputs["enableAutoScaling"] is True
    assert (inputs["minCount"], inputs["maxCount"], inputs["count"]) == (pool.min_count, pool.max_count, pool.min_count)
    assert inputs["osDiskSizeGB"] == pool.disk_size_gb
    assert inputs["osType"] == "Linux"
    assert inputs["osSKU"] == "AzureLinux"
    assert inputs["orchestratorVersion"] == "1.31"
    assert inputs["enableNodePublicIP"] is False
    assert inputs.get("availabilityZones") == zones


def test_system_pool_is_inline_and_its_count_left_to_the_autoscaler(private: Rendered) -> None:
    aks = _aks(private)
    (system,) = aks.inputs["agentPoolProfiles"]
    assert system["name"] == "system"
    assert system["mode"] == "System"
    _assert_pool(system, POOLS[0], ["1", "2", "3"])
    assert aks.ignore_changes == ("agentPoolProfiles[0].count",)


def test_other_pools_are_autoscaled_user_agent_pools_across_zones(private: Rendered) -> None:
    pools = {p.inputs["agentPoolName"]: p for p in private.of_type(AGENT_POOL)}
    assert set(pools) == {"batch", "gpu"}
    aks = _aks(private)
    for pool in POOLS[1:]:
        agent_pool = pools[pool.name]
        assert agent_pool.name == f"aks-{pool.name}"
        assert agent_pool.inputs["mode"] == "User"
        assert agent_pool.inputs["resourceName"] == "azure-dev"
        assert agent_pool.inputs["resourceGroupName"] == GROUP
        _assert_pool(agent_pool.inputs, pool, ["1", "2", "3"])
        assert agent_pool.ignore_changes == ("count",)
        assert aks.urn in agent_pool.depends_on


def test_without_zones_pools_are_regional(public: Rendered) -> None:
    (system,) = _aks(public).inputs["agentPoolProfiles"]
    _assert_pool(system, POOLS[0], None)
    assert public.of_type(AGENT_POOL) == []


def test_deletion_protection_locks_the_cluster(private: Rendered, public: Rendered) -> None:
    lock = private.one(LOCK)
    assert lock.inputs["scope"] == private.outputs["id"]
    assert lock.inputs["level"] == "CanNotDelete"
    assert _aks(private).urn in lock.depends_on
    assert public.of_type(LOCK) == []


def test_outputs_and_kubeconfig_is_secret(private: Rendered) -> None:
    assert private.outputs["name"] == "azure-dev"
    assert private.outputs["id"] == (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}"
        "/providers/Microsoft.ContainerService/managedClusters/azure-dev"
    )
    assert private.outputs["kubeconfig"] == "[secret]"


def test_private_kubeconfig_uses_the_private_fqdn_and_the_clusters_ca(private: Rendered) -> None:
    config = yaml.safe_load(private.outputs["kubeconfig_plain"])
    (cluster,) = config["clusters"]
    assert cluster["cluster"]["server"].startswith("https://azure-dev-")
    assert ".privatelink.westeurope.azmk8s.io:443" in cluster["cluster"]["server"]
    authority = base64.b64decode(cluster["cluster"]["certificate-authority-data"])
    assert authority.startswith(b"-----BEGIN CERTIFICATE-----")
    args = config["users"][0]["user"]["exec"]["args"]
    assert args[:3] == ["get-token", "--login", "spn"]


def test_public_kubeconfig_uses_the_public_fqdn_and_the_accounts_login(public: Rendered) -> None:
    config = yaml.safe_load(public.outputs["kubeconfig_plain"])
    server = config["clusters"][0]["cluster"]["server"]
    assert server.endswith(".hcp.westeurope.azmk8s.io:443")
    assert "privatelink" not in server
    assert config["users"][0]["user"]["exec"]["args"][:3] == ["get-token", "--login", "workloadidentity"]


@pytest.mark.parametrize("fixture", ["private", "public", "azurecli"])
def test_the_exported_kubeconfig_holds_no_credential(fixture: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    (user,) = yaml.safe_load(rendered.outputs["kubeconfig_plain"])["users"]
    assert set(user["user"]) == {"exec"}
    assert "env" not in user["user"]["exec"]
    assert CLIENT_SECRET not in rendered.outputs["kubeconfig_plain"]


def test_a_service_principal_signs_the_providers_kubelogin_in_through_its_env_only(private: Rendered) -> None:
    assert private.outputs["provider_kubeconfig"] == "[secret]"
    config = yaml.safe_load(private.outputs["provider_kubeconfig_plain"])
    execution = config["users"][0]["user"]["exec"]
    # kubelogin prefers these variables to its flags, and to any it inherits.
    assert execution.pop("env") == [
        {"name": "AZURE_CLIENT_ID", "value": CLIENT},
        {"name": "AZURE_CLIENT_SECRET", "value": CLIENT_SECRET},
        {"name": "AZURE_TENANT_ID", "value": TENANT},
    ]
    # Otherwise the exported kubeconfig: no argument carries the secret.
    assert config == yaml.safe_load(private.outputs["kubeconfig_plain"])


@pytest.mark.parametrize("fixture", ["public", "azurecli"])
def test_other_logins_give_the_provider_the_exported_kubeconfig(fixture: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    assert rendered.outputs["provider_kubeconfig"] == "[secret]"
    assert rendered.outputs["provider_kubeconfig_plain"] == rendered.outputs["kubeconfig_plain"]


@pytest.mark.parametrize("login", ["spn", "workloadidentity", "azurecli"])
def test_kubeconfig_authenticates_with_kubelogin(login: str) -> None:
    config = kubeconfig(
        cluster_name="azure-dev",
        server="https://azure-dev-1234.hcp.westeurope.azmk8s.io:443",
        certificate_authority="Q0E=",
        tenant_id=TENANT,
        login=login,  # type: ignore[arg-type]
    )
    (cluster,) = config["clusters"]
    assert cluster["cluster"] == {
        "server": "https://azure-dev-1234.hcp.westeurope.azmk8s.io:443",
        "certificate-authority-data": "Q0E=",
    }
    (context,) = config["contexts"]
    assert config["current-context"] == context["name"]
    (user,) = config["users"]
    assert context["context"] == {"cluster": cluster["name"], "user": user["name"]}
    execution = user["user"]["exec"]
    assert execution["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert execution["command"] == "kubelogin"
    assert execution["args"] == [
        "get-token",
        "--login",
        login,
        "--server-id",
        KUBELOGIN_SERVER_ID,
        "--environment",
        "AzurePublicCloud",
        "--tenant-id",
        TENANT,
    ]
    assert KUBELOGIN_SERVER_ID == "6dae42f8-4368-4678-94ff-3960e28e3630"
    # No credential of any kind in the file.
    assert set(user["user"]) == {"exec"}
    assert "env" not in execution


def test_certificate_authority_is_read_from_the_user_credentials() -> None:
    encoded = base64.b64encode(
        yaml.safe_dump(
            {"clusters": [{"name": "c", "cluster": {"server": "https://s", "certificate-authority-data": "Q0E="}}]}
        ).encode()
    ).decode()
    assert certificate_authority_data(encoded) == "Q0E="


@pytest.mark.parametrize(
    ("cidr", "address"),
    [("172.20.0.0/16", "172.20.0.10"), ("10.0.0.0/24", "10.0.0.10"), ("10.96.64.0/20", "10.96.64.10")],
)
def test_dns_service_ip_is_the_tenth_service_address(cidr: str, address: str) -> None:
    assert dns_service_ip(cidr) == address


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"node_pools": []}, "system node pool"),
        ({"node_pools": [NodePoolArgs("system", "Standard_D4s_v5", 0, 3)]}, "min_count >= 1"),
        ({"node_pools": [POOLS[0], POOLS[0]]}, "unique"),
        ({"service_cidr": "172.20.0.0/29"}, "too small"),
        ({"kubelogin_mode": "devicecode"}, "kubelogin_mode"),
        (
            {"kubelogin_mode": "azurecli", "service_principal": ServicePrincipalLogin(CLIENT, CLIENT_SECRET)},
            "kubelogin_mode spn",
        ),
    ],
)
def test_invalid_cluster_args_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _args(**overrides)


@pytest.mark.parametrize(
    ("name", "minimum", "maximum"), [("System", 1, 2), ("toolongpoolname", 1, 2), ("1pool", 1, 2), ("pool", 3, 2)]
)
def test_invalid_node_pools_are_refused(name: str, minimum: int, maximum: int) -> None:
    with pytest.raises(ValueError):
        NodePoolArgs(name=name, vm_size="Standard_D4s_v5", min_count=minimum, max_count=maximum)
