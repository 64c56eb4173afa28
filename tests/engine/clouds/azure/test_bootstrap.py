"""The Azure subscription bootstrap: an ARM template whose provisioner cannot escalate, and terrane's state store."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from terrane.engine.clouds.azure.bootstrap import Bootstrap, Registry, next_steps, registry, render, template
from terrane.engine.clouds.azure.bootstrap_resources import (
    API_VERSIONS,
    BUILT_IN_ROLES,
    DELEGATED_ROLES,
    KEY_VAULT_CRYPTO_USER,
    PROVISIONER_ACTIONS,
    PROVISIONER_NOT_ACTIONS,
    RBAC_ADMINISTRATOR,
    READER,
    STORAGE_BLOB_DATA_CONTRIBUTOR,
)
from terrane.engine.errors import InvalidInputError
from tests.helpers.project import REPO

PRINCIPAL = "44444444-4444-4444-4444-444444444444"
DRIFT = "55555555-5555-5555-5555-555555555555"
READER_PRINCIPAL = "66666666-6666-6666-6666-666666666666"
SUBSCRIPTION = "22222222-2222-2222-2222-222222222222"
UNIQUE = "abcdefghij123"  # what uniqueString() gives: 13 lowercase letters and digits
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def full() -> dict[str, Any]:
    return template(Bootstrap("westeurope", PRINCIPAL, DRIFT, Registry("sharedregistry", "rg-shared", READER_PRINCIPAL)))


@pytest.fixture(scope="module")
def minimal() -> dict[str, Any]:
    return template(Bootstrap("westeurope", PRINCIPAL))


def resources(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every resource of the template, nested deployments' included."""
    for resource in body["resources"]:
        yield resource
        if resource["type"] == "Microsoft.Resources/deployments":
            yield from resources(resource["properties"]["template"])


def nested(body: dict[str, Any], name: str) -> dict[str, Any]:
    (deployment,) = [r for r in body["resources"] if r["type"] == "Microsoft.Resources/deployments" and r["name"] == name]
    return deployment


def of_type(body: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r for r in resources(body) if r["type"] == type_]


# --- a small evaluator of the ARM template language, for names and outputs ------------------------------------------


_TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[(),.]))")


class Arm:
    """Evaluates an ARM expression against a template's parameters and variables, in one subscription and cloud."""

    def __init__(self, body: dict[str, Any], storage_suffix: str = "core.windows.net",
                 keyvault_dns: str = ".vault.azure.net") -> None:
        self.body = body
        self.environment = {"suffixes": {"storage": storage_suffix, "keyvaultDns": keyvault_dns}}

    def value(self, text: Any) -> Any:
        if not (isinstance(text, str) and text.startswith("[") and text.endswith("]")):
            return text
        outer = getattr(self, "tokens", [])  # variables() evaluates a variable's own expression
        self.tokens = [(m.lastgroup, m.group(m.lastgroup)) for m in _TOKEN.finditer(text[1:-1])]
        result = self._expression()
        assert not self.tokens, self.tokens
        self.tokens = outer
        return result

    def _take(self, expected: str | None = None) -> tuple[str | None, str]:
        kind, token = self.tokens.pop(0)
        assert expected is None or token == expected, (token, expected)
        return kind, token

    def _expression(self) -> Any:
        kind, token = self._take()
        if kind == "string":
            value: Any = token[1:-1].replace("''", "'")
        elif kind == "number":
            value = int(token)
        else:
            self._take("(")
            args = []
            while self.tokens[0][1] != ")":
                args.append(self._expression())
                if self.tokens[0][1] == ",":
                    self._take(",")
            self._take(")")
            value = self._call(token, args)
        while self.tokens and self.tokens[0][1] == ".":
            self._take(".")
            value = value[self._take()[1]]
        return value

    def _call(self, name: str, args: list[Any]) -> Any:
        if name == "format":
            return re.sub(r"\{(\d+)\}", lambda m: str(args[1:][int(m[1])]), args[0])
        if name == "variables":
            return self.value(self.body["variables"][args[0]])
        if name == "parameters":
            return self.body["parameters"][args[0]]["defaultValue"]
        if name == "if":
            return args[1] if args[0] else args[2]
        if name == "equals":
            return args[0] == args[1]
        if name == "environment":
            return self.environment
        if name == "subscription":
            return {"id": f"/subscriptions/{SUBSCRIPTION}", "subscriptionId": SUBSCRIPTION}
        if name == "uniqueString":
            return UNIQUE
        if name == "guid":  # ARM's is also a deterministic UUID of its arguments
            return str(uuid.uuid5(uuid.NAMESPACE_URL, "|".join(args)))
        if name == "subscriptionResourceId":
            return f"/subscriptions/{SUBSCRIPTION}/providers/{args[0]}/{'/'.join(args[1:])}"
        raise AssertionError(f"the evaluator does not know {name}()")


