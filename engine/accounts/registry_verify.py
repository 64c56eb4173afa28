"""Registry verification: the identity of a registry in accounts.yaml can pull, and cannot push.

The identity signs in the way an account's does (``verify``'s helpers: the same
references, roles and tokens). Then, per cloud:

- ECR: ``ecr:GetAuthorizationToken`` issues a pull token, ``ecr:ListImages``
  lists each repository; the role's own policies (inline and attached) are read
  and evaluated offline (``permissions``): no statement may allow a push action.
- ACR: the identity's permissions on the registry (Azure RBAC) allow
  ``pull/read`` and nothing of ``PUSH_OPERATIONS``; the registry exchanges the
  ARM token for a refresh token and lists its repositories with it.
- Artifact Registry: ``testIamPermissions`` on the repository grants
  ``downloadArtifacts`` and none of ``GAR_PUSH_PERMISSIONS``; one page of its
  Docker images is listed.

A check that fails is evidence, not an exception: the result says what was
proven (``can_pull``, ``can_push``) and is verified only when the identity was
shown to pull and shown unable to push. Sign-in failures raise, as for accounts.
Tokens are kept by the check, so that no message or evidence line can hold one.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from terrane.engine.accounts import permissions
from terrane.engine.accounts.secrets import Secret
from terrane.engine.accounts.verify import (
    Evidence,
    Verification,
    _aws_sign_in,
    _azure_identity,
    _azure_installed,
    _azure_token,
    _Check,
    _client,
    _code,
    _first_line,
    _gcp_credentials,
    _gcp_email,
    _gcp_identity,
    _gcp_installed,
    _unconfirmed,
)
from terrane.engine.errors import EngineError
from terrane.stacks.spec.registries import REGISTRY_KINDS, AcrRegistry, ArtifactRegistry, EcrRegistry, Registry

if TYPE_CHECKING:
    import boto3

__all__ = ["ACR_PULL_OPERATIONS", "ACR_PUSH_OPERATIONS", "ECR_PUSH_ACTIONS", "GAR_PUSH_PERMISSIONS",
           "IAM_POLICY_SELF_GRANT_ACTIONS", "IAM_ROLE_SELF_GRANT_ACTIONS", "verify_registry"]

# Everything that writes to a repository, deletes from it, or changes who may: none may be allowed.
ECR_PUSH_ACTIONS = (
    "ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
    "ecr:BatchDeleteImage", "ecr:PutImageTagMutability", "ecr:ReplicateImage",
    "ecr:CreateRepository", "ecr:DeleteRepository", "ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy",
    "ecr:PutLifecyclePolicy", "ecr:DeleteLifecyclePolicy", "ecr:StartLifecyclePolicyPreview",
    "ecr:PutRegistryPolicy", "ecr:DeleteRegistryPolicy", "ecr:PutReplicationConfiguration",
    "ecr:CreatePullThroughCacheRule", "ecr:UpdatePullThroughCacheRule", "ecr:CreateRepositoryCreationTemplate",
)
# A role that may rewrite its own policies may grant itself any of the above: on its own role, and on the
# managed policies attached to it.
IAM_ROLE_SELF_GRANT_ACTIONS = ("iam:PutRolePolicy", "iam:AttachRolePolicy")
IAM_POLICY_SELF_GRANT_ACTIONS = ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion")

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

GAR_PULL_PERMISSION = "artifactregistry.repositories.downloadArtifacts"
GAR_PUSH_PERMISSIONS = (
    "artifactregistry.repositories.uploadArtifacts",
    "artifactregistry.repositories.deleteArtifacts",
    "artifactregistry.tags.create",
    "artifactregistry.tags.update",
    "artifactregistry.tags.delete",
    "artifactregistry.versions.delete",
    "artifactregistry.repositories.update",
    "artifactregistry.repositories.delete",
    "artifactregistry.repositories.setIamPolicy",
)

# Where the REST calls go (tests point them at a local server).
AZURE_MANAGEMENT_URL = "https://management.azure.com"
ACR_URL = "https://{login_server}"
ARTIFACT_REGISTRY_URL = "https://artifactregistry.googleapis.com/v1"

_HTTP_TIMEOUT_SECONDS = 30
# How many images or repositories one listing asks for: enough to show some, never a long walk.
_PAGE = 10
# How much of a service's error message is kept: its first line, cut to this.
_MESSAGE_LENGTH = 200


def verify_registry(name: str, registry: Registry) -> Verification:
    """Sign in as ``registry``'s identity and show what it can do (``verify``'s contract, for a registry)."""
    check = _Check(name, registry.region if isinstance(registry, EcrRegistry) else None, what="registry")
    if isinstance(registry, EcrRegistry):
        return _verify_ecr(check, registry)
    if isinstance(registry, AcrRegistry):
        return _verify_acr(check, registry)
    return _verify_artifact_registry(check, registry)


@dataclass
class _Findings:
    """The evidence of one registry's verification, as it is gathered."""

    evidence: list[Evidence]

    def add(self, check: str, passed: bool, detail: str) -> bool:
        self.evidence.append(Evidence(check, passed, detail))
        return passed

    def result(self, check: _Check, registry: Registry, identity: str | None, can_pull: bool,
               can_push: bool | None) -> Verification:
        verified = can_pull and can_push is False
        failures = [item.detail for item in self.evidence if not item.passed]
        return Verification(
            account=check.name, cloud=registry.cloud, verified=verified, identity=identity,
            account_id=registry.scope_id, note="; ".join(failures) if failures else "can pull, cannot push",
            kind=REGISTRY_KINDS[registry.cloud], can_pull=can_pull, can_push=can_push, evidence=tuple(self.evidence),
        )


