"""What ``accounts link`` is given: an account or registry of one kind, and how it signs in.

Each request turns into the entry accounts.yaml keeps (``entry``), with the
options it came from named in every error (``--role-arn``). A secret is given
as a reference (``env:NAME``, ``file:PATH``, ``aws-secret:NAME_OR_ARN[#key]``),
never as its value; a reference that does not parse is refused without echoing
what was typed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from terrane.engine.errors import InvalidInputError

if TYPE_CHECKING:
    from terrane.stacks.spec.references import Reference
    from terrane.stacks.spec.regions import Where

Entry = tuple[dict[str, Any], dict[str, str]]
"""An entry of accounts.yaml, and the option that gave each of its fields."""


@dataclass(frozen=True)
class AwsAuth:
    """Assume a role (recommended; with an external id and a session name), use a profile, or static keys."""

    role_arn: str | None = None
    external_id: str | None = None
    """A value, or a reference."""
    session_name: str | None = None
    profile: str | None = None
    access_key: str | None = None
    secret_key: str | None = None

    FLAGS: ClassVar = {"auth.assume_role.role_arn": "--role-arn", "auth.assume_role.session_name": "--session-name",
                       "auth.assume_role.external_id": "--external-id", "auth.profile": "--profile"}

    def entry(self) -> dict[str, Any]:
        _one_method({"--role-arn": self.role_arn, "--profile": self.profile,
                     "--access-key/--secret-key": self.access_key or self.secret_key})
        if (self.external_id or self.session_name) and not self.role_arn:
            raise InvalidInputError("--external-id and --session-name go with --role-arn")
        if self.role_arn:
            role: dict[str, Any] = {"role_arn": self.role_arn}
            if self.external_id:
                role["external_id"] = _reference_or_value(self.external_id)
            if self.session_name:
                role["session_name"] = self.session_name
            return {"assume_role": role}
        if self.profile:
            return {"profile": self.profile}
        return {"static": {"access_key_id": _reference("--access-key", self.access_key),
                           "secret_access_key": _reference("--secret-key", self.secret_key)}}


@dataclass(frozen=True)
class AzureAuth:
    """A service principal's secret, a federated (OIDC) token, or the Azure CLI's login."""

    client_id: str | None = None
    client_secret: str | None = None
    oidc_token: str | None = None
    use_cli: bool = False

    FLAGS: ClassVar = {"auth.service_principal.client_id": "--client-id", "auth.oidc.client_id": "--client-id"}

    def entry(self) -> dict[str, Any]:
        _one_method({"--client-secret": self.client_secret, "--oidc-token": self.oidc_token, "--cli": self.use_cli})
        if (self.client_secret or self.oidc_token) and not self.client_id:
            raise InvalidInputError("--client-secret and --oidc-token need --client-id")
        if self.use_cli and self.client_id:
            raise InvalidInputError("--client-id does not go with --cli")
        if self.client_secret:
            return {"service_principal": {"client_id": self.client_id,
                                          "client_secret": _reference("--client-secret", self.client_secret)}}
        if self.oidc_token:
            return {"oidc": {"client_id": self.client_id, "token": _reference("--oidc-token", self.oidc_token)}}
        return {"cli": {}}


@dataclass(frozen=True)
class GcpAuth:
    """A service-account key, impersonation of a service account, or application default credentials."""

    credentials: str | None = None
    impersonate: str | None = None
    application_default: bool = False

    FLAGS: ClassVar = {"auth.impersonate.service_account": "--impersonate"}

    def entry(self) -> dict[str, Any]:
        _one_method({"--credentials": self.credentials, "--impersonate": self.impersonate,
                     "--application-default": self.application_default})
        if self.credentials:
            return {"service_account_key": _reference("--credentials", self.credentials)}
        if self.impersonate:
            return {"impersonate": {"service_account": self.impersonate}}
        return {"application_default": {}}


@dataclass(frozen=True)
class AwsLink:
    """An AWS account; ``bootstrap_stack`` reads the role and the permissions boundary from the bootstrap's outputs."""

    account_id: str
    auth: AwsAuth
    region: str | None = None
    """Default: $AWS_REGION."""
    bootstrap_stack: str | None = None
    permissions_boundary: str | None = None

    registry: ClassVar = False

    def entry(self) -> Entry:
        region = region_of("aws", "--region", self.region, "AWS_REGION", "AWS_DEFAULT_REGION")
        auth, boundary = self.auth, self.permissions_boundary
        if self.bootstrap_stack:
            from terrane.engine.clouds.aws.stack import bootstrap_outputs

            outputs = bootstrap_outputs(self.bootstrap_stack, region)
            auth = AwsAuth(**{**vars(auth), "role_arn": auth.role_arn or outputs["ProvisionerRoleArn"]})
            boundary = boundary or outputs.get("PermissionsBoundaryArn")
        raw = {"cloud": "aws", "account_id": self.account_id, "region": region, "auth": auth.entry()}
        if boundary:
            raw["permissions_boundary"] = boundary
        return raw, {"account_id": "--account-id", "region": "--region",
                     "permissions_boundary": "--permissions-boundary", **AwsAuth.FLAGS}


