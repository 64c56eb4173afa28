"""Account verification ("terrane accounts verify"): prove that an account in accounts.yaml works.

A registry of accounts.yaml is verified here too (``registry_verify`` holds its
checks): its identity signs in the way an account's does, then must get a pull
token and list images, and must be shown unable to push.

AWS is always checked with the cloud: STS reports who the credentials belong to
(after assuming the role, when that is the method) and which account that is.
Azure and GCP are checked with the cloud when their optional SDK is installed
(``terrane[azure]``, ``terrane[gcp]``); without it, the references are resolved
and the identifiers checked, and the result says that nothing was confirmed.

A Kubernetes cluster is asked who the kubeconfig's user is (a SelfSubjectReview)
and whether it may create what terrane's bootstrap creates (a
SelfSubjectAccessReview per resource, the evidence): verified only when it may.

Secret references are resolved here, only while verifying. The values never
reach a result, a message or an exception: messages name the reference
(``env:NAME``), and any text that comes back from a cloud is redacted as well.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from terrane.engine.accounts.aws_bootstrap import EXTERNAL_ID
from terrane.engine.accounts.secrets import MASK, Secret, resolve
from terrane.engine.errors import EngineError, InvalidInputError, TerraneError
from terrane.stacks.spec.accounts import Account, AwsAccount, AzureAccount, GcpAccount, KubernetesAccount
from terrane.stacks.spec.references import Reference
from terrane.stacks.spec.registries import REGISTRY_KINDS, AcrRegistry, ArtifactRegistry, EcrRegistry, Registry

if TYPE_CHECKING:
    import boto3

    from terrane.engine.accounts.kubeconfig import Client

__all__ = ["Evidence", "NotVerified", "Verification", "verify"]

AZURE_MANAGEMENT_SCOPE = "https://management.azure.com/.default"
GCP_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
AZURE_SDK = "azure.identity"
GCP_SDK = "google.auth"
SERVICE_ACCOUNT_KEY_FIELDS = ("type", "project_id", "private_key", "client_email")
# What terrane's Bootstrap (components/kubernetes) creates, as (API group, resource): a cluster's kubeconfig user
# must be allowed to create each, in every namespace. "" is the core group.
KUBERNETES_BOOTSTRAP_RESOURCES = (("", "namespaces"), ("networking.k8s.io", "networkpolicies"), ("", "serviceaccounts"))
# SelfSubjectReview is GA (v1) since Kubernetes 1.28, beta (enabled) in 1.27.
SELF_SUBJECT_REVIEW_VERSIONS = ("v1", "v1beta1")


@dataclass(frozen=True)
class Evidence:
    """One check of a registry's verification: what was asked of the cloud, and what it answered."""

    check: str
    """The call or the reading, e.g. "ecr:ListImages web" or "push"."""
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "passed": self.passed, "detail": self.detail}


@dataclass(frozen=True)
class Verification:
    """What verifying one account, or one registry, found."""

    account: str
    """The account's (or registry's) name in accounts.yaml."""
    cloud: str
    verified: bool
    """True only when the cloud confirmed the identity (a registry's: and showed it can pull and cannot push)."""
    identity: str | None
    """The assumed-role or caller ARN, the service principal's client id, the service account's email."""
    account_id: str
    """AWS account id, Azure subscription id or GCP project id: as the cloud reported it, else as configured."""
    note: str | None = None
    """One line for humans, e.g. why the identity was not confirmed with the cloud."""
    kind: str | None = None
    """A registry's kind (ECR, ACR, Artifact Registry); None for an account, whose fields stop at ``note``."""
    can_pull: bool | None = None
    """A registry's identity got a pull token and listed images; None: not asked (no SDK, or refused sign-in)."""
    can_push: bool | None = None
    """A registry's identity has a permission to push; None: its permissions could not be read."""
    evidence: tuple[Evidence, ...] = field(default=())
    """A registry's checks, or a Kubernetes cluster's permission checks, in the order they ran."""

    @property
    def failed(self) -> bool:
        """Not verified because a check failed, rather than because nothing could be asked."""
        return not self.verified and any(not item.passed for item in self.evidence)

    @classmethod
    def refused(cls, name: str, account: Account | Registry, error: EngineError) -> Verification:
        """The result of a verification that the cloud refused (``verify`` raised ``error``)."""
        return cls(account=name, cloud=account.cloud, verified=False, identity=None, account_id=account.scope_id,
                   note=error.one_line(), kind=_kind(account))

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "account": self.account,
            "cloud": self.cloud,
            "verified": self.verified,
            "identity": self.identity,
            "account_id": self.account_id,
            "note": self.note,
        }
        if self.kind is not None:
            document |= {"kind": self.kind, "can_pull": self.can_pull, "can_push": self.can_push}
        if self.kind is not None or self.evidence:
            document["evidence"] = [item.to_dict() for item in self.evidence]
        return document


