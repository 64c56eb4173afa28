from __future__ import annotations

import pulumi
import pulumi_azure_native as azure_native
import pytest

from terrane.components.azure import SecretReaderArgs, SecretStore, SecretStoreArgs
from terrane.components.azure.secret_store import secret_ids
from terrane.engine.offline.render import Rendered, render
from tests.helpers.rendered import assert_owned

SUBSCRIPTION = "22222222-2222-2222-2222-222222222222"
TENANT = "11111111-1111-1111-1111-111111111111"
GROUP = "terrane-azure-dev"
VNET = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Network/virtualNetworks/{GROUP}-vnet"
ENDPOINT_SUBNET = f"{VNET}/subnets/endpoints"
ISSUER = f"https://westeurope.oic.prod-aks.azure.com/{TENANT}/0c9a3f6e-1d2b-4c5d-8e7f-9a0b1c2d3e4f/"
READER = SecretReaderArgs(
    oidc_issuer_url=ISSUER,
    service_accounts=[("apps", "secrets-reader"), ("observability", "secrets-reader")],
)
VAULT = "azure-native:keyvault:Vault"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"


def _args(**overrides: object) -> SecretStoreArgs:
    values: dict[str, object] = {
        "resource_group_name": GROUP,
        "location": "westeurope",
        "tenant_id": TENANT,
        "vault_name": "terrane-azure-dev",
        "secret_names": ["db-password", "api-token"],
        "recovery_days": 7,
        "endpoint_subnet_id": ENDPOINT_SUBNET,
        "vnet_id": VNET,
        "reader": None,
        "tags": {"team": "platform"},
    }
    return SecretStoreArgs(**{**values, **overrides})  # type: ignore[arg-type]


def _render(args: SecretStoreArgs) -> Rendered:
    def program() -> None:
        provider = azure_native.Provider(
            "azure", location="westeurope", subscription_id=SUBSCRIPTION, tenant_id=TENANT
        )
        store = SecretStore("secrets", args, pulumi.ResourceOptions(provider=provider))
        for output in ("vault_id", "vault_uri", "secret_ids", "reader_client_id"):
            pulumi.export(output, getattr(store, output))

    return render(program, project="terrane", stack="test", account_id=SUBSCRIPTION, region="westeurope")


@pytest.fixture(scope="module")
def with_reader() -> Rendered:
    return _render(_args(reader=READER))


@pytest.fixture(scope="module")
def without_reader() -> Rendered:
    return _render(_args())