# --- the template's shape -------------------------------------------------------------------------------------------


def test_the_template_is_json_with_arms_top_level_keys(full: dict[str, Any]) -> None:
    text = render(full)
    assert json.loads(text) == full
    assert text.endswith("}\n")
    assert list(full) == ["$schema", "contentVersion", "metadata", "parameters", "variables", "resources", "outputs"]
    assert full["$schema"] == (
        "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"
    )
    assert full["contentVersion"] == "1.0.0.0"
    for name in ("terrane-state", "terrane-registry"):
        inner = nested(full, name)["properties"]
        assert inner["template"]["$schema"] == "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
        assert inner["expressionEvaluationOptions"] == {"scope": "inner"}
        # An inner-scope template sees only its parameters: every one is declared and passed.
        assert set(inner["parameters"]) == set(inner["template"]["parameters"])
    for resource in resources(full):
        assert {"type", "apiVersion", "name"} <= set(resource), resource


def _sdk_api_versions(module: str) -> tuple[str, set[str]]:
    """The API version a resource of azure-native v3 uses, and the others it documents."""
    spec = importlib.util.find_spec("pulumi_azure_native")
    assert spec and spec.origin
    text = (Path(spec.origin).parent / module).read_text()
    used = re.search(r"Uses Azure REST API version (\S+)\.", text)
    others = re.search(r"Other available API versions: ([^.]+(?:\.\d+)*[^.]*)\. These", text)
    assert used, module
    return used[1], set(others[1].split(", ")) if others else set()


SDK_MODULES = {
    "Microsoft.Resources/resourceGroups": "resources/resource_group.py",
    "Microsoft.Resources/deployments": "resources/deployment.py",
    "Microsoft.Authorization/roleDefinitions": "authorization/role_definition.py",
    "Microsoft.Authorization/roleAssignments": "authorization/role_assignment.py",
    "Microsoft.Storage/storageAccounts": "storage/storage_account.py",
    "Microsoft.Storage/storageAccounts/blobServices": "storage/blob_service_properties.py",
    "Microsoft.Storage/storageAccounts/blobServices/containers": "storage/blob_container.py",
    "Microsoft.KeyVault/vaults": "keyvault/vault.py",
    "Microsoft.KeyVault/vaults/keys": "keyvault/key.py",
}


def test_every_api_version_is_a_stable_one_the_azure_native_sdk_documents(full: dict[str, Any]) -> None:
    used = {(r["type"], r["apiVersion"]) for r in resources(full)}
    assert {type_ for type_, _ in used} == set(API_VERSIONS) == set(SDK_MODULES)
    for type_, version in used:
        assert version == API_VERSIONS[type_]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", version), f"{type_}: {version} is not a stable version"
        current, others = _sdk_api_versions(SDK_MODULES[type_])
        assert version in {current, *others}, f"{type_}@{version}: azure-native knows {current} and {sorted(others)}"


