"""The ARM template that prepares an Azure subscription for terrane.

``terrane accounts bootstrap azure --region R`` prints it; an Owner of the
subscription (it creates resources, a custom role and role assignments)
deploys it once, as a subscription-scope deployment
(``az deployment sub create --location R``).
ARM is Azure's native template format; Bicep compiles to it. ARM cannot create
Entra ID principals, so the service principals terrane signs in as are inputs
(object ids), made beforehand with ``az ad sp create-for-rbac`` or a federated
application. The template:

- creates terrane's state store in R, in the resource group ``terrane-state``:
  a StorageV2 account (HTTPS only, TLS 1.2, no public blob access, blob
  versioning and 30 days of blob and container soft delete) with the container
  ``terrane-state``, and a Key Vault (Azure RBAC, soft delete, purge
  protection) with the RSA key ``terrane-state`` for Pulumi's secrets;
- gives ``--principal-id`` Storage Blob Data Contributor on that container
  and Key Vault Crypto User on that key, and nothing else on the store;
- gives ``--principal-id`` the provisioner role (below) on the subscription,
  and role assignment rights only through constrained delegation (below);
- gives ``--drift-principal-id``, if any, Reader on the subscription;
- gives ``--registry-reader-principal-id`` AcrPull on the linked ACR
  (``--acr`` in ``--acr-resource-group``) and nothing else.

Names are deterministic: the storage account is ``terrane`` plus
``uniqueString(subscription().id)`` (20 lowercase letters and digits; the
hash keeps subscriptions apart in Azure's global namespace), the vault
``terrane-`` plus the same (21 characters), and role
assignment names are ``guid()`` of their scope, principal and role, so
deploying again changes nothing. One state store per subscription.

The provisioner role. Contributor would be the obvious choice, and it cannot
write role assignments (its NotActions hold ``Microsoft.Authorization/*/Write``),
but that also keeps it from writing the management lock that protects a
cluster with ``deletion_protection``; and it reaches every resource provider,
including those that run code as a managed identity (VM run commands,
Automation, Logic Apps). So the provisioner gets a custom role, assignable only
in this subscription: reads everywhere, and writes only to the resource types
terrane's Azure components create (resource groups, the network, AKS, Key
Vaults' control plane, user-assigned identities and their federated
credentials, the flow logs' storage account) and to management locks. It has
no data actions, so it cannot read a secret's value or a blob.

The provisioner cannot escalate. Its role assignments, which the components
need (the cluster identity on its subnet, the flow logs' identity on their
storage account, secret readers on their vault, the deployer on its cluster,
kubelets on a linked ACR), go through "Role Based Access Control
Administrator" with an ABAC condition (version 2.0) that allows writing and
deleting assignments only of exactly those built-in roles (``DELEGATED_ROLES``)
and only to service principals: "Delegate Azure role assignment management to
others with conditions",
https://learn.microsoft.com/azure/role-based-access-control/delegate-role-assignments-portal
and its examples ("Constrain roles and principal types"),
https://learn.microsoft.com/azure/role-based-access-control/delegate-role-assignments-examples
(attributes: ``conditions-authorization-actions-attributes`` on the same site).
So it can never assign Owner, User Access Administrator, an RBAC administrator
role or its own custom role, nor assign anything to a user or a group. What
Azure does not allow: a condition cannot look at the assignment's scope, so
the delegated roles may be assigned anywhere in the subscription; and a
principal that creates user-assigned identities and their federated
credentials (which the components do) can act as any user-assigned identity
of the subscription. Keep identities with wider rights than these out of
subscriptions terrane provisions. Nor can a subscription-wide role leave out
one resource group, so the provisioner's role reaches the state store's
resources as it reaches an environment's; unlike on AWS, where the
provisioner is denied the state store, here the principal that provisions is
also the one that reads and writes state.

The state store. Pulumi's ``azblob`` backend (gocloud.dev's azureblob) signs in
with Entra ID through ``DefaultAzureCredential`` when no ``AZURE_STORAGE_KEY``
or SAS token is set, and the URL names the account
(``azblob://terrane-state?storage_account=NAME``), so the account disallows
shared keys: only Entra ID principals with a data role reach the state. The
``azurekeyvault://VAULT.vault.azure.net/keys/terrane-state`` secrets provider
encrypts with the key's newest version and decrypts with the version its URL
names (none: the newest), so the key has no rotation policy; rotate by adding
a version and re-encrypting with ``pulumi stack change-secrets-provider``.
Both allow public network access (with Entra ID and Azure RBAC in front):
terrane runs from laptops and CI runners whose addresses the template cannot
know; add network rules or private endpoints afterwards if yours are fixed.

    >>> bootstrap = Bootstrap(location="westeurope", principal_id="44444444-4444-4444-4444-444444444444")
    >>> print(render(template(bootstrap)))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import Any

from terrane.engine.errors import InvalidInputError
from terrane.engine.store.paths import BACKEND_ENV, SECRETS_PROVIDER_ENV
from terrane.stacks.spec import ACR_NAME, AZURE_RESOURCE_GROUP, REGION, UUID

DEPLOYMENT_NAME = "terrane-bootstrap"
TEMPLATE_FILE = "terrane-bootstrap.json"
STATE_RESOURCE_GROUP = "terrane-state"
STATE_CONTAINER = "terrane-state"
STATE_KEY = "terrane-state"
STATE_REGION_ENV = "TERRANE_STATE_REGION"
"""Azure URLs name no region: this says where the state store is (``terrane doctor`` compares it)."""
LOCATION_ENV = "AZURE_LOCATION"

# A location's programmatic name (westeurope, eastus2), as stacks.rules checks an environment's region.
_LOCATION = re.compile(REGION["azure"], re.ASCII)
# An Entra ID object id.
_OBJECT_ID = re.compile(UUID, re.ASCII)
# Azure's rules for a container registry name and a resource group name.
_REGISTRY = re.compile(ACR_NAME, re.ASCII)
_RESOURCE_GROUP = re.compile(AZURE_RESOURCE_GROUP)


@dataclass(frozen=True)
class BuiltInRole:
    name: str
    id: str
    """The role definition's name, the same GUID in every tenant and cloud."""


