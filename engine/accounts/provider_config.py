"""The provider config an account attaches to each of its environments' stacks.

One pure function maps an account (and the environment's region) to Pulumi's
own config keys. Secret values are ``Secret`` objects, so whoever sets them on
a stack knows to set them as secrets, and nothing prints them by mistake.
References are resolved through ``resolve``, only when this is called.
"""

from __future__ import annotations

from collections.abc import Callable

from terrane.engine.accounts.kubeconfig import kubeconfig_of
from terrane.engine.accounts.secrets import Secret, resolve
from terrane.stacks.spec.accounts import Account, AwsAccount, AzureAccount, GcpAccount, KubernetesAccount
from terrane.stacks.spec.references import Reference
from terrane.stacks.standard import KUBECONFIG_KEY

ConfigValue = str | Secret
Resolver = Callable[[Reference], Secret]


def provider_config(
    name: str, account: Account, region: str | None, resolver: Resolver | None = None
) -> dict[str, ConfigValue]:
    """Pulumi config keys (``aws:region``, ``azure-native:clientSecret``, ...) for account ``name``.

    Keys with a path (``aws:assumeRoles[0].roleArn``) are meant to be set with
    Pulumi's path syntax. A linked cluster's is its kubeconfig, flattened to its
    context (``kubeconfig.kubeconfig_of``).
    """
    if isinstance(account, KubernetesAccount):
        return {KUBECONFIG_KEY: kubeconfig_of(account, name)}
    assert region is not None, "an environment on a cloud has a region"
    if isinstance(account, AwsAccount):
        return _aws(account, region, resolver or (lambda ref: resolve(ref, region=account.region)))
    if isinstance(account, AzureAccount):
        return _azure(account, region, resolver or resolve)
    return _gcp(account, region, resolver or resolve)


def _aws(account: AwsAccount, region: str, resolver: Resolver) -> dict[str, ConfigValue]:
    config: dict[str, ConfigValue] = {"aws:region": region}
    auth = account.auth
    if auth.assume_role:
        role = auth.assume_role
        config["aws:assumeRoles[0].roleArn"] = role.role_arn
        config["aws:assumeRoles[0].sessionName"] = role.session_name
        if role.external_id is not None:
            external_id = role.external_id
            # Kept secret even when written in plain: it guards the role against confused deputies.
            config["aws:assumeRoles[0].externalId"] = (
                Secret(external_id) if isinstance(external_id, str) else resolver(external_id)
            )
    elif auth.profile:
        config["aws:profile"] = auth.profile
    elif auth.static:
        config["aws:accessKey"] = resolver(auth.static.access_key_id)
        config["aws:secretKey"] = resolver(auth.static.secret_access_key)
    return config


def _azure(account: AzureAccount, location: str, resolver: Resolver) -> dict[str, ConfigValue]:
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


def _gcp(account: GcpAccount, region: str, resolver: Resolver) -> dict[str, ConfigValue]:
    config: dict[str, ConfigValue] = {"gcp:project": account.project, "gcp:region": region}
    auth = account.auth
    if auth.service_account_key:
        config["gcp:credentials"] = resolver(auth.service_account_key)
    elif auth.impersonate:
        config["gcp:impersonateServiceAccount"] = auth.impersonate.service_account
    return config
