"""Rules that relate an environment's fields to each other, to its account and to its cloud.

``check`` returns every problem as a field path and a message; the engine adds
the file name. Nothing here reads files or talks to a cloud.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Network
from itertools import combinations

from stacks import layout
from stacks.spec import Account, Cloud, Environment

# What a machine type looks like on each cloud, when a pool does not use a neutral size.
_MACHINE_TYPE = {
    "aws": re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"),
    "azure": re.compile(r"^Standard_[A-Za-z0-9_]+$"),
    "gcp": re.compile(r"^[a-z][a-z0-9]*-[a-z0-9-]+$"),
}
_MACHINE_EXAMPLE = {"aws": "m6i.xlarge", "azure": "Standard_D4s_v5", "gcp": "e2-standard-4"}

# AWS accepts VPC ranges from /16 to /28.
_AWS_VPC_PREFIXES = range(16, 29)


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


# Clouds whose components exist; the others are accepted in accounts.yaml already.
SUPPORTED_CLOUDS = ("aws",)


def check(env: Environment, account: Account) -> list[Problem]:
    if account.cloud not in SUPPORTED_CLOUDS:
        return [Problem("account", f"'{env.account}' is an {account.cloud} account; terrane provisions {', '.join(SUPPORTED_CLOUDS)} so far")]
    problems = _structure(env) + _overlaps(env) + _machine_types(env, account.cloud)
    if account.cloud == "aws":
        problems += _aws(env)
    return problems


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
            f"nor a {cloud} machine type like {_MACHINE_EXAMPLE[cloud]}",
        )
        for index, pool in enumerate(env.cluster.node_pools)
        if not pool.neutral_size and not _MACHINE_TYPE[cloud].match(pool.size)
    ]


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