# Every built-in role the template names. The first five are the roles terrane's Azure
# components assign (components/azure/_roles.py); a test keeps the two lists equal.
NETWORK_CONTRIBUTOR = BuiltInRole("Network Contributor", "4d97b98b-1d4f-4787-a291-c67834d212e7")
STORAGE_BLOB_DATA_CONTRIBUTOR = BuiltInRole("Storage Blob Data Contributor", "ba92f5b4-2d11-453d-a403-e96b0029c9fe")
KEY_VAULT_SECRETS_USER = BuiltInRole("Key Vault Secrets User", "4633458b-17de-408a-b874-0445c86b69e6")
AKS_RBAC_CLUSTER_ADMIN = BuiltInRole("Azure Kubernetes Service RBAC Cluster Admin",
                                     "b1ff04bb-8a4e-4dc4-8eb5-8693888ce32b")
ACR_PULL = BuiltInRole("AcrPull", "7f951dda-4ed3-4680-a7ca-43fe172d538d")
KEY_VAULT_CRYPTO_USER = BuiltInRole("Key Vault Crypto User", "12338af0-0e69-4776-bea7-57ae8d297424")
READER = BuiltInRole("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7")
RBAC_ADMINISTRATOR = BuiltInRole("Role Based Access Control Administrator", "f58310d9-a9f6-439a-9e8d-f62e7b41a168")

BUILT_IN_ROLES = (NETWORK_CONTRIBUTOR, STORAGE_BLOB_DATA_CONTRIBUTOR, KEY_VAULT_SECRETS_USER, AKS_RBAC_CLUSTER_ADMIN,
                  ACR_PULL, KEY_VAULT_CRYPTO_USER, READER, RBAC_ADMINISTRATOR)
DELEGATED_ROLES = (NETWORK_CONTRIBUTOR, STORAGE_BLOB_DATA_CONTRIBUTOR, KEY_VAULT_SECRETS_USER, AKS_RBAC_CLUSTER_ADMIN,
                   ACR_PULL)
"""The only roles the provisioner may assign or remove: exactly those the components assign."""
DELEGATED_PRINCIPAL_TYPES = ("ServicePrincipal",)
"""Every principal the components assign a role to is a service principal (managed identities included)."""

