"""Typed specs for a terrane project's files: ``accounts.yaml`` and ``environments/*.yaml``.

These models validate one file at a time (syntax, ranges, unknown keys, secret
references). Rules that relate fields to each other, to the account or to its
cloud live in ``stacks.rules``. Messages never repeat a rejected value: a plain string where a
secret belongs must not end up in a terminal or a CI log.
"""

from __future__ import annotations

import ipaddress
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

Cloud = Literal["aws", "azure", "gcp"]
NEUTRAL_SIZES = ("small", "medium", "large", "xlarge")


class Spec(BaseModel):
    """Base of every spec model: immutable, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Region = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,}(-[a-z0-9]+)+$|^[a-z]+[0-9]*$")]


# --- secret references --------------------------------------------------------------


class EnvRef(Spec):
    env: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]

    def __str__(self) -> str:
        return f"env:{self.env}"


class FileRef(Spec):
    file: Annotated[str, StringConstraints(min_length=1)]

    def __str__(self) -> str:
        return f"file:{self.file}"


class AwsSecretRef(Spec):
    aws_secret: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9/_+=.@:-]+$")]
    key: Annotated[str, StringConstraints(min_length=1)] | None = None
    """Selects one key of a JSON secret."""
    region: Region | None = None

    def __str__(self) -> str:
        return f"aws-secret:{self.aws_secret}" + (f"#{self.key}" if self.key else "")


_REF_TYPES: dict[str, type[Spec]] = {"env": EnvRef, "file": FileRef, "aws_secret": AwsSecretRef}


def _secret_reference(value: Any) -> Any:
    if isinstance(value, Spec):
        return value
    if not isinstance(value, dict):
        # Never include the value: it is probably the secret itself.
        raise PydanticCustomError(
            "plain_secret",
            "a secret must be a reference ({env: NAME}, {file: PATH} or {aws_secret: NAME}), "
            "not a plain value; the value was not saved or shown",
        )
    kinds = [key for key in _REF_TYPES if key in value]
    if len(kinds) != 1:
        raise PydanticCustomError(
            "secret_reference", "a secret reference has exactly one of env, file, aws_secret"
        )
    return _REF_TYPES[kinds[0]].model_validate(value)


SecretRef = Annotated[EnvRef | FileRef | AwsSecretRef, BeforeValidator(_secret_reference)]
Reference = EnvRef | FileRef | AwsSecretRef


def _value_or_reference(value: Any) -> Any:
    return value if isinstance(value, str) else _secret_reference(value)


# A value that is not secret in itself but may be kept out of the file (AWS external id).
ValueOrSecretRef = Annotated[str | EnvRef | FileRef | AwsSecretRef, BeforeValidator(_value_or_reference)]


# --- accounts.yaml --------------------------------------------------------------------


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
    role_arn: Annotated[str, StringConstraints(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")]
    external_id: ValueOrSecretRef | None = None
    session_name: Annotated[str, StringConstraints(pattern=r"^[\w+=,.@-]{2,64}$")] = "terrane"


class AwsStaticKeys(Spec):
    access_key_id: SecretRef
    secret_access_key: SecretRef


class AwsAuth(_ExactlyOne):
    assume_role: AssumeRole | None = None
    profile: Annotated[str, StringConstraints(min_length=1)] | None = None
    static: AwsStaticKeys | None = None


class Empty(Spec):
    pass


_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
Uuid = Annotated[str, StringConstraints(pattern=_UUID)]


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
    service_account: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9.-]+\.iam\.gserviceaccount\.com$")]


class GcpAuth(_ExactlyOne):
    service_account_key: SecretRef | None = None
    impersonate: Impersonate | None = None
    application_default: Empty | None = None



class AwsAccount(Spec):
    cloud: Literal["aws"]
    account_id: Annotated[str, StringConstraints(pattern=r"^\d{12}$")]
    region: Region
    auth: AwsAuth

    @property
    def scope_id(self) -> str:
        """What the account's resources live under: the account id."""
        return self.account_id

    @property
    def default_region(self) -> str:
        return self.region


class AzureAccount(Spec):
    cloud: Literal["azure"]
    tenant_id: Uuid
    subscription_id: Uuid
    location: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+$")]
    auth: AzureAuth

    @property
    def scope_id(self) -> str:
        """What the account's resources live under: the subscription id."""
        return self.subscription_id

    @property
    def default_region(self) -> str:
        return self.location


class GcpAccount(Spec):
    cloud: Literal["gcp"]
    project: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")]
    region: Region
    auth: GcpAuth

    @property
    def scope_id(self) -> str:
        """What the account's resources live under: the project."""
        return self.project

    @property
    def default_region(self) -> str:
        return self.region


Account = AwsAccount | AzureAccount | GcpAccount
ACCOUNT_MODELS: dict[str, type[Account]] = {"aws": AwsAccount, "azure": AzureAccount, "gcp": GcpAccount}
ACCOUNT_NAME = r"^[a-z][a-z0-9-]{0,62}$"
AccountName = Annotated[str, StringConstraints(pattern=ACCOUNT_NAME)]


