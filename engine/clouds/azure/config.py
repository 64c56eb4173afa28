"""What an Azure subscription attaches to its environments' stacks: Pulumi's provider config, and the
operator's environment variables its sign-in method needs; how ``terrane audit`` words the identity it signs in
as; and how terrane's state store on Azure is reached (its URLs name no region: ``terrane doctor`` reads
``TERRANE_STATE_REGION``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from terrane.engine.clouds.base import ConfigValue, Resolver, StateStore
from terrane.stacks.spec.accounts import AzureAccount

# What Azure's DefaultAzureCredential signs in with: a secret, a federated token, or the Azure CLI's login.
ENTRA = frozenset({"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE",
                   "AZURE_AUTHORITY_HOST", "AZURE_CONFIG_DIR"})
# Ambient settings, by the auth method that needs them.
BY_AUTH = {
    "service_principal": frozenset({"AZURE_AUTHORITY_HOST"}),
    "oidc": frozenset({"AZURE_AUTHORITY_HOST", "AZURE_FEDERATED_TOKEN_FILE"}),
    "cli": frozenset({"AZURE_CONFIG_DIR"}),
}

# How terrane audit words the provisioner, by auth method: what names it (never a secret, which stays a
# reference), and what limits it, if anything.
SIGN_IN: dict[str, tuple[Callable[[Any], str], str | None]] = {
    "service_principal": (lambda auth: f"service principal {auth.service_principal.client_id}",
                          "a client secret: rotate it, or use workload identity federation (oidc)"),
    "oidc": (lambda auth: f"service principal {auth.oidc.client_id} (workload identity federation)",
             "no secret: a federated token"),
    "cli": (lambda auth: "the Azure CLI's signed-in identity", None),
}
GRANTS = ("its role assignments in subscription {scope}, which terrane cannot see offline: it creates the "
          "resources and role assignments listed here")


def provider_config(account: AzureAccount, location: str, resolver: Resolver) -> dict[str, ConfigValue]:
    """``azure-native:`` tenant, subscription and location, and the service principal (its secret or token)."""
    config: dict[str, ConfigValue] = {
        "azure-native:tenantId": account.tenant_id,
        "azure-native:subscriptionId": account.subscription_id,
        "azure-native:location": location,
    }
    auth = account.auth
    if auth.service_principal:
        config["azure-native:clientId"] = auth.service_principal.client_id
        config["azure-native:clientSecret"] = resolver(auth.service_principal.client_secret)
    elif auth.oidc:
        config["azure-native:clientId"] = auth.oidc.client_id
        config["azure-native:useOidc"] = "true"
        config["azure-native:oidcToken"] = resolver(auth.oidc.token)
    return config


STATE_STORE = StateStore(schemes={
    # A storage account with shared keys off (as the Azure bootstrap makes it) is reached with Entra ID.
    "azblob": frozenset({"AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN"}) | ENTRA,
    "azurekeyvault": ENTRA,
})