# Stable REST API versions, the ones azure-native v3 (terrane's Azure provider) is built on.
API_VERSIONS = {
    "Microsoft.Resources/resourceGroups": "2024-03-01",
    "Microsoft.Resources/deployments": "2024-03-01",
    "Microsoft.Authorization/roleDefinitions": "2022-04-01",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
    "Microsoft.Storage/storageAccounts": "2024-01-01",
    "Microsoft.Storage/storageAccounts/blobServices": "2024-01-01",
    "Microsoft.Storage/storageAccounts/blobServices/containers": "2024-01-01",
    "Microsoft.KeyVault/vaults": "2024-11-01",
    "Microsoft.KeyVault/vaults/keys": "2024-11-01",
}

SUBSCRIPTION_SCHEMA = "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"
RESOURCE_GROUP_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"

# The provisioner's custom role, by what it is for. Actions are case-insensitive patterns.
PROVISIONER_ACTIONS = (
    # Reads, for refresh and drift checks: what Reader has.
    "*/read",
    # Each environment's resource group.
    "Microsoft.Resources/subscriptions/resourceGroups/write",
    "Microsoft.Resources/subscriptions/resourceGroups/delete",
    # The network: VNet and subnets, NSG, NAT gateway and its public IP, the vault's private
    # endpoint and DNS zone, VNet flow logs (on the region's network watcher).
    "Microsoft.Network/virtualNetworks/*",
    "Microsoft.Network/networkSecurityGroups/*",
    "Microsoft.Network/natGateways/*",
    "Microsoft.Network/publicIPAddresses/*",
    "Microsoft.Network/privateEndpoints/*",
    "Microsoft.Network/privateDnsZones/*",
    "Microsoft.Network/networkWatchers/*",
    # AKS clusters and agent pools, and their kubeconfig (listClusterUserCredential).
    "Microsoft.ContainerService/managedClusters/*",
    # Key Vaults' control plane; reading a secret is a data action, which this role has none of.
    "Microsoft.KeyVault/vaults/*",
    # The identities of clusters, flow logs and secret readers, and their federated credentials.
    "Microsoft.ManagedIdentity/userAssignedIdentities/*",
    # The flow logs' storage account (Network Watcher checks its keys' permissions on the caller).
    "Microsoft.Storage/storageAccounts/*",
    # The management lock of a cluster with deletion_protection.
    "Microsoft.Authorization/locks/*",
    # Registering the resource providers above on first use.
    "Microsoft.Network/register/action",
    "Microsoft.ContainerService/register/action",
    "Microsoft.KeyVault/register/action",
    "Microsoft.ManagedIdentity/register/action",
    "Microsoft.Storage/register/action",
)
PROVISIONER_NOT_ACTIONS = (
    # The components' vaults use Azure RBAC; access policies would grant data access beside it.
    "Microsoft.KeyVault/vaults/accessPolicies/*",
)


@dataclass(frozen=True)
class Registry:
    """An existing Azure Container Registry, and the pull-only identity linked to it."""

    name: str
    resource_group: str
    reader_principal_id: str

    def __post_init__(self) -> None:
        if not _REGISTRY.fullmatch(self.name):
            raise InvalidInputError(f"--acr: {self.name!r} is not a registry name (5 to 50 letters and digits)")
        if not _RESOURCE_GROUP.fullmatch(self.resource_group):
            raise InvalidInputError(
                f"--acr-resource-group: {self.resource_group!r} is not a resource group name "
                "(1 to 90 letters, digits, '-', '_', '.', '(' or ')', not ending with '.')"
            )
        _check_object_id("--registry-reader-principal-id", self.reader_principal_id)


def registry(name: str | None, resource_group: str | None, reader_principal_id: str | None) -> Registry | None:
    """The registry the three ``--acr`` flags name, or None when none is given; all three go together."""
    given = {"--acr": name, "--acr-resource-group": resource_group,
             "--registry-reader-principal-id": reader_principal_id}
    if not any(given.values()):
        return None
    missing = [flag for flag, value in given.items() if not value]
    if missing:
        raise InvalidInputError(f"{', '.join(missing)}: required with {', '.join(f for f in given if given[f])}; "
                                "a registry is linked with --acr, --acr-resource-group and --registry-reader-principal-id")
    return Registry(str(name), str(resource_group), str(reader_principal_id))


