from __future__ import annotations

import pulumi
import pulumi_azure_native as azure_native
import pytest

from terrane.components.azure import Network, NetworkArgs
from terrane.engine.offline.render import Rendered, RenderedResource, render
from tests.helpers.rendered import assert_owned

SUBSCRIPTION = "22222222-2222-2222-2222-222222222222"
TENANT = "11111111-1111-1111-1111-111111111111"
GROUP = "terrane-azure-dev"
TAGS = {"team": "platform"}
NSG = "azure-native:network:NetworkSecurityGroup"
SUBNET = "azure-native:network:Subnet"
VNET = "azure-native:network:VirtualNetwork"
NAT = "azure-native:network:NatGateway"
PUBLIC_IP = "azure-native:network:PublicIPAddress"
FLOW_LOG = "azure-native:network:FlowLog"
STORAGE = "azure-native:storage:StorageAccount"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"


def _args(**overrides: object) -> NetworkArgs:
    values: dict[str, object] = {
        "resource_group_name": GROUP,
        "location": "westeurope",
        "cidr": "10.30.0.0/16",
        "node_subnet_cidr": "10.30.0.0/20",
        "endpoint_subnet_cidr": "10.30.16.0/24",
        "nat": "per_zone",
        "flow_logs": True,
        "flow_log_storage_account_name": "terraneazuredevflow",
        "flow_log_retention_days": 90,
        "tags": TAGS,
    }
    return NetworkArgs(**{**values, **overrides})  # type: ignore[arg-type]


def _render(args: NetworkArgs) -> Rendered:
    def program() -> None:
        provider = azure_native.Provider(
            "azure", location="westeurope", subscription_id=SUBSCRIPTION, tenant_id=TENANT
        )
        network = Network("net", args, pulumi.ResourceOptions(provider=provider))
        for output in ("resource_group_name", "vnet_id", "node_subnet_id", "endpoint_subnet_id"):
            pulumi.export(output, getattr(network, output))

    return render(program, project="terrane", stack="test", account_id=SUBSCRIPTION, region="westeurope")


@pytest.fixture(scope="module")
def full() -> Rendered:
    return _render(_args())


@pytest.fixture(scope="module")
def single() -> Rendered:
    return _render(_args(nat="single", flow_logs=False))


@pytest.fixture(scope="module")
def bare() -> Rendered:
    return _render(_args(nat="none", flow_logs=False))


def _subnet(rendered: Rendered, name: str) -> RenderedResource:
    return next(s for s in rendered.of_type(SUBNET) if s.inputs["subnetName"] == name)


@pytest.mark.parametrize("fixture", ["full", "single", "bare"])
def test_every_resource_belongs_to_the_component_and_uses_its_provider(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    assert_owned(rendered, rendered.one("terrane:azure:Network"), rendered.one("pulumi:providers:azure-native"))


def test_everything_lives_in_the_resource_group_the_component_creates(full: Rendered) -> None:
    group = full.one("azure-native:resources:ResourceGroup")
    assert group.inputs == {"resourceGroupName": GROUP, "location": "westeurope", "tags": TAGS}
    assert full.outputs["resource_group_name"] == GROUP
    for type_ in (NSG, VNET, SUBNET, NAT, PUBLIC_IP, STORAGE, IDENTITY):
        for resource in full.of_type(type_):
            assert resource.inputs["resourceGroupName"] == GROUP, resource.urn
            assert group.urn in resource.depends_on, resource.urn


def test_vnet_address_space_and_subnets_are_separate_resources(full: Rendered) -> None:
    vnet = full.one(VNET)
    assert vnet.inputs["addressSpace"] == {"addressPrefixes": ["10.30.0.0/16"]}
    assert vnet.inputs["tags"] == TAGS
    assert "subnets" not in vnet.inputs
    assert len(full.of_type(SUBNET)) == 2
    assert full.outputs["vnet_id"] == (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}"
        f"/providers/Microsoft.Network/virtualNetworks/{GROUP}-vnet"
    )
    assert full.outputs["node_subnet_id"] == f"{full.outputs['vnet_id']}/subnets/nodes"
    assert full.outputs["endpoint_subnet_id"] == f"{full.outputs['vnet_id']}/subnets/endpoints"