def test_every_role_guid_is_a_named_built_in_role(full: dict[str, Any]) -> None:
    named = {role.id: role.name for role in BUILT_IN_ROLES}
    assert len(named) == len(BUILT_IN_ROLES) == len({role.name for role in BUILT_IN_ROLES})
    assert set(GUID.findall(render(full))) - {PRINCIPAL, DRIFT, READER_PRINCIPAL} <= set(named)
    for assignment in of_type(full, "Microsoft.Authorization/roleAssignments"):
        role = GUID.search(assignment["properties"]["roleDefinitionId"])
        assert role is None or role[0] in named, assignment["properties"]["roleDefinitionId"]


def test_the_role_table_agrees_with_the_components() -> None:
    from terrane.components.azure import roles

    by_name = {role.name: role.id for role in BUILT_IN_ROLES}
    assert by_name["Network Contributor"] == roles.NETWORK_CONTRIBUTOR
    assert by_name["Storage Blob Data Contributor"] == roles.STORAGE_BLOB_DATA_CONTRIBUTOR
    assert by_name["Key Vault Secrets User"] == roles.KEY_VAULT_SECRETS_USER
    assert by_name["Azure Kubernetes Service RBAC Cluster Admin"] == roles.AKS_RBAC_CLUSTER_ADMIN
    assert by_name["AcrPull"] == roles.ACR_PULL


# --- the provisioner cannot escalate --------------------------------------------------------------------------------


def _top_level_and(condition: str) -> list[str]:
    """``condition``'s operands of AND outside any parentheses; the parentheses must balance."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(condition):
        depth += {"(": 1, ")": -1}.get(char, 0)
        assert depth >= 0, condition
        if depth == 0 and condition.startswith(" AND ", index):
            parts.append(condition[start:index])
            start = index + len(" AND ")
    assert depth == 0, condition
    return [*parts, condition[start:]]


def _assignment(body: dict[str, Any], role_id: str) -> dict[str, Any]:
    (found,) = [r for r in of_type(body, "Microsoft.Authorization/roleAssignments")
                if role_id in r["properties"]["roleDefinitionId"]]
    return found


def test_role_assignment_rights_come_only_through_the_conditioned_rbac_administrator(full: dict[str, Any]) -> None:
    delegation = _assignment(full, RBAC_ADMINISTRATOR.id)["properties"]
    assert delegation["principalId"] == "[variables('principalId')]"
    assert delegation["conditionVersion"] == "2.0"
    write, delete = _top_level_and(delegation["condition"])
    # Writes are judged on the request, deletes on the existing assignment (Microsoft's "Constrain roles" example).
    for half, action, source in ((write, "write", "Request"), (delete, "delete", "Resource")):
        assert half.startswith(f"((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/{action}'}})) OR (@{source}[")
        assert f"@{source}[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{" in half
        assert (f"@{source}[Microsoft.Authorization/roleAssignments:PrincipalType] "
                "ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}))") in half
        assert half.endswith("))") and _top_level_and(half[1:-1].split(" OR ", 1)[1][1:-1]) == half[1:-1].split(
            " OR ", 1)[1][1:-1].split(" AND ")
    # No other assignment of the template carries role assignment rights.
    for assignment in of_type(full, "Microsoft.Authorization/roleAssignments"):
        role = GUID.search(assignment["properties"]["roleDefinitionId"])
        assert role is None or role[0] != "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"  # User Access Administrator
        assert "8e3af657-a8ff-443c-a75c-2fe8c4bcb635" not in json.dumps(assignment)  # Owner


def test_the_condition_lists_exactly_the_roles_the_components_assign(full: dict[str, Any]) -> None:
    """The roles of components/azure/roles.py, which the sample environment's role assignments use."""
    from terrane.components.azure import roles
    from terrane.engine.offline.render import plan
    from terrane.engine.project import open_project

    condition = _assignment(full, RBAC_ADMINISTRATOR.id)["properties"]["condition"]
    listed = [set(group.split(", ")) for group in re.findall(r"GuidEquals \{([^}]*)\}", condition)]
    component_roles = {value for name, value in vars(roles).items()
                       if name.isupper() and isinstance(value, str) and GUID.fullmatch(value)}
    assert listed == [component_roles, component_roles]
    assert component_roles == {role.id for role in DELEGATED_ROLES}

    rendered = plan(open_project(REPO), "azure-dev")
    assigned = [r.inputs for r in rendered.resources if r.type == "azure-native:authorization:RoleAssignment"]
    assert assigned
    assert {GUID.findall(a["roleDefinitionId"])[-1] for a in assigned} <= component_roles
    assert {a["principalType"] for a in assigned} == {"ServicePrincipal"}


