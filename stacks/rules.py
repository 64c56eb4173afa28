"""Rules that relate an environment's fields to each other, to its account and to its cloud.

``check`` returns every problem as a field path and a message; the engine adds the file name. Nothing here reads
files or talks to a cloud. The rules that relate sections to each other are here; those of address ranges live in
``stacks.network_rules``, of node pools in ``stacks.pool_rules``, of a network from a Terraform state in
``stacks.existing_network_rules`` and of tags in ``stacks.tag_rules``. Each cloud's limits are tables beside their comments;
docs/components.md lists them with their sources, and docs/development.md what no rule here can check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from ipaddress import IPv4Network
from itertools import combinations

from terrane.stacks import existing_network_rules, network_rules, pool_rules, tag_rules
from terrane.stacks.existing_network_rules import NETWORK_OUTPUTS, NetworkOutput, terraform_output_problems
from terrane.stacks.problem import CLOUD_NAMES, Problem
from terrane.stacks.spec import Cloud
from terrane.stacks.spec.accounts import Account, CloudAccount
from terrane.stacks.spec.environments import POD_SECURITY, Environment, label_key_problem, label_value_problem
from terrane.stacks.spec.regions import region_problem
from terrane.stacks.standard import SECRETS_READER, standard_kubernetes_labels

__all__ = ["NETWORK_OUTPUTS", "NetworkOutput", "Rule", "check", "terraform_output_problems"]


def check(env: Environment, account: Account, *, invalid: Collection[str] = ()) -> list[Problem]:
    """Every problem of ``env`` on ``account``'s cloud.

    ``invalid`` names the top-level fields that failed the spec's own validation:
    the rules that read them are left out, and the others still run, so that a
    file's problems are all reported at once.
    """
    if not isinstance(account, CloudAccount):  # a linked cluster
        return _linked_cluster(env, skipped=set(invalid))
    skipped = set(invalid) | ({"network"} if env.network is None else set())
    missing = [] if env.network or "network" in invalid else [
        Problem("network", "an environment on a cloud needs a network section")
    ]
    return missing + [problem for rule, reads in _RULES if not reads & skipped for problem in rule(env, account.cloud)]


def _linked_cluster(env: Environment, *, skipped: set[str]) -> list[Problem]:
    """A cluster made elsewhere: terrane bootstraps it, and makes no cloud resource."""
    problems = [
        Problem(section, "a linked cluster (cloud: kubernetes) takes only kubernetes, tags, protect and drift; "
                         f"remove {section}:")
        for section in ("region", "network", "cluster", "secrets")
        if getattr(env, section) is not None
    ]
    if env.kubernetes is None and "kubernetes" not in skipped:
        problems.append(Problem("kubernetes", "an environment on a linked cluster needs a kubernetes section "
                                              "(its namespaces)"))
    if "tags" not in skipped:
        own = standard_kubernetes_labels(env.model_copy(update={"tags": {}}))
        for key, value in env.tags.items():
            problem = ("terrane sets this label itself" if key in own or key.startswith(POD_SECURITY)
                       else label_key_problem(key) or label_value_problem(value))
            if problem:
                problems.append(Problem(f"tags.{key}", f"tags are labels on a linked cluster: {problem}"))
    return problems


# What a machine type looks like on each cloud, when a pool does not use a neutral size.
_MACHINE_TYPE = {
    "aws": re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"),
    "azure": re.compile(r"^Standard_[A-Za-z0-9_]+$"),
    "gcp": re.compile(r"^[a-z][a-z0-9]*-[a-z0-9-]+$"),
}
_MACHINE_EXAMPLE = {"aws": "m6i.xlarge", "azure": "Standard_D4s_v5", "gcp": "e2-standard-4"}

# How many CIDRs each cloud lets reach a public cluster endpoint: EKS 40, AKS 200, GKE 100 on a cluster with private
# nodes, as terrane's are (50 is the limit of a cluster whose nodes have public addresses).
_AUTHORIZED_CIDRS_LIMIT = {"aws": 40, "azure": 200, "gcp": 100}

def _secrets(env: Environment, cloud: Cloud) -> list[Problem]:
    if cloud != "gcp" and env.secrets and env.secrets.deletion_protection is not None:
        return [Problem("secrets.deletion_protection",
                        "only GCP secrets have deletion protection; AWS and Azure keep a deleted secret "
                        "for recovery_days instead")]
    return []


def _region(env: Environment, cloud: Cloud) -> list[Problem]:
    """One of the cloud's regions (``stacks.spec.regions``), as the account's own is."""
    problem = None if env.region is None else region_problem(cloud, env.region)
    return [Problem("region", problem)] if problem else []


def _kubernetes_needs_cluster(env: Environment, cloud: Cloud) -> list[Problem]:
    if env.kubernetes is not None and env.cluster is None:
        return [Problem("kubernetes", "needs a cluster section (add cluster: or remove kubernetes:)")]
    return []


def _secrets_reader_name(env: Environment, cloud: Cloud) -> list[Problem]:
    """With secrets and a cluster, every namespace gets the secrets reader: a service account may not take its name."""
    if not (env.kubernetes and env.cluster and env.secrets):
        return []
    return [
        Problem(f"kubernetes.namespaces[{index}].service_accounts",
                f"'{SECRETS_READER}' is the service account terrane makes to read the environment's secrets")
        for index, namespace in enumerate(env.kubernetes.namespaces)
        if SECRETS_READER in namespace.service_accounts
    ]


def _endpoint(env: Environment, cloud: Cloud) -> list[Problem]:
    problems = []
    if env.cluster and env.cluster.authorized_cidrs and env.cluster.endpoint == "private":
        problems.append(Problem("cluster.authorized_cidrs", "only allowed with endpoint: public"))
    if env.cluster and not env.cluster.authorized_cidrs and env.cluster.endpoint == "public":
        # An empty allow-list would open the API server to the whole internet.
        problems.append(
            Problem("cluster.authorized_cidrs", "endpoint: public needs the CIDRs allowed to reach it")
        )
    return problems


def _overlaps(env: Environment, cloud: Cloud) -> list[Problem]:
    # An existing network's ranges are its owner's: only the cluster's own are checked against each other.
    network = env.new_network
    ranges: list[tuple[str, IPv4Network]] = [("network.cidr", network.cidr)] if network else []
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
            f"nor a machine type of {CLOUD_NAMES[cloud]} (like {_MACHINE_EXAMPLE[cloud]})",
        )
        for index, pool in enumerate(env.cluster.node_pools)
        if not pool.neutral_size and not _MACHINE_TYPE[cloud].match(pool.size)
    ]


def _authorized_cidrs(env: Environment, cloud: Cloud) -> list[Problem]:
    limit = _AUTHORIZED_CIDRS_LIMIT[cloud]
    if env.cluster and len(env.cluster.authorized_cidrs) > limit:
        return [
            Problem("cluster.authorized_cidrs", f"{CLOUD_NAMES[cloud]} allows at most {limit} CIDRs for a public endpoint")
        ]
    return []


Rule = Callable[[Environment, Cloud], list[Problem]]

_CLUSTER_AND_NETWORK = frozenset({"cluster", "network"})

# Each rule with the top-level fields of the spec it reads.
_RULES: tuple[tuple[Rule, frozenset[str]], ...] = (
    (_region, frozenset({"region"})),
    (_kubernetes_needs_cluster, frozenset({"kubernetes", "cluster"})),
    (_secrets_reader_name, frozenset({"kubernetes", "cluster", "secrets"})),
    (_endpoint, frozenset({"cluster"})),
    (_overlaps, _CLUSTER_AND_NETWORK),
    (_machine_types, frozenset({"cluster"})),
    (_authorized_cidrs, frozenset({"cluster"})),
    (_secrets, frozenset({"secrets"})),
    (network_rules.network_range, frozenset({"network"})),
    (network_rules.eks_zones, _CLUSTER_AND_NETWORK),
    (network_rules.reserved_ranges, _CLUSTER_AND_NETWORK),
    (network_rules.service_range, _CLUSTER_AND_NETWORK),
    (network_rules.pod_range, _CLUSTER_AND_NETWORK),
    (network_rules.node_addresses, _CLUSTER_AND_NETWORK),
    (pool_rules.system_pool, frozenset({"cluster"})),
    (pool_rules.cluster_size, frozenset({"cluster"})),
    (tag_rules.tag_count, frozenset({"tags", "name", "cluster"})),
    (tag_rules.tag_text, frozenset({"tags"})),
    (tag_rules.azure_storage_tag_names, frozenset({"tags", "network"})),
    (existing_network_rules.network_outputs, frozenset({"network", "secrets"})),
    (existing_network_rules.existing_network_fields, _CLUSTER_AND_NETWORK),
)
