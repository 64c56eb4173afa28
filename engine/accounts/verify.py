"""Account verification ("terrane accounts verify"): prove that an account in accounts.yaml works.

AWS is always checked with the cloud: STS reports who the credentials belong to
(after assuming the role, when that is the method) and which account that is.
Azure and GCP are checked with the cloud when their optional SDK is installed
(``terrane[azure]``, ``terrane[gcp]``); without it, the references are resolved
and the identifiers checked, and the result says that nothing was confirmed.

Secret references are resolved here, only while verifying. The values never
reach a result, a message or an exception: messages name the reference
(``env:NAME``), and any text that comes back from a cloud is redacted as well.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from terrane.engine.accounts.aws_bootstrap import EXTERNAL_ID
from terrane.engine.accounts.secrets import MASK, Secret, resolve
from terrane.engine.errors import EngineError, InvalidInputError, TerraneError
from terrane.stacks.spec.accounts import Account, AwsAccount, AzureAccount, GcpAccount
from terrane.stacks.spec.references import Reference

if TYPE_CHECKING:
    import boto3

__all__ = ["Verification", "verify"]

AZURE_MANAGEMENT_SCOPE = "https://management.azure.com/.default"
GCP_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
AZURE_SDK = "azure.identity"
GCP_SDK = "google.auth"
SERVICE_ACCOUNT_KEY_FIELDS = ("type", "project_id", "private_key", "client_email")


@dataclass(frozen=True)
class Verification:
    """What verifying one account found."""

    account: str
    """The account's name in accounts.yaml."""
    cloud: str
    verified: bool
    """True only when the cloud confirmed the identity."""
    identity: str | None
    """The assumed-role or caller ARN, the service principal's client id, the service account's email."""
    account_id: str
    """AWS account id, Azure subscription id or GCP project id: as the cloud reported it, else as configured."""
    note: str | None = None
    """One line for humans, e.g. why the identity was not confirmed with the cloud."""

    @classmethod
    def refused(cls, name: str, account: Account, error: EngineError) -> Verification:
        """The result of a verification that the cloud refused (``verify`` raised ``error``)."""
        return cls(account=name, cloud=account.cloud, verified=False, identity=None, account_id=account.scope_id,
                   note=error.one_line())

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "cloud": self.cloud,
            "verified": self.verified,
            "identity": self.identity,
            "account_id": self.account_id,
            "note": self.note,
        }


def verify(name: str, account: Account) -> Verification:
    """Check ``account`` (called ``name`` in accounts.yaml) and report who it acts as.

    Raises ``InvalidInputError`` when a reference cannot be resolved or holds
    something unusable, and ``EngineError`` when the cloud refuses the identity
    or reports another account than the one configured.
    """
    check = _Check(name, account.region if isinstance(account, AwsAccount) else None)
    if isinstance(account, AwsAccount):
        return _verify_aws(check, account)
    if isinstance(account, AzureAccount):
        return _verify_azure(check, account)
    if isinstance(account, GcpAccount):
        return _verify_gcp(check, account)
    raise InvalidInputError(f"account {name}: unknown kind of account {type(account).__name__}")


def _installed(module: str) -> bool:
    """Whether an optional SDK can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        # find_spec imports the parent package, which may be missing too.
        return False


class _Check:
    """One verification in progress: the account's name and the secrets resolved for it."""

    def __init__(self, name: str, region: str | None) -> None:
        self.name = name
        self.region = region
        self._secrets: list[Secret] = []

    def resolve(self, reference: Reference) -> Secret:
        # Errors propagate as engine.accounts.secrets words them: they name the reference, which is enough to act on.
        secret = resolve(reference, region=self.region)
        self._secrets.append(secret)
        return secret

    def error(self, kind: type[TerraneError], message: str) -> TerraneError:
        """An error naming the account, with every resolved secret masked out of ``message``."""
        for secret in self._secrets:
            value = secret.reveal()
            # Very short values would mask ordinary words; they are not echoed by the clouds either.
            if len(value) >= 4:
                message = message.replace(value, MASK)
        return kind(f"account {self.name}: {message}")


def _first_line(text: object) -> str:
    lines = str(text).strip().splitlines()
    return lines[0] if lines else ""


# --- AWS ------------------------------------------------------------------------------


