"""What terrane adopts of a Terraform state for Azure (hashicorp/azurerm -> azure-native).

azure-native imports by ARM id, which azurerm keeps as ``id``, but for a vault's secrets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from terrane.engine.adopt.rules import Attribute, ProgramValue, Rule, attribute, joined, program_value, state_id
from terrane.engine.offline import render
from terrane.engine.tfstate import StateResource


def _subnet_prefixes() -> Attribute:
    """An azurerm subnet's ``address_prefixes``; the program sets ``addressPrefix`` or ``addressPrefixes``."""
    state = attribute("addressPrefix", "address_prefixes").state

    def program(resource: render.RenderedResource, _: Sequence[render.RenderedResource]) -> ProgramValue:
        raw = resource.inputs.get("addressPrefixes", resource.inputs.get("addressPrefix"))
        value = program_value([raw] if isinstance(raw, str) else raw)
        return value if isinstance(value, tuple) else None

    return Attribute("addressPrefix", state, program, "the state holds no address_prefixes for it")


def _key_vault_secret_id(resource: StateResource) -> str | None:
    """azure-native takes the ARM id ``<vault id>/secrets/<name>``; azurerm's ``id`` is the data-plane URL."""
    return joined("{}/secrets/{}", "key_vault_id", "name")(resource)


RULES: Mapping[str, Rule] = {
    "azurerm_resource_group": Rule(
        "azure-native:resources:ResourceGroup", (attribute("resourceGroupName", "name"),), state_id
    ),
    "azurerm_virtual_network": Rule(
        "azure-native:network:VirtualNetwork",
        (attribute("addressSpace", "address_space", "addressSpace.addressPrefixes"),),
        state_id,
    ),
    "azurerm_subnet": Rule("azure-native:network:Subnet", (_subnet_prefixes(),), state_id),
    "azurerm_kubernetes_cluster": Rule(
        "azure-native:containerservice:ManagedCluster", (attribute("resourceName", "name"),), state_id
    ),
    "azurerm_kubernetes_cluster_node_pool": Rule(
        "azure-native:containerservice:AgentPool",
        (attribute("resourceName", "kubernetes_cluster_id", last=True), attribute("agentPoolName", "name")),
        state_id,
    ),
    "azurerm_key_vault": Rule("azure-native:keyvault:Vault", (attribute("vaultName", "name"),), state_id),
    "azurerm_key_vault_secret": Rule(
        "azure-native:keyvault:Secret",
        (attribute("vaultName", "key_vault_id", last=True), attribute("secretName", "name")),
        _key_vault_secret_id,
    ),
}
"""Terraform resource type -> the Pulumi type it becomes, its identifying attributes, its import id."""
