"""The Kubernetes side of an environment, the same on every cloud, and the whole of one on a linked cluster."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as kubernetes

from terrane.components.kubernetes import Bootstrap, BootstrapArgs, NamespaceArgs, ServiceAccountArgs
from terrane.stacks.spec.accounts import KubernetesAccount
from terrane.stacks.spec.environments import Environment
from terrane.stacks.standard import KUBECONFIG_KEY, SECRETS_READER, standard_kubernetes_labels


def secret_readers(env: Environment) -> list[tuple[str, str]]:
    """(namespace, service account) of every workload identity allowed to read the environment's secrets."""
    namespaces = env.kubernetes.namespace_names if env.kubernetes and env.cluster else []
    return [(namespace, SECRETS_READER) for namespace in namespaces]


def compose(env: Environment, account: KubernetesAccount) -> None:
    """An environment on a linked cluster: the Bootstrap, through a provider that has only the stack's kubeconfig.

    The engine sets that kubeconfig from ``account`` before every operation: the program reads no file of it.
    """
    namespace, key = KUBECONFIG_KEY.split(":")
    provider = kubernetes.Provider(
        env.account,
        kubeconfig=pulumi.Config(namespace).require_secret(key),
        # The cluster is the linked account's: a kubeconfig that moves (a new address, a rotated
        # credential) must not replace every object in it.
        cluster_identifier=env.account,
    )
    _bootstrap(env, provider, labels=standard_kubernetes_labels(env), secrets_reader=None)


def bootstrap(
    env: Environment,
    *,
    kubeconfig: pulumi.Input[str],
    cluster_identifier: pulumi.Input[str],
    secrets_reader: ServiceAccountArgs | None,
) -> None:
    """Namespaces, default-deny policies and the secrets reader in a cluster the environment made."""
    if env.kubernetes is None:
        return
    provider = kubernetes.Provider(
        f"{env.name}-k8s",
        kubeconfig=kubeconfig,
        # Only a new cluster replaces the provider: editing the cluster must
        # not replace every Kubernetes object in it.
        cluster_identifier=cluster_identifier,
    )
    _bootstrap(env, provider, labels={}, secrets_reader=secrets_reader)


def _bootstrap(
    env: Environment,
    provider: kubernetes.Provider,
    *,
    labels: Mapping[str, str],
    secrets_reader: ServiceAccountArgs | None,
) -> None:
    namespaces = env.kubernetes.namespaces if env.kubernetes else []
    result = Bootstrap(
        env.name,
        BootstrapArgs(
            namespaces=[
                NamespaceArgs(
                    name=namespace.name,
                    labels=namespace.labels,
                    annotations=namespace.annotations,
                    service_accounts=namespace.service_accounts,
                )
                for namespace in namespaces
            ],
            secrets_reader=secrets_reader,
            labels=labels,
        ),
        pulumi.ResourceOptions(provider=provider),
    )
    pulumi.export("namespaces", result.namespaces)