# Pulumi type tokens of the sample plan, and the ARM resource types they write.
ARM_TYPES = {
    "azure-native:resources:ResourceGroup": "Microsoft.Resources/subscriptions/resourceGroups",
    "azure-native:network:VirtualNetwork": "Microsoft.Network/virtualNetworks",
    "azure-native:network:Subnet": "Microsoft.Network/virtualNetworks/subnets",
    "azure-native:network:NetworkSecurityGroup": "Microsoft.Network/networkSecurityGroups",
    "azure-native:network:NatGateway": "Microsoft.Network/natGateways",
    "azure-native:network:PublicIPAddress": "Microsoft.Network/publicIPAddresses",
    "azure-native:network:PrivateEndpoint": "Microsoft.Network/privateEndpoints",
    "azure-native:network:PrivateDnsZoneGroup": "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
    "azure-native:network:FlowLog": "Microsoft.Network/networkWatchers/flowLogs",
    "azure-native:privatedns:PrivateZone": "Microsoft.Network/privateDnsZones",
    "azure-native:privatedns:VirtualNetworkLink": "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
    "azure-native:containerservice:ManagedCluster": "Microsoft.ContainerService/managedClusters",
    "azure-native:containerservice:AgentPool": "Microsoft.ContainerService/managedClusters/agentPools",
    "azure-native:keyvault:Vault": "Microsoft.KeyVault/vaults",
    "azure-native:managedidentity:UserAssignedIdentity": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "azure-native:managedidentity:FederatedIdentityCredential":
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
    "azure-native:storage:StorageAccount": "Microsoft.Storage/storageAccounts",
    "azure-native:authorization:ManagementLockByScope": "Microsoft.Authorization/locks",
}


def _allowed(action: str) -> bool:
    """Whether the provisioner's custom role allows ``action`` (Azure matches actions case-insensitively)."""
    def matches(patterns: tuple[str, ...]) -> bool:
        return any(fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)

    return matches(PROVISIONER_ACTIONS) and not matches(PROVISIONER_NOT_ACTIONS)


def test_the_provisioner_role_covers_what_the_azure_components_create(full: dict[str, Any]) -> None:
    from terrane.engine.offline.render import plan
    from terrane.engine.project import open_project

    rendered = plan(open_project(REPO), "azure-dev")
    types = {r.type for r in rendered.resources if r.custom and r.type.startswith("azure-native:")}
    types -= {"azure-native:authorization:RoleAssignment"}  # through the RBAC administrator role
    assert types - set(ARM_TYPES) == set(), "map the new resource types to their ARM types"
    for type_ in types:
        for verb in ("read", "write", "delete"):
            assert _allowed(f"{ARM_TYPES[type_]}/{verb}"), f"{type_}: {verb}"
    assert _allowed("Microsoft.ContainerService/managedClusters/listClusterUserCredential/action")
    assert _allowed("Microsoft.ManagedIdentity/userAssignedIdentities/assign/action")
    assert _allowed("Microsoft.Network/virtualNetworks/subnets/join/action")

    (role,) = of_type(full, "Microsoft.Authorization/roleDefinitions")
    permissions = role["properties"]["permissions"]
    assert permissions == [{"actions": list(PROVISIONER_ACTIONS), "notActions": list(PROVISIONER_NOT_ACTIONS),
                            "dataActions": [], "notDataActions": []}]
    assert role["properties"]["assignableScopes"] == ["[subscription().id]"]
    provisioner = _assignment(full, "variables('provisionerRoleId')")
    assert provisioner["properties"]["principalId"] == "[variables('principalId')]"
    assert Arm(full).value(role["properties"]["roleName"]) == f"terrane provisioner ({SUBSCRIPTION})"


