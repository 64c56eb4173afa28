"""``environments/<name>.yaml``: one environment, cloud-neutral, deployed as one stack."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, overload

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from terrane.stacks.spec import (
    Region,
    Spec,
    duplicates,
    listed,
    matching,
    no_duplicates,
)
from terrane.stacks.spec.accounts import Account, AccountName, CloudAccount
from terrane.stacks.spec.registries import Registry
from terrane.stacks.spec.terraform_state import LocalState, Refused, TerraformState, parse_terraform_state, refused

NEUTRAL_SIZES = ("small", "medium", "large", "xlarge")


def _network(value: Any) -> Any:
    if isinstance(value, ipaddress.IPv4Network):
        return value
    if not isinstance(value, str):
        # Never handed on: ipaddress would turn a list or mapping into text, however large it unfolds.
        raise PydanticCustomError("cidr_type", "must be an IPv4 CIDR like 10.0.0.0/16")
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise PydanticCustomError(
            "cidr", "{value} is not a valid IPv4 CIDR ({reason})", {"value": value, "reason": str(exc)}
        ) from None


Cidr = Annotated[ipaddress.IPv4Network, BeforeValidator(_network)]


Zones = Annotated[StrictInt, Field(ge=1, le=3)]
Nat = Literal["none", "single", "per_zone"]


class NetworkSpec(Spec):
    """A new network, which terrane makes."""

    cidr: Cidr
    zones: Zones = 3
    nat: Nat = "single"
    flow_logs: StrictBool = True


# --- an existing network, from the outputs of a Terraform state ------------------------------------------------------


class ExistingNetworkSpec(Spec):
    """A network made elsewhere, whose ids a Terraform state's outputs hold: terrane makes none and changes none."""

    terraform_state: Annotated[TerraformState, BeforeValidator(parse_terraform_state)]
    zones: Zones = 3
    """Azure and GCP: how many zones the cluster spreads its nodes over (``stacks.rules`` refuses it on AWS)."""
    nat: Nat = "none"
    """Azure: whether the node subnet has a NAT gateway, which AKS then sends egress through; ``none``, the default,
    leaves egress to a load balancer AKS makes (``stacks.rules`` refuses it on AWS and GCP)."""
    cidr: Annotated[Refused, refused("an existing network has its own ranges: remove cidr, or terraform_state for a "
                                     "new network")] = None
    flow_logs: Annotated[StrictBool | None, Field(exclude=True),
                         refused("an existing network's flow logs are its owner's: remove flow_logs, or "
                                 "terraform_state for a new network")] = None

    def under(self, root: Path) -> ExistingNetworkSpec:
        """This network with a local state's path resolved against the project directory ``root``."""
        state = self.terraform_state
        if not isinstance(state, LocalState):
            return self
        return self.model_copy(update={
            "terraform_state": state.model_copy(update={"config": state.config.under(root)}),
        })


def _network_section(value: Any) -> Any:
    """A new network, or an existing one (``terraform_state``): errors name the fields as written."""
    if value is None or isinstance(value, NetworkSpec | ExistingNetworkSpec):
        return value
    if not isinstance(value, dict):
        raise PydanticCustomError("network", "must be a mapping: a new network (cidr, zones, nat, flow_logs), "
                                             "or terraform_state for an existing one")
    return (ExistingNetworkSpec if "terraform_state" in value else NetworkSpec).model_validate(value)


DEFAULT_POD_CIDR = ipaddress.IPv4Network("100.64.0.0/14")
DEFAULT_SERVICE_CIDR = ipaddress.IPv4Network("172.20.0.0/16")
DEFAULT_CONTROL_PLANE_CIDR = ipaddress.IPv4Network("172.16.0.32/28")

PoolName = Annotated[
    str,
    matching(r"[a-z][a-z0-9]{0,11}",
             "must start with a lowercase letter and contain only lowercase letters and digits, "
             "at most 12 characters (a name every cloud accepts)"),
]


class NodePool(Spec):
    name: PoolName
    size: Annotated[str, matching(r"[A-Za-z0-9][A-Za-z0-9._-]*",
                                  "must be small, medium, large, xlarge or a machine type of the cloud "
                                  "(letters, digits, '.', '_' and '-')")] = "medium"
    min: Annotated[StrictInt, Field(ge=0, le=1000)] = 1
    max: Annotated[StrictInt, Field(ge=1, le=1000, validate_default=True)] = 3

    # A field validator, not a model validator: it runs even when another field of the pool is wrong
    # (and, as max's default is validated too, when only min is given).
    @field_validator("max")
    @classmethod
    def _min_le_max(cls, maximum: int, info: ValidationInfo) -> int:
        minimum = info.data.get("min")
        if minimum is not None and minimum > maximum:
            raise PydanticCustomError(
                "min_max", "min ({min}) is greater than max ({max})", {"min": minimum, "max": maximum}
            )
        return maximum

    @property
    def neutral_size(self) -> bool:
        return self.size in NEUTRAL_SIZES