# --- environments/<name>.yaml ---------------------------------------------------------


def _network(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise PydanticCustomError(
            "cidr", "{value} is not a valid IPv4 CIDR ({reason})", {"value": value, "reason": str(exc)}
        ) from None


Cidr = Annotated[ipaddress.IPv4Network, BeforeValidator(_network)]


class NetworkSpec(Spec):
    cidr: Cidr
    zones: Annotated[int, Field(ge=1, le=3)] = 3
    nat: Literal["none", "single", "per_zone"] = "single"
    flow_logs: bool = True


DEFAULT_POD_CIDR = ipaddress.IPv4Network("100.64.0.0/14")
DEFAULT_SERVICE_CIDR = ipaddress.IPv4Network("172.20.0.0/16")
DEFAULT_CONTROL_PLANE_CIDR = ipaddress.IPv4Network("172.16.0.32/28")

PoolName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{0,11}$")]


class NodePool(Spec):
    name: PoolName
    size: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")] = "medium"
    min: Annotated[int, Field(ge=0, le=1000)] = 1
    max: Annotated[int, Field(ge=1, le=1000)] = 3

    @model_validator(mode="after")
    def _min_le_max(self) -> NodePool:
        if self.min > self.max:
            raise PydanticCustomError(
                "min_max", "min ({min}) is greater than max ({max})", {"min": self.min, "max": self.max}
            )
        return self

    @property
    def neutral_size(self) -> bool:
        return self.size in NEUTRAL_SIZES


class ClusterSpec(Spec):
    kubernetes_version: Annotated[str, StringConstraints(pattern=r"^1\.\d{2}$")] = "1.31"
    endpoint: Literal["private", "public"] = "private"
    authorized_cidrs: list[Cidr] = Field(default_factory=list)
    node_pools: Annotated[list[NodePool], Field(min_length=1)] = Field(
        default_factory=lambda: [NodePool(name="system")]
    )
    deletion_protection: bool = True
    # Ranges the cluster uses besides the network's; they must not overlap it.
    pod_cidr: Cidr = DEFAULT_POD_CIDR
    service_cidr: Cidr = DEFAULT_SERVICE_CIDR
    control_plane_cidr: Cidr = DEFAULT_CONTROL_PLANE_CIDR

    @field_validator("node_pools")
    @classmethod
    def _unique_pools(cls, pools: list[NodePool]) -> list[NodePool]:
        _no_duplicates([pool.name for pool in pools], "node pool")
        return pools

    @field_validator("control_plane_cidr")
    @classmethod
    def _control_plane_size(cls, cidr: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        if cidr.prefixlen != 28:
            raise PydanticCustomError("cidr_size", "must be a /28 (got /{prefix})", {"prefix": cidr.prefixlen})
        return cidr


SecretName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?$")]


class SecretsSpec(Spec):
    names: list[SecretName] = Field(default_factory=list)
    recovery_days: Annotated[int, Field(ge=7, le=30)] = 7
    deletion_protection: bool | None = None
    """GCP only: Secret Manager's deletion protection (on unless false); turn it off, up, then destroy."""

    @field_validator("names")
    @classmethod
    def _unique_names(cls, names: list[str]) -> list[str]:
        _no_duplicates(names, "secret")
        return names


Dns1123Label = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]


class KubernetesSpec(Spec):
    namespaces: list[Dns1123Label] = Field(default_factory=list)

    @field_validator("namespaces")
    @classmethod
    def _not_reserved(cls, namespaces: list[str]) -> list[str]:
        _no_duplicates(namespaces, "namespace")
        for namespace in namespaces:
            if namespace == "default" or namespace.startswith("kube-"):
                raise PydanticCustomError(
                    "reserved_namespace", "{namespace} is reserved by Kubernetes", {"namespace": namespace}
                )
        return namespaces


class IgnoreRule(Spec):
    resource: Annotated[str, StringConstraints(min_length=1)]
    property: Annotated[str, StringConstraints(min_length=1)]
    reason: Annotated[str, StringConstraints(min_length=1)]
    until: date | None = None


class DriftSpec(Spec):
    ignore: list[IgnoreRule] = Field(default_factory=list)


EnvName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")]
TagKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:/=+@-]{1,63}$")]


class Environment(Spec):
    name: EnvName
    account: AccountName
    region: Region | None = None
    network: NetworkSpec
    cluster: ClusterSpec | None = None
    secrets: SecretsSpec | None = None
    kubernetes: KubernetesSpec | None = None
    tags: dict[TagKey, Annotated[str, StringConstraints(max_length=256)]] = Field(default_factory=dict)
    protect: bool = False
    drift: DriftSpec = Field(default_factory=DriftSpec)

    def resolved_region(self, account: AwsAccount | AzureAccount | GcpAccount) -> str:
        return self.region or account.default_region


def _no_duplicates(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise PydanticCustomError("duplicate", "duplicate {what} '{value}'", {"what": what, "value": value})
        seen.add(value)
