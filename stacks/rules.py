"""Rules that relate an environment's fields to each other, to its account and to its cloud.

``check`` returns every problem as a field path and a message; the engine adds
the file name. Nothing here reads files or talks to a cloud.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Network
from itertools import combinations

from terrane.stacks import layout
from terrane.stacks.spec import Cloud
from terrane.stacks.spec.accounts import Account
from terrane.stacks.spec.environments import Environment

# What a machine type looks like on each cloud, when a pool does not use a neutral size.
_MACHINE_TYPE = {
    "aws": re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"),
    "azure": re.compile(r"^Standard_[A-Za-z0-9_]+$"),
    "gcp": re.compile(r"^[a-z][a-z0-9]*-[a-z0-9-]+$"),
}
_CLOUD_NAMES = {"aws": "AWS", "azure": "Azure", "gcp": "GCP"}
_MACHINE_EXAMPLE = {"aws": "m6i.xlarge", "azure": "Standard_D4s_v5", "gcp": "e2-standard-4"}

# AWS accepts VPC ranges from /16 to /28.
_AWS_VPC_PREFIXES = range(16, 29)


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


# How many CIDRs each cloud lets reach a public cluster endpoint.
_AUTHORIZED_CIDRS_LIMIT = {"aws": 40, "azure": 200, "gcp": 50}

_REGION = {
    "aws": re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$"),
    "azure": re.compile(r"^[a-z][a-z0-9]+$"),
    "gcp": re.compile(r"^[a-z]+-[a-z]+\d+$"),
}
_REGION_EXAMPLE = {"aws": "us-east-1", "azure": "westeurope", "gcp": "europe-west1"}

_AZURE_TAG_KEY_FORBIDDEN = re.compile(r"[<>%&\\?/]")
_GCP_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_GCP_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")


def check(env: Environment, account: Account) -> list[Problem]:
    cloud = account.cloud
    return (
        _region(env, cloud)
        + _structure(env)
        + _overlaps(env)
        + _machine_types(env, cloud)
        + _authorized_cidrs(env, cloud)
        + _secrets(env, cloud)
        + _CLOUD_RULES[cloud](env)
    )


def _secrets(env: Environment, cloud: Cloud) -> list[Problem]:
    if cloud != "gcp" and env.secrets and env.secrets.deletion_protection is not None:
        return [Problem("secrets.deletion_protection",
                        "only GCP secrets have deletion protection; AWS and Azure keep a deleted secret "
                        "for recovery_days instead")]
    return []


def _region(env: Environment, cloud: Cloud) -> list[Problem]:
    if env.region is None or _REGION[cloud].match(env.region):
        return []
    return [Problem("region", f"'{env.region}' is not a region of {_CLOUD_NAMES[cloud]} (like {_REGION_EXAMPLE[cloud]})")]


def _structure(env: Environment) -> list[Problem]:
    problems = []
    if env.kubernetes is not None and env.cluster is None:
        problems.append(Problem("kubernetes", "needs a cluster section (add cluster: or remove kubernetes:)"))
    if env.cluster and env.cluster.authorized_cidrs and env.cluster.endpoint == "private":
        problems.append(Problem("cluster.authorized_cidrs", "only allowed with endpoint: public"))
    if env.cluster and not env.cluster.authorized_cidrs and env.cluster.endpoint == "public":
        # An empty allow-list would open the API server to the whole internet.
        problems.append(
            Problem("cluster.authorized_cidrs", "endpoint: public needs the CIDRs allowed to reach it")
        )
    return problems


def _overlaps(env: Environment) -> list[Problem]:
    ranges: list[tuple[str, IPv4Network]] = [("network.cidr", env.network.cidr)]
    if env.cluster:
        ranges += [
            ("cluster.pod_cidr", env.cluster.pod_cidr),
            ("cluster.service_cidr", env.cluster.service_cidr),
            ("cluster.control_plane_cidr", env.cluster.control_plane_cidr),
        ]
    return [
        Problem(path, f"{cidr} overlaps {other_path} ({other})")
        for (other_path, other), (path, cidr) in combinations(ranges, 2)
        if cidr.overlaps(other)
    ]


def _machine_types(env: Environment, cloud: Cloud) -> list[Problem]:
    if env.cluster is None:
        return []
    return [
        Problem(
            f"cluster.node_pools[{index}].size",
            f"'{pool.size}' is neither a neutral size (small, medium, large, xlarge) "
            f"nor a machine type of {_CLOUD_NAMES[cloud]} (like {_MACHINE_EXAMPLE[cloud]})",
        )
        for index, pool in enumerate(env.cluster.node_pools)
        if not pool.neutral_size and not _MACHINE_TYPE[cloud].match(pool.size)
    ]


def _authorized_cidrs(env: Environment, cloud: Cloud) -> list[Problem]:
    limit = _AUTHORIZED_CIDRS_LIMIT[cloud]
    if env.cluster and len(env.cluster.authorized_cidrs) > limit:
        return [
            Problem("cluster.authorized_cidrs", f"{_CLOUD_NAMES[cloud]} allows at most {limit} CIDRs for a public endpoint")
        ]
    return []


def _aws(env: Environment) -> list[Problem]:
    cidr, zones = env.network.cidr, env.network.zones
    if cidr.prefixlen not in _AWS_VPC_PREFIXES:
        return [Problem("network.cidr", f"{cidr}: an AWS VPC takes a range from /16 to /28")]
    if not layout.fits(cidr, zones):
        largest = layout.SMALLEST_SUBNET_PREFIX - 2 * zones.bit_length()
        return [
            Problem(
                "network.cidr",
                f"{cidr} is too small for {zones} zone(s): each zone needs a private and a public "
                f"subnet of at least /{layout.SMALLEST_SUBNET_PREFIX}; use a /{largest} or larger",
            )
        ]
    return []


def _azure(env: Environment) -> list[Problem]:
    problems = []
    if env.network.cidr.prefixlen > 24:
        problems.append(
            Problem(
                "network.cidr",
                f"{env.network.cidr} is too small for Azure: the node and private-endpoint "
                f"subnets need a /24 or larger",
            )
        )
    if env.cluster and env.cluster.node_pools[0].min < 1:
        problems.append(
            Problem("cluster.node_pools[0].min", "the first pool is AKS's system pool and needs at least 1 node")
        )
    problems += [
        Problem(f"tags.{key}", "Azure tag names cannot contain < > % & \\ ? /")
        for key in env.tags
        if _AZURE_TAG_KEY_FORBIDDEN.search(key)
    ]
    return problems


def _gcp(env: Environment) -> list[Problem]:
    problems = []
    if not 8 <= env.network.cidr.prefixlen <= 29:
        problems.append(Problem("network.cidr", f"{env.network.cidr}: a GCP subnet takes a range from /8 to /29"))
    problems += [
        Problem(
            f"tags.{key}",
            "GCP labels are lowercase letters, digits, '_' and '-' (keys start with a letter; "
            "keys and values at most 63 characters)",
        )
        for key, value in env.tags.items()
        if not _GCP_LABEL_KEY.match(key) or not _GCP_LABEL_VALUE.match(value)
    ]
    return problems


_CLOUD_RULES: dict[Cloud, Callable[[Environment], list[Problem]]] = {"aws": _aws, "azure": _azure, "gcp": _gcp}