@pytest.mark.parametrize(
    "action",
    [
        "Microsoft.Authorization/roleAssignments/write",
        "Microsoft.Authorization/roleAssignments/delete",
        "Microsoft.Authorization/roleDefinitions/write",
        "Microsoft.Authorization/elevateAccess/action",
        "Microsoft.Authorization/policyAssignments/write",
        "Microsoft.Authorization/denyAssignments/write",
        "Microsoft.KeyVault/vaults/accessPolicies/write",
        "Microsoft.Compute/virtualMachines/write",
        "Microsoft.Compute/virtualMachines/runCommand/action",
        "Microsoft.Automation/automationAccounts/write",
        "Microsoft.Web/sites/write",
        "Microsoft.Resources/deployments/write",
    ],
)
def test_the_provisioner_role_cannot_write_authorization_or_run_code_elsewhere(action: str) -> None:
    assert not _allowed(action)


# --- the state store ----------------------------------------------------------------------------------------------


def test_the_state_store_is_private_versioned_and_reached_with_entra_id_only(full: dict[str, Any]) -> None:
    (account,) = of_type(full, "Microsoft.Storage/storageAccounts")
    assert account["kind"] == "StorageV2"
    assert account["location"] == "[parameters('location')]"
    assert account["properties"] | {
        "supportsHttpsTrafficOnly": True,
        "minimumTlsVersion": "TLS1_2",
        "allowBlobPublicAccess": False,
        "allowSharedKeyAccess": False,
        "defaultToOAuthAuthentication": True,
    } == account["properties"]
    (blobs,) = of_type(full, "Microsoft.Storage/storageAccounts/blobServices")
    assert blobs["properties"] == {
        "isVersioningEnabled": True,
        "deleteRetentionPolicy": {"enabled": True, "days": 30},
        "containerDeleteRetentionPolicy": {"enabled": True, "days": 30},
    }
    (container,) = of_type(full, "Microsoft.Storage/storageAccounts/blobServices/containers")
    assert container["properties"] == {"publicAccess": "None"}
    (vault,) = of_type(full, "Microsoft.KeyVault/vaults")
    assert vault["location"] == "[parameters('location')]"
    assert vault["properties"] | {
        "enableRbacAuthorization": True, "enableSoftDelete": True, "enablePurgeProtection": True,
    } == vault["properties"]
    assert "accessPolicies" not in vault["properties"]
    (key,) = of_type(full, "Microsoft.KeyVault/vaults/keys")
    assert key["properties"]["kty"] == "RSA" and key["properties"]["keySize"] >= 2048
    assert set(key["properties"]["keyOps"]) == {"encrypt", "decrypt"}
    assert "rotationPolicy" not in key["properties"]


def test_the_principal_reaches_the_container_and_the_key_and_nothing_else_of_the_store(full: dict[str, Any]) -> None:
    store = nested(full, "terrane-state")["properties"]["template"]
    assignments = [r for r in store["resources"] if r["type"] == "Microsoft.Authorization/roleAssignments"]
    scopes = {GUID.search(a["properties"]["roleDefinitionId"])[0]: a["scope"] for a in assignments}  # type: ignore[index]
    assert scopes == {
        STORAGE_BLOB_DATA_CONTRIBUTOR.id: "[format('Microsoft.Storage/storageAccounts/{0}/blobServices/default/containers/"
                                          "{1}', parameters('storageAccountName'), parameters('containerName'))]",
        KEY_VAULT_CRYPTO_USER.id: "[format('Microsoft.KeyVault/vaults/{0}/keys/{1}', parameters('keyVaultName'), "
                                  "parameters('keyName'))]",
    }
    assert {a["properties"]["principalId"] for a in assignments} == {"[parameters('principalId')]"}
    assert nested(full, "terrane-state")["properties"]["parameters"]["principalId"] == {
        "value": "[variables('principalId')]"
    }
    assert nested(full, "terrane-state")["resourceGroup"] == "[variables('stateResourceGroup')]"