class ClusterSpec(Spec):
    kubernetes_version: Annotated[str, matching(r"1\.\d{2}", 'must be a Kubernetes minor version like "1.31"')] = "1.31"
    endpoint: Literal["private", "public"] = "private"
    authorized_cidrs: list[Cidr] = Field(default_factory=list)
    node_pools: Annotated[list[NodePool], Field(min_length=1)] = Field(
        default_factory=lambda: [NodePool(name="system")]
    )
    deletion_protection: StrictBool = True
    # Ranges the cluster uses besides the network's; they must not overlap it.
    pod_cidr: Cidr = DEFAULT_POD_CIDR
    service_cidr: Cidr = DEFAULT_SERVICE_CIDR
    control_plane_cidr: Cidr = DEFAULT_CONTROL_PLANE_CIDR
    registries: list[AccountName] = Field(default_factory=list)
    """Registries linked in accounts.yaml the nodes may pull from: exactly those, nothing wider."""

    @field_validator("node_pools")
    @classmethod
    def _unique_pools(cls, pools: list[NodePool]) -> list[NodePool]:
        no_duplicates([pool.name for pool in pools], "node pool")
        return pools

    @field_validator("registries")
    @classmethod
    def _unique_registries(cls, registries: list[str]) -> list[str]:
        no_duplicates(registries, "registry")
        return registries

    @field_validator("control_plane_cidr")
    @classmethod
    def _control_plane_size(cls, cidr: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        if cidr.prefixlen != 28:
            raise PydanticCustomError("cidr_size", "must be a /28 (got /{prefix})", {"prefix": cidr.prefixlen})
        return cidr


SecretName = Annotated[
    str,
    matching(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?",
             "must be 1 to 64 letters, digits or '-', starting and ending with a letter or digit"),
]


class SecretsSpec(Spec):
    names: list[SecretName]
    """The secrets of the environment's store: a store holds at least one."""
    recovery_days: Annotated[StrictInt, Field(ge=7, le=30)] = 7
    deletion_protection: StrictBool | None = None
    """GCP only: Secret Manager's deletion protection (on unless false); turn it off, up, then destroy."""

    @field_validator("names")
    @classmethod
    def _unique_names(cls, names: list[str]) -> list[str]:
        if not names:
            raise PydanticCustomError("no_secret", "must name at least one secret (or remove secrets:)")
        no_duplicates(names, "secret")
        return names


Dns1123Label = Annotated[
    str,
    matching(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?",
             "must be 1 to 63 lowercase letters, digits or '-', starting and ending with a letter or digit"),
]


_LABEL_NAME = r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?"
_LABEL_KEY = re.compile(rf"([a-z0-9]([a-z0-9-]{{0,61}}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{{0,61}}[a-z0-9])?)*/)?{_LABEL_NAME}")
_LABEL_VALUE = re.compile(rf"({_LABEL_NAME})?")
POD_SECURITY = "pod-security.kubernetes.io/"
"""Labels the Bootstrap sets on every namespace: the restricted Pod Security Standard, which a spec cannot weaken."""


def label_key_problem(key: str) -> str | None:
    """What is wrong with ``key`` as a Kubernetes label or annotation key; None when nothing is."""
    prefix = key.rpartition("/")[0]
    if not _LABEL_KEY.fullmatch(key) or len(prefix) > 253:
        return ("a Kubernetes key is a name of 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a "
                "letter or digit, optionally after a DNS prefix and '/' (like example.com/team)")
    return None


def label_value_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a Kubernetes label value; None when nothing is."""
    if not _LABEL_VALUE.fullmatch(value):
        return ("a Kubernetes label value has at most 63 letters, digits, '-', '_' or '.', starting and ending with "
                "a letter or digit")
    return None


def _labels(labels: dict[str, str]) -> dict[str, str]:
    for key, value in labels.items():
        problem = label_key_problem(key) or label_value_problem(value)
        if problem:
            raise PydanticCustomError("label", "{key}: {problem}", {"key": key, "problem": problem})
        if key.startswith(POD_SECURITY):
            raise PydanticCustomError("label", "{key}: terrane sets the pod-security labels itself (restricted)",
                                      {"key": key})
    return labels


def _annotations(annotations: dict[str, str]) -> dict[str, str]:
    for key in annotations:
        problem = label_key_problem(key)
        if problem:
            raise PydanticCustomError("annotation", "{key}: {problem}", {"key": key, "problem": problem})
    return annotations


def _namespace_entry(value: Any) -> Any:
    """A namespace is its name alone, or a mapping with its name and more."""
    return {"name": value} if isinstance(value, str) else value


class NamespaceSpec(Spec):
    name: Dns1123Label
    labels: Annotated[dict[str, str], AfterValidator(_labels)] = Field(default_factory=dict)
    annotations: Annotated[dict[str, str], AfterValidator(_annotations)] = Field(default_factory=dict)
    service_accounts: list[Dns1123Label] = Field(default_factory=list)
    """Service accounts made in the namespace (no API token mounted unless a pod asks for one)."""

    @field_validator("service_accounts")
    @classmethod
    def _unique_service_accounts(cls, names: list[str]) -> list[str]:
        no_duplicates(names, "service account")
        if "default" in names:
            raise PydanticCustomError("default_account", "Kubernetes makes the 'default' service account in every "
                                                         "namespace itself")
        return names


class KubernetesSpec(Spec):
    namespaces: list[Annotated[NamespaceSpec, BeforeValidator(_namespace_entry)]] = Field(default_factory=list)

    @field_validator("namespaces")
    @classmethod
    def _not_reserved(cls, namespaces: list[NamespaceSpec]) -> list[NamespaceSpec]:
        names = [namespace.name for namespace in namespaces]
        reserved = [name for name in names if name == "default" or name.startswith("kube-")]
        problems = [duplicates(names, "namespace"), listed("Kubernetes reserves ", reserved)]
        if any(problems):
            raise PydanticCustomError("namespaces", "{problems}", {"problems": "; ".join(filter(None, problems))})
        return namespaces

    @property
    def namespace_names(self) -> list[str]:
        return [namespace.name for namespace in self.namespaces]


class IgnoreRule(Spec):
    resource: Annotated[str, StringConstraints(min_length=1)]
    property: Annotated[str, StringConstraints(min_length=1)]
    reason: Annotated[str, StringConstraints(min_length=1)]
    until: date | None = None


class DriftSpec(Spec):
    ignore: list[IgnoreRule] = Field(default_factory=list)


EnvName = Annotated[
    str,
    matching(r"[a-z][a-z0-9-]{0,38}[a-z0-9]",
             "must be 2 to 40 lowercase letters, digits or '-', starting with a letter and not ending with '-'"),
]


class Environment(Spec):
    name: EnvName
    account: AccountName
    region: Region | None = None
    network: Annotated[NetworkSpec | ExistingNetworkSpec | None, BeforeValidator(_network_section)] = None
    """Every cloud environment has one, new or existing; an environment on a linked cluster (cloud: kubernetes) has
    none."""
    cluster: ClusterSpec | None = None
    secrets: SecretsSpec | None = None
    kubernetes: KubernetesSpec | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags (labels on GCP) for every resource; what each cloud accepts is checked by ``stacks.rules``."""
    protect: StrictBool = False
    drift: DriftSpec = Field(default_factory=DriftSpec)
    _registries: dict[str, Registry] = PrivateAttr(default_factory=dict)
    _file: str | None = PrivateAttr(default=None)

    @property
    def registries(self) -> dict[str, Registry]:
        """The registries ``cluster.registries`` names, as linked in accounts.yaml (resolved by the project loader)."""
        named = self.cluster.registries if self.cluster else []
        missing = [name for name in named if name not in self._registries]
        if missing:
            raise ValueError(f"environment {self.name}: registries {', '.join(missing)} were not resolved; "
                             "load the environment with Project.environment")
        return {name: self._registries[name] for name in named}

    def with_registries(self, linked: Mapping[str, Registry]) -> Environment:
        """This environment with its named registries resolved from ``linked``."""
        env = self.model_copy()
        env._registries = {name: linked[name] for name in (self.cluster.registries if self.cluster else [])}
        return env

    def in_project(self, root: Path, file: str) -> Environment:
        """This environment as the project at ``root`` holds it in ``file``: a local Terraform state's path is resolved
        against the project directory, and messages about the environment name ``file``."""
        existing = self.existing_network
        env = self.model_copy(update={"network": existing.under(root)} if existing else {})
        env._file = file
        return env

    @property
    def file(self) -> str:
        """The file the environment was read from, relative to its project, for messages."""
        return self._file or f"environment {self.name}"

    @property
    def cloud_network(self) -> NetworkSpec | ExistingNetworkSpec:
        """The network of an environment on a cloud, which ``stacks.rules`` requires."""
        if self.network is None:
            raise ValueError(f"environment {self.name} has no network")
        return self.network

    @property
    def new_network(self) -> NetworkSpec | None:
        """The network terrane makes for the environment; None when it has none or uses an existing one."""
        return self.network if isinstance(self.network, NetworkSpec) else None

    @property
    def existing_network(self) -> ExistingNetworkSpec | None:
        """The network made elsewhere that the environment uses (``network.terraform_state``), if it does."""
        return self.network if isinstance(self.network, ExistingNetworkSpec) else None

    @overload
    def resolved_region(self, account: CloudAccount) -> str: ...

    @overload
    def resolved_region(self, account: Account) -> str | None: ...

    def resolved_region(self, account: Account) -> str | None:
        """Where the environment runs: its region, else its account's; None on a linked cluster."""
        return self.region or account.default_region