class NotVerified(EngineError):
    """A registry's checks ran and one failed: the verification says which."""

    def __init__(self, message: str, verification: Verification) -> None:
        super().__init__(message)
        self.verification = verification


def _kind(linked: Account | Registry) -> str | None:
    return REGISTRY_KINDS[linked.cloud] if isinstance(linked, (EcrRegistry, AcrRegistry, ArtifactRegistry)) else None


def verify(name: str, account: Account | Registry) -> Verification:
    """Check ``account`` (called ``name`` in accounts.yaml) and report who it acts as.

    Raises ``InvalidInputError`` when a reference cannot be resolved or holds
    something unusable, and ``EngineError`` when the cloud refuses the identity
    or reports another account than the one configured. A registry's result
    says what its identity was shown to do (``can_pull``, ``can_push``, ``evidence``):
    a failed check makes it unverified, and raises nothing.
    """
    if isinstance(account, (EcrRegistry, AcrRegistry, ArtifactRegistry)):
        from terrane.engine.accounts.registry_verify import verify_registry

        return verify_registry(name, account)
    check = _Check(name, account.region if isinstance(account, AwsAccount) else None)
    if isinstance(account, AwsAccount):
        return _verify_aws(check, account)
    if isinstance(account, AzureAccount):
        return _verify_azure(check, account)
    if isinstance(account, GcpAccount):
        return _verify_gcp(check, account)
    if isinstance(account, KubernetesAccount):
        return _verify_kubernetes(check, account)
    raise InvalidInputError(f"account {name}: unknown kind of account {type(account).__name__}")


def _installed(module: str) -> bool:
    """Whether an optional SDK can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        # find_spec imports the parent package, which may be missing too.
        return False


class _Check:
    """One verification in progress: the account's name and the secrets resolved (or tokens issued) for it."""

    def __init__(self, name: str, region: str | None, what: str = "account") -> None:
        self.name = name
        self.region = region
        self.what = what
        self._secrets: list[Secret] = []

    def resolve(self, reference: Reference) -> Secret:
        # Errors propagate as engine.accounts.secrets words them: they name the reference, which is enough to act on.
        return self.keep(resolve(reference, region=self.region))

    def keep(self, secret: Secret) -> Secret:
        """Mask ``secret`` (a resolved reference, or a token a cloud issued) in every message of this check."""
        self._secrets.append(secret)
        return secret

    def masked(self, message: str) -> str:
        for secret in self._secrets:
            value = secret.reveal()
            # Very short values would mask ordinary words; they are not echoed by the clouds either.
            if len(value) >= 4:
                message = message.replace(value, MASK)
        return message

    def error(self, kind: type[TerraneError], message: str) -> TerraneError:
        """An error naming the account, with every resolved secret masked out of ``message``."""
        return kind(f"{self.what} {self.name}: {self.masked(message)}")


def _first_line(text: object) -> str:
    lines = str(text).strip().splitlines()
    return lines[0] if lines else ""


# --- AWS ------------------------------------------------------------------------------


def _verify_aws(check: _Check, account: AwsAccount) -> Verification:
    _, caller, note = _aws_sign_in(check, account)
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


def _aws_sign_in(check: _Check, account: AwsAccount | EcrRegistry) -> tuple[boto3.Session, dict[str, str], str | None]:
    """A session as the identity of ``account``, STS's caller identity of it, and "assumed from BASE" for a role."""
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
    return session, caller, note


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
    check: _Check, session: boto3.Session, account: AwsAccount | EcrRegistry, external_id: str | None, base_arn: str
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
    return _client(session, "sts")


def _client(session: boto3.Session, service: str) -> Any:
    from botocore.config import Config

    # Fail within seconds, not minutes, when the service (or AWS_ENDPOINT_URL) cannot be reached.
    config = Config(connect_timeout=10, read_timeout=30, retries={"mode": "standard", "max_attempts": 3})
    return session.client(service, config=config)


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "unknown error")


def _unconfirmed(
    check: _Check, account: AzureAccount | GcpAccount | Registry, identity: str | None, cloud_name: str, *, extra: str
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
        kind=_kind(account),
    )


# --- Azure ----------------------------------------------------------------------------


def _verify_azure(check: _Check, account: AzureAccount) -> Verification:
    secret, identity = _azure_identity(check, account)
    if not _azure_installed():
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


def _azure_installed() -> bool:
    return _installed(AZURE_SDK)


def _azure_identity(check: _Check, account: AzureAccount | AcrRegistry) -> tuple[Secret | None, str]:
    """The secret the identity signs in with (resolved: references first), and who it is in words."""
    auth = account.auth
    if auth.service_principal is not None:
        return check.resolve(auth.service_principal.client_secret), auth.service_principal.client_id
    if auth.oidc is not None:
        return check.resolve(auth.oidc.token), auth.oidc.client_id
    return None, "azure cli"


