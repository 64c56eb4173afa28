"""What every program shares, whatever its cloud: the config keys the engine sets, the tags every resource carries."""

from __future__ import annotations

from terrane.stacks.spec.environments import Environment

INCARNATION_KEY = "terrane:incarnation"
"""Plain stack config: a random id the engine gives a stack when it creates it, and a new one after each destroy."""

SECRETS_READER = "secrets-reader"
"""The service account in each namespace that a cloud's workload identity lets read the environment's secrets."""

KUBECONFIG_KEY = "kubernetes:kubeconfig"
"""Secret stack config: a linked cluster's kubeconfig, flattened to one context, set by the engine from accounts.yaml."""


def standard_tags(env: Environment) -> dict[str, str]:
    """Tags every resource of an environment carries, on top of the spec's own."""
    return {**env.tags, "terrane:environment": env.name, "managed-by": "terrane"}


def standard_kubernetes_labels(env: Environment) -> dict[str, str]:
    """Labels on every object in a linked cluster: the spec's tags (validated as labels) and terrane's own."""
    return {**env.tags, "terrane-environment": env.name, "app.kubernetes.io/managed-by": "terrane"}


def standard_labels(env: Environment) -> dict[str, str]:
    """GCP labels: the spec's tags (validated as labels) and terrane's own, spelled as labels."""
    return {**env.tags, "terrane-environment": env.name, "managed-by": "terrane"}


def stack_incarnation() -> str | None:
    """The running stack's ``INCARNATION_KEY``; None for a stack made before terrane gave stacks one."""
    import pulumi

    namespace, key = INCARNATION_KEY.split(":")
    return pulumi.Config(namespace).get(key)