# --- ECR ------------------------------------------------------------------------------


def _verify_ecr(check: _Check, registry: EcrRegistry) -> Verification:
    from botocore.exceptions import BotoCoreError

    session, caller, assumed = _aws_sign_in(check, registry)
    found = _Findings([])
    found.add("sts:GetCallerIdentity", True, f"signed in as {caller['Arn']}" + (f" ({assumed})" if assumed else ""))
    try:
        can_pull = _ecr_pull(check, session, registry, found)
        can_push = _ecr_push(session, caller["Arn"], registry, found)
    except BotoCoreError as exc:
        raise check.error(EngineError, f"cannot reach AWS in {registry.region}: {exc}") from exc
    return found.result(check, registry, caller["Arn"], can_pull, can_push)


def _ecr_pull(check: _Check, session: boto3.Session, registry: EcrRegistry, found: _Findings) -> bool:
    from botocore.exceptions import ClientError

    ecr = _client(session, "ecr")
    code = None
    try:
        data = ecr.get_authorization_token()["authorizationData"]
    except ClientError as exc:
        code = _code(exc)
    if code is not None:
        return found.add("ecr:GetAuthorizationToken", False, f"no pull token: refused ({code})")
    for item in data:
        check.keep(Secret(item.get("authorizationToken") or ""))
    endpoint = data[0].get("proxyEndpoint", "the registry") if data else "the registry"
    can_pull = found.add("ecr:GetAuthorizationToken", True, f"a pull token for {endpoint}")
    for repository in registry.repositories:
        try:
            listed = ecr.list_images(registryId=registry.account_id, repositoryName=repository, maxResults=_PAGE)
        except ClientError as exc:
            detail = (f"no repository {repository} in {registry.account_id}/{registry.region}"
                      if _code(exc) == "RepositoryNotFoundException" else
                      f"cannot list images of {repository}: refused ({_code(exc)})")
            can_pull = found.add(f"ecr:ListImages {repository}", False, detail) and can_pull
            continue
        found.add(f"ecr:ListImages {repository}", True, _images(len(listed.get("imageIds", [])), "nextToken" in listed))
    return can_pull


def _images(count: int, more: bool) -> str:
    if count == 0:
        return "lists its images (none yet)"
    return f"lists its images ({count}{' or more' if more else ''})"