@dataclass(frozen=True)
class Bootstrap:
    """What to prepare: the state store's location, and the principals terrane signs in as."""

    location: str
    principal_id: str
    """Object id of the service principal terrane provisions as (and reads and writes state as)."""
    drift_principal_id: str | None = None
    registry: Registry | None = None

    def __post_init__(self) -> None:
        if not _LOCATION.fullmatch(self.location):
            raise InvalidInputError(
                f"--region: {self.location!r} is not an Azure location's name (lowercase, like westeurope or eastus2)"
            )
        _check_object_id("--principal-id", self.principal_id)
        if self.drift_principal_id is not None:
            _check_object_id("--drift-principal-id", self.drift_principal_id)


def template(bootstrap: Bootstrap) -> dict[str, Any]:
    """The subscription-scope ARM template for ``bootstrap``."""
    resources: list[dict[str, Any]] = [
        {
            "type": "Microsoft.Resources/resourceGroups",
            "apiVersion": API_VERSIONS["Microsoft.Resources/resourceGroups"],
            "name": "[variables('stateResourceGroup')]",
            "location": "[parameters('location')]",
            "tags": _TAGS,
        },
        _state_store(),
        _provisioner_role(),
        _subscription_assignment(
            "provisioner", "variables('principalId')", PROVISIONER_ROLE_ID,
            "terrane provisions environments with this role",
            depends_on=[f"[{_role_definition(PROVISIONER_ROLE_ID)}]"],
        ),
        _subscription_assignment(
            "delegation", "variables('principalId')", f"'{RBAC_ADMINISTRATOR.id}'",
            "terrane assigns only the roles its components assign, and only to service principals",
            condition=delegation_condition(),
        ),
    ]
    variables: dict[str, Any] = {
        "stateResourceGroup": STATE_RESOURCE_GROUP,
        "stateContainer": STATE_CONTAINER,
        "stateKey": STATE_KEY,
        "storageAccountName": "[format('terrane{0}', uniqueString(subscription().id))]",
        "keyVaultName": "[format('terrane-{0}', uniqueString(subscription().id))]",
        "provisionerRoleId": "[guid(subscription().id, 'terrane-provisioner')]",
        "principalId": bootstrap.principal_id,
    }
    if bootstrap.drift_principal_id is not None:
        variables["driftPrincipalId"] = bootstrap.drift_principal_id
        resources.append(_subscription_assignment("drift", "variables('driftPrincipalId')", f"'{READER.id}'",
                                                  "terrane reads environments with this role to detect drift"))
    if bootstrap.registry is not None:
        variables |= {"registryName": bootstrap.registry.name,
                      "registryResourceGroup": bootstrap.registry.resource_group,
                      "registryReaderPrincipalId": bootstrap.registry.reader_principal_id}
        resources.append(_registry_link())
    return {
        "$schema": SUBSCRIPTION_SCHEMA,
        "contentVersion": "1.0.0.0",
        "metadata": {
            "description": (
                "terrane subscription bootstrap: its state store (storage account and Key Vault key), "
                "the provisioner's custom role and constrained role assignment rights, drift and registry readers."
            ),
            "usage": next_steps(bootstrap),
        },
        "parameters": {
            "location": {
                "type": "string",
                "defaultValue": bootstrap.location,
                "metadata": {"description": "Where the state store lives (--region)."},
            },
        },
        "variables": variables,
        "resources": resources,
        "outputs": {
            "backendUrl": _output(
                "[format('azblob://{0}?storage_account={1}{2}', variables('stateContainer'), "
                "variables('storageAccountName'), if(equals(environment().suffixes.storage, 'core.windows.net'), '', "
                "format('&domain=blob.{0}', environment().suffixes.storage)))]"
            ),
            "secretsProvider": _output(
                "[format('azurekeyvault://{0}{1}/keys/{2}', variables('keyVaultName'), "
                "environment().suffixes.keyvaultDns, variables('stateKey'))]"
            ),
            "stateRegion": _output("[parameters('location')]"),
            "storageAccount": _output("[variables('storageAccountName')]"),
            "keyVault": _output("[variables('keyVaultName')]"),
            "provisionerRoleDefinitionId": _output(
                "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', variables('provisionerRoleId'))]"
            ),
        },
    }


def render(template: dict[str, Any]) -> str:
    """The template as JSON text, as ``az deployment sub create --template-file`` reads it."""
    return json.dumps(template, indent=2) + "\n"