def test_names_are_deterministic_and_valid(full: dict[str, Any]) -> None:
    arm = Arm(full)
    account, vault = arm.value("[variables('storageAccountName')]"), arm.value("[variables('keyVaultName')]")
    assert account == f"terrane{UNIQUE}" and re.fullmatch(r"[a-z0-9]{3,24}", account)
    assert vault == f"terrane-{UNIQUE}" and re.fullmatch(r"[a-zA-Z](-?[a-zA-Z0-9])*", vault) and 3 <= len(vault) <= 24
    assert arm.value("[variables('stateResourceGroup')]") == "terrane-state"
    names = [r["name"] for r in of_type(full, "Microsoft.Authorization/roleAssignments")]
    assert all(name.startswith("[guid(") for name in names) and len(set(names)) == len(names)
    assert template(Bootstrap("westeurope", PRINCIPAL, DRIFT,
                              Registry("sharedregistry", "rg-shared", READER_PRINCIPAL))) == full


@pytest.mark.parametrize(
    ("storage", "dns", "backend", "provider"),
    [
        ("core.windows.net", ".vault.azure.net", f"azblob://terrane-state?storage_account=terrane{UNIQUE}",
         f"azurekeyvault://terrane-{UNIQUE}.vault.azure.net/keys/terrane-state"),
        ("core.chinacloudapi.cn", ".vault.azure.cn",
         f"azblob://terrane-state?storage_account=terrane{UNIQUE}&domain=blob.core.chinacloudapi.cn",
         f"azurekeyvault://terrane-{UNIQUE}.vault.azure.cn/keys/terrane-state"),
    ],
)
def test_outputs_are_the_backend_url_and_secrets_provider_pulumi_reads(
    full: dict[str, Any], storage: str, dns: str, backend: str, provider: str
) -> None:
    arm = Arm(full, storage, dns)
    outputs = {name: arm.value(output["value"]) for name, output in full["outputs"].items()}
    assert outputs["backendUrl"] == backend
    assert outputs["secretsProvider"] == provider
    assert outputs["stateRegion"] == "westeurope"
    assert outputs["storageAccount"] == f"terrane{UNIQUE}"
    assert outputs["keyVault"] == f"terrane-{UNIQUE}"
    assert re.fullmatch(f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{GUID.pattern}",
                        outputs["provisionerRoleDefinitionId"])
    assert all(output["type"] == "string" for output in full["outputs"].values())


# --- optional principals --------------------------------------------------------------------------------------------


def test_drift_is_reader_and_the_registry_reader_gets_acr_pull_on_the_registry_only(
    full: dict[str, Any], minimal: dict[str, Any]
) -> None:
    drift = _assignment(full, READER.id)
    assert drift["properties"]["principalId"] == "[variables('driftPrincipalId')]"
    assert "scope" not in drift  # the subscription
    link = nested(full, "terrane-registry")
    assert link["resourceGroup"] == "[variables('registryResourceGroup')]"
    (pull,) = link["properties"]["template"]["resources"]
    assert pull["scope"] == "[format('Microsoft.ContainerRegistry/registries/{0}', parameters('registryName'))]"
    assert pull["properties"]["roleDefinitionId"].endswith("'7f951dda-4ed3-4680-a7ca-43fe172d538d')]")
    assert pull["properties"]["principalId"] == "[parameters('readerPrincipalId')]"
    # The registry reader's object id reaches that one assignment, and nothing else.
    assert [r for r in of_type(full, "Microsoft.Authorization/roleAssignments")
            if "readerPrincipalId" in r["properties"]["principalId"]] == [pull]
    assert link["properties"]["parameters"]["readerPrincipalId"] == {"value": "[variables('registryReaderPrincipalId')]"}
    assert render(full).count("registryReaderPrincipalId") == 2
    assert full["variables"]["registryName"] == "sharedregistry"
    assert full["variables"]["registryResourceGroup"] == "rg-shared"

    assert {r["name"] for r in minimal["resources"] if r["type"] == "Microsoft.Resources/deployments"} == {"terrane-state"}
    assert READER.id not in render(minimal)
    assert "driftPrincipalId" not in minimal["variables"]