@dataclass(frozen=True)
class AzureLink:
    """An Azure subscription."""

    tenant_id: str
    subscription_id: str
    auth: AzureAuth
    location: str | None = None
    """Default: $AZURE_LOCATION."""

    registry: ClassVar = False

    def entry(self) -> Entry:
        auth = self.auth.entry()
        raw = {"cloud": "azure", "tenant_id": self.tenant_id, "subscription_id": self.subscription_id,
               "location": region_of("azure", "--location", self.location, "AZURE_LOCATION"), "auth": auth}
        return raw, {"tenant_id": "--tenant-id", "subscription_id": "--subscription-id", "location": "--location",
                     **AzureAuth.FLAGS}


@dataclass(frozen=True)
class GcpLink:
    """A GCP project."""

    project: str
    auth: GcpAuth
    region: str | None = None
    """Default: $CLOUDSDK_COMPUTE_REGION."""

    registry: ClassVar = False

    def entry(self) -> Entry:
        auth = self.auth.entry()
        raw = {"cloud": "gcp", "project": self.project,
               "region": region_of("gcp", "--region", self.region, "CLOUDSDK_COMPUTE_REGION"), "auth": auth}
        return raw, {"project": "--project", "region": "--region", **GcpAuth.FLAGS}


@dataclass(frozen=True)
class KubernetesLink:
    """An existing cluster: a kubeconfig (a reference), whose context's user terrane acts as."""

    kubeconfig: str
    context: str | None = None
    """Default: the kubeconfig's current-context."""

    registry: ClassVar = False

    def entry(self) -> Entry:
        raw: dict[str, Any] = {"cloud": "kubernetes", "kubeconfig": _reference("--kubeconfig", self.kubeconfig)}
        if self.context is not None:
            raw["context"] = self.context
        return raw, {"kubeconfig": "--kubeconfig", "context": "--context"}


@dataclass(frozen=True)
class EcrLink:
    """ECR repositories, pulled by an identity that can only pull (the bootstrap's registry reader)."""

    account_id: str
    region: str
    repositories: tuple[str, ...]
    auth: AwsAuth

    registry: ClassVar = True

    def entry(self) -> Entry:
        raw = {"cloud": "aws", "account_id": self.account_id, "region": region_of("aws", "--region", self.region),
               "repositories": list(self.repositories), "auth": self.auth.entry()}
        repository_flags = {f"repositories[{index}]": "--repository" for index in range(len(self.repositories))}
        return raw, {"account_id": "--account-id", "region": "--region", "repositories": "--repository",
                     **repository_flags, **AwsAuth.FLAGS}


@dataclass(frozen=True)
class AcrLink:
    """An Azure Container Registry, pulled by an identity that can only pull (AcrPull)."""

    tenant_id: str
    subscription_id: str
    resource_group: str
    name: str
    auth: AzureAuth

    registry: ClassVar = True

    def entry(self) -> Entry:
        raw = {"cloud": "azure", "tenant_id": self.tenant_id, "subscription_id": self.subscription_id,
               "resource_group": self.resource_group, "name": self.name, "auth": self.auth.entry()}
        return raw, {"tenant_id": "--tenant-id", "subscription_id": "--subscription-id",
                     "resource_group": "--resource-group", "name": "--name", **AzureAuth.FLAGS}


@dataclass(frozen=True)
class ArtifactRegistryLink:
    """An Artifact Registry Docker repository, pulled by an identity that can only pull."""

    project: str
    location: str
    repository: str
    auth: GcpAuth

    registry: ClassVar = True

    def entry(self) -> Entry:
        raw = {"cloud": "gcp", "project": self.project,
               "location": region_of("artifact-registry", "--location", self.location),
               "repository": self.repository, "auth": self.auth.entry()}
        return raw, {"project": "--project", "location": "--location", "repository": "--repository",
                     **GcpAuth.FLAGS}


LinkRequest = AwsLink | AzureLink | GcpLink | KubernetesLink | EcrLink | AcrLink | ArtifactRegistryLink


def default(flag: str, value: str | None, *variables: str) -> str:
    """``value``, else the first of the environment ``variables`` that is set; refused when there is none."""
    for variable in variables:
        value = value or os.environ.get(variable)
    if not value:
        raise InvalidInputError(f"{flag} is required (or set {' or '.join(variables)})")
    return value


def region_of(where: Where, flag: str, value: str | None, *variables: str) -> str:
    """``default``'s value, refused unless it is one of ``where``'s regions: before anything asks a cloud about it,
    in words that name the option or the variable it came from."""
    from terrane.stacks.spec.regions import region_problem

    chosen = default(flag, value, *variables)
    problem = region_problem(where, chosen)
    if problem:
        given = flag if value else next((f"${name}" for name in variables if os.environ.get(name)), flag)
        raise InvalidInputError(f"{given}: {problem}")
    return chosen


def _one_method(choices: dict[str, object]) -> None:
    chosen = [flag for flag, value in choices.items() if value]
    if len(chosen) != 1:
        raise InvalidInputError(f"choose exactly one of {', '.join(choices)}")


def _reference(flag: str, text: str | None) -> Reference:
    from terrane.engine.accounts.secrets import parse_reference

    if not text:
        raise InvalidInputError(f"{flag} is required")
    try:
        return parse_reference(text)
    except InvalidInputError as exc:
        # Never echo what was typed: it may be the secret itself.
        raise InvalidInputError(f"{flag}: {exc}; the value was not saved or shown") from None


def _reference_or_value(text: str) -> Reference | str:
    from terrane.engine.accounts.secrets import parse_reference

    kind = text.partition(":")[0]
    return parse_reference(text) if kind in ("env", "file", "aws-secret") else text