def next_steps(bootstrap: Bootstrap) -> list[str]:
    """The exact commands to deploy the template and point terrane at the state store it makes."""
    location = shlex.quote(bootstrap.location)

    def output(name: str) -> str:
        return (f"\"$(az deployment sub show --name {DEPLOYMENT_NAME} "
                f"--query properties.outputs.{name}.value -o tsv)\"")

    return [
        f"Deploy it as an Owner of the subscription (the state store goes to {bootstrap.location}):",
        f"  az deployment sub create --location {location} --name {DEPLOYMENT_NAME} --template-file {TEMPLATE_FILE}",
        "Then point terrane at the state store it made:",
        f"  export {BACKEND_ENV}={output('backendUrl')}",
        f"  export {SECRETS_PROVIDER_ENV}={output('secretsProvider')}",
        f"  export {STATE_REGION_ENV}={location}",
        "and link the subscription as that principal, with its federated token (or --client-secret REF):",
        (f"  terrane accounts link azure NAME --tenant-id TENANT --subscription-id SUBSCRIPTION --client-id APP_ID "
         f"--oidc-token REF --location {location}"),
        *([
            "and link the registry as its pull-only identity:",
            (f"  terrane accounts link acr NAME --tenant-id TENANT --subscription-id SUBSCRIPTION "
             f"--resource-group {shlex.quote(acr.resource_group)} --name {acr.name} "
             "--client-id READER_APP_ID --client-secret REF"),
        ] if (acr := bootstrap.registry) else []),
    ]


def delegation_condition(roles: tuple[BuiltInRole, ...] = DELEGATED_ROLES,
                         principal_types: tuple[str, ...] = DELEGATED_PRINCIPAL_TYPES) -> str:
    """The ABAC condition (version 2.0) on the provisioner's RBAC administrator role.

    Writing an assignment is checked on the request's attributes, deleting one
    on the existing assignment's (``@Request`` and ``@Resource``), hence two
    halves: "Constrain roles and principal types" of Microsoft's examples of
    delegating role assignment management with conditions.
    """
    ids = ", ".join(sorted(role.id for role in roles))
    types = ", ".join(f"'{principal_type}'" for principal_type in principal_types)

    def allowed(action: str, source: str) -> str:
        return (
            f"((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/{action}'}})) OR "
            f"(@{source}[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals "
            f"{{{ids}}} AND @{source}[Microsoft.Authorization/roleAssignments:PrincipalType] "
            f"ForAnyOfAnyValues:StringEqualsIgnoreCase {{{types}}}))"
        )

    return f"{allowed('write', 'Request')} AND {allowed('delete', 'Resource')}"


def _check_object_id(flag: str, value: str) -> None:
    if not _OBJECT_ID.fullmatch(value):
        raise InvalidInputError(
            f"{flag}: {value!r} is not an object id (a UUID like 11111111-2222-3333-4444-555555555555; "
            "az ad sp show --id APP_ID --query id -o tsv prints a service principal's)"
        )


_TAGS = {"managed-by": "terrane"}


PROVISIONER_ROLE_ID = "variables('provisionerRoleId')"


def _output(value: str) -> dict[str, str]:
    return {"type": "string", "value": value}


def _role_definition(role_id: str) -> str:
    """An ARM expression for a role definition's id in the deployment's subscription; ``role_id`` is an expression."""
    return f"subscriptionResourceId('Microsoft.Authorization/roleDefinitions', {role_id})"


def _subscription_assignment(purpose: str, principal: str, role_id: str, description: str, *,
                             depends_on: list[str] | None = None, condition: str | None = None) -> dict[str, Any]:
    """A role assignment on the subscription; ``principal`` and ``role_id`` are ARM expressions."""
    assignment: dict[str, Any] = {
        "type": "Microsoft.Authorization/roleAssignments",
        "apiVersion": API_VERSIONS["Microsoft.Authorization/roleAssignments"],
        "name": f"[guid(subscription().id, '{purpose}', {principal}, {role_id})]",
        "properties": {
            "roleDefinitionId": f"[{_role_definition(role_id)}]",
            "principalId": f"[{principal}]",
            "principalType": "ServicePrincipal",
            "description": description,
        },
    }
    if condition is not None:
        assignment["properties"] |= {"condition": condition, "conditionVersion": "2.0"}
    if depends_on:
        assignment["dependsOn"] = depends_on
    return assignment