def _verify_aws(check: _Check, account: AwsAccount) -> Verification:
    import boto3
    from botocore.exceptions import BotoCoreError, ProfileNotFound

    auth = account.auth
    # Resolve every reference before calling AWS: a missing one is invalid input, and nothing has run.
    external_id: str | None = None
    if auth.assume_role is not None:
        external_id = _external_id(check, auth.assume_role.external_id)
        session = boto3.Session(region_name=account.region)
        base = "the base identity (your own AWS credentials, which assume the role)"
        hint = (
            "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, run `aws sso login`, or use an instance role"
        )
    elif auth.profile is not None:
        try:
            session = boto3.Session(profile_name=auth.profile, region_name=account.region)
        except ProfileNotFound:
            raise check.error(
                InvalidInputError,
                f"auth.profile: no AWS profile '{auth.profile}' in the AWS config files; "
                f"create it with `aws configure --profile {auth.profile}`",
            ) from None
        base = f"AWS profile '{auth.profile}'"
        hint = f"run `aws configure --profile {auth.profile}` or `aws sso login --profile {auth.profile}`"
    else:
        assert auth.static is not None
        key_id = check.resolve(auth.static.access_key_id)
        secret_key = check.resolve(auth.static.secret_access_key)
        session = boto3.Session(
            aws_access_key_id=key_id.reveal(),
            aws_secret_access_key=secret_key.reveal(),
            region_name=account.region,
        )
        base = f"the static keys ({auth.static.access_key_id}, {auth.static.secret_access_key})"
        hint = "check the keys behind those references; they may be deactivated or deleted"

    try:
        caller = _caller_identity(check, session, base, hint)
        note = None
        if auth.assume_role is not None:
            session = _assume_role(check, session, account, external_id, caller["Arn"])
            note = f"assumed from {caller['Arn']}"
            caller = _caller_identity(check, session, f"the role {auth.assume_role.role_arn}", "try again")
    except BotoCoreError as exc:
        raise check.error(EngineError, f"cannot reach AWS STS in {account.region}: {exc}") from exc

    if caller["Account"] != account.account_id:
        raise check.error(
            EngineError,
            f"AWS reports account {caller['Account']} for {caller['Arn']}, "
            f"but accounts.yaml says {account.account_id}",
        )
    return Verification(
        account=check.name,
        cloud="aws",
        verified=True,
        identity=caller["Arn"],
        account_id=caller["Account"],
        note=note,
    )


def _external_id(check: _Check, value: str | Reference | None) -> str | None:
    field = "auth.assume_role.external_id"
    if value is None:
        return None
    if isinstance(value, str):
        plain = value
        source = "the external id"
    else:
        plain = check.resolve(value).reveal()
        source = f"the external id behind {value}"
    # Checked before the call: AWS's validation errors quote the rejected value.
    if not EXTERNAL_ID.fullmatch(plain):
        raise check.error(
            InvalidInputError,
            f"{field}: {source} is not a valid AWS external id "
            "(2 to 1224 letters, digits or any of _+=,.@:/-)",
        )
    return plain


def _caller_identity(check: _Check, session: boto3.Session, who: str, hint: str) -> dict[str, str]:
    from botocore.exceptions import (
        ClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    try:
        return _sts(session).get_caller_identity()
    except (NoCredentialsError, PartialCredentialsError):
        raise check.error(EngineError, f"no credentials for {who}: {hint}") from None
    except ClientError as exc:
        # Only the code: AWS's message adds nothing a user can act on here.
        raise check.error(EngineError, f"AWS rejected {who} ({_code(exc)}): {hint}") from exc


def _assume_role(
    check: _Check, session: boto3.Session, account: AwsAccount, external_id: str | None, base_arn: str
) -> boto3.Session:
    import boto3
    from botocore.exceptions import ClientError

    role = account.auth.assume_role
    assert role is not None
    request: dict[str, Any] = {"RoleArn": role.role_arn, "RoleSessionName": role.session_name}
    if external_id is not None:
        request["ExternalId"] = external_id
    code: str | None = None
    try:
        credentials = _sts(session).assume_role(**request)["Credentials"]
    except ClientError as exc:
        code = _code(exc)
    # Raised outside the except block, so the ClientError is not even the context: AWS's
    # messages can quote request parameters, the external id among them. Its code is kept.
    if code == "AccessDenied":
        with_id = "with this external id" if external_id is not None else "without an external id"
        raise check.error(
            EngineError,
            f"{base_arn} may not assume {role.role_arn}: the role's trust policy must allow it "
            f"{with_id}; run `terrane accounts bootstrap aws` to create or fix the role",
        )
    if code is not None:
        raise check.error(EngineError, f"cannot assume {role.role_arn} as {base_arn} ({code})")
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=account.region,
    )


def _sts(session: boto3.Session) -> Any:
    from botocore.config import Config

    # Fail within seconds, not minutes, when STS (or AWS_ENDPOINT_URL) cannot be reached.
    config = Config(connect_timeout=10, read_timeout=30, retries={"mode": "standard", "max_attempts": 3})
    return session.client("sts", config=config)


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "unknown error")


