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

from terrane.engine.clouds.azure.bootstrap_resources import (
    API_VERSIONS,
    PROVISIONER_ROLE_ID,
    RBAC_ADMINISTRATOR,
    READER,
    TAGS,
    delegation_condition,
    outputs,
    provisioner_role,
    registry_link,
    role_definition,
    state_store,
    subscription_assignment,
)
from terrane.engine.errors import InvalidInputError
from terrane.engine.store.paths import BACKEND_ENV, SECRETS_PROVIDER_ENV
from terrane.stacks.spec import ACR_NAME, AZURE_RESOURCE_GROUP, UUID
from terrane.stacks.spec.regions import region_problem

DEPLOYMENT_NAME = "terrane-bootstrap"
TEMPLATE_FILE = "terrane-bootstrap.json"
STATE_RESOURCE_GROUP = "terrane-state"
STATE_CONTAINER = "terrane-state"
STATE_KEY = "terrane-state"
STATE_REGION_ENV = "TERRANE_STATE_REGION"
"""Azure URLs name no region: this says where the state store is (``terrane doctor`` compares it)."""
LOCATION_ENV = "AZURE_LOCATION"

# An Entra ID object id.
_OBJECT_ID = re.compile(UUID, re.ASCII)
# Azure's rules for a container registry name and a resource group name.
_REGISTRY = re.compile(ACR_NAME, re.ASCII)
_RESOURCE_GROUP = re.compile(AZURE_RESOURCE_GROUP)


SUBSCRIPTION_SCHEMA = "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"


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
        problem = region_problem("azure", self.location)  # one of Azure's locations, as an environment's
        if problem:
            raise InvalidInputError(f"--region: {problem}")
        _check_object_id("--principal-id", self.principal_id)
        if self.drift_principal_id is not None:
            _check_object_id("--drift-principal-id", self.drift_principal_id)


def template(bootstrap: Bootstrap) -> dict[str, Any]:
    """The subscription-scope ARM template for ``bootstrap``."""
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
        "variables": _variables(bootstrap),
        "resources": _resources(bootstrap),
        "outputs": outputs(),
    }


def _resources(bootstrap: Bootstrap) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = [
        {
            "type": "Microsoft.Resources/resourceGroups",
            "apiVersion": API_VERSIONS["Microsoft.Resources/resourceGroups"],
            "name": "[variables('stateResourceGroup')]",
            "location": "[parameters('location')]",
            "tags": TAGS,
        },
        state_store(),
        provisioner_role(),
        subscription_assignment(
            "provisioner", "variables('principalId')", PROVISIONER_ROLE_ID,
            "terrane provisions environments with this role",
            depends_on=[f"[{role_definition(PROVISIONER_ROLE_ID)}]"],
        ),
        subscription_assignment(
            "delegation", "variables('principalId')", f"'{RBAC_ADMINISTRATOR.id}'",
            "terrane assigns only the roles its components assign, and only to service principals",
            condition=delegation_condition(),
        ),
    ]
    if bootstrap.drift_principal_id is not None:
        resources.append(subscription_assignment("drift", "variables('driftPrincipalId')", f"'{READER.id}'",
                                                 "terrane reads environments with this role to detect drift"))
    if bootstrap.registry is not None:
        resources.append(registry_link())
    return resources


def _variables(bootstrap: Bootstrap) -> dict[str, Any]:
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
    if bootstrap.registry is not None:
        variables |= {"registryName": bootstrap.registry.name,
                      "registryResourceGroup": bootstrap.registry.resource_group,
                      "registryReaderPrincipalId": bootstrap.registry.reader_principal_id}
    return variables


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

def _check_object_id(flag: str, value: str) -> None:
    if not _OBJECT_ID.fullmatch(value):
        raise InvalidInputError(
            f"{flag}: {value!r} is not an object id (a UUID like 11111111-2222-3333-4444-555555555555; "
            "az ad sp show --id APP_ID --query id -o tsv prints a service principal's)"
        )

