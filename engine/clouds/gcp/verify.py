"""Verifying a GCP project: Google issues a token to its identity (when ``terrane[gcp]`` is installed).
``identity``, ``credentials`` and ``email`` are shared with the Artifact Registry's verification."""

from __future__ import annotations

import json
from typing import Any

from terrane.engine.accounts.secrets import Secret
from terrane.engine.clouds import verification
from terrane.engine.clouds.results import Verification
from terrane.engine.clouds.verification import Check, first_line, unconfirmed
from terrane.engine.errors import EngineError, InvalidInputError
from terrane.stacks.spec.accounts import GcpAccount
from terrane.stacks.spec.references import Reference
from terrane.stacks.spec.registries import ArtifactRegistry

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
SDK = "google.auth"
SERVICE_ACCOUNT_KEY_FIELDS = ("type", "project_id", "private_key", "client_email")


def verify_account(check: Check, account: GcpAccount) -> Verification:
    key, identity = identity_of(check, account)
    if not sdk_installed():
        return unconfirmed(check, account, identity, "Google Cloud", extra="gcp")
    identity = email_of(signed_in(check, account, key)) or identity
    return Verification(
        account=check.name,
        cloud="gcp",
        verified=True,
        identity=identity,
        account_id=account.project,
        note=f"Google issued a token; access to project {account.project} was not checked",
    )


def identity_of(check: Check, account: GcpAccount | ArtifactRegistry) -> tuple[dict[str, Any] | None, str | None]:
    """The service-account key (resolved and checked: references first), and the service account's email if known."""
    auth = account.auth
    if auth.service_account_key is not None:
        key = _service_account_key(check, auth.service_account_key, check.resolve(auth.service_account_key))
        return key, key["client_email"]
    if auth.impersonate is not None:
        return None, auth.impersonate.service_account
    return None, None


def sdk_installed() -> bool:
    return verification.installed(SDK) and verification.installed("requests")


def _service_account_key(check: Check, reference: Reference, secret: Secret) -> dict[str, Any]:
    """The parsed key, or InvalidInputError saying what is wrong with it (never what it holds)."""
    field = f"auth.service_account_key: {reference}"
    problem: str | None = None
    # The raise happens outside the except block so that the JSON error (which holds
    # the whole document) is not even kept as the new error's context.
    try:
        document: Any = json.loads(secret.reveal())
    except json.JSONDecodeError as exc:
        problem = f"is not JSON (line {exc.lineno}, column {exc.colno})"
        document = None
    if problem is None:
        problem = _key_problem(document)
    if problem is not None:
        raise check.error(InvalidInputError, f"{field} {problem}; expected a service-account key file")
    return document


_OTHER_CREDENTIAL_TYPES = ("authorized_user", "external_account", "impersonated_service_account")


def _key_problem(document: Any) -> str | None:
    if not isinstance(document, dict):
        return "is not a JSON object"
    present = {name for name, value in document.items() if isinstance(value, str) and value}
    missing = [name for name in SERVICE_ACCOUNT_KEY_FIELDS if name not in present]
    if "type" not in missing and document["type"] != "service_account":
        kind = document["type"]
        # Name only types Google defines: any other value is content, and is not repeated.
        if kind in _OTHER_CREDENTIAL_TYPES:
            return f"holds '{kind}' credentials, not a service-account key"
        return "has a type other than service_account"
    if missing:
        return f"lacks {', '.join(missing)}"
    if "@" not in document["client_email"]:
        return "has a client_email that is not an email address"
    return None


def signed_in(check: Check, account: GcpAccount | ArtifactRegistry, key: dict[str, Any] | None) -> Any:
    """Credentials of the account's identity, refreshed: they hold a token (kept by ``check``, so messages mask it)."""
    from google.auth import default, exceptions, impersonated_credentials
    from google.auth.transport.requests import Request
    from google.oauth2 import service_account

    auth = account.auth
    try:
        if key is not None:
            loaded = True
            try:
                credentials: Any = service_account.Credentials.from_service_account_info(key, scopes=[SCOPE])
            except ValueError:
                loaded = False
            if not loaded:
                raise check.error(
                    InvalidInputError,
                    f"auth.service_account_key: {auth.service_account_key}: the private_key could not be loaded",
                )
            who = f"service account {key['client_email']}"
        elif auth.impersonate is not None:
            source, _ = default(scopes=[SCOPE])
            credentials = impersonated_credentials.Credentials(
                source_credentials=source,
                target_principal=auth.impersonate.service_account,
                target_scopes=[SCOPE],
                lifetime=300,
            )
            who = (
                f"impersonation of {auth.impersonate.service_account} (the caller needs "
                "roles/iam.serviceAccountTokenCreator on it)"
            )
        else:
            credentials, _ = default(scopes=[SCOPE])
            who = "the application default credentials"
        credentials.refresh(Request())
    except exceptions.DefaultCredentialsError as exc:
        raise check.error(
            EngineError, "no application default credentials: run `gcloud auth application-default login`"
        ) from exc
    except exceptions.RefreshError as exc:
        raise check.error(EngineError, f"Google refused {who}: {first_line(exc)}") from exc
    except exceptions.TransportError as exc:
        raise check.error(EngineError, f"cannot reach Google for {who}: {first_line(exc)}") from exc
    token = getattr(credentials, "token", None)
    if isinstance(token, str) and token:
        check.keep(Secret(token))
    return credentials


def email_of(credentials: Any) -> str | None:
    email = getattr(credentials, "service_account_email", None)
    return email if isinstance(email, str) and "@" in email else None

