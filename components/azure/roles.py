"""Azure built-in roles the components grant, and how a role assignment names them; the audit names the same ids."""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure_native

# Built-in role definition ids are the same in every tenant and cloud.
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693888ce32b"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"


def role_definition_id(subscription_id: str, role: str) -> str:
    """The subscription-scoped id ARM reports back; any other spelling shows as drift."""
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def client_config(parent: pulumi.Resource) -> pulumi.Output[azure_native.authorization.GetClientConfigResult]:
    """Who deploys, and to which subscription: the parent's provider's identity."""
    return azure_native.authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=parent))


def role(config: pulumi.Output[azure_native.authorization.GetClientConfigResult], role_id: str) -> pulumi.Output[str]:
    """``role_id`` in the subscription of ``config``."""
    return config.subscription_id.apply(lambda subscription: role_definition_id(subscription, role_id))