def test_next_steps_name_the_region_and_read_the_outputs() -> None:
    steps = next_steps(Bootstrap("northeurope", PRINCIPAL))
    assert ("  az deployment sub create --location northeurope --name terrane-bootstrap "
            "--template-file terrane-bootstrap.json") in steps
    assert ('  export TERRANE_BACKEND_URL="$(az deployment sub show --name terrane-bootstrap '
            '--query properties.outputs.backendUrl.value -o tsv)"') in steps
    assert ('  export TERRANE_SECRETS_PROVIDER="$(az deployment sub show --name terrane-bootstrap '
            '--query properties.outputs.secretsProvider.value -o tsv)"') in steps
    assert "  export TERRANE_STATE_REGION=northeurope" in steps
    assert any(step.startswith("  terrane accounts link azure NAME ") and step.endswith("--location northeurope")
               for step in steps)
    assert template(Bootstrap("northeurope", PRINCIPAL))["parameters"]["location"]["defaultValue"] == "northeurope"
    assert not any("link acr" in step for step in steps)


def test_next_steps_link_the_registry_as_its_reader() -> None:
    steps = next_steps(Bootstrap("northeurope", PRINCIPAL, registry=Registry("acmeimages", "images", READER_PRINCIPAL)))
    assert steps[-1] == ("  terrane accounts link acr NAME --tenant-id TENANT --subscription-id SUBSCRIPTION "
                         "--resource-group images --name acmeimages --client-id READER_APP_ID --client-secret REF")


# --- inputs ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [
        ({"location": "West Europe"}, "--region"),
        ({"location": "west-europe"}, "--region"),
        ({"location": ""}, "--region"),
        ({"principal_id": "not-a-uuid"}, "--principal-id"),
        ({"principal_id": "44444444-4444-4444-4444-44444444444"}, "--principal-id"),
        ({"principal_id": " 44444444-4444-4444-4444-444444444444"}, "--principal-id"),
        ({"drift_principal_id": "55555555"}, "--drift-principal-id"),
    ],
)
def test_bad_input_is_invalid_input_naming_the_flag(kwargs: dict[str, str], flag: str) -> None:
    arguments = {"location": "westeurope", "principal_id": PRINCIPAL} | kwargs
    with pytest.raises(InvalidInputError, match=f"^{flag}: ") as error:
        Bootstrap(**arguments)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("arguments", "flag"),
    [
        (("abc", "rg", READER_PRINCIPAL), "--acr"),
        (("has-hyphen", "rg", READER_PRINCIPAL), "--acr"),
        (("sharedregistry", "ends.", READER_PRINCIPAL), "--acr-resource-group"),
        (("sharedregistry", "rg", "nope"), "--registry-reader-principal-id"),
        (("sharedregistry", None, None), "--acr-resource-group, --registry-reader-principal-id"),
        ((None, None, READER_PRINCIPAL), "--acr, --acr-resource-group"),
    ],
)
def test_a_registry_needs_its_three_flags_each_valid(arguments: tuple[str | None, ...], flag: str) -> None:
    with pytest.raises(InvalidInputError, match=f"^{re.escape(flag)}: ") as error:
        registry(*arguments)
    assert "\n" not in str(error.value)


def test_no_registry_flags_mean_no_registry() -> None:
    assert registry(None, None, None) is None
    assert registry("sharedregistry", "rg-shared", READER_PRINCIPAL) == Registry("sharedregistry", "rg-shared",
                                                                                    READER_PRINCIPAL)


def test_importing_the_module_loads_no_cloud_sdk() -> None:
    sdks = "{'pulumi', 'pulumi_azure_native', 'azure', 'boto3'}"
    code = ("import sys, terrane.engine.clouds.azure.bootstrap; "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sdks}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "[]"