def _provisioner_role() -> dict[str, Any]:
    return {
        "type": "Microsoft.Authorization/roleDefinitions",
        "apiVersion": API_VERSIONS["Microsoft.Authorization/roleDefinitions"],
        "name": "[variables('provisionerRoleId')]",
        "properties": {
            # Role names are unique in the tenant, and a tenant may hold several subscriptions.
            "roleName": "[format('terrane provisioner ({0})', subscription().subscriptionId)]",
            "description": "What terrane's Azure components create, update and delete; reads everywhere",
            "permissions": [{
                "actions": list(PROVISIONER_ACTIONS),
                "notActions": list(PROVISIONER_NOT_ACTIONS),
                "dataActions": [],
                "notDataActions": [],
            }],
            "assignableScopes": ["[subscription().id]"],
        },
    }


def _nested(name: str, resource_group: str, parameters: dict[str, str], body: dict[str, Any],
            depends_on: list[str] | None = None) -> dict[str, Any]:
    """A deployment into ``resource_group`` (an ARM expression) whose template sees only ``parameters``."""
    deployment: dict[str, Any] = {
        "type": "Microsoft.Resources/deployments",
        "apiVersion": API_VERSIONS["Microsoft.Resources/deployments"],
        "name": name,
        "resourceGroup": resource_group,
        "properties": {
            "mode": "Incremental",
            "expressionEvaluationOptions": {"scope": "inner"},
            "parameters": {key: {"value": value} for key, value in parameters.items()},
            "template": {
                "$schema": RESOURCE_GROUP_SCHEMA,
                "contentVersion": "1.0.0.0",
                "parameters": {key: {"type": "string"} for key in parameters},
                **body,
            },
        },
    }
    if depends_on:
        deployment["dependsOn"] = depends_on
    return deployment


def _scoped_assignment(scope: str, resource_id: str, role: BuiltInRole, principal: str) -> dict[str, Any]:
    """A role assignment on one resource of a resource-group template; ``scope`` and ``resource_id`` are expressions."""
    role_id = f"'{role.id}'"
    return {
        "type": "Microsoft.Authorization/roleAssignments",
        "apiVersion": API_VERSIONS["Microsoft.Authorization/roleAssignments"],
        "scope": f"[{scope}]",
        "name": f"[guid({resource_id}, {principal}, {role_id})]",
        "properties": {
            "roleDefinitionId": f"[{_role_definition(role_id)}]",
            "principalId": f"[{principal}]",
            "principalType": "ServicePrincipal",
        },
    }


