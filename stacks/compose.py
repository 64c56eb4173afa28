"""The one order every cloud's program follows: provider, network, cluster, secret store, then the bootstrap.

A cloud fills it in with its ``Steps`` (``stacks.aws``, ``stacks.azure``, ``stacks.gcp``), each the only
place that maps spec fields to that cloud's component args. ``Steps.compose`` alone decides which sections of
the spec call for which step, in what order they run, and what waits for what.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import pulumi

from terrane.components.kubernetes import ServiceAccountArgs
from terrane.stacks.kubernetes import bootstrap, secret_readers
from terrane.stacks.spec.accounts import CloudAccount
from terrane.stacks.spec.environments import ClusterSpec, Environment, NetworkSpec, SecretsSpec


class Network(Protocol):
    """The environment's network, new or existing, as a cloud's steps hold it."""

    @property
    def made(self) -> pulumi.Resource | None:
        """The network terrane makes, which the cluster waits for; None for an existing one."""

    def outputs(self) -> Mapping[str, pulumi.Input[Any]]:
        """The stack outputs that name the network's parts."""


AccountT = TypeVar("AccountT", bound=CloudAccount)
NetworkT = TypeVar("NetworkT", bound=Network)
ClusterT = TypeVar("ClusterT")


@dataclass(frozen=True)
class Site(Generic[AccountT]):
    """Where an environment's resources go: its linked account, its region and the one provider bound to both."""

    env: Environment
    account: AccountT
    region: str
    provider: pulumi.ProviderResource

    @property
    def opts(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(provider=self.provider)


@dataclass(frozen=True)
class Readers(Generic[ClusterT]):
    """Who may read the environment's secrets: service accounts in the cluster, through its workload identity."""

    cluster: ClusterT
    service_accounts: list[tuple[str, str]]
    """(namespace, service account) of each; never empty."""


@dataclass(frozen=True)
class ClusterAccess:
    """How the bootstrap's Kubernetes provider reaches a cluster the environment made."""

    kubeconfig: pulumi.Input[str]
    identifier: pulumi.Input[str]
    """Changes only when the cluster is replaced: editing the cluster must not replace every Kubernetes object."""


@dataclass(frozen=True)
class Steps(Generic[AccountT, NetworkT, ClusterT]):
    """What one cloud makes at each step of ``compose``; a step makes its resources and exports their outputs."""

    provider: Callable[[Environment, AccountT, str], pulumi.ProviderResource]
    """The one provider of the environment, bound to the linked account, in the region given."""
    new_network: Callable[[Site[AccountT], NetworkSpec], NetworkT]
    existing_network: Callable[[Site[AccountT]], NetworkT]
    """A network made elsewhere, whose ids a Terraform state's outputs hold (``stacks.terraform``)."""
    cluster: Callable[[Site[AccountT], ClusterSpec, NetworkT, pulumi.ResourceOptions], ClusterT]
    """The Kubernetes cluster in the network, with the options given (the provider, and what to wait for)."""
    secret_store: Callable[[Site[AccountT], SecretsSpec, NetworkT, Readers[ClusterT] | None],
                           ServiceAccountArgs | None]
    """The secret store; with readers, the secrets reader the bootstrap makes in each of their namespaces."""
    access: Callable[[ClusterT], ClusterAccess]
    """How the bootstrap's Kubernetes provider reaches the cluster."""

    def compose(self, env: Environment, account: AccountT) -> None:
        """Every resource of ``env`` in ``account``, in the order every cloud shares."""
        region = env.resolved_region(account)
        site = Site(env, account, region, self.provider(env, account, region))
        new = env.new_network
        network = self.new_network(site, new) if new else self.existing_network(site)
        pulumi.export("region", region)
        for name, value in network.outputs().items():
            pulumi.export(name, value)

        cluster = None
        if env.cluster:
            # The nodes reach the internet (and pull their images) only through the NAT of a network terrane makes.
            made = network.made
            opts = pulumi.ResourceOptions(provider=site.provider, depends_on=[made] if made else None)
            cluster = self.cluster(site, env.cluster, network, opts)

        readers = secret_readers(env)
        secrets_reader = None
        if env.secrets:
            allowed = Readers(cluster, readers) if cluster is not None and readers else None
            secrets_reader = self.secret_store(site, env.secrets, network, allowed)

        if cluster is not None:
            access = self.access(cluster)
            bootstrap(env, kubeconfig=access.kubeconfig, cluster_identifier=access.identifier,
                      secrets_reader=secrets_reader)
