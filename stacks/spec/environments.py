"""``environments/<name>.yaml``: one environment, cloud-neutral, deployed as one stack."""

from __future__ import annotations

import ipaddress
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from terrane.stacks.spec import Region, Spec
from terrane.stacks.spec.accounts import AccountName, AwsAccount, AzureAccount, GcpAccount

NEUTRAL_SIZES = ("small", "medium", "large", "xlarge")


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