def _ecr_push(session: boto3.Session, arn: str, registry: EcrRegistry, found: _Findings) -> bool | None:
    """Whether the role's own policies let it push; None (with the reason as evidence) when they cannot be read."""
    role, partition = _role_of(arn)
    if role is None:
        found.add("iam:policies", False, f"cannot show it cannot push: {arn} is not a role; terrane reads a role's "
                                         "own policies (link the registry with --role-arn)")
        return None
    read = _role_statements(session, role, found)
    if read is None:
        return None
    found.add("iam:policies", True, f"read the policies of role {role}: {', '.join(read.policies) or 'none'}")
    repositories = registry.repository_arns(partition)
    grants = [grant for action in ECR_PUSH_ACTIONS
              for grant in permissions.aws_grants(read.statements, action, "ecr", repositories, partition)]
    for actions, arns in ((IAM_ROLE_SELF_GRANT_ACTIONS, [read.arn]), (IAM_POLICY_SELF_GRANT_ACTIONS, read.attached)):
        grants += [grant for action in actions
                   for grant in permissions.aws_grants(read.statements, action, "iam", arns, partition,
                                                       elsewhere=False)]
    if grants:
        more = f" (and {len(grants) - 1} more)" if len(grants) > 1 else ""
        found.add("push", False, f"CAN push: {grants[0]}{more}")
        return True
    denied = ECR_PUSH_ACTIONS + IAM_ROLE_SELF_GRANT_ACTIONS + (IAM_POLICY_SELF_GRANT_ACTIONS if read.attached else ())
    found.add("push", True, f"cannot push: no statement allows {', '.join(denied)}")
    return False


def _role_of(arn: str) -> tuple[str | None, str]:
    """The role name of an assumed-role ARN (or a role's ARN), and the partition."""
    fields = arn.split(":", 5)
    if len(fields) < 6:
        return None, "aws"
    kind, _, rest = fields[5].partition("/")
    if kind == "assumed-role":
        return rest.split("/")[0], fields[1]
    if kind == "role":
        return rest.rsplit("/", 1)[-1], fields[1]
    return None, fields[1]


@dataclass(frozen=True)
class _RolePolicies:
    arn: str
    """The role's ARN, with its path."""
    attached: list[str]
    """The ARNs of its managed policies."""
    policies: list[str]
    statements: list[permissions.Statement]


def _role_statements(session: boto3.Session, role: str, found: _Findings) -> _RolePolicies | None:
    """Every statement of the role's inline and attached policies; None when one cannot be read (said as evidence)."""
    from botocore.exceptions import ClientError

    iam = _client(session, "iam")
    attached: list[str] = []
    policies: list[str] = []
    read: list[permissions.Statement] = []
    step = "iam:GetRole"
    subject = f"role {role}"
    try:
        arn = iam.get_role(RoleName=role)["Role"]["Arn"]
        step = "iam:ListRolePolicies"
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=role):
            for policy in page["PolicyNames"]:
                step, subject = "iam:GetRolePolicy", f"inline policy {policy}"
                document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
                read += permissions.statements(document, subject)
                policies.append(subject)
        step, subject = "iam:ListAttachedRolePolicies", f"role {role}"
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role):
            for attached_policy in page["AttachedPolicies"]:
                policy_arn = attached_policy["PolicyArn"]
                attached.append(policy_arn)
                step, subject = "iam:GetPolicy", f"managed policy {policy_arn}"
                version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
                step = "iam:GetPolicyVersion"
                document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"]
                read += permissions.statements(document, subject)
                policies.append(subject)
    except ClientError as exc:
        found.add("iam:policies", False, f"cannot show it cannot push: {step} refused for {subject} ({_code(exc)})")
        return None
    return _RolePolicies(arn, attached, policies, read)


# --- ACR ------------------------------------------------------------------------------


