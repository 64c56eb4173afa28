"""``accounts.yaml``: the cloud accounts a project links, and how terrane signs in to each."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from terrane.stacks.spec import GCP_PROJECT, UUID, Spec, matching
from terrane.stacks.spec.references import SecretRef, ValueOrSecretRef
from terrane.stacks.spec.regions import AwsRegion, AzureLocation, GcpRegion


class _ExactlyOne(Spec):
    """Auth blocks: exactly one method is set."""

    @model_validator(mode="after")
    def _exactly_one(self) -> _ExactlyOne:
        chosen = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(chosen) != 1:
            methods = ", ".join(type(self).model_fields)
            raise PydanticCustomError("auth_method", "exactly one of {methods} is required", {"methods": methods})
        return self

    @property
    def method(self) -> str:
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)


class AssumeRole(Spec):
    role_arn: Annotated[str, matching(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+",
                                      "must be an IAM role ARN: arn:aws:iam::ACCOUNT_ID:role/NAME")]
    external_id: ValueOrSecretRef | None = None
    session_name: Annotated[str, matching(r"[\w+=,.@-]{2,64}",
                                          "must be 2 to 64 letters, digits or any of _+=,.@-")] = "terrane"


class AwsStaticKeys(Spec):
    access_key_id: SecretRef
    secret_access_key: SecretRef


class AwsAuth(_ExactlyOne):
    assume_role: AssumeRole | None = None
    profile: Annotated[str, StringConstraints(min_length=1)] | None = None
    static: AwsStaticKeys | None = None


class Empty(Spec):
    pass


Uuid = Annotated[
    str,
    matching(UUID,
             "must be a UUID (like 11111111-2222-3333-4444-555555555555)"),
]


class ServicePrincipal(Spec):
    client_id: Uuid
    client_secret: SecretRef


class AzureOidc(Spec):
    client_id: Uuid
    token: SecretRef


class AzureAuth(_ExactlyOne):
    service_principal: ServicePrincipal | None = None
    oidc: AzureOidc | None = None
    cli: Empty | None = None


class Impersonate(Spec):
    service_account: Annotated[
        str,
        matching(GCP_PROJECT + r"@[a-z0-9.-]+\.iam\.gserviceaccount\.com",
                 "must be a service account's email: NAME@PROJECT.iam.gserviceaccount.com"),
    ]


class GcpAuth(_ExactlyOne):
    service_account_key: SecretRef | None = None
    impersonate: Impersonate | None = None
    application_default: Empty | None = None


class AwsAccount(Spec):
    cloud: Literal["aws"]
    account_id: Annotated[str, matching(r"\d{12}", "must be the 12 digits of an AWS account id")]
    region: AwsRegion
    auth: AwsAuth
    permissions_boundary: Annotated[str, matching(r"arn:aws[a-z-]*:iam::\d{12}:policy/[\w+=,.@/-]+",
                                                  "must be an IAM policy ARN: arn:aws:iam::ACCOUNT_ID:policy/NAME")] | None = None
    """The policy every IAM role the components create carries as its permissions boundary (the bootstrap's)."""

    @model_validator(mode="after")
    def _boundary_in_account(self) -> AwsAccount:
        if self.permissions_boundary and self.permissions_boundary.split(":")[4] != self.account_id:
            raise PydanticCustomError("boundary_account", "permissions_boundary: must be a policy of account {account}",
                                      {"account": self.account_id})
        return self

    @property
    def scope_id(self) -> str:
        """What the account's resources live under: the account id."""
        return self.account_id

    @property
    def default_region(self) -> str:
        return self.region

    @property
    def sign_in(self) -> str:
        """How terrane signs in, in words that name references only: the auth method."""
        return self.auth.method


class AzureAccount(Spec):
    cloud: Literal["azure"]
    tenant_id: Uuid
    subscription_id: Uuid
    location: AzureLocation
    auth: AzureAuth

    @property
    def scope_id(self) -> str:
        """What the account's resources live under: the subscription id."""
        return self.subscription_id

    @property
    def default_region(self) -> str:
        return self.location

    @property
    def sign_in(self) -> str:
        """How terrane signs in, in words that name references only: the auth method."""
        return self.auth.method


class GcpAccount(Spec):
    cloud: Literal["gcp"]
    project: Annotated[str, matching(GCP_PROJECT,
                                     "must be a GCP project id: 6 to 30 lowercase letters, digits or '-', "
                                     "starting with a letter and not ending with '-'")]
    region: GcpRegion
    auth: GcpAuth

    @property
    def scope_id(self) -> str:
        """What the account's resources live under: the project."""
        return self.project

    @property
    def default_region(self) -> str:
        return self.region

    @property
    def sign_in(self) -> str:
        """How terrane signs in, in words that name references only: the auth method."""
        return self.auth.method


class KubernetesAccount(Spec):
    """An existing cluster, made elsewhere: terrane only bootstraps it (namespaces, policies, service accounts)."""

    cloud: Literal["kubernetes"]
    kubeconfig: SecretRef
    """Where the kubeconfig is kept; its content reaches Pulumi only as secret stack config."""
    context: Annotated[str, StringConstraints(min_length=1)] | None = None
    """The kubeconfig's context to use; its current context when absent."""

    @property
    def scope_id(self) -> str:
        """What the account's resources live under: the kubeconfig's context."""
        return self.context or "current-context"

    @property
    def default_region(self) -> None:
        """A cluster has no regions to choose from."""
        return None

    @property
    def sign_in(self) -> str:
        """How terrane signs in, in words that name references only: the kubeconfig's reference."""
        return f"kubeconfig ({self.kubeconfig})"


CloudAccount = AwsAccount | AzureAccount | GcpAccount
"""An account on a cloud: its environments have a region, a network and an auth block to sign in with."""
Account = CloudAccount | KubernetesAccount
ACCOUNT_MODELS: dict[str, type[Account]] = {
    "aws": AwsAccount, "azure": AzureAccount, "gcp": GcpAccount, "kubernetes": KubernetesAccount,
}
AccountName = Annotated[
    str,
    matching(r"[a-z][a-z0-9-]{0,62}",
             "must start with a lowercase letter and contain only lowercase letters, digits and '-', "
             "at most 63 characters"),
]