def _azure_token(check: _Check, account: AzureAccount | AcrRegistry, secret: Secret | None) -> Secret:
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
        token = credential.get_token(AZURE_MANAGEMENT_SCOPE).token
    except CredentialUnavailableError as exc:
        hint = "run `az login`" if auth.cli is not None else "check the references"
        raise check.error(EngineError, f"{who} is not available: {_first_line(exc.message)}; {hint}") from exc
    except ClientAuthenticationError as exc:
        raise check.error(
            EngineError, f"Azure refused {who} in tenant {account.tenant_id}: {_first_line(exc.message)}"
        ) from exc
    except AzureError as exc:
        raise check.error(EngineError, f"cannot get a token for {who} from Azure: {_first_line(exc.message)}") from exc
    return check.keep(Secret(token))


# --- GCP ------------------------------------------------------------------------------


def _verify_gcp(check: _Check, account: GcpAccount) -> Verification:
    key, identity = _gcp_identity(check, account)
    if not _gcp_installed():
        return _unconfirmed(check, account, identity, "Google Cloud", extra="gcp")
    identity = _gcp_email(_gcp_credentials(check, account, key)) or identity
    return Verification(
        account=check.name,
        cloud="gcp",
        verified=True,
        identity=identity,
        account_id=account.project,
        note=f"Google issued a token; access to project {account.project} was not checked",
    )


def _gcp_identity(check: _Check, account: GcpAccount | ArtifactRegistry) -> tuple[dict[str, Any] | None, str | None]:
    """The service-account key (resolved and checked: references first), and the service account's email if known."""
    auth = account.auth
    if auth.service_account_key is not None:
        key = _service_account_key(check, auth.service_account_key, check.resolve(auth.service_account_key))
        return key, key["client_email"]
    if auth.impersonate is not None:
        return None, auth.impersonate.service_account
    return None, None


def _gcp_installed() -> bool:
    return _installed(GCP_SDK) and _installed("requests")


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


def _gcp_credentials(check: _Check, account: GcpAccount | ArtifactRegistry, key: dict[str, Any] | None) -> Any:
    """Credentials of the account's identity, refreshed: they hold a token (kept by ``check``, so messages mask it)."""
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
    token = getattr(credentials, "token", None)
    if isinstance(token, str) and token:
        check.keep(Secret(token))
    return credentials


def _gcp_email(credentials: Any) -> str | None:
    email = getattr(credentials, "service_account_email", None)
    return email if isinstance(email, str) and "@" in email else None


# --- Kubernetes -----------------------------------------------------------------------------


def _verify_kubernetes(check: _Check, account: KubernetesAccount) -> Verification:
    from terrane.engine.accounts import kubeconfig

    flat = kubeconfig.kubeconfig_of(account, check.name)
    client = kubeconfig.Client.from_kubeconfig(flat.reveal(), origin=kubeconfig.origin(account, check.name))
    identity, groups = _kubernetes_identity(client)
    evidence = tuple(_kubernetes_may_create(client, group, resource)
                     for group, resource in KUBERNETES_BOOTSTRAP_RESOURCES)
    missing = [item.check.removeprefix("create ") for item in evidence if not item.passed]
    who = identity or "the kubeconfig's user"
    if missing:
        note = (f"{who} cannot create {', '.join(missing)} on {client.server}: terrane's bootstrap creates them; "
                "bind it to a ClusterRole that allows it (cluster-admin does)")
    else:
        note = f"groups: {', '.join(groups) or 'none'}; may create what terrane's bootstrap creates on {client.server}"
    return Verification(account=check.name, cloud=account.cloud, verified=not missing, identity=identity,
                        account_id=account.scope_id, note=note, evidence=evidence)


def _kubernetes_identity(client: Client) -> tuple[str | None, list[str]]:
    """Who the API server says the kubeconfig's user is, and its groups; no name from a cluster older than 1.27."""
    from terrane.engine.accounts.kubeconfig import ApiError

    for version in SELF_SUBJECT_REVIEW_VERSIONS:
        try:
            review = client.post(f"/apis/authentication.k8s.io/{version}/selfsubjectreviews", {
                "apiVersion": f"authentication.k8s.io/{version}", "kind": "SelfSubjectReview"})
        except ApiError as exc:
            if exc.status == 404:
                continue
            raise
        user = (review.get("status") or {}).get("userInfo") or {}
        groups = user.get("groups")
        return user.get("username"), [str(group) for group in groups] if isinstance(groups, list) else []
    return None, []


def _kubernetes_may_create(client: Client, group: str, resource: str) -> Evidence:
    """Whether the kubeconfig's user may create ``resource`` in every namespace (a SelfSubjectAccessReview)."""
    attributes = {"verb": "create", "group": group, "resource": resource}
    review = client.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes}})
    status = review.get("status") or {}
    allowed = status.get("allowed") is True
    reason = _first_line(status.get("reason") or status.get("evaluationError") or "")
    detail = ("allowed" if allowed else "not allowed") + (f": {reason}" if reason else "")
    return Evidence(check=f"create {resource}" + (f".{group}" if group else ""), passed=allowed, detail=detail)
