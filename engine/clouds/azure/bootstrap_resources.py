"""The ARM resources of the Azure bootstrap (``bootstrap``): the built-in roles it names, the provisioner's custom
role and its constrained delegation, terrane's state store, and the registry reader's assignment.

Every value here is an ARM expression or a literal of the template; ``bootstrap``'s module docstring says why
each resource is as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BuiltInRole:
    name: str
    id: str
    """The role definition's name, the same GUID in every tenant and cloud."""


# Every built-in role the template names. The first five are the roles terrane's Azure
# components assign (components/azure/roles.py); a test keeps the two lists equal.
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

RESOURCE_GROUP_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"

# The provisioner's custom role, by what it is for. Actions are case-insensitive patterns.
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


TAGS = {"managed-by": "terrane"}


PROVISIONER_ROLE_ID = "variables('provisionerRoleId')"


def output(value: str) -> dict[str, str]:
    return {"type": "string", "value": value}


def role_definition(role_id: str) -> str:
    """An ARM expression for a role definition's id in the deployment's subscription; ``role_id`` is an expression."""
    return f"subscriptionResourceId('Microsoft.Authorization/roleDefinitions', {role_id})"


def subscription_assignment(purpose: str, principal: str, role_id: str, description: str, *,
                             depends_on: list[str] | None = None, condition: str | None = None) -> dict[str, Any]:
    """A role assignment on the subscription; ``principal`` and ``role_id`` are ARM expressions."""
    assignment: dict[str, Any] = {
        "type": "Microsoft.Authorization/roleAssignments",
        "apiVersion": API_VERSIONS["Microsoft.Authorization/roleAssignments"],
        "name": f"[guid(subscription().id, '{purpose}', {principal}, {role_id})]",
        "properties": {
            "roleDefinitionId": f"[{role_definition(role_id)}]",
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


def provisioner_role() -> dict[str, Any]:
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


def nested(name: str, resource_group: str, parameters: dict[str, str], body: dict[str, Any],
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


def scoped_assignment(scope: str, resource_id: str, role: BuiltInRole, principal: str) -> dict[str, Any]:
    """A role assignment on one resource of a resource-group template; ``scope`` and ``resource_id`` are expressions."""
    role_id = f"'{role.id}'"
    return {
        "type": "Microsoft.Authorization/roleAssignments",
        "apiVersion": API_VERSIONS["Microsoft.Authorization/roleAssignments"],
        "scope": f"[{scope}]",
        "name": f"[guid({resource_id}, {principal}, {role_id})]",
        "properties": {
            "roleDefinitionId": f"[{role_definition(role_id)}]",
            "principalId": f"[{principal}]",
            "principalType": "ServicePrincipal",
        },
    }


# The state store's template sees only its parameters.
_ACCOUNT = "parameters('storageAccountName')"
_CONTAINER = "parameters('containerName')"
_VAULT = "parameters('keyVaultName')"
_KEY = "parameters('keyName')"
_ACCOUNT_ID = f"resourceId('Microsoft.Storage/storageAccounts', {_ACCOUNT})"
_BLOB_SERVICE_ID = f"resourceId('Microsoft.Storage/storageAccounts/blobServices', {_ACCOUNT}, 'default')"
_CONTAINER_ID = (f"resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', {_ACCOUNT}, 'default', "
                 f"{_CONTAINER})")
_VAULT_ID = f"resourceId('Microsoft.KeyVault/vaults', {_VAULT})"
_KEY_ID = f"resourceId('Microsoft.KeyVault/vaults/keys', {_VAULT}, {_KEY})"


def state_store() -> dict[str, Any]:
    """A deployment into the state store's resource group: the storage account and its container, the Key Vault
    and its key, and the principal's data roles on those two."""
    return nested(
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
        {"resources": [*_storage(), *_vault(), *_state_access("parameters('principalId')")]},
        depends_on=["[subscriptionResourceId('Microsoft.Resources/resourceGroups', variables('stateResourceGroup'))]"],
    )


def _state_access(principal: str) -> list[dict[str, Any]]:
    writer = scoped_assignment(
        f"format('Microsoft.Storage/storageAccounts/{{0}}/blobServices/default/containers/{{1}}', {_ACCOUNT}, "
        f"{_CONTAINER})", _CONTAINER_ID, STORAGE_BLOB_DATA_CONTRIBUTOR, principal)
    encrypter = scoped_assignment(f"format('Microsoft.KeyVault/vaults/{{0}}/keys/{{1}}', {_VAULT}, {_KEY})",
                                  _KEY_ID, KEY_VAULT_CRYPTO_USER, principal)
    writer["dependsOn"] = [f"[{_CONTAINER_ID}]"]
    encrypter["dependsOn"] = [f"[{_KEY_ID}]"]
    return [writer, encrypter]


def _storage() -> list[dict[str, Any]]:
    return [
    {
        "type": "Microsoft.Storage/storageAccounts",
        "apiVersion": API_VERSIONS["Microsoft.Storage/storageAccounts"],
        "name": f"[{_ACCOUNT}]",
        "location": "[parameters('location')]",
        # Locally redundant keeps the state in the region (geo-redundant copies it to the paired
        # one); versioning and soft delete guard it against overwrites and deletes.
        "sku": {"name": "Standard_LRS"},
        "kind": "StorageV2",
        "tags": TAGS,
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
        "name": f"[format('{{0}}/default', {_ACCOUNT})]",
        "dependsOn": [f"[{_ACCOUNT_ID}]"],
        "properties": {
            "isVersioningEnabled": True,
            "deleteRetentionPolicy": {"enabled": True, "days": 30},
            "containerDeleteRetentionPolicy": {"enabled": True, "days": 30},
        },
    },
    {
        "type": "Microsoft.Storage/storageAccounts/blobServices/containers",
        "apiVersion": API_VERSIONS["Microsoft.Storage/storageAccounts/blobServices/containers"],
        "name": f"[format('{{0}}/default/{{1}}', {_ACCOUNT}, {_CONTAINER})]",
        "dependsOn": [f"[{_BLOB_SERVICE_ID}]"],
        "properties": {"publicAccess": "None"},
    },
    ]


def _vault() -> list[dict[str, Any]]:
    return [
    {
        "type": "Microsoft.KeyVault/vaults",
        "apiVersion": API_VERSIONS["Microsoft.KeyVault/vaults"],
        "name": f"[{_VAULT}]",
        "location": "[parameters('location')]",
        "tags": TAGS,
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
        "name": f"[format('{{0}}/{{1}}', {_VAULT}, {_KEY})]",
        "dependsOn": [f"[{_VAULT_ID}]"],
        "tags": TAGS,
        "properties": {
            "kty": "RSA",
            "keySize": 3072,
            # Pulumi's secrets provider wraps its data key with RSA-OAEP-256 encrypt and decrypt.
            "keyOps": ["encrypt", "decrypt"],
            "attributes": {"enabled": True},
        },
    },
    ]


def registry_link() -> dict[str, Any]:
    registry = "parameters('registryName')"
    reader = scoped_assignment(f"format('Microsoft.ContainerRegistry/registries/{{0}}', {registry})",
                                f"resourceId('Microsoft.ContainerRegistry/registries', {registry})",
                                ACR_PULL, "parameters('readerPrincipalId')")
    return nested(
        "terrane-registry",
        "[variables('registryResourceGroup')]",
        {"registryName": "[variables('registryName')]", "readerPrincipalId": "[variables('registryReaderPrincipalId')]"},
        {"resources": [reader]},
    )


def outputs() -> dict[str, Any]:
    """What the deployment says: the backend URL and secrets provider to export, and where the store is."""
    return {
        "backendUrl": output(
            "[format('azblob://{0}?storage_account={1}{2}', variables('stateContainer'), "
            "variables('storageAccountName'), if(equals(environment().suffixes.storage, 'core.windows.net'), '', "
            "format('&domain=blob.{0}', environment().suffixes.storage)))]"
        ),
        "secretsProvider": output(
            "[format('azurekeyvault://{0}{1}/keys/{2}', variables('keyVaultName'), "
            "environment().suffixes.keyvaultDns, variables('stateKey'))]"
        ),
        "stateRegion": output("[parameters('location')]"),
        "storageAccount": output("[variables('storageAccountName')]"),
        "keyVault": output("[variables('keyVaultName')]"),
        "provisionerRoleDefinitionId": output(
            "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', variables('provisionerRoleId'))]"
        ),
    }
