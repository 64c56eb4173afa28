"""A Key Vault for an environment's secrets, reachable only through a private
endpoint in the environment's VNet, and optionally an identity that named
Kubernetes service accounts assume (AKS workload identity) to read them.

The vault holds no secret values from here. ARM's secret resource needs a
value (the schema calls it optional, the service rejects a secret without
one), and a value in the program would sit in its state; so the component
only names the secrets, and their values are written out of band, e.g.
``az keyvault secret set --vault-name <vault> --name <name> --file <path>``
from inside the VNet by someone holding "Key Vault Secrets Officer"."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure_native

from terrane.components.azure import roles

PRIVATE_DNS_ZONE = "privatelink.vaultcore.azure.net"
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"

# Vault names: 3-24 letters, digits and hyphens, starting with a letter, no "--".
_VAULT_NAME = re.compile(r"^(?!.*--)[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$")
_SECRET_NAME = re.compile(r"^[A-Za-z0-9-]{1,127}$")


@dataclass(frozen=True)
class SecretReaderArgs:
    """A Kubernetes workload allowed to read the secrets, through AKS workload identity."""

    oidc_issuer_url: pulumi.Input[str]
    service_accounts: Sequence[tuple[str, str]]
    """(namespace, service account name) pairs."""

    def __post_init__(self) -> None:
        # An identity takes at most 20 federated credentials.
        if not 1 <= len(self.service_accounts) <= 20:
            raise ValueError("a secret reader federates 1 to 20 service accounts")


@dataclass(frozen=True)
class SecretStoreArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    tenant_id: str
    vault_name: str
    secret_names: Sequence[str]
    recovery_days: int
    """How long a deleted vault (or secret) stays recoverable."""
    endpoint_subnet_id: pulumi.Input[str]
    vnet_id: pulumi.Input[str]
    """The VNet the ``privatelink.vaultcore.azure.net`` zone is linked to."""
    reader: SecretReaderArgs | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _VAULT_NAME.match(self.vault_name):
            raise ValueError(
                f"vault name {self.vault_name!r} must be 3-24 letters, digits and hyphens, "
                "start with a letter, end with a letter or digit and have no '--'"
            )
        if not self.secret_names:
            raise ValueError("a secret store needs at least one secret name")
        for secret in self.secret_names:
            if not _SECRET_NAME.match(secret):
                raise ValueError(f"secret name {secret!r} must be 1-127 letters, digits and hyphens")
        if not 7 <= self.recovery_days <= 90:
            raise ValueError("Key Vault keeps deleted vaults and secrets for 7 to 90 days")


class SecretStore(pulumi.ComponentResource):
    vault_id: pulumi.Output[str]
    vault_uri: pulumi.Output[str]
    secret_ids: pulumi.Output[dict[str, str]]
    """Secret name to its versionless identifier (``<vault uri>secrets/<name>``)."""
    reader_client_id: pulumi.Output[str | None]
    """For the service accounts' ``azure.workload.identity/client-id`` annotation."""

    def __init__(self, name: str, args: SecretStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("terrane:azure:SecretStore", name, None, opts)
        vault = self._vault(name, args)
        endpoint = self._private_endpoint(name, args, vault)
        self._private_dns(name, args, endpoint)

        self.vault_id = vault.id
        self.vault_uri = vault.properties.apply(lambda properties: properties.vault_uri)
        self.secret_ids = self.vault_uri.apply(lambda uri: secret_ids(uri, args.secret_names))
        self.reader_client_id = (
            self._reader(name, args, args.reader, vault).client_id
            if args.reader is not None
            else pulumi.Output.from_input(None)
        )
        self.register_outputs(
            {
                "vault_id": self.vault_id,
                "vault_uri": self.vault_uri,
                "secret_ids": self.secret_ids,
                "reader_client_id": self.reader_client_id,
            }
        )

    def _vault(self, name: str, args: SecretStoreArgs) -> azure_native.keyvault.Vault:
        return azure_native.keyvault.Vault(
            f"{name}-vault",
            vault_name=args.vault_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            properties=azure_native.keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=azure_native.keyvault.SkuArgs(
                    family=azure_native.keyvault.SkuFamily.A, name=azure_native.keyvault.SkuName.STANDARD
                ),
                # Access is granted with Azure role assignments, never vault access policies.
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=args.recovery_days,
                # Not even an owner can purge a deleted secret before its retention ends.
                enable_purge_protection=True,
                public_network_access="Disabled",
                network_acls=azure_native.keyvault.NetworkRuleSetArgs(
                    default_action="Deny", bypass="AzureServices"
                ),
                enabled_for_deployment=False,
                enabled_for_disk_encryption=False,
                enabled_for_template_deployment=False,
            ),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _private_endpoint(
        self, name: str, args: SecretStoreArgs, vault: azure_native.keyvault.Vault
    ) -> azure_native.network.PrivateEndpoint:
        return azure_native.network.PrivateEndpoint(
            f"{name}-endpoint",
            private_endpoint_name=f"{args.vault_name}-endpoint",
            resource_group_name=args.resource_group_name,
            location=args.location,
            # Only a reference: SubnetArgs would also send its defaults for the
            # subnet's policies, contradicting the subnet's own settings.
            subnet={"id": args.endpoint_subnet_id},
            private_link_service_connections=[
                azure_native.network.PrivateLinkServiceConnectionArgs(
                    name=f"{args.vault_name}-vault",
                    private_link_service_id=vault.id,
                    group_ids=["vault"],
                )
            ],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _private_dns(
        self, name: str, args: SecretStoreArgs, endpoint: azure_native.network.PrivateEndpoint
    ) -> None:
        child = pulumi.ResourceOptions(parent=self)
        # Inside the VNet the vault's name resolves to the endpoint's address
        # through this zone; everywhere else it resolves to a closed door.
        zone = azure_native.privatedns.PrivateZone(
            f"{name}-zone",
            private_zone_name=PRIVATE_DNS_ZONE,
            resource_group_name=args.resource_group_name,
            location="Global",
            tags=dict(args.tags),
            opts=child,
        )
        azure_native.privatedns.VirtualNetworkLink(
            f"{name}-zone-link",
            virtual_network_link_name=f"{args.vault_name}-vnet",
            private_zone_name=zone.name,
            resource_group_name=args.resource_group_name,
            location="Global",
            virtual_network=azure_native.privatedns.SubResourceArgs(id=args.vnet_id),
            registration_enabled=False,
            tags=dict(args.tags),
            opts=child,
        )
        azure_native.network.PrivateDnsZoneGroup(
            f"{name}-zone-group",
            private_dns_zone_group_name="default",
            private_endpoint_name=endpoint.name,
            resource_group_name=args.resource_group_name,
            private_dns_zone_configs=[
                azure_native.network.PrivateDnsZoneConfigArgs(name="vaultcore", private_dns_zone_id=zone.id)
            ],
            opts=child,
        )

    def _reader(
        self,
        name: str,
        args: SecretStoreArgs,
        reader: SecretReaderArgs,
        vault: azure_native.keyvault.Vault,
    ) -> azure_native.managedidentity.UserAssignedIdentity:
        child = pulumi.ResourceOptions(parent=self)
        identity = azure_native.managedidentity.UserAssignedIdentity(
            f"{name}-reader",
            resource_name_=f"{args.vault_name}-reader",
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=dict(args.tags),
            opts=child,
        )
        previous: list[pulumi.Resource] = []
        for namespace, account in reader.service_accounts:
            credential = azure_native.managedidentity.FederatedIdentityCredential(
                f"{name}-reader-{namespace}-{account}",
                federated_identity_credential_resource_name=f"{namespace}-{account}",
                resource_name_=identity.name,
                resource_group_name=args.resource_group_name,
                issuer=reader.oidc_issuer_url,
                subject=service_account_subject(namespace, account),
                audiences=[TOKEN_EXCHANGE_AUDIENCE],
                # An identity accepts one federated credential write at a time.
                opts=pulumi.ResourceOptions(parent=self, depends_on=previous),
            )
            previous = [credential]
        azure_native.authorization.RoleAssignment(
            f"{name}-reader",
            scope=vault.id,
            role_definition_id=roles.role(roles.client_config(self), roles.KEY_VAULT_SECRETS_USER),
            principal_id=identity.principal_id,
            principal_type="ServicePrincipal",
            opts=child,
        )
        return identity


def service_account_subject(namespace: str, account: str) -> str:
    """The ``sub`` claim of a Kubernetes service account token."""
    return f"system:serviceaccount:{namespace}:{account}"


def secret_ids(vault_uri: str, names: Sequence[str]) -> dict[str, str]:
    """Each secret's versionless identifier: readers always get its latest version."""
    base = vault_uri if vault_uri.endswith("/") else f"{vault_uri}/"
    return {secret: f"{base}secrets/{secret}" for secret in names}