@pytest.mark.parametrize("fixture", ["with_reader", "without_reader"])
def test_every_resource_belongs_to_the_component_and_uses_its_provider(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    assert_owned(rendered, rendered.one("terrane:azure:SecretStore"), rendered.one("pulumi:providers:azure-native"))


def test_vault_uses_rbac_purge_protection_and_soft_delete(without_reader: Rendered) -> None:
    vault = without_reader.one(VAULT)
    assert vault.inputs["vaultName"] == "terrane-azure-dev"
    assert vault.inputs["resourceGroupName"] == GROUP
    assert vault.inputs["location"] == "westeurope"
    assert vault.inputs["tags"] == {"team": "platform"}
    properties = vault.inputs["properties"]
    assert properties["tenantId"] == TENANT
    assert properties["sku"] == {"family": "A", "name": "standard"}
    assert properties["enableRbacAuthorization"] is True
    assert "accessPolicies" not in properties
    assert properties["enablePurgeProtection"] is True
    assert properties["enableSoftDelete"] is True
    assert properties["softDeleteRetentionInDays"] == 7


def test_vault_is_closed_to_public_networks(without_reader: Rendered) -> None:
    properties = without_reader.one(VAULT).inputs["properties"]
    assert properties["publicNetworkAccess"] == "Disabled"
    assert properties["networkAcls"] == {"defaultAction": "Deny", "bypass": "AzureServices"}
    assert "ipRules" not in properties["networkAcls"]


def test_private_endpoint_in_the_endpoint_subnet_for_the_vault(without_reader: Rendered) -> None:
    endpoint = without_reader.one("azure-native:network:PrivateEndpoint")
    assert endpoint.inputs["subnet"] == {"id": ENDPOINT_SUBNET}
    (connection,) = endpoint.inputs["privateLinkServiceConnections"]
    assert connection["groupIds"] == ["vault"]
    assert connection["privateLinkServiceId"] == without_reader.outputs["vault_id"]
    assert without_reader.one(VAULT).urn in endpoint.depends_on


def test_vault_name_resolves_privately_inside_the_vnet(without_reader: Rendered) -> None:
    zone = without_reader.one("azure-native:privatedns:PrivateZone")
    assert zone.inputs["privateZoneName"] == "privatelink.vaultcore.azure.net"
    assert zone.inputs["location"] == "Global"
    link = without_reader.one("azure-native:privatedns:VirtualNetworkLink")
    assert link.inputs["privateZoneName"] == "privatelink.vaultcore.azure.net"
    assert link.inputs["virtualNetwork"] == {"id": VNET}
    assert link.inputs["registrationEnabled"] is False
    assert zone.urn in link.depends_on
    group = without_reader.one("azure-native:network:PrivateDnsZoneGroup")
    endpoint = without_reader.one("azure-native:network:PrivateEndpoint")
    assert group.inputs["privateEndpointName"] == endpoint.inputs["privateEndpointName"]
    (config,) = group.inputs["privateDnsZoneConfigs"]
    assert config["privateDnsZoneId"].endswith("/privateDnsZones/privatelink.vaultcore.azure.net")
    assert {zone.urn, endpoint.urn} <= set(group.depends_on)


def test_no_secret_values_pass_through_the_program(without_reader: Rendered) -> None:
    # ARM refuses a secret without a value; values are written out of band instead.
    assert without_reader.of_type("azure-native:keyvault:Secret") == []
    uri = without_reader.outputs["vault_uri"]
    assert uri == "https://terrane-azure-dev.vault.azure.net/"
    assert without_reader.outputs["secret_ids"] == {
        "db-password": f"{uri}secrets/db-password",
        "api-token": f"{uri}secrets/api-token",
    }


def test_secret_ids_are_versionless() -> None:
    assert secret_ids("https://v.vault.azure.net", ["a"]) == {"a": "https://v.vault.azure.net/secrets/a"}
    assert secret_ids("https://v.vault.azure.net/", ["a"]) == {"a": "https://v.vault.azure.net/secrets/a"}


def test_no_reader_identity_without_a_reader(without_reader: Rendered) -> None:
    for type_ in (IDENTITY, CREDENTIAL, ROLE_ASSIGNMENT):
        assert without_reader.of_type(type_) == []
    assert without_reader.outputs.get("reader_client_id") is None


def test_reader_identity_trusts_exactly_the_named_service_accounts(with_reader: Rendered) -> None:
    identity = with_reader.one(IDENTITY)
    assert identity.inputs["resourceName"] == "terrane-azure-dev-reader"
    credentials = with_reader.of_type(CREDENTIAL)
    assert sorted(c.inputs["subject"] for c in credentials) == [
        "system:serviceaccount:apps:secrets-reader",
        "system:serviceaccount:observability:secrets-reader",
    ]
    for credential in credentials:
        assert credential.inputs["issuer"] == ISSUER
        assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
        assert credential.inputs["resourceName"] == "terrane-azure-dev-reader"
        assert identity.urn in credential.depends_on


def test_federated_credentials_are_written_one_at_a_time(with_reader: Rendered) -> None:
    first, second = (
        next(c for c in with_reader.of_type(CREDENTIAL) if c.inputs["subject"].endswith(f":{namespace}:secrets-reader"))
        for namespace in ("apps", "observability")
    )
    assert first.urn in second.depends_on


def test_reader_may_read_secrets_of_this_vault_only(with_reader: Rendered) -> None:
    assignment = with_reader.one(ROLE_ASSIGNMENT)
    assert assignment.inputs["scope"] == with_reader.outputs["vault_id"]
    assert assignment.inputs["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/"
        "4633458b-17de-408a-b874-0445c86b69e6"
    )
    assert assignment.inputs["principalType"] == "ServicePrincipal"
    assert with_reader.one(IDENTITY).urn in assignment.depends_on


def test_reader_client_id_is_the_identitys(with_reader: Rendered) -> None:
    client_id = with_reader.outputs["reader_client_id"]
    assert isinstance(client_id, str) and len(client_id) == 36


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"recovery_days": 6}, "7 to 90 days"),
        ({"recovery_days": 91}, "7 to 90 days"),
        ({"vault_name": "kv"}, "3-24"),
        ({"vault_name": "a-vault-name-that-is-too-long"}, "3-24"),
        ({"vault_name": "double--hyphen"}, "3-24"),
        ({"vault_name": "1vault"}, "3-24"),
        ({"secret_names": []}, "at least one"),
        ({"secret_names": ["db_password"]}, "letters, digits and hyphens"),
    ],
)
def test_invalid_args_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _args(**overrides)


def test_a_reader_needs_service_accounts() -> None:
    with pytest.raises(ValueError, match="1 to 20"):
        SecretReaderArgs(oidc_issuer_url=ISSUER, service_accounts=[])
