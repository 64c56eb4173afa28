"""Verifying an Azure subscription: Entra ID issues a token to its identity (when ``terrane[azure]`` is
installed). ``identity`` and ``token`` are shared with the ACR registry's verification."""

from __future__ import annotations

from typing import Any

from terrane.engine.accounts.secrets import Secret
from terrane.engine.clouds import verification
from terrane.engine.clouds.results import Verification
from terrane.engine.clouds.verification import Check, first_line, unconfirmed
from terrane.engine.errors import EngineError
from terrane.stacks.spec.accounts import AzureAccount
from terrane.stacks.spec.registries import AcrRegistry

MANAGEMENT_SCOPE = "https://management.azure.com/.default"
SDK = "azure.identity"


def verify_account(check: Check, account: AzureAccount) -> Verification:
    secret, identity = identity_of(check, account)
    if not sdk_installed():
        return unconfirmed(check, account, identity, "Azure", extra="azure")
    arm_token(check, account, secret)
    return Verification(
        account=check.name,
        cloud="azure",
        verified=True,
        identity=identity,
        account_id=account.subscription_id,
        note=f"Azure issued a token in tenant {account.tenant_id}; "
        f"access to subscription {account.subscription_id} was not checked",
    )


def sdk_installed() -> bool:
    return verification.installed(SDK)


def identity_of(check: Check, account: AzureAccount | AcrRegistry) -> tuple[Secret | None, str]:
    """The secret the identity signs in with (resolved: references first), and who it is in words."""
    auth = account.auth
    if auth.service_principal is not None:
        return check.resolve(auth.service_principal.client_secret), auth.service_principal.client_id
    if auth.oidc is not None:
        return check.resolve(auth.oidc.token), auth.oidc.client_id
    return None, "azure cli"


def arm_token(check: Check, account: AzureAccount | AcrRegistry, secret: Secret | None) -> Secret:
    """An Azure Resource Manager token for the identity (kept by ``check``, so that messages mask it)."""
    from azure.core.exceptions import AzureError, ClientAuthenticationError
    from azure.identity import (
        AzureCliCredential,
        ClientAssertionCredential,
        ClientSecretCredential,
        CredentialUnavailableError,
    )

    auth = account.auth
    if auth.service_principal is not None:
        assert secret is not None
        who = f"service principal {auth.service_principal.client_id}"
        credential: Any = ClientSecretCredential(account.tenant_id, auth.service_principal.client_id, secret.reveal())
    elif auth.oidc is not None:
        assert secret is not None
        who = f"service principal {auth.oidc.client_id} (OIDC)"
        credential = ClientAssertionCredential(account.tenant_id, auth.oidc.client_id, secret.reveal)
    else:
        who = "the Azure CLI login"
        credential = AzureCliCredential(tenant_id=account.tenant_id)
    try:
        token = credential.get_token(MANAGEMENT_SCOPE).token
    except CredentialUnavailableError as exc:
        hint = "run `az login`" if auth.cli is not None else "check the references"
        raise check.error(EngineError, f"{who} is not available: {first_line(exc.message)}; {hint}") from exc
    except ClientAuthenticationError as exc:
        raise check.error(
            EngineError, f"Azure refused {who} in tenant {account.tenant_id}: {first_line(exc.message)}"
        ) from exc
    except AzureError as exc:
        raise check.error(EngineError, f"cannot get a token for {who} from Azure: {first_line(exc.message)}") from exc
    return check.keep(Secret(token))