@pytest.mark.parametrize("fixture", ["full", "bare"])
def test_subnets_have_no_default_outbound_access_and_share_the_nsg(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    nsg = rendered.one(NSG)
    vnet = rendered.one(VNET)
    for name, cidr in (("nodes", "10.30.0.0/20"), ("endpoints", "10.30.16.0/24")):
        subnet = _subnet(rendered, name)
        assert subnet.inputs["addressPrefix"] == cidr
        assert subnet.inputs["defaultOutboundAccess"] is False
        assert subnet.inputs["virtualNetworkName"] == f"{GROUP}-vnet"
        assert subnet.inputs["networkSecurityGroup"]["id"].endswith(f"/networkSecurityGroups/{GROUP}-nsg")
        assert {nsg.urn, vnet.urn} <= set(subnet.depends_on)


def test_endpoint_subnet_applies_network_policies_to_private_endpoints(full: Rendered) -> None:
    endpoints = _subnet(full, "endpoints")
    assert endpoints.inputs["privateEndpointNetworkPolicies"] == "Enabled"
    assert "natGateway" not in endpoints.inputs
    # Subnet operations on one VNet are serialized.
    assert _subnet(full, "nodes").urn in endpoints.depends_on


def test_nsg_adds_no_rules_to_azures_defaults(full: Rendered) -> None:
    nsg = full.one(NSG)
    assert nsg.inputs.get("securityRules", []) == []
    assert nsg.inputs["networkSecurityGroupName"] == f"{GROUP}-nsg"


def test_per_zone_nat_is_one_standard_gateway_with_a_zone_redundant_ip(full: Rendered) -> None:
    address = full.one(PUBLIC_IP)
    assert address.inputs["sku"] == {"name": "Standard", "tier": "Regional"}
    assert address.inputs["publicIPAllocationMethod"] == "Static"
    assert address.inputs["zones"] == ["1", "2", "3"]
    nat = full.one(NAT)
    assert nat.inputs["sku"] == {"name": "Standard"}
    (ip,) = nat.inputs["publicIpAddresses"]
    assert ip["id"].endswith(f"/resourceGroups/{GROUP}/providers/Microsoft.Network/publicIPAddresses/{GROUP}-nat-ip")
    assert address.urn in nat.depends_on
    nodes = _subnet(full, "nodes")
    assert nodes.inputs["natGateway"]["id"].endswith(f"/natGateways/{GROUP}-nat")
    assert nat.urn in nodes.depends_on


def test_single_nat_is_the_same_gateway_as_per_zone(full: Rendered, single: Rendered) -> None:
    # A subnet takes one NAT gateway, so there is nothing more "per zone" could add.
    def shape(rendered: Rendered) -> list[tuple[str, str, dict]]:
        return [(r.type, r.name, r.inputs) for r in rendered.resources if r.type in (NAT, PUBLIC_IP, SUBNET)]

    assert shape(single) == shape(full)


def test_without_nat_nothing_gives_the_nodes_egress(bare: Rendered) -> None:
    assert bare.of_type(NAT) == []
    assert bare.of_type(PUBLIC_IP) == []
    assert "natGateway" not in _subnet(bare, "nodes").inputs


def test_flow_logs_target_the_vnet_in_the_regions_network_watcher(full: Rendered) -> None:
    flow_log = full.one(FLOW_LOG)
    vnet = full.one(VNET)
    account = full.one(STORAGE)
    assert flow_log.inputs["targetResourceId"] == full.outputs["vnet_id"]
    assert flow_log.inputs["resourceGroupName"] == "NetworkWatcherRG"
    assert flow_log.inputs["networkWatcherName"] == "NetworkWatcher_westeurope"
    assert flow_log.inputs["location"] == "westeurope"
    assert flow_log.inputs["flowLogName"] == f"{GROUP}-vnet"
    assert flow_log.inputs["enabled"] is True
    assert flow_log.inputs["retentionPolicy"] == {"enabled": True, "days": 90}
    assert flow_log.inputs["format"] == {"type": "JSON", "version": 2}
    assert flow_log.inputs["storageId"].endswith("/storageAccounts/terraneazuredevflow")
    assert {vnet.urn, account.urn} <= set(flow_log.depends_on)


def test_flow_log_storage_is_private_to_entra_id_and_trusted_services(full: Rendered) -> None:
    inputs = full.one(STORAGE).inputs
    assert inputs["accountName"] == "terraneazuredevflow"
    assert inputs["kind"] == "StorageV2"
    assert inputs["enableHttpsTrafficOnly"] is True
    assert inputs["minimumTlsVersion"] == "TLS1_2"
    assert inputs["allowBlobPublicAccess"] is False
    assert inputs["allowSharedKeyAccess"] is False
    assert inputs["allowCrossTenantReplication"] is False
    assert inputs["networkRuleSet"] == {"defaultAction": "Deny", "bypass": "AzureServices"}


def test_flow_log_writes_with_its_own_identity_allowed_only_on_its_account(full: Rendered) -> None:
    identity = full.one(IDENTITY)
    assignment = full.one(ROLE_ASSIGNMENT)
    flow_log = full.one(FLOW_LOG)
    assert flow_log.inputs["identity"] == {
        "type": "UserAssigned",
        "userAssignedIdentities": [
            (
                f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.ManagedIdentity"
                f"/userAssignedIdentities/{GROUP}-flow-logs"
            )
        ],
    }
    assert assignment.inputs["scope"] == flow_log.inputs["storageId"]
    assert assignment.inputs["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/"
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
    )
    assert assignment.inputs["principalType"] == "ServicePrincipal"
    assert identity.urn in assignment.depends_on
    assert assignment.urn in flow_log.depends_on


def test_no_flow_log_resources_without_flow_logs(bare: Rendered) -> None:
    for type_ in (FLOW_LOG, STORAGE, IDENTITY, ROLE_ASSIGNMENT):
        assert bare.of_type(type_) == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"node_subnet_cidr": "10.31.0.0/20"}, "outside the VNet"),
        ({"endpoint_subnet_cidr": "10.30.8.0/24"}, "overlaps"),
        ({"flow_log_retention_days": 0}, "1 to 365 days"),
        ({"nat": "per_az"}, "nat must be"),
        ({"flow_log_storage_account_name": "Terrane-Flow"}, "3-24 lowercase"),
    ],
)
def test_invalid_args_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _args(**overrides)
