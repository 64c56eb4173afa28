"""The first objects in a new cluster, on any cloud: namespaces under the
restricted Pod Security Standard, a default-deny network policy in each (with
DNS still allowed) and, optionally, a service account in each that the cloud's
workload identity lets read the environment's secrets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

_RESTRICTED = {
    f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")
}


@dataclass(frozen=True)
class ServiceAccountArgs:
    name: str
    annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Binds the account to a cloud identity, e.g. ``{"eks.amazonaws.com/role-arn": role_arn}``."""
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BootstrapArgs:
    namespaces: Sequence[str]
    secrets_reader: ServiceAccountArgs | None = None
    """Created in every namespace when set."""
    labels: Mapping[str, str] = field(default_factory=dict)


class Bootstrap(pulumi.ComponentResource):
    namespaces: pulumi.Output[list[str]]

    def __init__(self, name: str, args: BootstrapArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("terrane:kubernetes:Bootstrap", name, None, opts)
        labels = dict(args.labels)

        names: list[pulumi.Output[str]] = []
        for namespace in args.namespaces:
            in_namespace = self._namespace(name, namespace, labels)
            names.append(in_namespace)
            self._network_policies(name, namespace, in_namespace, labels)
            if args.secrets_reader is not None:
                self._secrets_reader(name, namespace, in_namespace, args.secrets_reader, labels)

        self.namespaces = pulumi.Output.all(*names)
        self.register_outputs({"namespaces": self.namespaces})

    def _namespace(self, name: str, namespace: str, labels: Mapping[str, str]) -> pulumi.Output[str]:
        created = k8s.core.v1.Namespace(
            f"{name}-{namespace}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace, labels={**labels, **_RESTRICTED}),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Taking the name from the namespace makes everything in it wait for it.
        return created.metadata.name

    def _network_policies(
        self, name: str, namespace: str, in_namespace: pulumi.Output[str], labels: Mapping[str, str]
    ) -> None:
        child = pulumi.ResourceOptions(parent=self)
        k8s.networking.v1.NetworkPolicy(
            f"{name}-{namespace}-default-deny",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="default-deny", namespace=in_namespace, labels=labels
            ),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                policy_types=["Ingress", "Egress"],
            ),
            opts=child,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-{namespace}-allow-dns",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="allow-dns", namespace=in_namespace, labels=labels),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                policy_types=["Egress"],
                egress=[
                    k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                        to=[
                            k8s.networking.v1.NetworkPolicyPeerArgs(
                                namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                                    match_labels={"kubernetes.io/metadata.name": "kube-system"}
                                )
                            )
                        ],
                        ports=[
                            k8s.networking.v1.NetworkPolicyPortArgs(protocol=protocol, port=53)
                            for protocol in ("UDP", "TCP")
                        ],
                    )
                ],
            ),
            opts=child,
        )

    def _secrets_reader(
        self,
        name: str,
        namespace: str,
        in_namespace: pulumi.Output[str],
        account: ServiceAccountArgs,
        labels: Mapping[str, str],
    ) -> None:
        k8s.core.v1.ServiceAccount(
            f"{name}-{namespace}-{account.name}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=account.name,
                namespace=in_namespace,
                annotations=dict(account.annotations),
                labels={**labels, **account.labels},
            ),
            # Reading secrets needs a cloud token, not a Kubernetes API token;
            # a pod that needs the API can still opt in.
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
