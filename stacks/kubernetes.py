"""The Kubernetes side of an environment, the same on every cloud."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as kubernetes

from terrane.components.kubernetes import Bootstrap, BootstrapArgs, ServiceAccountArgs
from terrane.stacks.spec.environments import Environment

SECRETS_READER = "secrets-reader"


def secret_readers(env: Environment) -> list[tuple[str, str]]:
    """(namespace, service account) of every workload identity allowed to read the environment's secrets."""
    namespaces = env.kubernetes.namespaces if env.kubernetes and env.cluster else []
    return [(namespace, SECRETS_READER) for namespace in namespaces]


def bootstrap(
    env: Environment,
    *,
    kubeconfig: pulumi.Input[str],
    cluster_identifier: pulumi.Input[str],
    secrets_reader: ServiceAccountArgs | None,
) -> None:
    """Namespaces, default-deny policies and the secrets reader, through the cluster's own provider."""
    if env.kubernetes is None:
        return
    provider = kubernetes.Provider(
        f"{env.name}-k8s",
        kubeconfig=kubeconfig,
        # Only a new cluster replaces the provider: editing the cluster must
        # not replace every Kubernetes object in it.
        cluster_identifier=cluster_identifier,
    )
    result = Bootstrap(
        env.name,
        BootstrapArgs(namespaces=env.kubernetes.namespaces, secrets_reader=secrets_reader),
        pulumi.ResourceOptions(provider=provider),
    )
    pulumi.export("namespaces", result.namespaces)