def _state_store() -> dict[str, Any]:
    account = "parameters('storageAccountName')"
    container = "parameters('containerName')"
    vault = "parameters('keyVaultName')"
    key = "parameters('keyName')"
    principal = "parameters('principalId')"
    account_id = f"resourceId('Microsoft.Storage/storageAccounts', {account})"
    blob_service_id = f"resourceId('Microsoft.Storage/storageAccounts/blobServices', {account}, 'default')"
    container_id = f"resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', {account}, 'default', {container})"
    vault_id = f"resourceId('Microsoft.KeyVault/vaults', {vault})"
    key_id = f"resourceId('Microsoft.KeyVault/vaults/keys', {vault}, {key})"
    writer = _scoped_assignment(
        f"format('Microsoft.Storage/storageAccounts/{{0}}/blobServices/default/containers/{{1}}', {account}, {container})",
        container_id, STORAGE_BLOB_DATA_CONTRIBUTOR, principal)
    encrypter = _scoped_assignment(f"format('Microsoft.KeyVault/vaults/{{0}}/keys/{{1}}', {vault}, {key})",
                                   key_id, KEY_VAULT_CRYPTO_USER, principal)
    writer["dependsOn"] = [f"[{container_id}]"]
    encrypter["dependsOn"] = [f"[{key_id}]"]
    resources = [
        {
            "type": "Microsoft.Storage/storageAccounts",
            "apiVersion": API_VERSIONS["Microsoft.Storage/storageAccounts"],
            "name": f"[{account}]",
            "location": "[parameters('location')]",
            # Locally redundant keeps the state in the region (geo-redundant copies it to the paired
            # one); versioning and soft delete guard it against overwrites and deletes.
            "sku": {"name": "Standard_LRS"},
            "kind": "StorageV2",
            "tags": _TAGS,
            "properties": {
                "accessTier": "Hot",
                "supportsHttpsTrafficOnly": True,
                "minimumTlsVersion": "TLS1_2",
                "allowBlobPublicAccess": False,
                # Pulumi's azblob backend signs in with Entra ID (see the module's docstring).
                "allowSharedKeyAccess": False,
                "defaultToOAuthAuthentication": True,
                "allowCrossTenantReplication": False,
                "allowedCopyScope": "AAD",
                "publicNetworkAccess": "Enabled",
                "networkAcls": {"defaultAction": "Allow", "bypass": "AzureServices"},
                "encryption": {
                    "keySource": "Microsoft.Storage",
                    "requireInfrastructureEncryption": True,
                    "services": {"blob": {"enabled": True, "keyType": "Account"}},
                },
            },
        },
        {
            "type": "Microsoft.Storage/storageAccounts/blobServices",
            "apiVersion": API_VERSIONS["Microsoft.Storage/storageAccounts/blobServices"],
            "name": f"[format('{{0}}/default', {account})]",
            "dependsOn": [f"[{account_id}]"],
            "properties": {
                "isVersioningEnabled": True,
                "deleteRetentionPolicy": {"enabled": True, "days": 30},
                "containerDeleteRetentionPolicy": {"enabled": True, "days": 30},
            },
        },
        {
            "type": "Microsoft.Storage/storageAccounts/blobServices/containers",
            "apiVersion": API_VERSIONS["Microsoft.Storage/storageAccounts/blobServices/containers"],
            "name": f"[format('{{0}}/default/{{1}}', {account}, {container})]",
            "dependsOn": [f"[{blob_service_id}]"],
            "properties": {"publicAccess": "None"},
        },
        {
            "type": "Microsoft.KeyVault/vaults",
            "apiVersion": API_VERSIONS["Microsoft.KeyVault/vaults"],
            "name": f"[{vault}]",
            "location": "[parameters('location')]",
            "tags": _TAGS,
            "properties": {
                "tenantId": "[subscription().tenantId]",
                "sku": {"family": "A", "name": "standard"},
                "enableRbacAuthorization": True,
                "enableSoftDelete": True,
                "softDeleteRetentionInDays": 90,
                "enablePurgeProtection": True,
                "enabledForDeployment": False,
                "enabledForDiskEncryption": False,
                "enabledForTemplateDeployment": False,
                "publicNetworkAccess": "Enabled",
                "networkAcls": {"defaultAction": "Allow", "bypass": "AzureServices"},
            },
        },
        {
            # ARM creates a key's first version and leaves an existing key as it is.
            "type": "Microsoft.KeyVault/vaults/keys",
            "apiVersion": API_VERSIONS["Microsoft.KeyVault/vaults/keys"],
            "name": f"[format('{{0}}/{{1}}', {vault}, {key})]",
            "dependsOn": [f"[{vault_id}]"],
            "tags": _TAGS,
            "properties": {
                "kty": "RSA",
                "keySize": 3072,
                # Pulumi's secrets provider wraps its data key with RSA-OAEP-256 encrypt and decrypt.
                "keyOps": ["encrypt", "decrypt"],
                "attributes": {"enabled": True},
            },
        },
        writer,
        encrypter,
    ]
    return _nested(
        "terrane-state",
        "[variables('stateResourceGroup')]",
        {
            "location": "[parameters('location')]",
            "storageAccountName": "[variables('storageAccountName')]",
            "containerName": "[variables('stateContainer')]",
            "keyVaultName": "[variables('keyVaultName')]",
            "keyName": "[variables('stateKey')]",
            "principalId": "[variables('principalId')]",
        },
        {"resources": resources},
        depends_on=["[subscriptionResourceId('Microsoft.Resources/resourceGroups', variables('stateResourceGroup'))]"],
    )


def _registry_link() -> dict[str, Any]:
    registry = "parameters('registryName')"
    reader = _scoped_assignment(f"format('Microsoft.ContainerRegistry/registries/{{0}}', {registry})",
                                f"resourceId('Microsoft.ContainerRegistry/registries', {registry})",
                                ACR_PULL, "parameters('readerPrincipalId')")
    return _nested(
        "terrane-registry",
        "[variables('registryResourceGroup')]",
        {"registryName": "[variables('registryName')]", "readerPrincipalId": "[variables('registryReaderPrincipalId')]"},
        {"resources": [reader]},
    )
