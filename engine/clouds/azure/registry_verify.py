"""Verifying an ACR registry: its identity can pull, and cannot push.

The identity signs in as an Azure subscription's does (``verify``). Its
permissions on the registry (Azure RBAC) must allow ``pull/read`` and nothing
of ``ACR_PUSH_OPERATIONS``; the registry exchanges the ARM token for a refresh
token and lists its repositories with it. Tokens are kept by the check, so
that no message or evidence line can hold one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from terrane.engine.accounts.secrets import Secret
from terrane.engine.clouds import http
from terrane.engine.clouds.azure.verify import arm_token, identity_of, sdk_installed
from terrane.engine.clouds.results import Verification
from terrane.engine.clouds.verification import PAGE, Check, Findings, unconfirmed
from terrane.engine.clouds.wildcards import wildcard_match
from terrane.stacks.spec.registries import AcrRegistry

__all__ = ["ACR_PULL_OPERATIONS", "ACR_PUSH_OPERATIONS", "azure_grant", "verify_registry"]

# Azure RBAC operations, as the permissions API lists them (non-ABAC registries use pull/read and push/write;
# registries with ABAC repository permissions use the repositories/content data actions).
ACR_PULL_OPERATIONS = (
    "Microsoft.ContainerRegistry/registries/pull/read",
    "Microsoft.ContainerRegistry/registries/repositories/content/read",
)
ACR_PUSH_OPERATIONS = (
    "Microsoft.ContainerRegistry/registries/push/write",
    "Microsoft.ContainerRegistry/registries/artifacts/delete",
    "Microsoft.ContainerRegistry/registries/repositories/content/write",
    "Microsoft.ContainerRegistry/registries/repositories/content/delete",
    "Microsoft.ContainerRegistry/registries/repositories/metadata/write",
    "Microsoft.ContainerRegistry/registries/repositories/metadata/delete",
    "Microsoft.ContainerRegistry/registries/importImage/action",
    "Microsoft.ContainerRegistry/registries/quarantine/write",
    "Microsoft.ContainerRegistry/registries/sign/write",
    "Microsoft.ContainerRegistry/registries/write",
    "Microsoft.ContainerRegistry/registries/delete",
    "Microsoft.Authorization/roleAssignments/write",
)
AZURE_PERMISSIONS_API_VERSION = "2022-04-01"

# Where the REST calls go (tests point them at a local server).
AZURE_MANAGEMENT_URL = "https://management.azure.com"
ACR_URL = "https://{login_server}"


def verify_registry(check: Check, registry: AcrRegistry) -> Verification:
    secret, identity = identity_of(check, registry)
    if not sdk_installed():
        return unconfirmed(check, registry, identity, "Azure", extra="azure")
    token = arm_token(check, registry, secret)
    found = Findings([])
    found.add("sign-in", True, f"Azure issued a token to {identity} in tenant {registry.tenant_id}")
    granted = _acr_permissions(check, registry, token, found)
    can_push: bool | None = None
    allowed = False
    if granted is not None:
        allowed = _acr_allowed(granted, found)
        can_push = _acr_push(granted, found)
    can_pull = _acr_pull_token(check, registry, token, found) and allowed
    return found.result(check, registry, identity, can_pull, can_push)


def _acr_permissions(check: Check, registry: AcrRegistry, token: Secret,
                     found: Findings) -> list[dict[str, Any]] | None:
    url = (f"{AZURE_MANAGEMENT_URL}{registry.resource_id}/providers/Microsoft.Authorization/permissions"
           f"?api-version={AZURE_PERMISSIONS_API_VERSION}")
    try:
        answer = http.request(check, "GET", url, token=token)
    except http.Refused as refused:
        found.add("Microsoft.Authorization/permissions", False,
                  f"cannot read its permissions on {registry.name}: {refused}")
        return None
    value = answer.get("value")
    entries = [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []
    found.add("Microsoft.Authorization/permissions", True,
              f"read its permissions on {registry.name} ({len(entries)} role definition(s))")
    return entries


def _acr_allowed(granted: list[dict[str, Any]], found: Findings) -> bool:
    for operation in ACR_PULL_OPERATIONS:
        grant = azure_grant(granted, operation)
        if grant is not None:
            return found.add("pull permission", True, f"{operation} is granted ({grant})")
    return found.add("pull permission", False, f"no permission grants {' or '.join(ACR_PULL_OPERATIONS)}")


def _acr_push(granted: list[dict[str, Any]], found: Findings) -> bool:
    grants = [(operation, grant) for operation in ACR_PUSH_OPERATIONS
              if (grant := azure_grant(granted, operation)) is not None]
    if grants:
        operation, grant = grants[0]
        more = f" (and {len(grants) - 1} more)" if len(grants) > 1 else ""
        found.add("push", False, f"CAN push: {grant} grants {operation}{more}")
        return True
    found.add("push", True, f"cannot push: no permission grants {', '.join(ACR_PUSH_OPERATIONS)}")
    return False


def _acr_pull_token(check: Check, registry: AcrRegistry, token: Secret, found: Findings) -> bool:
    """Exchange the ARM token for the registry's refresh token, and list repositories with an access token."""
    login_server = registry.targets[0]
    base = ACR_URL.format(login_server=login_server)
    step = "oauth2/exchange"
    try:
        exchanged = http.request(check, "POST", f"{base}/oauth2/exchange", form={
            "grant_type": "access_token", "service": login_server, "tenant": registry.tenant_id,
            "access_token": token.reveal()})
        refresh = check.keep(Secret(http.text(exchanged, "refresh_token")))
        step = "oauth2/token"
        issued = http.request(check, "POST", f"{base}/oauth2/token", form={
            "grant_type": "refresh_token", "service": login_server, "scope": "registry:catalog:*",
            "refresh_token": refresh.reveal()})
        access = check.keep(Secret(http.text(issued, "access_token")))
        found.add("oauth2/exchange", True, f"{login_server} issued a refresh token")
        step = "acr/v1/_catalog"
        catalog = http.request(check, "GET", f"{base}/acr/v1/_catalog?n={PAGE}", token=access)
    except http.Refused as refused:
        return found.add(step, False, f"{login_server} refused {step}: {refused}")
    repositories = catalog.get("repositories") or []
    shown = ", ".join(str(name) for name in repositories[:3]) + (", ..." if len(repositories) > 3 else "")
    return found.add("acr/v1/_catalog", True, f"lists its repositories ({shown or 'none yet'})")


# --- what Azure RBAC grants ------------------------------------------------------------

# The pairs of lists of an Azure permission: what is allowed, and what is taken out of it.
_AZURE_LISTS = (("actions", "notActions"), ("dataActions", "notDataActions"))


def azure_grant(permissions: Iterable[Mapping[str, Any]], operation: str) -> str | None:
    """What grants ``operation`` among the caller's permissions at a scope (e.g. "actions: '*'"); None: nothing.

    An operation is granted when a pattern of ``actions`` (or ``dataActions``)
    matches it and none of ``notActions`` (``notDataActions``) does; matching
    ignores case, and ``*`` is any text.
    """
    for permission in permissions:
        for allowed, excluded in _AZURE_LISTS:
            hit = next((pattern for pattern in _strings(permission.get(allowed))
                        if wildcard_match(pattern, operation, ignore_case=True)), None)
            if hit is not None and not any(wildcard_match(pattern, operation, ignore_case=True)
                                           for pattern in _strings(permission.get(excluded))):
                return f"{allowed}: '{hit}'"
    return None


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