def _verify_acr(check: _Check, registry: AcrRegistry) -> Verification:
    secret, identity = _azure_identity(check, registry)
    if not _azure_installed():
        return _unconfirmed(check, registry, identity, "Azure", extra="azure")
    token = _azure_token(check, registry, secret)
    found = _Findings([])
    found.add("sign-in", True, f"Azure issued a token to {identity} in tenant {registry.tenant_id}")
    granted = _acr_permissions(check, registry, token, found)
    can_push: bool | None = None
    allowed = False
    if granted is not None:
        allowed = _acr_allowed(granted, found)
        can_push = _acr_push(granted, found)
    can_pull = _acr_pull_token(check, registry, token, found) and allowed
    return found.result(check, registry, identity, can_pull, can_push)


def _acr_permissions(check: _Check, registry: AcrRegistry, token: Secret,
                     found: _Findings) -> list[dict[str, Any]] | None:
    url = (f"{AZURE_MANAGEMENT_URL}{registry.resource_id}/providers/Microsoft.Authorization/permissions"
           f"?api-version={AZURE_PERMISSIONS_API_VERSION}")
    try:
        answer = _http(check, "GET", url, token=token)
    except _Refused as refused:
        found.add("Microsoft.Authorization/permissions", False,
                  f"cannot read its permissions on {registry.name}: {refused}")
        return None
    value = answer.get("value")
    entries = [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []
    found.add("Microsoft.Authorization/permissions", True,
              f"read its permissions on {registry.name} ({len(entries)} role definition(s))")
    return entries


def _acr_allowed(granted: list[dict[str, Any]], found: _Findings) -> bool:
    for operation in ACR_PULL_OPERATIONS:
        grant = permissions.azure_grant(granted, operation)
        if grant is not None:
            return found.add("pull permission", True, f"{operation} is granted ({grant})")
    return found.add("pull permission", False, f"no permission grants {' or '.join(ACR_PULL_OPERATIONS)}")


def _acr_push(granted: list[dict[str, Any]], found: _Findings) -> bool:
    grants = [(operation, grant) for operation in ACR_PUSH_OPERATIONS
              if (grant := permissions.azure_grant(granted, operation)) is not None]
    if grants:
        operation, grant = grants[0]
        more = f" (and {len(grants) - 1} more)" if len(grants) > 1 else ""
        found.add("push", False, f"CAN push: {grant} grants {operation}{more}")
        return True
    found.add("push", True, f"cannot push: no permission grants {', '.join(ACR_PUSH_OPERATIONS)}")
    return False


def _acr_pull_token(check: _Check, registry: AcrRegistry, token: Secret, found: _Findings) -> bool:
    """Exchange the ARM token for the registry's refresh token, and list repositories with an access token."""
    login_server = registry.targets[0]
    base = ACR_URL.format(login_server=login_server)
    step = "oauth2/exchange"
    try:
        exchanged = _http(check, "POST", f"{base}/oauth2/exchange", form={
            "grant_type": "access_token", "service": login_server, "tenant": registry.tenant_id,
            "access_token": token.reveal()})
        refresh = check.keep(Secret(_text(exchanged, "refresh_token")))
        step = "oauth2/token"
        issued = _http(check, "POST", f"{base}/oauth2/token", form={
            "grant_type": "refresh_token", "service": login_server, "scope": "registry:catalog:*",
            "refresh_token": refresh.reveal()})
        access = check.keep(Secret(_text(issued, "access_token")))
        found.add("oauth2/exchange", True, f"{login_server} issued a refresh token")
        step = "acr/v1/_catalog"
        catalog = _http(check, "GET", f"{base}/acr/v1/_catalog?n={_PAGE}", token=access)
    except _Refused as refused:
        return found.add(step, False, f"{login_server} refused {step}: {refused}")
    repositories = catalog.get("repositories") or []
    shown = ", ".join(str(name) for name in repositories[:3]) + (", ..." if len(repositories) > 3 else "")
    return found.add("acr/v1/_catalog", True, f"lists its repositories ({shown or 'none yet'})")


# --- Artifact Registry ---------------------------------------------------------------


def _verify_artifact_registry(check: _Check, registry: ArtifactRegistry) -> Verification:
    key, identity = _gcp_identity(check, registry)
    if not _gcp_installed():
        return _unconfirmed(check, registry, identity, "Google Cloud", extra="gcp")
    credentials = _gcp_credentials(check, registry, key)
    identity = _gcp_email(credentials) or identity
    token = Secret(str(credentials.token))
    found = _Findings([])
    found.add("sign-in", True, f"Google issued a token{f' to {identity}' if identity else ''}")
    repository = (f"{ARTIFACT_REGISTRY_URL}/projects/{registry.project}/locations/{registry.location}"
                  f"/repositories/{registry.repository}")
    asked = [GAR_PULL_PERMISSION, *GAR_PUSH_PERMISSIONS]
    can_pull = False
    can_push: bool | None = None
    try:
        answer = _http(check, "POST", f"{repository}:testIamPermissions", token=token, body={"permissions": asked})
    except _Refused as refused:
        found.add("testIamPermissions", False, f"cannot test its permissions on {registry.repository}: {refused}")
    else:
        granted = {name for name in answer.get("permissions") or [] if isinstance(name, str)}
        can_pull = found.add("testIamPermissions", GAR_PULL_PERMISSION in granted,
                             f"{GAR_PULL_PERMISSION} is {'granted' if GAR_PULL_PERMISSION in granted else 'not granted'}")
        pushes = [name for name in GAR_PUSH_PERMISSIONS if name in granted]
        can_push = bool(pushes)
        found.add("push", not pushes, f"CAN push: {', '.join(pushes)} granted" if pushes
                  else f"cannot push: none of {', '.join(GAR_PUSH_PERMISSIONS)} is granted")
    try:
        images = _http(check, "GET", f"{repository}/dockerImages?pageSize=1", token=token)
    except _Refused as refused:
        can_pull = found.add("dockerImages", False, f"cannot list images of {registry.repository}: {refused}") and can_pull
    else:
        count = len(images.get("dockerImages") or [])
        found.add("dockerImages", True, _images(count, "nextPageToken" in images))
    return found.result(check, registry, identity, can_pull, can_push)


# --- HTTP -----------------------------------------------------------------------------


class _Refused(Exception):
    """The service answered with an HTTP error; its words are in the message, with tokens masked."""


def _http(check: _Check, method: str, url: str, *, token: Secret | None = None, form: dict[str, str] | None = None,
          body: Any = None) -> dict[str, Any]:
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token.reveal()}"
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    host = urllib.parse.urlsplit(url).netloc
    failure: str | None = None
    refused: str | None = None
    payload = b""
    # The errors are raised outside the except blocks: the request (with its token) stays out of their context.
    try:
        with urllib.request.urlopen(request, timeout=_HTTP_TIMEOUT_SECONDS) as response:
            payload = response.read()
    except urllib.error.HTTPError as exc:
        refused = f"HTTP {exc.code}{_error_words(exc.read())}"
    except (urllib.error.URLError, OSError) as exc:
        failure = str(getattr(exc, "reason", exc))
    if failure is not None:
        raise check.error(EngineError, f"cannot reach {host}: {failure}")
    if refused is not None:
        raise _Refused(check.masked(refused))
    try:
        answer = json.loads(payload or b"{}")
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise _Refused(f"{host} answered with something other than a JSON object")
    return answer


def _error_words(payload: bytes) -> str:
    """The code and first line of the message of an Azure, ACR or Google error body; nothing else of it."""
    try:
        document = json.loads(payload)
    except ValueError:
        return ""
    if not isinstance(document, dict):
        return ""
    # ACR: {"errors": [{"code", "message"}]}; ARM: {"error": {"code", "message"}}; Google: {"error": {"status", ...}}.
    errors = document.get("errors")
    error = errors[0] if isinstance(errors, list) and errors else document.get("error")
    if not isinstance(error, dict):
        return ""
    code = error.get("status") or error.get("code")
    message = _first_line(error.get("message") or "")[:_MESSAGE_LENGTH]
    return (f" {code}" if code else "") + (f": {message}" if message else "")


def _text(answer: dict[str, Any], key: str) -> str:
    value = answer.get(key)
    if not isinstance(value, str) or not value:
        raise _Refused(f"the answer has no {key}")
    return value