def _unconfirmed(
    check: _Check, account: AzureAccount | GcpAccount, identity: str | None, cloud_name: str, *, extra: str
) -> Verification:
    """What can be said without the cloud's SDK: references resolve and identifiers are well-formed."""
    return Verification(
        account=check.name,
        cloud=account.cloud,
        verified=False,
        identity=identity,
        account_id=account.scope_id,
        note="references resolve and identifiers are well-formed; the identity was not confirmed "
        f"with {cloud_name} (install terrane[{extra}] to confirm)",
    )


# --- Azure ----------------------------------------------------------------------------


def _verify_azure(check: _Check, account: AzureAccount) -> Verification:
    auth = account.auth
    secret: Secret | None = None
    if auth.service_principal is not None:
        secret = check.resolve(auth.service_principal.client_secret)
        identity = auth.service_principal.client_id
    elif auth.oidc is not None:
        secret = check.resolve(auth.oidc.token)
        identity = auth.oidc.client_id
    else:
        identity = "azure cli"

    if not _installed(AZURE_SDK):
        return _unconfirmed(check, account, identity, "Azure", extra="azure")
    _azure_token(check, account, secret)
    return Verification(
        account=check.name,
        cloud="azure",
        verified=True,
        identity=identity,
        account_id=account.subscription_id,
        note=f"Azure issued a token in tenant {account.tenant_id}; "
        f"access to subscription {account.subscription_id} was not checked",
    )


def _azure_token(check: _Check, account: AzureAccount, secret: Secret | None) -> None:
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
        credential.get_token(AZURE_MANAGEMENT_SCOPE)
    except CredentialUnavailableError as exc:
        hint = "run `az login`" if auth.cli is not None else "check the references"
        raise check.error(EngineError, f"{who} is not available: {_first_line(exc.message)}; {hint}") from exc
    except ClientAuthenticationError as exc:
        raise check.error(
            EngineError, f"Azure refused {who} in tenant {account.tenant_id}: {_first_line(exc.message)}"
        ) from exc
    except AzureError as exc:
        raise check.error(EngineError, f"cannot get a token for {who} from Azure: {_first_line(exc.message)}") from exc


# --- GCP ------------------------------------------------------------------------------


def _verify_gcp(check: _Check, account: GcpAccount) -> Verification:
    auth = account.auth
    key: dict[str, Any] | None = None
    if auth.service_account_key is not None:
        secret = check.resolve(auth.service_account_key)
        key = _service_account_key(check, auth.service_account_key, secret)
        identity: str | None = key["client_email"]
    elif auth.impersonate is not None:
        identity = auth.impersonate.service_account
    else:
        identity = None

    if not (_installed(GCP_SDK) and _installed("requests")):
        return _unconfirmed(check, account, identity, "Google Cloud", extra="gcp")
    identity = _gcp_refresh(check, account, key) or identity
    return Verification(
        account=check.name,
        cloud="gcp",
        verified=True,
        identity=identity,
        account_id=account.project,
        note=f"Google issued a token; access to project {account.project} was not checked",
    )


def _service_account_key(check: _Check, reference: Reference, secret: Secret) -> dict[str, Any]:
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


def _gcp_refresh(check: _Check, account: GcpAccount, key: dict[str, Any] | None) -> str | None:
    """Obtain a token for the account's identity; returns the service account's email when known."""
    from google.auth import default, exceptions, impersonated_credentials
    from google.auth.transport.requests import Request
    from google.oauth2 import service_account

    auth = account.auth
    try:
        if key is not None:
            loaded = True
            try:
                credentials: Any = service_account.Credentials.from_service_account_info(key, scopes=[GCP_SCOPE])
            except ValueError:
                loaded = False
            if not loaded:
                raise check.error(
                    InvalidInputError,
                    f"auth.service_account_key: {auth.service_account_key}: the private_key could not be loaded",
                )
            who = f"service account {key['client_email']}"
        elif auth.impersonate is not None:
            source, _ = default(scopes=[GCP_SCOPE])
            credentials = impersonated_credentials.Credentials(
                source_credentials=source,
                target_principal=auth.impersonate.service_account,
                target_scopes=[GCP_SCOPE],
                lifetime=300,
            )
            who = (
                f"impersonation of {auth.impersonate.service_account} (the caller needs "
                "roles/iam.serviceAccountTokenCreator on it)"
            )
        else:
            credentials, _ = default(scopes=[GCP_SCOPE])
            who = "the application default credentials"
        credentials.refresh(Request())
    except exceptions.DefaultCredentialsError as exc:
        raise check.error(
            EngineError, "no application default credentials: run `gcloud auth application-default login`"
        ) from exc
    except exceptions.RefreshError as exc:
        raise check.error(EngineError, f"Google refused {who}: {_first_line(exc)}") from exc
    except exceptions.TransportError as exc:
        raise check.error(EngineError, f"cannot reach Google for {who}: {_first_line(exc)}") from exc
    email = getattr(credentials, "service_account_email", None)
    return email if isinstance(email, str) and "@" in email else None
