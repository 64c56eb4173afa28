"""The rules of a cluster's node pools: how many nodes a pool and a cluster may have on each cloud, and how many pools.

Every cloud's pool also needs ``min`` <= ``max`` and a ``max`` of at least 1, which the spec itself checks; the
starting size each cloud is given (EKS's desired size, AKS's count, GKE's nodes per zone) is derived from them
within those bounds (components/<cloud>/cluster.py). Part of ``stacks.rules``, which runs them with the others.
docs/components.md lists each limit with its source.
"""

from __future__ import annotations

from collections.abc import Mapping

from terrane.stacks.problem import KUBERNETES_SERVICES, Problem
from terrane.stacks.spec import Cloud
from terrane.stacks.spec.environments import Environment

# The most node pools a cluster may have: AKS 100.
POOLS_PER_CLUSTER: Mapping[Cloud, int] = {"azure": 100}

# The most nodes a cluster may have, across its pools: AKS 5,000, GKE (Standard) 15,000.
CLUSTER_MAX: Mapping[Cloud, int] = {"azure": 5000, "gcp": 15000}

# The pool AKS runs its system pods on (the first) keeps at least one node.
AKS_SYSTEM_POOL_MIN = 1


def system_pool(env: Environment, cloud: Cloud) -> list[Problem]:
    if cloud == "azure" and env.cluster and env.cluster.node_pools[0].min < AKS_SYSTEM_POOL_MIN:
        return [Problem("cluster.node_pools[0].min", "the first pool is AKS's system pool and needs at least "
                                                     f"{AKS_SYSTEM_POOL_MIN} node")]
    return []


def cluster_size(env: Environment, cloud: Cloud) -> list[Problem]:
    if env.cluster is None:
        return []
    pools = env.cluster.node_pools
    problems = []
    most_pools = POOLS_PER_CLUSTER.get(cloud)
    if most_pools is not None and len(pools) > most_pools:
        problems.append(Problem("cluster.node_pools", f"{KUBERNETES_SERVICES[cloud]} allows at most {most_pools} node pools "
                                                      f"in a cluster, got {len(pools)}"))
    most_nodes = CLUSTER_MAX.get(cloud)
    nodes = sum(pool.max for pool in pools)
    if most_nodes is not None and nodes > most_nodes:
        problems.append(Problem("cluster.node_pools", f"{KUBERNETES_SERVICES[cloud]} allows at most {most_nodes} nodes in a "
                                                      f"cluster, and the pools' max add up to {nodes}"))
    return problems
